#!/usr/bin/env bash
# The billing console's tests (issue 8): installs what they need (npm packages from console/package-lock.json,
# Debian's chromium), builds the console, starts stripe-mock and a local runner with the demo account on free
# ports, runs the Playwright end-to-end tests in headless Chromium against it (screenshots into
# docs/screenshots/), and stops everything it started. Needs the Maven build first (make build): the runner's
# classes and infra/local-runner/target/classpath.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
JAVA_HOME=${JAVA_HOME:-$(infra/scripts/find-jdk.sh)}
export JAVA_HOME

step() { echo "==> console: $*"; }

# --- tools ---------------------------------------------------------------------------------------------------
if ! command -v node > /dev/null 2>&1 || ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)'; then
  echo "console tests need Node.js 20.19+ (found: $(node -v 2>/dev/null || echo none))" >&2
  exit 1
fi
CHROMIUM=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  step "installing Debian's chromium (first run only)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y chromium > /dev/null 2>&1 || { $SUDO apt-get update > /dev/null && $SUDO apt-get install -y chromium > /dev/null; }
fi
if [ ! -f infra/local-runner/target/classpath.txt ]; then
  echo "the local runner is not built: run make build first" >&2
  exit 1
fi

# --- build -----------------------------------------------------------------------------------------------------
step "npm ci"
(cd console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
step "npm run build"
(cd console && npm run build --silent)

# --- start -----------------------------------------------------------------------------------------------------
mkdir -p .local
RUNNER_PID=""
SM_PID=""
cleanup() {
  set +e
  if [ -n "$RUNNER_PID" ]; then kill "$RUNNER_PID" 2> /dev/null; wait "$RUNNER_PID" 2> /dev/null; fi
  if [ -n "$SM_PID" ]; then kill "$SM_PID" 2> /dev/null; fi
  return 0
}
trap cleanup EXIT INT TERM

STRIPE_API_BASE=$(infra/scripts/stripe-mock.sh)
SM_PID=$(cat .local/stripe-mock.pid)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
LOG=.local/console-runner.log
rm -f "$LOG"
READY="billing console: http://127.0.0.1:$PORT/"
step "local runner on 127.0.0.1:$PORT with the demo account (log: $LOG)"
DEMO=1 PORT=$PORT STRIPE_API_BASE=$STRIPE_API_BASE "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
  -cp "infra/local-runner/target/classes:$(cat infra/local-runner/target/classpath.txt)" dev.credits.local.Main > "$LOG" 2>&1 &
RUNNER_PID=$!
for _ in $(seq 1 240); do
  if grep -qF "$READY" "$LOG" 2> /dev/null; then break; fi
  if ! kill -0 "$RUNNER_PID" 2> /dev/null; then echo "the local runner exited; see $LOG" >&2; tail -20 "$LOG" >&2; exit 1; fi
  sleep 0.25
done
grep -qF "$READY" "$LOG" || { echo "the local runner did not get ready in 60 s; see $LOG" >&2; exit 1; }

# --- test ------------------------------------------------------------------------------------------------------
step "Playwright end-to-end tests in headless Chromium ($CHROMIUM)"
cd console
CONSOLE_BASE_URL="http://127.0.0.1:$PORT" CHROMIUM_PATH="$CHROMIUM" npx --no-install playwright test
