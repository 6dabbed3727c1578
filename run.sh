#!/usr/bin/env bash
# The run command: installs what it needs, starts a local PostgreSQL (data in .data/), the Orleans silo, the Api and a
# render worker, creates a demo tenant with an API key and a persona, prints how to use them, and runs until Ctrl-C.
#   PLATFORM_LLM_BASE_URL / PLATFORM_LLM_MODEL / PLATFORM_LLM_API_KEY   connect the demo persona to a real
#   OpenAI-compatible LLM (Ollama, vLLM, llama.cpp server, OpenAI ...). Without them it uses platform/repeat.
#   PLATFORM_API_PORT (default 5080), PLATFORM_PG_PORT (default 55432)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
phase() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

api_port=${PLATFORM_API_PORT:-5080}
pg_port=${PLATFORM_PG_PORT:-55432}
data="$root/.data"
mkdir -p "$data" "$data/logs"

phase "install system packages"
bash infra/install.sh

phase "start PostgreSQL"
infra/postgres.sh start "$data/pg" "$pg_port"

[ -f "$data/secrets.key" ] || head -c 32 /dev/urandom | base64 > "$data/secrets.key"
[ -f "$data/media.key" ] || head -c 24 /dev/urandom | base64 > "$data/media.key"
[ -f "$data/operator.key" ] || echo "op_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" > "$data/operator.key"
chmod 600 "$data/secrets.key" "$data/operator.key" "$data/media.key"
operator_key=$(cat "$data/operator.key")

export Platform__Postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=100"
export Platform__SecretsKey="$(cat "$data/secrets.key")"
export Platform__PublicBaseUrl="http://localhost:$api_port"
export Operator__ApiKey="$operator_key"
# The Api relays each page's media socket to the render worker running its conversation; they share this key.
export Media__Key="$(cat "$data/media.key")"
export Render__MediaKey="$Media__Key"
export DOTNET_CLI_TELEMETRY_OPTOUT=1

phase "build"
dotnet build Platform.sln -c Release -nologo -clp:ErrorsOnly -v:q

pids=()
cleanup() {
  phase "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  infra/postgres.sh stop "$data/pg"
}
trap cleanup EXIT INT TERM

phase "start silo (log: .data/logs/silo.log)"
ASPNETCORE_URLS="http://127.0.0.1:5081" dotnet Platform.Silo/bin/Release/net10.0/Platform.Silo.dll >"$data/logs/silo.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -fs http://127.0.0.1:5081/healthz >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs http://127.0.0.1:5081/healthz >/dev/null || { echo "the silo did not start; see .data/logs/silo.log"; tail -20 "$data/logs/silo.log"; exit 1; }

phase "start Api on http://localhost:$api_port (log: .data/logs/api.log)"
ASPNETCORE_URLS="http://0.0.0.0:$api_port" dotnet Platform.Api/bin/Release/net10.0/Platform.Api.dll >"$data/logs/api.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$api_port/healthz" >/dev/null || { echo "the Api did not start; see .data/logs/api.log"; tail -20 "$data/logs/api.log"; exit 1; }

phase "start render worker (log: .data/logs/worker.log)"
# One machine: the worker may call an LLM on this machine or its network (PLATFORM_LLM_BASE_URL=http://localhost...).
Render__WorkerId="local-cpu" Render__DrainTimeout="00:00:05" Render__AllowPrivateEndpoints=true \
  dotnet Platform.Render.Worker/bin/Release/net10.0/Platform.Render.Worker.dll >"$data/logs/worker.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do grep -q "registered with the render pool" "$data/logs/worker.log" 2>/dev/null && break; sleep 0.5; done
grep -q "registered with the render pool" "$data/logs/worker.log" || { echo "the render worker did not register; see .data/logs/worker.log"; tail -20 "$data/logs/worker.log"; exit 1; }

phase "demo tenant"
api="http://127.0.0.1:$api_port"
if [ ! -f "$data/demo.env" ]; then
  tenant=$(curl -fs -X POST "$api/operator/tenants" -H "x-operator-key: $operator_key" -H 'content-type: application/json' \
    -d '{"name":"Demo","plan":{"name":"demo","max_concurrent_conversations":10,"requests_per_second":50}}' | sed -n 's/.*"tenant_id":"\([^"]*\)".*/\1/p')
  key=$(curl -fs -X POST "$api/operator/tenants/$tenant/api-keys" -H "x-operator-key: $operator_key" -H 'content-type: application/json' \
    -d '{"name":"demo"}' | sed -n 's/.*"api_key":"\([^"]*\)".*/\1/p')
  printf 'DEMO_TENANT=%s\nDEMO_API_KEY=%s\n' "$tenant" "$key" > "$data/demo.env"
  chmod 600 "$data/demo.env"
fi
# shellcheck disable=SC1091
. "$data/demo.env"
llm_model=${PLATFORM_LLM_MODEL:-platform/repeat}
llm='"model":"'"$llm_model"'"'
[ -n "${PLATFORM_LLM_BASE_URL:-}" ] && llm="$llm"',"base_url":"'"$PLATFORM_LLM_BASE_URL"'"'
[ -n "${PLATFORM_LLM_API_KEY:-}" ] && llm="$llm"',"api_key":"'"$PLATFORM_LLM_API_KEY"'"'
replica=$(curl -fs "$api/v2/replicas?replica_type=system&limit=1" -H "x-api-key: $DEMO_API_KEY" | sed -n 's/.*"replica_id":"\([^"]*\)".*/\1/p' | head -1)
persona_doc='{"persona_name":"Demo assistant","system_prompt":"You are a friendly assistant. Answer in one or two short sentences.","default_replica_id":"'"$replica"'","layers":{"llm":{'"$llm"'}}}'
if [ -n "${DEMO_PERSONA:-}" ] && curl -fs -o /dev/null "$api/v2/personas/$DEMO_PERSONA" -H "x-api-key: $DEMO_API_KEY"; then
  # Keep the demo persona, but follow the LLM settings of this run.
  persona=$DEMO_PERSONA
  curl -fs -o /dev/null -X PATCH "$api/v2/personas/$persona" -H "x-api-key: $DEMO_API_KEY" -H 'content-type: application/json' \
    -d '[{"op":"add","path":"/layers/llm","value":{'"$llm"'}}]'
else
  persona=$(curl -fs -X POST "$api/v2/personas" -H "x-api-key: $DEMO_API_KEY" -H 'content-type: application/json' -d "$persona_doc" \
    | sed -n 's/.*"persona_id":"\([^"]*\)".*/\1/p')
  echo "DEMO_PERSONA=$persona" >> "$data/demo.env"
fi

cat <<MSG

  Platform is running.
    API            http://localhost:$api_port/v2      (header x-api-key)
    API reference  http://localhost:$api_port/docs    (OpenAPI: /openapi/v1.json)
    Operator API   http://localhost:$api_port/operator (header x-operator-key: $operator_key)
    Demo tenant    $DEMO_TENANT
    Demo API key   $DEMO_API_KEY
    Demo persona   $persona   (replica $replica, LLM model: $llm_model)

  Start a conversation, then open its conversation_url in a browser (Chrome/Chromium/Edge), press Join and talk:
    curl -s -X POST http://localhost:$api_port/v2/conversations -H "x-api-key: $DEMO_API_KEY" \\
         -H 'content-type: application/json' -d '{"persona_id":"$persona","custom_greeting":"Hi! What can I do for you?"}'

  The demo persona's LLM is '$llm_model'.$( [ "$llm_model" = platform/repeat ] && printf '%s' " It answers by repeating what it heard.
  To connect a real OpenAI-compatible LLM, restart with e.g.
    PLATFORM_LLM_BASE_URL=http://localhost:11434/v1 PLATFORM_LLM_MODEL=llama3.1 ./run.sh" )

  Logs in .data/logs/. Ctrl-C stops everything.
MSG
wait
