#!/usr/bin/env bash
# `npm run lint`: ESLint (typescript-eslint, with type information) and Prettier's check over the sources; fails on
# any finding. ESLint runs from this folder's own package: typescript-eslint needs TypeScript's JavaScript API, which
# TypeScript 7 (what builds the project) no longer ships, so this package pins TypeScript 6.0 (docs/decisions.md).
# Both packages are installed from their lock files when missing or stale, as scripts/test.sh does.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

stale() { [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; }
if stale .; then npm ci --no-audit --no-fund; fi
if stale tools/lint; then (cd tools/lint && npm ci --no-audit --no-fund); fi

status=0
tools/lint/node_modules/.bin/eslint --max-warnings 0 apps libs test bench scripts || status=1
node_modules/.bin/prettier --check --log-level warn "{apps,libs,test,bench,scripts}/**/*.{ts,js,css,html}" || status=1
[ "$status" -eq 0 ] && echo "lint: ESLint and Prettier found nothing"
exit "$status"
