#!/usr/bin/env bash
# LiveKit's official server SDK for node (Apache-2.0), used only by tests/Platform.LiveKit.Tests as the reference
# that our own C# LiveKit SDK (Platform.LiveKit) is checked against. Idempotent: skips when the version is present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="2.19.2"
dest="$root/.assets/livekit-sdk"
installed="$dest/node_modules/livekit-server-sdk/package.json"
if [ -f "$installed" ] && grep -q "\"version\": \"$version\"" "$installed"; then
  exit 0
fi
command -v npm >/dev/null || { echo "40-livekit-sdk: npm is required" >&2; exit 1; }
mkdir -p "$dest"
echo "install: npm livekit-server-sdk@$version into .assets/livekit-sdk"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error "livekit-server-sdk@$version" >/dev/null
