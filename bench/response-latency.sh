#!/usr/bin/env bash
# Benchmark: response latency as heard in the browser — end of the user's sentence (fake microphone) → first replica
# audio played by the page — against the real stack as separate processes, with the engine bench's OpenAI-compatible
# stand-in (first token 200 ms, then 30 tokens/s) behind the persona. Prints every run with its breakdown by stage,
# p50/p95/p99, and what the path around the engine added.
#   bench/response-latency.sh [runs=12]
#   BENCH_MIC='{"autoGainControl":false,"noiseSuppression":false}' bench/response-latency.sh   # override the page's
#     microphone constraints (Chrome's processing and what PocketSphinx hears through it)
runs=${1:-12}
# shellcheck source=bench/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
dotnet build bench/Platform.Bench.Call -c Release -nologo -clp:ErrorsOnly -v:q
export Render__AllowPrivateEndpoints=true # the LLM stand-in listens on loopback
start_worker 2
machine
dotnet bench/Platform.Bench.Call/bin/Release/net10.0/Platform.Bench.Call.dll --api "$api" --key "$key" --persona "$persona" --runs "$runs" --response
