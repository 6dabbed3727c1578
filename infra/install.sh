#!/usr/bin/env bash
# Installs every system package the platform and its tests need. Idempotent; other features add to the lists.
# Usage: infra/install.sh            (needs root: apt-get)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

debian_packages=(
  postgresql-15 postgresql-contrib   # the only store: Orleans clustering, grain state, reminders, ledger
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=120 update -qq
  apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm-fetched assets (models, browser libraries) are added here by the features that need them.
for script in "$here"/install.d/*.sh; do
  [ -e "$script" ] || continue
  bash "$script"
done
