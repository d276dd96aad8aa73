#!/usr/bin/env bash
# make redrive QUEUE=<url> FUNCTION=AggregatorFunction|AlertFunction [DRY_RUN=1]: works through a stream function's
# dead-letter queue (AggregatorDeadLetters / AlertDeadLetters). Each message names a batch that exhausted its retries;
# its records are read back from the table's stream (24 h retention), filtered as the template's FilterCriteria do and
# handed to the function's own handler; the message is deleted only when the handler reports no failures. A batch no
# longer in the stream is kept and reported: its usage must then be rebuilt from the ledger.
#
# Environment: AWS credentials as environment variables (e.g. eval "$(aws configure export-credentials --format env)")
# and AWS_REGION; the function's variables as deployed (ACCOUNTS_TABLE, LEDGER_TABLE, and ALERTS_TOPIC_ARN for the
# alert function); for local stand-ins SQS_ENDPOINT, AWS_ENDPOINT_URL_DYNAMODB (AWS_ENDPOINT_URL_DYNAMODB_STREAMS), SNS_ENDPOINT.
# Exit status 0 when the queue was left empty, 1 when something is left (a dry run leaves everything), 2 on misuse.
#   infra/scripts/redrive.sh --queue <url> --function AggregatorFunction [--dry-run] [--wait SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/java-env.sh
if [ ! -f infra/local-runner/target/classpath.txt ] || [ ! -f infra/local-runner/target/classes/dev/credits/local/Redrive.class ]; then
  echo "[redrive] building the local runner (Maven, quiet) ..." >&2
  mvn -B -ntp -q -Dstyle.color=never -pl infra/local-runner -am package -DskipTests >&2
fi
exec java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -XX:+UseSerialGC \
  -cp "infra/local-runner/target/classes:$(cat infra/local-runner/target/classpath.txt)" \
  dev.credits.local.Redrive "$@"
