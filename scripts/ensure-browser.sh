#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it from Debian's
# packages if it is missing (never a browser download at test time).
set -euo pipefail
if command -v chromium >/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null; then
  echo "ensure-browser: install Debian's chromium package; browser tests need /usr/bin/chromium" >&2
  exit 1
fi
echo "ensure-browser: installing chromium"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
