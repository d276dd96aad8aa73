#!/usr/bin/env bash
# sam validate --lint and cfn-lint on template.yaml. Offline: no AWS credentials needed.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/venv.sh
export SAM_CLI_TELEMETRY=0
echo "==> sam validate --lint"
.venv/bin/sam validate --lint --region us-east-1 -t template.yaml
echo "==> cfn-lint"
.venv/bin/cfn-lint template.yaml
echo "==> IAM after the SAM transform"
.venv/bin/python infra/scripts/check-iam.py template.yaml
echo "template.yaml: valid"
