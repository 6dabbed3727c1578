#!/usr/bin/env bash
# Benchmark: POST /v2/conversations (test_mode) against the real stack — PostgreSQL with fsync ON, one silo and the Api as
# separate processes, over HTTP — at a fixed rate. Prints p50/p95/p99, throughput, errors and PostgreSQL writes per create.
#   bench/create-conversations.sh [rate=200] [seconds=30] [concurrency=32]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rate=${1:-200}; seconds=${2:-30}; concurrency=${3:-32}
bash infra/install.sh
dotnet build Platform.sln -c Release -nologo -clp:ErrorsOnly -v:q
dotnet build bench/Platform.Bench.Api -c Release -nologo -clp:ErrorsOnly -v:q

work="$(mktemp -d /tmp/platform-bench.XXXXXX)"; chmod 755 "$work"
pg_port=55491; silo_http=5591; api_port=5592
infra/postgres.sh start "$work/pg" "$pg_port"   # durable: fsync and synchronous_commit stay on
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; infra/postgres.sh stop "$work/pg"; rm -rf "$work"' EXIT

export Platform__Postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=100"
export Platform__SecretsKey="$(head -c 32 /dev/urandom | base64)"
export Platform__ClusterId=bench Platform__ServiceId=bench Platform__SiloPort=11191 Platform__GatewayPort=30091
export Operator__ApiKey="op_bench"
export Logging__LogLevel__Default=Warning
ASPNETCORE_URLS="http://127.0.0.1:$silo_http" dotnet Platform.Silo/bin/Release/net10.0/Platform.Silo.dll >"$work/silo.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$silo_http/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
ASPNETCORE_URLS="http://127.0.0.1:$api_port" dotnet Platform.Api/bin/Release/net10.0/Platform.Api.dll >"$work/api.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

api="http://127.0.0.1:$api_port"
tenant=$(curl -fs -X POST "$api/operator/tenants" -H "x-operator-key: op_bench" -H 'content-type: application/json' \
  -d '{"name":"Bench","plan":{"max_concurrent_conversations":100000,"requests_per_second":100000}}' | sed -n 's/.*"tenant_id":"\([^"]*\)".*/\1/p')
key=$(curl -fs -X POST "$api/operator/tenants/$tenant/api-keys" -H "x-operator-key: op_bench" -H 'content-type: application/json' \
  -d '{"name":"bench"}' | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
replica=$(curl -fs "$api/v2/replicas?replica_type=system&limit=1" -H "x-api-key: $key" | sed -n 's/.*"replica_id":"\([^"]*\)".*/\1/p' | head -1)
persona=$(curl -fs -X POST "$api/v2/personas" -H "x-api-key: $key" -H 'content-type: application/json' \
  -d '{"system_prompt":"bench","default_replica_id":"'"$replica"'","layers":{"llm":{"model":"platform/repeat"}}}' | sed -n 's/.*"persona_id":"\([^"]*\)".*/\1/p')

# CPU seconds (user+system) a process tree has used: where each create's CPU goes.
cpu() { local total=0 p; for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
  [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
pg_pid=$(head -1 "$work/pg/postmaster.pid")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
before=("$(cpu "${pids[0]}")" "$(cpu "${pids[1]}")" "$(cpu "$pg_pid")")
dotnet bench/Platform.Bench.Api/bin/Release/net10.0/Platform.Bench.Api.dll "$api" "$key" "$persona" "$Platform__Postgres" "$rate" "$seconds" "$concurrency"
status=$?
after=("$(cpu "${pids[0]}")" "$(cpu "${pids[1]}")" "$(cpu "$pg_pid")")
hz=$(getconf CLK_TCK)
awk -v s0="${before[0]}" -v s1="${after[0]}" -v a0="${before[1]}" -v a1="${after[1]}" -v p0="${before[2]}" -v p1="${after[2]}" -v hz="$hz" -v n="$((rate * seconds + 200))" \
  'BEGIN { printf "cpu per create silo %.2f ms, api %.2f ms, postgres %.2f ms (includes warm-up)\n", (s1-s0)*1000/hz/n, (a1-a0)*1000/hz/n, (p1-p0)*1000/hz/n }'
exit $status
