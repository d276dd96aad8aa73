#!/usr/bin/env bash
# Installs stripe-mock (Go module proxy) into .local/bin once, starts it on a free port in the background, and
# prints its base URL. Stop it with: kill "$(cat .local/stripe-mock.pid)"
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .local/bin
if [ ! -x .local/bin/stripe-mock ]; then
  echo "==> installing stripe-mock v0.203.0 with go install (first run only) ..." >&2
  GOBIN="$PWD/.local/bin" go install github.com/stripe/stripe-mock@v0.203.0 >&2
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
env -u PORT .local/bin/stripe-mock -http-addr "127.0.0.1:$port" -https-addr "127.0.0.1:" > .local/stripe-mock.log 2>&1 &
echo $! > .local/stripe-mock.pid
for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/v1/charges" 2>/dev/null; then echo "http://127.0.0.1:$port"; exit 0; fi
  sleep 0.1
done
echo "stripe-mock did not start; see .local/stripe-mock.log" >&2
exit 1
