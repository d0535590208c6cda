#!/bin/sh
# The browser the admin page's tests drive: Debian's Chromium (Playwright's own download needs
# the internet). Installs it when missing and this machine can (apt-get, as root); otherwise
# says how, and the browser tests skip saying why (with CI set, they fail instead).
set -eu
chromium="${CALLBLOCK_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests..." >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >/dev/null
    exit 0
fi
echo "No Chromium at $chromium: install it (Debian: apt-get install chromium) or set" \
    "CALLBLOCK_TEST_CHROMIUM; the browser tests skip without it." >&2
