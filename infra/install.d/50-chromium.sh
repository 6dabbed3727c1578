#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/Platform.Browser.Tests): Playwright's driver is pointed at
# /usr/bin/chromium (its own browser download does not work here). Flite (from 20-speech) makes the fake microphone's
# WAV. Idempotent.
set -euo pipefail
packages=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install.d/50-chromium: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=120 update -qq
  apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
