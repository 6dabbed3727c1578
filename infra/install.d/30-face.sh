#!/usr/bin/env bash
# Face mesh asset: MediaPipe's canonical face model (468 vertices with UVs, 898 triangles, Apache-2.0), shipped
# inside npm @mediapipe/face_mesh as part of a packed asset file. We keep the package tarball's licence and cut out
# the geometry pipeline metadata (a small protobuf) into .assets/face/. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.assets/face"
pkg="@mediapipe/face_mesh@0.4.1657299874"
target="$dest/canonical_face.binarypb"
[ -s "$target" ] && exit 0

if ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=120 update -qq
  apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends npm >/dev/null
fi

mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
tar -xzf "$tmp"/mediapipe-face_mesh-*.tgz -C "$tmp"
packed="$tmp/package/face_mesh_solution_packed_assets.data"
# geometry_pipeline_metadata_landmarks.binarypb lives at bytes [3737848, 3757224) of the packed data.
dd if="$packed" of="$tmp/geometry.binarypb" bs=1 skip=3737848 count=$((3757224 - 3737848)) status=none 2>/dev/null \
  || tail -c +3737849 "$packed" | head -c $((3757224 - 3737848)) > "$tmp/geometry.binarypb"
cp "$tmp/package/package.json" "$dest/package.json"   # licence: Apache-2.0 (its "license" field)
echo "$pkg face_mesh_solution_packed_assets.data[3737848:3757224] (Apache-2.0)" > "$dest/SOURCE"
mv "$tmp/geometry.binarypb" "$target"
echo "face: $target ($(stat -c %s "$target") bytes)"
