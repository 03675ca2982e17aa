#!/usr/bin/env bash
# `make run`: starts the daemon with its embedded defaults (data in ./data, 127.0.0.1:8787), waits until it
# answers, signs up a fresh tenant, and prints the URL, the key and a one-line example. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${OAUTH3_PORT:-8787}"
URL="http://127.0.0.1:$PORT"
.build/debug/oauth3-enclave serve --port "$PORT" --data-dir "${OAUTH3_DATA_DIR:-data}" &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null' INT TERM EXIT
for _ in $(seq 1 100); do
  curl -sf "$URL/healthz" >/dev/null 2>&1 && break
  kill -0 $DAEMON 2>/dev/null || { echo "the daemon exited; see above"; exit 1; }
  sleep 0.1
done
KEY=$(curl -sf -X POST "$URL/signup" -H 'Content-Type: application/json' -d '{"name":"make-run"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
cat <<INFO

  OAuth3 enclave running at $URL   (health: $URL/healthz, readiness: $URL/readyz, metrics: $URL/metrics)
  A fresh API key:  $KEY

  Try (in another terminal):
    OAUTH3_URL=$URL OAUTH3_API_KEY=$KEY .build/debug/oauth3 execute --code examples/hello.ts

  Open the 👉 link it prints in a browser. The page shows the skill's code and asks for a value for
  GREETING_TOKEN, the one secret the example declares: type anything (the result shows it only as
  [REDACTED:GREETING_TOKEN]) and press "Approve once". The command then prints the result.

  Ctrl-C stops the daemon.
INFO
wait $DAEMON
