#!/bin/sh
# What the tests drive besides Python: Debian's Chromium for the admin page's tests
# (Playwright's own download needs the internet), and Debian's Kamailio with its Python module
# for the PBX tests (integrations/kamailio). Installs what is missing when this machine can
# (apt-get, as root); otherwise says how, and those tests skip saying why (with CI set, they
# fail instead).
set -eu
chromium="${CALLBLOCK_TEST_CHROMIUM:-/usr/bin/chromium}"
missing=""
[ -x "$chromium" ] || missing=" chromium"
if ! command -v kamailio >/dev/null 2>&1 && [ ! -x /usr/sbin/kamailio ]; then
    missing="$missing kamailio"
fi
if [ ! -e /usr/lib/x86_64-linux-gnu/kamailio/modules/app_python3.so ] &&
    [ ! -e /usr/lib/aarch64-linux-gnu/kamailio/modules/app_python3.so ]; then
    missing="$missing kamailio-python3-modules"
fi
if [ -z "$missing" ]; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's$missing for the browser and PBX tests..." >&2
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
    exit 0
fi
echo "Missing:$missing. Install them (Debian: apt-get install$missing) or, for the browser," \
    "set CALLBLOCK_TEST_CHROMIUM; the tests that need them skip without them." >&2
