#!/usr/bin/env bash
# The test command: installs what the tests need, starts a throwaway PostgreSQL, runs every test project and
# prints "N passed, N failed, N skipped". Extra arguments go to `dotnet test` (e.g. --filter Category=Api).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
phase() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

phase "install system packages"
bash infra/install.sh

phase "start test PostgreSQL"
pgdir="$(mktemp -d /tmp/platform-test-pg.XXXXXX)"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 55433)
infra/postgres.sh start "$pgdir" "$port" --fast
trap 'infra/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
export PLATFORM_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Pooling=true;Maximum Pool Size=50"

phase "build"
dotnet build Platform.sln -c Release -nologo -clp:ErrorsOnly

results="$root/artifacts/test-results"
rm -rf "$results"
phase "test"
# One test assembly at a time: on 2 cores, two assemblies side by side (each with its own cluster, workers and
# Chromium) starve each other's media clocks. A hung test ends its own assembly after 8 min, not the whole run.
rc=0
set +e
for project in tests/*.Tests/*.csproj; do
  phase "test $(basename "$project" .csproj)"
  dotnet test "$project" -c Release --no-build -nologo --blame --blame-hang-timeout 8m --blame-hang-dump-type none \
    --logger "trx;LogFileName=$(basename "$project" .csproj).trx" --results-directory "$results" "$@" || rc=$?
done
set -e

phase "summary"
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # a crash or a build failure counts
mkdir -p artifacts
echo "$passed passed, $failed failed, $skipped skipped" | tee artifacts/test-summary.txt
[ "$failed" -eq 0 ]
