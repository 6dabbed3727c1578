#!/usr/bin/env bash
# Benchmark: navigation start → first replica frame on the page, in Chromium, on a warm pool (the conversation's
# worker has joined before the page opens), against the real stack as separate processes (PostgreSQL, silo, Api,
# render worker). Prints every run and p50/p95/p99.
#   bench/first-frame.sh [runs=20]
runs=${1:-20}
# shellcheck source=bench/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
dotnet build bench/Platform.Bench.Call -c Release -nologo -clp:ErrorsOnly -v:q
start_worker 2
machine
dotnet bench/Platform.Bench.Call/bin/Release/net10.0/Platform.Bench.Call.dll --api "$api" --key "$key" --persona "$persona" --runs "$runs"
