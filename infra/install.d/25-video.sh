#!/usr/bin/env bash
# Video: libvpx (BSD) for the worker's VP8 encoder, loaded through P/Invoke (libvpx.so.7). ffmpeg is only ever run
# as a separate process (the engine bench's MP4 writer): its x264 is GPL and must never be linked into our
# processes. Idempotent.
set -euo pipefail
need=()
for p in libvpx7 ffmpeg; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=120 update -qq
apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "video: installed ${need[*]}"
