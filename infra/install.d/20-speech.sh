#!/usr/bin/env bash
# Speech stack for Platform.Render: PocketSphinx (ASR, BSD) and Flite (TTS, permissive) from Debian, loaded by
# P/Invoke; the flite CLI makes test speech. Silero VAD (MIT) from the npm package @ricky0123/vad-web into
# .assets/silero/ (see MODELS.md). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

packages=(libpocketsphinx3 libsphinxbase3 pocketsphinx-en-us libflite1 flite)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install.d/20-speech: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=120 update -qq
  apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

silero_dir="$root/.assets/silero"
silero_pkg="@ricky0123/vad-web@0.0.31"
if [ ! -s "$silero_dir/silero_vad_v5.onnx" ]; then
  echo "install.d/20-speech: npm pack $silero_pkg"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$silero_pkg" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/dist/silero_vad_v5.onnx
  mkdir -p "$silero_dir"
  cp "$tmp/package/dist/silero_vad_v5.onnx" "$silero_dir/"
  echo "npm $silero_pkg dist/silero_vad_v5.onnx; Silero VAD model: MIT (see MODELS.md)" > "$silero_dir/SOURCE"
fi
