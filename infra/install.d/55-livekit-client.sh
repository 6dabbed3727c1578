#!/usr/bin/env bash
# LiveKit's browser SDK (livekit-client, Apache-2.0) for the conversation page when a conversation's media goes
# through LiveKit. Its UMD bundle (global LivekitClient) is packed into .assets/livekit-client/ and embedded in
# Platform.Api as the page asset livekit-client.js. Idempotent: skips when the version is present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="2.23.0"
dest="$root/.assets/livekit-client"
if [ -f "$dest/package.json" ] && grep -q "\"version\": \"$version\"" "$dest/package.json" && [ -f "$dest/dist/livekit-client.umd.js" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "55-livekit-client: npm is required" >&2; exit 1; }
echo "install: npm pack livekit-client@$version into .assets/livekit-client"
tmp="$(mktemp -d)"
(cd "$tmp" && npm pack --silent --loglevel=error "livekit-client@$version" >/dev/null)
rm -rf "$dest"; mkdir -p "$dest"
tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1 package/package.json package/LICENSE package/dist/livekit-client.umd.js
rm -rf "$tmp"
