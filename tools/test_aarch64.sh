#!/usr/bin/env bash
# The engine on 64-bit Arm: cross-compiles the engine, its kernels, the models, `sargan` and the
# CUDA emulator's self-tests (EMU, whose fiber switch is kernels/emu/fiber_aarch64.S) with Debian's
# g++-aarch64-linux-gnu and arm64 libraries (tools/install_cross_deps.sh), and checks that the
# results are aarch64 executables. They are not run here: under qemu-user-static the emulator's
# first kernel launch and the SARGAN golden test did not finish (issue 10's note); running them
# waits for that to be understood or for an Arm machine.
#   tools/test_aarch64.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:?usage: tools/test_aarch64.sh BUILD_DIR}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DENGINE_CUDA=EMU -DBUILD_TESTING=ON \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"${JOBS:-2}" --target test_emu sargan
for program in test_emu sargan; do
  file "$build/bin/$program" | grep -q "ARM aarch64" ||
    { echo "test_aarch64: $build/bin/$program is not an aarch64 executable" >&2; exit 1; }
done
echo "test_aarch64: engine, models, sargan and the emulator self-tests cross-compiled for aarch64"
