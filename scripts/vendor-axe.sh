#!/usr/bin/env bash
# Refreshes the vendored axe-core (MPL-2.0) that the console's browser tests
# inject into each page: internal/web/testdata/axe.min.js. Needs npm.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-4.14.1}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$version" >/dev/null && tar xzf axe-core-*.tgz)
cp "$tmp/package/axe.min.js" internal/web/testdata/axe.min.js
cp "$tmp/package/LICENSE" internal/web/testdata/axe-core.LICENSE
echo "axe-core $version vendored into internal/web/testdata"
