#!/usr/bin/env bash
# Browser end-to-end tests: playwright-core driving the system Chromium against the real
# `omw-chat serve --demo` (one server per test file). Exit code = the tests' result.
#
#   tests/e2e/run.sh                      # OMW_BIN defaults to $HOME/.cache/omw-chat/target/debug/omw-chat
#   OMW_BIN=target/release/omw-chat tests/e2e/run.sh
#   OMW_SERVER_LOG=1 tests/e2e/run.sh     # also stream the server's log
#
# Screenshots are rewritten to docs/screenshots/ on every run; on a failure the pages are
# screenshotted to ${TMPDIR:-/tmp}/omw-e2e-failures/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export OMW_BIN="${OMW_BIN:-$HOME/.cache/omw-chat/target/debug/omw-chat}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

# 1. Chromium from the distribution (a browser is never downloaded by Playwright here).
if [ ! -x "$CHROMIUM_PATH" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (apt)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  else
    echo "error: no Chromium at $CHROMIUM_PATH (install the distribution's chromium package, or set CHROMIUM_PATH)" >&2
    exit 2
  fi
fi

# 2. The test package (playwright-core only).
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
  echo "== npm ci (tests/e2e)"
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

# 3. The built web client the demo serves.
if [ ! -f "$ROOT/web/dist/index.html" ]; then
  echo "== building web/dist"
  if [ ! -d "$ROOT/web/node_modules" ]; then (cd "$ROOT/web" && npm ci --no-audit --no-fund); fi
  (cd "$ROOT/web" && npx vite build)
fi

# 4. The server binary.
if [ ! -x "$OMW_BIN" ]; then
  echo "error: OMW_BIN=$OMW_BIN is not an executable omw-chat binary;" >&2
  echo "  build it: CARGO_TARGET_DIR=\$HOME/.cache/omw-chat/target cargo build -p omw-chat" >&2
  exit 2
fi

cd "$ROOT"
exec node --test --test-concurrency=1 tests/e2e/*.test.mjs
