#!/usr/bin/env bash
# Benchmark: POST /v2/conversations (test_mode) against the real stack — PostgreSQL with fsync ON, one silo and the Api as
# separate processes, over HTTP — at a fixed rate. Prints p50/p95/p99, throughput, errors and PostgreSQL writes per create.
#   bench/create-conversations.sh [rate=200] [seconds=30] [concurrency=32]
rate=${1:-200}; seconds=${2:-30}; concurrency=${3:-32}
# shellcheck source=bench/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
dotnet build bench/Platform.Bench.Api -c Release -nologo -clp:ErrorsOnly -v:q

# CPU seconds (user+system) a process tree has used: where each create's CPU goes.
cpu() { local total=0 p; for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
  [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
pg_pid=$(head -1 "$work/pg/postmaster.pid")
machine
before=("$(cpu "${pids[0]}")" "$(cpu "${pids[1]}")" "$(cpu "$pg_pid")")
dotnet bench/Platform.Bench.Api/bin/Release/net10.0/Platform.Bench.Api.dll "$api" "$key" "$persona" "$Platform__Postgres" "$rate" "$seconds" "$concurrency"
status=$?
after=("$(cpu "${pids[0]}")" "$(cpu "${pids[1]}")" "$(cpu "$pg_pid")")
hz=$(getconf CLK_TCK)
awk -v s0="${before[0]}" -v s1="${after[0]}" -v a0="${before[1]}" -v a1="${after[1]}" -v p0="${before[2]}" -v p1="${after[2]}" -v hz="$hz" -v n="$((rate * seconds + 200))" \
  'BEGIN { printf "cpu per create silo %.2f ms, api %.2f ms, postgres %.2f ms (includes warm-up)\n", (s1-s0)*1000/hz/n, (a1-a0)*1000/hz/n, (p1-p0)*1000/hz/n }'
exit $status
