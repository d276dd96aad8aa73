#!/usr/bin/env bash
# Publishes the billing console to a stack deployed with DeployConsole=true:
#   console/deploy/publish.sh <stack-name>
# builds console/dist, writes its /console-config.json from the stack (the issuer the JWT authorizer trusts, the
# client id, the redirect URI on the CloudFront domain), uploads to the private bucket and invalidates the
# distribution. Settings: CONSOLE_CLIENT_ID (default: the stack's JwtAudience), CONSOLE_SCOPE (default
# "openid email profile"), CONSOLE_ACCOUNT_CLAIM (default account_id), CONSOLE_URL (a custom domain, if any).
set -euo pipefail
stack=${1:?usage: publish.sh <stack-name>}
cd "$(dirname "$0")/.."

out() { aws cloudformation describe-stacks --stack-name "$stack" --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text; }
param() { aws cloudformation describe-stacks --stack-name "$stack" --query "Stacks[0].Parameters[?ParameterKey=='$1'].ParameterValue" --output text; }

bucket=$(out ConsoleBucketName)
distribution=$(out ConsoleDistributionId)
url=${CONSOLE_URL:-$(out ConsoleUrl)}
url=${url%/}
if [ -z "$bucket" ] || [ "$bucket" = "None" ]; then
  echo "stack $stack has no console: deploy it with --parameter-overrides DeployConsole=true first" >&2
  exit 1
fi
issuer=$(param JwtIssuer)
client=${CONSOLE_CLIENT_ID:-$(param JwtAudience)}

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
node -e '
  const [issuer, clientId, url, scope, claim] = process.argv.slice(1);
  require("fs").writeFileSync("dist/console-config.json", JSON.stringify({
    issuer, clientId, redirectUri: url + "/auth/callback", postLogoutRedirectUri: url + "/", scope, accountClaim: claim,
  }, null, 2) + "\n");
' "$issuer" "$client" "$url" "${CONSOLE_SCOPE:-openid email profile}" "${CONSOLE_ACCOUNT_CLAIM:-account_id}"

# hashed assets are immutable; everything else is revalidated on each load. Old assets stay (pages still open
# may load them); the bucket's lifecycle expires replaced versions.
aws s3 sync dist/assets "s3://$bucket/assets" --cache-control "public, max-age=31536000, immutable"
aws s3 sync dist "s3://$bucket" --exclude "assets/*" --cache-control "no-cache" --delete
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/" "/index.html" "/console-config.json" > /dev/null
echo "billing console published: $url/"
