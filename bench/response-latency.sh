#!/usr/bin/env bash
# Benchmark: response latency as heard in the browser — end of the user's sentence (fake microphone) → first replica
# audio played by the page — against the real stack as separate processes, with the engine bench's OpenAI-compatible
# stand-in (first token 200 ms, then 30 tokens/s) behind the persona. Prints every run with its breakdown by stage,
# p50/p95/p99, what the path around the engine added, and lip sync as the page draws; then, with the stack stopped, the
# engine bench (one session, 12 turns) on the same machine and the difference between the two.
#   bench/response-latency.sh [runs=12]
#   BENCH_MIC='{"autoGainControl":false,"noiseSuppression":false}' bench/response-latency.sh   # override the page's
#     microphone constraints (Chrome's processing and what PocketSphinx hears through it)
runs=${1:-12}
# shellcheck source=bench/stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
dotnet build bench/Platform.Bench.Call -c Release -nologo -clp:ErrorsOnly -v:q
dotnet build bench/Platform.Bench.Engine -c Release -nologo -clp:ErrorsOnly -v:q
export Render__AllowPrivateEndpoints=true # the LLM stand-in listens on loopback
start_worker 2
machine
dotnet bench/Platform.Bench.Call/bin/Release/net10.0/Platform.Bench.Call.dll --api "$api" --key "$key" --persona "$persona" --runs "$runs" --response \
  | tee "$work/browser.txt"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()
echo "engine bench, 1 session × 12 turns, same machine, stack stopped:"
PLATFORM_ASSETS="${PLATFORM_ASSETS:-$root/.assets}" dotnet bench/Platform.Bench.Engine/bin/Release/net10.0/Platform.Bench.Engine.dll --sessions 1 --turns 12 \
  | tee "$work/engine.txt" | grep -E "turns answered|response latency|first loud audio"
# The browser hears the first loud audio: against the engine's own first loud audio (the same threshold and windows).
pct() { sed -n "s/.*$2.*p50 \([0-9]*\) ms, p95 \([0-9]*\) ms.*/\1 \2/p" "$1" | head -1; }
read -r b50 b95 <<<"$(pct "$work/browser.txt" 'response latency in the browser')"
read -r e50 e95 <<<"$(pct "$work/engine.txt" 'to the first loud audio')"
echo "browser − engine bench (first loud audio): p50 $((b50 - e50)) ms, p95 $((b95 - e95)) ms"
