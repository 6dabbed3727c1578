# Sourced by the benchmark scripts: builds, then starts the real stack as separate processes — a private PostgreSQL
# (fsync on), one silo, the Api and (with start_worker) a render worker — and creates a tenant with an API key and a
# persona on a stock replica. Sets: work, api, key, persona, pids (silo, Api[, worker]); cleans up on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash infra/install.sh
dotnet build Platform.sln -c Release -nologo -clp:ErrorsOnly -v:q

work="$(mktemp -d /tmp/platform-bench.XXXXXX)"; chmod 755 "$work"
pg_port=55491; silo_http=5591; api_port=5592
infra/postgres.sh start "$work/pg" "$pg_port"   # durable: fsync and synchronous_commit stay on
pids=()
# BENCH_LOGS=dir keeps the processes' logs there when the bench ends.
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; infra/postgres.sh stop "$work/pg"; [ -n "${BENCH_LOGS:-}" ] && mkdir -p "$BENCH_LOGS" && cp "$work"/*.log "$BENCH_LOGS"/; rm -rf "$work"' EXIT

export Platform__Postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=100"
export Platform__SecretsKey="$(head -c 32 /dev/urandom | base64)"
export Platform__ClusterId=bench Platform__ServiceId=bench Platform__SiloPort=11191 Platform__GatewayPort=30091
export Platform__PublicBaseUrl="http://127.0.0.1:$api_port"
export Operator__ApiKey="op_bench"
export Media__Key="bench-media" Render__MediaKey="bench-media"
export Logging__LogLevel__Default=Warning
ASPNETCORE_URLS="http://127.0.0.1:$silo_http" dotnet Platform.Silo/bin/Release/net10.0/Platform.Silo.dll >"$work/silo.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$silo_http/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
ASPNETCORE_URLS="http://127.0.0.1:$api_port" dotnet Platform.Api/bin/Release/net10.0/Platform.Api.dll >"$work/api.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done

start_worker() {
  Logging__LogLevel__Default=Information Render__WorkerId=bench-worker Render__MaxSessions="${1:-2}" Render__DrainTimeout=00:00:01 \
    dotnet Platform.Render.Worker/bin/Release/net10.0/Platform.Render.Worker.dll >"$work/worker.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 120); do grep -q "registered with the render pool" "$work/worker.log" 2>/dev/null && break; sleep 0.5; done
  grep -q "registered with the render pool" "$work/worker.log" || { tail -20 "$work/worker.log"; exit 1; }
}

api="http://127.0.0.1:$api_port"
tenant=$(curl -fs -X POST "$api/operator/tenants" -H "x-operator-key: op_bench" -H 'content-type: application/json' \
  -d '{"name":"Bench","plan":{"max_concurrent_conversations":100000,"requests_per_second":100000}}' | sed -n 's/.*"tenant_id":"\([^"]*\)".*/\1/p')
key=$(curl -fs -X POST "$api/operator/tenants/$tenant/api-keys" -H "x-operator-key: op_bench" -H 'content-type: application/json' \
  -d '{"name":"bench"}' | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
replica=$(curl -fs "$api/v2/replicas?replica_type=system&limit=1" -H "x-api-key: $key" | sed -n 's/.*"replica_id":"\([^"]*\)".*/\1/p' | head -1)
persona=$(curl -fs -X POST "$api/v2/personas" -H "x-api-key: $key" -H 'content-type: application/json' \
  -d '{"system_prompt":"bench","default_replica_id":"'"$replica"'","layers":{"llm":{"model":"platform/repeat"}}}' | sed -n 's/.*"persona_id":"\([^"]*\)".*/\1/p')
machine() { echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
