#!/usr/bin/env bash
# make test: everything, on a fresh machine. Installs what it needs, starts what it needs, stops it again.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA_HOME=$(infra/scripts/find-jdk.sh)
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
start=$(date +%s)

echo "==> [1/2] template: SAM and CloudFormation lint"
infra/scripts/lint-template.sh

echo "==> [2/2] Maven: unit, handler integration (DynamoDB Local in-process), local-runner HTTP and concurrency tests"
mvn -B -ntp -Dstyle.color=never verify

echo "==> all tests passed in $(( $(date +%s) - start ))s"
