#!/usr/bin/env bash
# Starts moto server (the SNS and SQS API emulator) on a free port in the background; prints its endpoint.
# Stop it with: kill "$(cat .local/moto.pid)"
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/venv.sh >&2
mkdir -p .local
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
.venv/bin/moto_server -H 127.0.0.1 -p "$port" > .local/moto.log 2>&1 &
echo $! > .local/moto.pid
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/moto-api/" > /dev/null 2>&1; then echo "http://127.0.0.1:$port"; exit 0; fi
  sleep 0.1
done
echo "moto server did not start; see .local/moto.log" >&2
exit 1
