#!/usr/bin/env bash
# Installs the .deb that packaging/build-deb.sh made and smoke-tests the installed app for
# real, then removes it and checks that nothing is left. Needs root (apt, network
# namespaces); CI runs as root. Exits non-zero with a one-line reason at the first failure.
#
#   sudo bash packaging/test-deb.sh [dist/stillroom_<version>_<arch>.deb]
#
# Steps: apt-get install; `stillroom --help` (timed); `stillroom doctor` finds its engine;
# an offline `stillroom chat` inside a network namespace with no route out; a quantization
# (the converter's child is the frozen binary itself); the desktop
# window under Xvfb, screenshot kept in dist/screenshots/; the app wrote nothing into
# /opt/stillroom; apt-get remove leaves nothing under /opt; purge removes the service user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

current_step="starting"
xvfb_pid=""
app_pid=""
failed=""
fail() { failed=yes; echo "test-deb.sh: FAILED at '$current_step': $*" >&2; exit 1; }
# "exit 139" alone says little to whoever reads a CI log.
exit_reason() { case $1 in 132) echo "exit 132: illegal instruction";; 134) echo "exit 134: abort";;
  137) echo "exit 137: killed";; 139) echo "exit 139: segmentation fault";; *) echo "exit $1";; esac; }
step() { current_step=$1; echo "== $1"; }
stop_gui() {
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; wait "$xvfb_pid" 2>/dev/null || true; fi
  app_pid=""; xvfb_pid=""
}
on_exit() {
  local status=$?
  stop_gui
  [ "$status" -eq 0 ] || [ -n "$failed" ] \
    || echo "test-deb.sh: FAILED at '$current_step' (exit $status)" >&2
}
trap on_exit EXIT

[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, network namespaces): run it with sudo"
deb=${1:-$(ls -t dist/stillroom_*.deb 2>/dev/null | head -n 1)}
[ -n "$deb" ] && [ -f "$deb" ] || fail "no .deb found: run 'bash packaging/build-deb.sh' first"

step "tools for the smoke test (Xvfb, xwininfo, ImageMagick's import)"
needed=()
command -v Xvfb >/dev/null || needed+=(xvfb)
command -v xwininfo >/dev/null || needed+=(x11-utils)
command -v import >/dev/null || needed+=(imagemagick)
command -v unshare >/dev/null || needed+=(util-linux)
if [ ${#needed[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${needed[@]}" >/dev/null \
    || fail "could not install ${needed[*]}"
fi

step "apt-get install $deb"
if dpkg-query -W -f='${Status}' stillroom 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq stillroom >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$deb" >/dev/null || fail "apt-get install failed"
[ -x /opt/stillroom/stillroom ] || fail "/opt/stillroom/stillroom is not there"
[ "$(command -v stillroom)" = /usr/bin/stillroom ] || fail "'stillroom' is not on PATH as /usr/bin/stillroom"
[ -f /usr/share/applications/stillroom.desktop ] || fail "the desktop entry is missing"
getent passwd stillroom >/dev/null || fail "postinst did not create the 'stillroom' service user"
if [ -d /run/systemd/system ]; then
  [ "$(systemctl is-enabled stillroom-serve 2>/dev/null || true)" = disabled ] \
    || fail "stillroom-serve.service should be installed disabled"
else
  [ -f /lib/systemd/system/stillroom-serve.service ] || fail "the systemd unit is missing"
  [ ! -e /etc/systemd/system/multi-user.target.wants/stillroom-serve.service ] \
    || fail "stillroom-serve.service was enabled; it must be installed disabled"
fi
installed_files=$(mktemp)
find /opt/stillroom | sort > "$installed_files"

# A fresh data folder, as on a new user's first start; run away from the source tree so
# nothing can come from it.
home=$(mktemp -d /tmp/stillroom-deb-home.XXXXXX)
cd /tmp
export STILLROOM_HOME=$home

step "stillroom --help"
help_started=$(date +%s%N)
stillroom --help > "$home/help.txt" 2>&1 || fail "stillroom --help failed ($(exit_reason $?)): $(tail -n 3 "$home/help.txt")"
help_ms=$((($(date +%s%N) - help_started) / 1000000))
grep -q "Private LLM workstation" "$home/help.txt" || fail "--help did not print the usage"
echo "   answered in ${help_ms} ms"

step "stillroom doctor"
stillroom doctor > "$home/doctor.txt" 2>&1 || fail "stillroom doctor failed ($(exit_reason $?)): $(tail -n 3 "$home/doctor.txt")"
grep -Eq "^Engine +llama\.cpp +yes" "$home/doctor.txt" \
  || fail "doctor does not find the llama.cpp engine: $(grep Engine "$home/doctor.txt" | head -n 1)"
grep -q "^Data .*$home" "$home/doctor.txt" || fail "doctor does not use STILLROOM_HOME"

step "offline chat in a network namespace with no route"
# /proc/net/route holds only its header line where there is no route at all.
unshare --net -- sh -c '[ "$(wc -l < /proc/net/route)" -le 1 ]' \
  || fail "the namespace has a route out; the offline check would prove nothing"
unshare --net -- stillroom chat --route local --seed 7 --temperature 0 --max-tokens 24 \
    "Name one colour of the sky." > "$home/chat.txt" 2> "$home/chat.err" \
  || fail "offline chat failed ($(exit_reason $?)): $(tail -n 3 "$home/chat.err")"
[ -n "$(tr -d '[:space:]' < "$home/chat.txt")" ] || fail "offline chat printed no answer"
echo "   answer: $(head -c 120 "$home/chat.txt" | tr '\n' ' ')"

step "a quantization (its child process is the frozen binary run as 'stillroom -m')"
stillroom models quantize smollm2-135m-instruct-q4_1 --type Q8_0 --allow-requantize \
    --output "$home/requantized.gguf" > "$home/quantize.txt" 2>&1 \
  || fail "models quantize failed ($(exit_reason $?)): $(tail -n 3 "$home/quantize.txt")"
[ -s "$home/requantized.gguf" ] || fail "models quantize wrote no file"

step "the desktop window under Xvfb"
screens=$repo/dist/screenshots
mkdir -p "$screens"
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do xwininfo -display "$display" -root >/dev/null 2>&1 && break; sleep 0.1; done
DISPLAY=$display stillroom gui > "$home/gui.log" 2>&1 &
app_pid=$!
shown=""
for _ in $(seq 300); do  # up to 60 s on a busy 2-core runner
  # Qt makes more than one window titled Stillroom; one of them must be on screen.
  for id in $(xwininfo -display "$display" -root -tree 2>/dev/null | awk '/"Stillroom"/ { print $1 }'); do
    xwininfo -display "$display" -id "$id" 2>/dev/null | grep -q "IsViewable" && shown=yes
  done
  [ -z "$shown" ] || break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$shown" ]; then
  fail "the window did not appear: $(tail -n 5 "$home/gui.log")"
fi
sleep 2  # let the first frames paint before the picture
shot="$screens/stillroom-gui-$(date +%Y%m%d-%H%M%S).png"
DISPLAY=$display import -window root "$shot" || fail "the screenshot failed"
spread=$(convert "$shot" -format '%[fx:standard_deviation]' info: 2>/dev/null || echo 0)
kill -0 "$app_pid" 2>/dev/null || fail "the app quit while showing its window: $(tail -n 5 "$home/gui.log")"
stop_gui
awk -v s="$spread" 'BEGIN { exit !(s > 0.01) }' || fail "the screenshot is blank ($shot)"
echo "   screenshot: $shot"

step "the app wrote nothing into /opt/stillroom"
after=$(mktemp)
find /opt/stillroom | sort > "$after"
extra=$(comm -13 "$installed_files" "$after" | head -n 5)
[ -z "$extra" ] || fail "files appeared in the install folder: $extra"

step "apt-get remove leaves nothing under /opt"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq stillroom >/dev/null || fail "apt-get remove failed"
[ ! -e /opt/stillroom ] || fail "/opt/stillroom is still there: $(find /opt/stillroom | head -n 5)"
[ ! -e /usr/bin/stillroom ] || fail "/usr/bin/stillroom is still there"
[ ! -e /usr/share/applications/stillroom.desktop ] || fail "the desktop entry is still there"

step "purge removes the service user"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq stillroom >/dev/null || fail "apt-get purge failed"
! getent passwd stillroom >/dev/null || fail "the 'stillroom' user is still there after purge"

rm -rf "$home" "$installed_files" "$after"
current_step="done"
echo "test-deb.sh: all checks passed (--help ${help_ms} ms)"
