#!/usr/bin/env bash
# Builds the Linux installer: the frozen app (PyInstaller, one folder) and a .deb around it.
#
#   bash packaging/build-deb.sh        # after `bash packaging/setup.sh` (any extras)
#
# Output: dist/stillroom_<version>_<arch>.deb. Installs /opt/stillroom/ (the frozen app with
# the embedded model), /usr/bin/stillroom, a desktop entry and icon, and the office-server
# unit stillroom-serve.service (disabled). PyInstaller's work folder lives under
# $STILLROOM_BUILD_CACHE (default build/), so a second build reuses its analysis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$(date +%s)

python=${STILLROOM_PYTHON:-.venv/bin/python}  # STILLROOM_PYTHON: another environment
if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
  echo "build-deb.sh: PyInstaller is missing: run '.venv/bin/pip install -e .[packaging]' first." >&2
  exit 1
fi
command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is missing (a Debian or Ubuntu machine builds the .deb)." >&2; exit 1; }
# The installer ships the embedded model so the app answers offline on first start.
"$python" packaging/install_embedded_model.py

version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
arch=$(dpkg --print-architecture)
cache=${STILLROOM_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stillroom}
frozen=dist/stillroom

echo "== freezing the app (PyInstaller; work folder $cache/pyinstaller)"
nice -n 10 "$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath dist --workpath "$cache/pyinstaller" packaging/stillroom.spec
[ -x "$frozen/stillroom" ] || { echo "build-deb.sh: PyInstaller did not produce $frozen/stillroom." >&2; exit 1; }
frozen_done=$(date +%s)

echo "== assembling the package tree"
root=$(mktemp -d "${TMPDIR:-/tmp}/stillroom-deb.XXXXXX")
trap 'rm -rf "$root"' EXIT
install -d "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
  "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/icons/hicolor/512x512/apps" \
  "$root/lib/systemd/system" "$root/usr/share/doc/stillroom" "$root/DEBIAN"
cp -a "$frozen" "$root/opt/stillroom"
install -d "$root/opt/stillroom/docs"
install -m 644 docs/PACKAGING.md "$root/opt/stillroom/docs/PACKAGING.md"
# A symlink, not a copy: the binary finds its _internal folder through its real path.
ln -s /opt/stillroom/stillroom "$root/usr/bin/stillroom"
install -m 644 packaging/linux/stillroom.desktop "$root/usr/share/applications/stillroom.desktop"
install -m 644 resources/icons/stillroom.svg "$root/usr/share/icons/hicolor/scalable/apps/stillroom.svg"
install -m 644 resources/icons/stillroom.png "$root/usr/share/icons/hicolor/512x512/apps/stillroom.png"
install -m 644 packaging/linux/stillroom-serve.service "$root/lib/systemd/system/stillroom-serve.service"
printf 'Stillroom %s\nLicense: Apache-2.0\nThe embedded model (SmolLM2-135M-Instruct): Apache-2.0.\n' \
  "$version" > "$root/usr/share/doc/stillroom/copyright"
for script in postinst prerm postrm; do
  install -m 755 "packaging/linux/debian/$script" "$root/DEBIAN/$script"
done

installed_kb=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: stillroom
Version: $version
Architecture: $arch
Maintainer: Stillroom <maintainers@stillroom.invalid>
Installed-Size: $installed_kb
Section: utils
Priority: optional
Depends: libc6, libegl1, libgl1, libfontconfig1, libfreetype6, libxkbcommon0, libxkbcommon-x11-0, libdbus-1-3, libglib2.0-0, libx11-xcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0, libxcb-render-util0, libxcb-shape0, libxcb-randr0, libxcb-xkb1, adduser
Recommends: tesseract-ocr, gnome-keyring
Homepage: https://github.com/stillroom/stillroom
Description: Private LLM workstation: local models, honest meters
 Stillroom answers with language models on this computer; the cloud only
 when your policy allows, never for sensitive text. Ships a small embedded
 model so it answers offline on first start, the desktop app, the
 stillroom command, and an office server (stillroom-serve.service,
 installed disabled).
EOF

echo "== building the .deb"
deb="dist/stillroom_${version}_${arch}.deb"
rm -f dist/stillroom_*.deb
# zstd: xz -6 took over 15 minutes on two busy cores for a few MB less; zstd at 9 takes
# seconds to a minute (dpkg >= 1.21.18, Ubuntu >= 21.10 read it). Files owned by root
# without needing fakeroot.
dpkg-deb --root-owner-group -Zzstd -z9 --threads-max="$(nproc)" --build "$root" "$deb" >/dev/null
finished=$(date +%s)

echo "== summary"
printf '  package:        %s\n' "$deb"
printf '  .deb size:      %s MB\n' "$(awk -v b="$(stat -c %s "$deb")" 'BEGIN { printf "%.1f", b / 1e6 }')"
printf '  installed size: %s MB\n' "$(awk -v k="$installed_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')"
printf '  build time:     %s s (freeze %s s, package %s s)\n' \
  "$((finished - started))" "$((frozen_done - started))" "$((finished - frozen_done))"
