#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.cpp, clang, ASan + UBSan) and runs each one:
# first every committed regression input (tests/fuzz/regressions/<target>/) as a plain test,
# then fuzzing from the seed corpus (tests/fuzz/corpus/<target>/) for a fixed time. Fails on any
# crash, leak, timeout (-timeout per input) or out-of-memory (-rss_limit_mb / -malloc_limit_mb).
#   tools/ci/fuzz.sh [seconds per target (30)] [build dir (build-fuzz)] [target names...]
# A failing input is left in <build dir>/artifacts/<target>/: fix the bug, then commit the input
# into tests/fuzz/regressions/<target>/ so it is replayed forever (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
build=${2:-build-fuzz}
shift $(( $# < 2 ? $# : 2 ))
jobs=${JOBS:-2}

CC=clang CXX=clang++ cmake -S . -B "$build" -DENGINE_CUDA=OFF -DENGINE_FUZZ=ON -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for source in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp | sed 's/^fuzz_//')"); done
fi
cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" 2>&1 | grep -E "error|Error" && exit 1

failed=()
for target in "${targets[@]}"; do
  binary="$build/bin/fuzz_$target"
  regressions="tests/fuzz/regressions/$target"
  artifacts="$build/artifacts/$target/"
  work="$build/corpus/$target"  # grows while fuzzing; the committed seeds stay as they are
  mkdir -p "$artifacts" "$work"
  limits=(-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10)
  echo "---- fuzz_$target: regressions, then ${seconds} s"
  if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions")" ]; then
    if ! "$binary" "${limits[@]}" "$regressions"/* >"$build/fuzz_$target.log" 2>&1; then
      tail -30 "$build/fuzz_$target.log"; failed+=("$target (regression)"); continue
    fi
  fi
  if ! "$binary" "${limits[@]}" -max_total_time="$seconds" -artifact_prefix="$artifacts" -print_final_stats=1 \
       "$work" "tests/fuzz/corpus/$target" >"$build/fuzz_$target.log" 2>&1; then
    tail -40 "$build/fuzz_$target.log"; failed+=("$target"); continue
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz_$target.log" | tr '\n' ' '; echo
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz FAILED: ${failed[*]} (inputs in $build/artifacts/)"; exit 1; fi
echo "fuzz: ${#targets[@]} targets clean"
