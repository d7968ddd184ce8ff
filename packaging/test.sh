#!/usr/bin/env bash
# Runs every check CI runs: lint, layering contracts, then the whole test suite.
# Installs the Debian packages the suite needs when they are missing and we may (root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x .venv/bin/pytest ]; then
  echo "The test tools are missing: run 'bash packaging/setup.sh --dev' first." >&2
  exit 1
fi

missing=()
while read -r package; do
  [ -z "$package" ] || [ "${package:0:1}" = "#" ] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done < packaging/test-system-packages.txt
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing system packages for the tests: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Some tests need these Debian packages: ${missing[*]} (install them as root)." >&2
  fi
fi

echo "== ruff"
.venv/bin/ruff check .
echo "== import-linter (layering)"
.venv/bin/lint-imports
echo "== pytest"
# pytest exits 5 when it collects nothing: that fails this script too.
.venv/bin/python -m pytest "$@"
