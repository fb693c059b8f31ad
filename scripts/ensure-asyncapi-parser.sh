#!/usr/bin/env bash
# Install the official AsyncAPI parser (@asyncapi/parser, pinned in scripts/asyncapi/
# package.json) into the git-ignored .ketenhub/asyncapi, for `make test`'s contract check.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=.ketenhub/asyncapi
WANT=$(node -p 'require("./scripts/asyncapi/package.json").dependencies["@asyncapi/parser"]')
mkdir -p "$TARGET"
cp scripts/asyncapi/validate.mjs "$TARGET/"  # always the current one; it is not pinned
HAVE=$(node -p "try { require('./$TARGET/node_modules/@asyncapi/parser/package.json').version } catch { '' }" 2>/dev/null || true)
if [ "$HAVE" = "$WANT" ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "ensure-asyncapi-parser: npm not found; install Node.js 18+ with npm" >&2
    exit 1
fi
echo "ensure-asyncapi-parser: installing @asyncapi/parser $WANT into $TARGET"
cp scripts/asyncapi/package.json "$TARGET/"
(cd "$TARGET" && npm install --no-audit --no-fund --silent --omit=dev)
