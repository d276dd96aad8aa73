#!/usr/bin/env bash
# make bench: the benchmarks of docs/PERFORMANCE.md (issue 5). Builds what it needs (the function zips, the floor
# function's zip, the harness; aws-lambda-rie into .local/bin once), runs the harness, prints the tables and writes
# infra/bench/results/latest.md and latest.json (the whole output, handler log lines included, goes to bench.log).
# It measures and never judges: no figure is compared with a target. About 11 minutes on 2 cores with the moto
# stand-in (2026-12-03), most of it the Overview phase (seeding 100,000 events, then the History pages).
#
# Options are passed to the harness, e.g. infra/scripts/bench.sh --runs 3 --only cold,cost
#   --runs N (cold starts per function, default 5)  --events N (overview seed, default 100000)
#   --seconds S (warm latency phase, default 4)     --only cost,warm,overview,cold
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/java-env.sh
MVN="mvn -B -ntp -q -Dstyle.color=never"
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
step() { echo "[bench $(date +%H:%M:%S)] $*"; }

mkdir -p .local/bin
if [ ! -x .local/bin/aws-lambda-rie ]; then
  step "installing aws-lambda-rie $RIE_VERSION with go install (first run only) ..."
  GOBIN="$PWD/.local/bin" go install "$RIE_MODULE@$RIE_VERSION"
fi

step "building the functions' zips and the harness (make build) ..."
make -s build
if ! grep -q '<module>infra/bench</module>' pom.xml || [ ! -f infra/bench/harness/target/classpath.txt ]; then
  step "building the harness on its own (infra/bench is not in the root pom's modules) ..."
  $MVN install -DskipTests
  $MVN -f infra/bench/pom.xml install -DskipTests
fi

stripe_pid=""
cleanup() { if [ -n "$stripe_pid" ]; then kill "$stripe_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
step "starting stripe-mock for the top-ups function ..."
if STRIPE_API_BASE="$(infra/scripts/stripe-mock.sh 2>/dev/null)"; then
  export STRIPE_API_BASE
  stripe_pid="$(cat .local/stripe-mock.pid)"
else
  step "stripe-mock did not start: the top-ups function's first call will answer 503 (Stripe unreachable)"
fi

mkdir -p infra/bench/results
step "running the harness (progress lines follow; handler log lines go to infra/bench/results/bench.log) ..."
java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx2g \
  -cp "infra/bench/harness/target/classes:$(cat infra/bench/harness/target/classpath.txt)" \
  dev.credits.bench.Bench --repo "$PWD" --command "make bench" "$@" 2>&1 \
  | tee infra/bench/results/bench.log \
  | grep --line-buffered -v -E '^\{"timestamp"|^SLF4J:|^$'
step "done: infra/bench/results/latest.md"
