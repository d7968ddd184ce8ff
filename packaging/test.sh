#!/usr/bin/env bash
# Runs every check CI runs: lint, layering contracts, the whole test suite, then (the full
# run only, as root) the Linux installer: build the .deb, install it, smoke-test, remove.
# Installs the Debian packages the suite needs when they are missing and we may (root).
#
#   bash packaging/test.sh                # everything
#   bash packaging/test.sh tests/cli -x   # pytest arguments: those tests only, no installer
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

# The installer is checked after the suite, not inside it: it needs root (apt-get install,
# network namespaces) and builds for minutes, which a test must not hide; it runs its own
# steps with their own one-line failures (packaging/test-deb.sh).
if [ $# -eq 0 ]; then
  echo "== installer (.deb: build, install, smoke-test, remove)"
  if [ "${STILLROOM_SKIP_INSTALLER:-}" = 1 ]; then
    echo "skipped: STILLROOM_SKIP_INSTALLER=1"
  elif [ "$(id -u)" != 0 ]; then
    echo "skipped: installing the .deb needs root (CI runs as root). By hand:" \
         "bash packaging/build-deb.sh && sudo bash packaging/test-deb.sh"
  else
    bash packaging/build-deb.sh
    bash packaging/test-deb.sh
  fi
fi
