#!/usr/bin/env bash
# The engine on 64-bit Arm: cross-compiles the engine, its kernels and the CUDA emulator (EMU,
# whose fiber switch is kernels/emu/fiber_aarch64.S) with Debian's g++-aarch64-linux-gnu, then
# runs under qemu-user-static the emulator's self-tests and a CPU smoke test: the SARGAN
# generator against its PyTorch golden fixture. (tools/install_cross_deps.sh installs the tools.)
#   tools/test_aarch64.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:?usage: tools/test_aarch64.sh BUILD_DIR}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DENGINE_CUDA=EMU \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"${JOBS:-2}" --target test_emu test_models
file "$build/bin/test_emu" | grep -q "ARM aarch64" || { echo "test_aarch64: $build/bin/test_emu is not an aarch64 executable" >&2; exit 1; }
arm() { qemu-aarch64-static -L /usr/aarch64-linux-gnu "$@"; }
(cd "$build" && ENGINE_TEST_SMALL=1 ENGINE_EMU_THREADS=2 arm bin/test_emu)
(cd "$build" && arm bin/test_models "sargan: G matches PyTorch on the fixture inputs")
