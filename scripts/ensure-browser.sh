#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it and the fonts the pages
# need (Latin, Bengali, Arabic script for Urdu) from Debian's packages if they are missing
# (never a browser or font download at test time).
set -euo pipefail
# grep without -q reads all of fc-list's output: with pipefail, an early exit would fail the pipe.
if command -v chromium >/dev/null && fc-list 2>/dev/null | grep "Noto Sans Bengali" >/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null; then
  echo "ensure-browser: install Debian's chromium package; browser tests need /usr/bin/chromium" >&2
  exit 1
fi
echo "ensure-browser: installing chromium and fonts"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-core >/dev/null
