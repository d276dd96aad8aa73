#!/usr/bin/env bash
# Creates .venv and installs infra/requirements-dev.txt into it, once per change of that file.
set -euo pipefail
cd "$(dirname "$0")/../.."
stamp=.venv/.requirements.sha
want=$(sha256sum infra/requirements-dev.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
echo "==> installing Python tools into .venv (aws-sam-cli, cfn-lint, moto server, schemathesis) ..."
python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r infra/requirements-dev.txt
echo "$want" > "$stamp"
