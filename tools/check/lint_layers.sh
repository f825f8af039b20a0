#!/usr/bin/env bash
# Layer lint (docs/architecture.md, "Layers"): apps/ -> models/ -> engine/ -> kernels/, each
# layer reaching the one below through its public headers only. Prints file:line: reason for
# every violation and exits 1 if there is any.
#   - apps/ and models/ include no kernels/ header and never branch on the build's CUDA mode
#     (ENGINE_WITH_CUDA*, ENGINE_CUDA_EMULATED): ENGINE_DISPATCH and engine/perf.h decide;
#   - no layer includes a layer above it (kernels/ sees no engine/ or models/ header, engine/ no
#     models/ header);
#   - only kernels/ includes a CUDA, cuBLAS, cuDNN or NCCL header.
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
status=0

report() {  # pattern, reason, folders...
  local pattern="$1" reason="$2"
  shift 2
  local hits
  hits="$(grep -rnHE --include='*.cpp' --include='*.h' --include='*.cu' --include='*.cuh' -- "$pattern" "$@" \
          2>/dev/null)" || return
  while IFS= read -r hit; do
    printf '%s: %s\n' "$(cut -d: -f1,2 <<<"$hit")" "$reason"
  done <<<"$hits"
  status=1
}

include='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]'
report "${include}kernels/" \
  'a kernels/ header above the engine: reach it through an engine op (ENGINE_DISPATCH) or engine/perf.h' apps models
report '(ENGINE_WITH_CUDA|ENGINE_CUDA_EMULATED)' \
  'a CUDA build switch above the engine: the engine dispatches by device' apps models
report "${include}(engine|models)/" 'kernels/ includes a header of a layer above it' kernels
report "${include}models/" 'engine/ includes a models/ header' engine
report "${include}(cuda|cuda_runtime|cuda_runtime_api|cublas[_a-z]*|cudnn|nccl)\.h" \
  'a CUDA header outside kernels/' apps models engine

exit "$status"
