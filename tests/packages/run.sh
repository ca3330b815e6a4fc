#!/usr/bin/env bash
# The npm packages test: @omw-chat/client and @omw-chat/react built, packed, installed into a
# fresh Vite + React app outside the repository, and chatting in Chromium against the real
# `omw-chat serve --demo`. It reuses the browser tests' harness and their playwright-core.
#
#   tests/packages/run.sh                 # OMW_BIN defaults to $HOME/.cache/omw-chat/target/debug/omw-chat
#   OMW_KEEP_TMP=1 tests/packages/run.sh  # keep the temporary app (its path is printed)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export OMW_BIN="${OMW_BIN:-$HOME/.cache/omw-chat/target/debug/omw-chat}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM_PATH" ]; then
  echo "error: no Chromium at $CHROMIUM_PATH (tests/e2e/run.sh installs it; or set CHROMIUM_PATH)" >&2
  exit 2
fi
if [ ! -d "$ROOT/tests/e2e/node_modules/playwright-core" ]; then
  (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -d "$ROOT/web/node_modules" ]; then
  (cd "$ROOT/web" && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -x "$OMW_BIN" ]; then
  echo "error: OMW_BIN=$OMW_BIN is not an executable omw-chat binary" >&2
  exit 2
fi

cd "$ROOT"
start=$SECONDS
status=0
node --test --test-concurrency=1 tests/packages/packages.test.mjs || status=$?
echo "package test: $((SECONDS - start)) s"
exit $status
