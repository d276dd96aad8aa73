#!/usr/bin/env bash
# make run: the local stack. Starts stripe-mock for top-ups unless STRIPE_API_BASE is given (or STRIPE_MOCK=0),
# then the local runner in the foreground; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/venv.sh   # the DynamoDB stand-in is moto server, from .venv (a no-op once installed)
CP="infra/local-runner/target/classes:$(cat infra/local-runner/target/classpath.txt)"
if [ -z "${STRIPE_API_BASE:-}" ] && [ "${STRIPE_MOCK:-1}" != "0" ]; then
  if command -v go > /dev/null 2>&1 || [ -x .local/bin/stripe-mock ]; then
    STRIPE_API_BASE=$(infra/scripts/stripe-mock.sh) && export STRIPE_API_BASE
    trap 'kill "$(cat .local/stripe-mock.pid 2>/dev/null)" 2>/dev/null || true' EXIT
    echo "stripe-mock at $STRIPE_API_BASE (Checkout Sessions are mock sessions)"
  else
    echo "no Go toolchain: top-ups will call api.stripe.com (set STRIPE_API_KEY to a test key)"
  fi
fi
java --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -cp "$CP" dev.credits.local.Main
