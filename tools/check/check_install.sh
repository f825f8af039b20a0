#!/usr/bin/env bash
# Installs the engine from a configured and built BUILD_DIR into a temporary prefix, builds
# examples/translate_one against the installed package (find_package(SarganEngine)) and runs it on
# a bundled demo face: the engine used as a library, the way another project would.
#   tools/check/check_install.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:?usage: tools/check/check_install.sh BUILD_DIR}" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$root/examples/translate_one" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release | grep SarganEngine
cmake --build "$work/example" -j"${JOBS:-2}" >"$work/example.log" || { cat "$work/example.log"; exit 1; }
demo="$root/weights/sargan_demo"
size=$(sed -n 's/.*"image_size": *\([0-9]*\).*/\1/p' "$demo/config.json")
width=$(sed -n 's/.*"g_conv_dim": *\([0-9]*\).*/\1/p' "$demo/config.json")
face=$(ls "$demo"/faces/*.png | head -n 1)
"$work/example/translate_one" "$demo/sargan_G.safetensors" "$face" "$work/out" "$size" "$width"
count=$(ls "$work"/out_*.png | wc -l)
[ "$count" -eq 7 ] || { echo "check_install: $count images written, expected 7" >&2; exit 1; }
echo "check_install: the installed engine from $build builds and runs examples/translate_one"
