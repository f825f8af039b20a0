#!/usr/bin/env bash
# The project's test command: every build variant, each with its tests.
#   0. The layer lint (tools/check/lint_layers.sh): apps -> models -> engine -> kernels, front doors only.
#   1. CPU only (ENGINE_CUDA=OFF): every CPU test.
#      Then the engine installed and used as a library (examples/translate_one), the plumbing of
#      tools/perf/gpu_check.sh train (tools/ci/test_gpu_train.sh), and, where the
#      aarch64 cross toolchain is installed (tools/ci/install_cross_deps.sh), the aarch64 cross build
#      and its emulator and SARGAN tests under qemu.
#   2. Where the CUDA toolkit is installed:
#      - the CUDA kernels compiled by nvcc for sm_80 and sm_90, warnings and register spills fatal;
#      - the configuration a user's first cmake call (no flags at all) gets;
#      - the kernel-source lint;
#      - ThreadSanitizer and AddressSanitizer+UBSan builds running the emulator and kernel tests;
#      - the emulated CUDA build running the whole suite under the schedule matrix.
#   3. Data-parallel training over MPI (docs/distributed.md), where mpirun is installed: 2 ranks
#      against 1 process, resume, a hung and a dead rank; on the cpu build and the emulated one.
#   4. Where clang is installed: the libFuzzer targets (tools/ci/fuzz.sh), each for a fixed time.
# The output ends with the last ctest summary. Variants build in build-ci-*/ beside the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-2}
failed=()

configure_build() {  # dir, cmake args..., then -- targets
  local dir=$1; shift
  local args=() targets=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  targets=("$@")
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "${args[@]}" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  if [ ${#targets[@]} -gt 0 ]; then
    cmake --build "$dir" -j"$jobs" --target "${targets[@]}"
  else
    cmake --build "$dir" -j"$jobs"
  fi
}

stage() {  # name, command...: its result and wall time (CI's budget: docs/architecture.md, Tools)
  local name=$1; shift
  local start=$SECONDS
  echo "==== $name"
  if "$@"; then
    echo "==== $name: ok ($((SECONDS - start)) s)"
  else
    echo "==== $name: FAILED ($((SECONDS - start)) s)"
    failed+=("$name")
  fi
}

run_ctest() {  # dir, extra ctest args...: the tests, then the reason of each one Skipped
  local dir=$1; shift
  local status=0
  (cd "$dir" && ctest --output-on-failure "$@") || status=$?
  awk '/^[0-9]+\/[0-9]+ Testing: /{name = $3} /^SKIPPED: /{print "skipped " name ": " substr($0, 10)}' \
    "$dir/Testing/Temporary/LastTest.log" 2>/dev/null
  return $status
}

with_env() {  # "NAME=value NAME=value", command...: the command with those variables set
  local assignments=$1; shift
  (export $assignments; "$@")
}

configure_no_flags() {  # dir: `cmake -S . -B dir` exactly as a user types it; CUDA on, with architectures
  local dir=$1
  cmake -S . -B "$dir" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  grep -E "ENGINE_CUDA:|CUDA architectures:" "$dir.configure.log"
  grep -q "^-- ENGINE_CUDA: ON" "$dir.configure.log" && grep -q "^-- CUDA architectures: " "$dir.configure.log"
}

mkdir -p build-ci
stage "layer lint" tools/check/lint_layers.sh
stage "cpu-only build" configure_build build-ci/cpu -DENGINE_CUDA=OFF
stage "cpu-only tests" run_ctest build-ci/cpu
stage "cpu-only engine installed, examples/translate_one built and run against it" tools/check/check_install.sh build-ci/cpu
stage "gpu_check.sh train, small on the cpu: the plumbing of a GPU lease's training run" tools/ci/test_gpu_train.sh build-ci/cpu

if command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 && command -v qemu-aarch64-static >/dev/null 2>&1 &&
   dpkg-query -W -f='${Status}\n' libopenblas-openmp-dev:arm64 libstdc++6:arm64 2>/dev/null | grep -c "install ok installed" | grep -qx 2; then
  stage "aarch64: cross build, the emulator self-tests and the SARGAN golden test under qemu" \
    tools/ci/test_aarch64.sh build-ci/aarch64
else
  echo "==== no aarch64 cross toolchain (tools/ci/install_cross_deps.sh): the aarch64 stage is skipped"
fi

if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH=/usr/local/cuda/bin:$PATH
  stage "kernel source lint" tools/check/lint_kernels.sh
  # kernels_baselines: the cuDNN/cuBLAS baselines (compile and link only: no GPU here); bench links
  # them with the engine's ENGINE_CONV_IMPL dispatch.
  stage "nvcc sm_80 and sm_90, warnings and spills fatal" \
    configure_build build-ci/nvcc -DENGINE_CUDA=ON -DENGINE_CUDA_STRICT=ON "-DCMAKE_CUDA_ARCHITECTURES=80;90" \
    -DBUILD_TESTING=OFF -- kernels_cuda kernels_baselines bench
  # What a user gets with no flags at all on a machine with nvcc: the CUDA build, for the
  # project's architectures where no GPU is visible. Configured only: the kernels' sources are the
  # strict stage's, and CI's run of the README's main command (the same defaults) builds them for
  # those architectures, spills only warned about.
  stage "default configure (no flags) with nvcc: CUDA on, its architectures" configure_no_flags build-ci/default
  if [ -x tools/check/check_kernel_docs.sh ]; then
    stage "docs/kernels.md matches ptxas" tools/check/check_kernel_docs.sh build-ci/nvcc
  fi
  # OpenBLAS's and libgomp's thread pools are not instrumented: TSan cannot see their
  # synchronisation and would report false races. The emulator's own workers stay on.
  uninstrumented_threads_off="OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1"
  stage "thread sanitizer build" configure_build build-ci/tsan -DENGINE_CUDA=EMU -DENGINE_SANITIZE=thread -- test_emu test_cuda
  stage "thread sanitizer: emulator and kernel tests" \
    with_env "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ENGINE_TEST_SMALL=1 $uninstrumented_threads_off" \
    run_ctest build-ci/tsan -L "emu|cuda"
  stage "address sanitizer build" configure_build build-ci/asan -DENGINE_CUDA=EMU -DENGINE_SANITIZE=address -- test_emu test_cuda
  stage "address sanitizer: emulator and kernel tests" \
    with_env "ASAN_OPTIONS=detect_leaks=0 ENGINE_TEST_SMALL=1" run_ctest build-ci/asan -L "emu|cuda"
  stage "emulated cuda build" configure_build build-ci/emu -DENGINE_CUDA=EMU
  # The other schedules on the quick set (ENGINE_TEST_SMALL): each kernel test reruns its own
  # schedule matrix anyway (tests/kernels/cuda/kernel_test_util.h); what these add is the
  # launches outside it under another order. The forward run below has every case at full size.
  for schedule in reverse random:7; do
    stage "emulated kernels, schedule $schedule, 2 workers, the quick set" \
      with_env "ENGINE_EMU_SCHEDULE=$schedule ENGINE_EMU_THREADS=2 ENGINE_TEST_SMALL=1" run_ctest build-ci/emu -L "cuda|emu"
  done
  stage "emulated cuda: every suite, schedule forward" with_env "ENGINE_EMU_SCHEDULE=forward" run_ctest build-ci/emu
else
  echo "==== no CUDA toolkit (nvcc) found: the emulated and nvcc variants are skipped"
fi

# ---- data-parallel training (MPI): its own block, on the builds above (sargan only) ----
if command -v mpirun >/dev/null 2>&1; then
  stage "distributed: sargan (cpu build)" cmake --build build-ci/cpu -j"$jobs" --target sargan
  stage "distributed: 2 ranks vs 1 process, resume, failure (cpu)" tools/ci/test_distributed.sh build-ci/cpu cpu
  if [ -d build-ci/emu ]; then
    stage "distributed: sargan (emulated cuda build)" cmake --build build-ci/emu -j"$jobs" --target sargan
    stage "distributed: 2 ranks vs 1 process, resume, failure (emulated cuda)" tools/ci/test_distributed.sh build-ci/emu cuda
  fi
else
  echo "==== no mpirun (Debian: openmpi-bin libopenmpi-dev): the distributed stages are SKIPPED"
fi

# ---- fuzzing (docs/reliability.md) --------------------------------------------------------
# Every reader of untrusted bytes under libFuzzer + ASan + UBSan: the committed regression
# inputs replayed, then 8 targets x 10 s = 80 s of fuzzing (plus the clang build of the
# engine, instrumented): a smoke test of every reader on each change; the long campaigns are
# docs/reliability.md's. Fails on a crash, leak, per-input timeout (10 s) or memory over 2 GB.
if command -v clang++ >/dev/null 2>&1; then
  stage "fuzz: 8 libFuzzer targets, 10 s each" tools/ci/fuzz.sh 10 build-ci/fuzz
else
  echo "==== no clang++: the fuzz stage is skipped"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
