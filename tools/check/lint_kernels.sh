#!/usr/bin/env bash
# Kernel-source lint (docs/emulator.md, "Kernel-source rules"): the CUDA files must mean the
# same thing under nvcc and under the CPU emulator. Prints file:line: reason for every
# violation and exits 1 if there is any.
#   - `<<<` and `extern __shared__` only in kernels/cuda/launch.cuh (use launch() and
#     dynamic_shared<T>());
#   - inline PTX (asm( / asm volatile) only in kernels/cuda/ptx.cuh, whose every instruction the
#     emulator implements (kernels/emu/tensor_core.h); no __CUDA_ARCH__ forks, no __activemask();
#   - no spin-waits: a `while` whose condition reads a volatile or atomic flag never ends
#     under a cooperative scheduler (and hangs real GPUs without forward-progress guarantees).
# Early returns before a barrier are caught at run time by the emulator.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$root/kernels/cuda}"
status=0

report() {  # pattern, reason, files...
  local pattern="$1" reason="$2"
  shift 2
  [ "$#" -eq 0 ] && return
  local hits
  hits="$(grep -nHE -- "$pattern" "$@" 2>/dev/null)" || return
  while IFS= read -r hit; do
    printf '%s: %s\n' "${hit%%:*}:$(cut -d: -f2 <<<"$hit")" "$reason"
  done <<<"$hits"
  status=1
}

mapfile -t all_files < <(find "$dir" -type f \( -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name '*.hpp' \) | sort)
others=()      # every file but launch.cuh
without_ptx=() # every file but ptx.cuh
for f in "${all_files[@]}"; do
  [ "$(basename "$f")" = "launch.cuh" ] || others+=("$f")
  [ "$(basename "$f")" = "ptx.cuh" ] || without_ptx+=("$f")
done

report '<<<' 'kernel launch syntax outside launch.cuh: use kernels::cuda::launch()' "${others[@]}"
report 'extern[[:space:]]+__shared__' 'extern __shared__ outside launch.cuh: use kernels::cuda::dynamic_shared<T>()' "${others[@]}"
report '(^|[^[:alnum:]_])(asm|__asm__)[[:space:]]*(volatile|__volatile__)?[[:space:]]*\(' \
  'inline PTX outside ptx.cuh: add a wrapper there and its emulation in kernels/emu/tensor_core.h' \
  "${without_ptx[@]}"
report '__CUDA_ARCH__' '__CUDA_ARCH__ fork: the emulator sees only the host branch' "${all_files[@]}"
report '__activemask' '__activemask(): reconvergence cannot be emulated; compute masks with __ballot_sync' "${all_files[@]}"
report 'while[[:space:]]*\(.*(volatile|atomic[A-Za-z_]*[[:space:]]*\(|\.load[[:space:]]*\()' \
  'spin-wait on a flag: never ends under the emulator'"'"'s cooperative scheduler' "${all_files[@]}"

# A `while` on a variable declared volatile anywhere in the same file (e.g. a `volatile int*
# flag` parameter polled as `while (*flag == 0)`).
for f in "${all_files[@]}"; do
  mapfile -t names < <(grep -oE 'volatile[[:space:]]+[[:alnum:]_:<> ]+[[:space:]*&]+[[:alpha:]_][[:alnum:]_]*' "$f" |
                        grep -oE '[[:alpha:]_][[:alnum:]_]*$' | sort -u)
  for name in "${names[@]}"; do
    report "while[[:space:]]*\\(.*(^|[^[:alnum:]_])${name}([^[:alnum:]_]|$)" \
      "spin-wait on the volatile '${name}': never ends under the emulator's cooperative scheduler" "$f"
  done
done

exit "$status"
