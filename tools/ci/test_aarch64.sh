#!/usr/bin/env bash
# The engine on 64-bit Arm: cross-compiles the engine, its kernels and the CUDA emulator (EMU,
# whose fiber switch is kernels/emu/fiber_aarch64.S) with Debian's g++-aarch64-linux-gnu, then
# runs under qemu-user-static the emulator's self-tests and a CPU smoke test: the SARGAN
# generator against its PyTorch golden fixture. (tools/ci/install_cross_deps.sh installs the tools
# and says why the programs run with the multiarch loader, `-L /`.)
#   tools/ci/test_aarch64.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=${1:?usage: tools/ci/test_aarch64.sh BUILD_DIR}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DENGINE_CUDA=EMU -DBUILD_TESTING=ON \
  -DCMAKE_TOOLCHAIN_FILE="$root/cmake/toolchains/aarch64-linux-gnu.cmake" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j"${JOBS:-2}" --target test_emu test_models sargan
for program in test_emu test_models sargan; do
  file "$build/bin/$program" | grep "ARM aarch64" >/dev/null ||  # not -q: pipefail and SIGPIPE
    { echo "test_aarch64: $build/bin/$program is not an aarch64 executable" >&2; exit 1; }
done
arm() { qemu-aarch64-static -L / "$@"; }
# Left out: the two tests that re-execute themselves in a child process with other settings;
# without binfmt_misc (containers, CI) the host kernel cannot start an aarch64 child.
(cd "$build" && ENGINE_TEST_SMALL=1 ENGINE_EMU_THREADS=2 arm bin/test_emu \
  "~settings come from ENGINE_EMU_SCHEDULE and ENGINE_EMU_THREADS" \
  "~ENGINE_EMU_PROFILE takes 0 or 1 or sampled and refuses anything else by name")
(cd "$build" && arm bin/test_models "sargan: G matches PyTorch on the fixture inputs")
arm "$build/bin/sargan" --version
echo "test_aarch64: the emulator self-tests and the SARGAN golden test pass under qemu-aarch64"
