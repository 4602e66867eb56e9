#!/usr/bin/env bash
# Headless Chromium for the dashboard rendering test (tests/quicksight): Debian's package, installed only if
# missing. Needs root (or passwordless sudo) and the Debian mirror; does nothing when /usr/bin/chromium exists.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi
SUDO=""
if [[ "$(id -u)" != "0" ]]; then
  command -v sudo >/dev/null || { echo "error: $CHROMIUM is missing and this user cannot install it: run 'apt-get install chromium' as root" >&2; exit 1; }
  SUDO="sudo -n"
fi
echo "installing Debian's chromium for the dashboard rendering test..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
"$CHROMIUM" --version
