#!/usr/bin/env bash
# Starts Chromium full-screen on one Easel canvas, for a wall-mounted display left running.
#
#   deploy/kiosk/kiosk.sh SLUG [URL]
#     SLUG   a canvas slug (left-canva), or several separated by commas for the wall page
#            (left-canva,right-canva)
#     URL    the Easel server, default $EASEL_URL or http://localhost:8000
#
#   Environment:
#     EASEL_KIOSK_QUERY    extra display options, e.g. "transition=crossfade&transitionMs=400&time=0"
#     EASEL_KIOSK_PROFILE  Chromium profile folder (default ~/.local/share/easel-kiosk/<slug>)
#     CHROMIUM             the browser to run (default: the first of chromium, chromium-browser,
#                          google-chrome-stable, google-chrome found on PATH)
#
# It waits for the server to answer /healthz before opening the page, so a display that boots
# before the server shows a dark screen instead of a browser error page; once the page is up it
# reconnects by itself. It replaces itself with Chromium (exec), so a systemd unit with
# Restart=always restarts the browser if it ever exits.
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 && $1 != -h && $1 != --help ]] || usage

slugs=$1
server=${2:-${EASEL_URL:-http://localhost:8000}}
server=${server%/}
slug_re='^[a-z0-9][a-z0-9-]{0,62}$'

IFS=',' read -r -a slug_list <<<"$slugs"
for slug in "${slug_list[@]}"; do
  if ! [[ $slug =~ $slug_re ]]; then
    echo "kiosk: invalid canvas slug \"$slug\": use lowercase letters, digits and dashes, e.g. left-canva" >&2
    exit 2
  fi
done
if ! [[ $server =~ ^https?://[^/]+$ ]]; then
  echo "kiosk: invalid server URL \"$server\": expected http://host:port, e.g. http://easel.local:8000" >&2
  exit 2
fi

query=${EASEL_KIOSK_QUERY:-}
if [[ ${#slug_list[@]} -gt 1 ]]; then
  page="$server/wall?slugs=$slugs${query:+&$query}"
else
  page="$server/c/$slugs${query:+?$query}"
fi

browser=${CHROMIUM:-}
if [[ -z $browser ]]; then
  for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
      browser=$candidate
      break
    fi
  done
fi
if [[ -z $browser ]]; then
  echo "kiosk: no Chromium found: install it (Debian: sudo apt-get install chromium) or set CHROMIUM=/path/to/chrome" >&2
  exit 1
fi

# A profile of its own: no session restore, no first-run pages, nothing shared with a person's browser.
profile=${EASEL_KIOSK_PROFILE:-${XDG_DATA_HOME:-$HOME/.local/share}/easel-kiosk/${slugs//,/_}}
mkdir -p "$profile/Default"
# After a power cut Chromium would offer to restore the last session; tell it it exited cleanly.
prefs="$profile/Default/Preferences"
if [[ -f $prefs ]]; then
  sed -i -e 's/"exited_cleanly":false/"exited_cleanly":true/' -e 's/"exit_type":"[^"]*"/"exit_type":"Normal"/' "$prefs" || true
fi

# X11: no screen saver, no blanking, no power-down (Wayland compositors have their own settings).
if [[ -n ${DISPLAY:-} ]] && command -v xset >/dev/null 2>&1; then
  xset s off s noblank -dpms 2>/dev/null || true
fi

# Wait for the server, retrying with backoff capped at 10 s, as the page itself does.
if command -v curl >/dev/null 2>&1; then
  delay=1
  until curl -fsS -o /dev/null --max-time 5 "$server/healthz" 2>/dev/null; do
    echo "kiosk: waiting for Easel at $server (next try in ${delay}s)" >&2
    sleep "$delay"
    delay=$((delay * 2 > 10 ? 10 : delay * 2))
  done
fi

origin=$server
echo "kiosk: opening $page with $browser" >&2
exec "$browser" \
  --kiosk "$page" \
  --user-data-dir="$profile" \
  --no-first-run \
  --no-default-browser-check \
  --noerrdialogs \
  --disable-infobars \
  --disable-session-crashed-bubble \
  --hide-crash-restore-bubble \
  --disable-features=Translate,TranslateUI,MediaRouter \
  --disable-pinch \
  --overscroll-history-navigation=0 \
  --autoplay-policy=no-user-gesture-required \
  --check-for-update-interval=31536000 \
  --password-store=basic \
  --disable-background-timer-throttling \
  --disable-backgrounding-occluded-windows \
  --disable-renderer-backgrounding \
  --unsafely-treat-insecure-origin-as-secure="$origin"
# The last flag makes a plain-http server a secure context for this profile only, so the page
# may hold a Screen Wake Lock.
