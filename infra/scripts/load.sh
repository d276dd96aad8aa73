#!/usr/bin/env bash
# make bench-load: a sustained load run (issue 6). Starts the local runner (what make run starts) in its own JVM on
# a free port, seeds many accounts and one hot account through the API, drives a paced HTTP mix for the duration,
# prints a line per window (requests, errors, latency, the runner's memory), then checks every account's books and
# writes infra/bench/results/load-latest.md and load-latest.json. Exit status 1 on any error or books mismatch.
#
# Options go to the driver (dev.credits.bench.Load), e.g. infra/scripts/load.sh --seconds 20 (a quick check):
#   --seconds S (default 300)   --accounts N (200, plus one hot account)   --hot-share F (0.25)
#   --concurrency N (16)        --rate R (ops/s in all, default 30; 0 = unpaced)   --window S (10)
#   --batch MIN-MAX (5-40)
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/java-env.sh
step() { echo "[load $(date +%H:%M:%S)] $*"; }

step "building the local runner and the harness (Maven, quiet) ..."
mvn -B -ntp -q -Dstyle.color=never -pl infra/bench/harness -am package -DskipTests

mkdir -p infra/bench/results
step "running the load driver (the runner's own log lines go to infra/bench/results/load-runner.log) ..."
exec java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Xmx1g \
  -cp "infra/bench/harness/target/classes:$(cat infra/bench/harness/target/classpath.txt)" \
  dev.credits.bench.Load --repo "$PWD" --command "make bench-load" "$@"
