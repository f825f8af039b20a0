#!/usr/bin/env bash
# One command for a machine with a GPU (docs/perf.md "The GPU check").
#
#   tools/perf/gpu_check.sh pack [ARCH...]   here: build for sm_90 (and ARCH, e.g. 80), bundle the
#                                       executables, the shared libraries the GPU machine lacks and
#                                       a manifest into gpu-pack/ (git-ignored), compressed, < 40 MiB
#   tools/perf/gpu_check.sh run [OUT_DIR]    there, from the copied checkout: device info, the CUDA tests,
#                                       the SARGAN benchmarks (ours, ours with CUDA graphs, ours+cuDNN, ours tf32, PyTorch fp32/tf32),
#                                       bench --json, compute-sanitizer; writes OUT_DIR/gpu_check.json
#                                       (default results/gpu-check-<date>/) and prints one table last.
#   tools/perf/gpu_check.sh train [OUT_DIR] [SECONDS]
#                                       there: trains a 128x128 demo-model candidate from scratch for
#                                       about SECONDS (default 360) and leaves five generator
#                                       checkpoints, config.json, metrics.csv and train.log in OUT_DIR
#                                       (default results/gpu-train-<date>/): 8 files, what a GPU lease
#                                       brings back (docs/training.md, "Training on a GPU").
#                                       Exits non-zero when a training run fails, keeping what it wrote.
#
# `run` never stops at a failed step: every step has its own time limit (GPU_CHECK_SCALE
# multiplies them all), its log under OUT_DIR, and its status in the JSON. Whole run: about
# 3-4 minutes on an H200.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PACK="$ROOT/gpu-pack"
APPS=(bench bench_sargan bench_train sargan)
TESTS=(test_cuda test_models)

pack() {
  local archs="90" build="$ROOT/build-gpu-pack"
  for a in "$@"; do archs="$archs;$a"; done
  set -e
  mkdir -p "$build"  # its configure log lives inside it (git-ignored), not beside it in the checkout
  cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release -DENGINE_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$archs" \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc >"$build/configure.log" 2>&1 ||
    { tail -20 "$build/configure.log"; exit 1; }
  cmake --build "$build" -j2 --target "${APPS[@]}" "${TESTS[@]}"
  rm -rf "$PACK" && mkdir -p "$PACK/stage/bin" "$PACK/stage/lib"
  for exe in "${APPS[@]}" "${TESTS[@]}"; do cp "$build/bin/$exe" "$PACK/stage/bin/"; done
  # Shared libraries outside the base image: everything ldd resolves except the C/C++ runtime
  # and the NVIDIA driver and vendor libraries (libcuda, cuBLAS, cuDNN, NCCL: the GPU machine has them;
  # cuBLAS alone is larger than the carry limit). libcudart is bundled.
  local skip='^(linux-vdso|ld-linux|libc\.|libm\.|libdl\.|librt\.|libpthread\.|libstdc\+\+|libgcc_s|libcuda\.|libcublas|libcudnn|libnccl|libnvrtc|libnvJitLink)'
  for exe in "$PACK"/stage/bin/*; do
    ldd "$exe" | awk '/=> \//{print $1, $3}'
  done | sort -u | while read -r name path; do
    if [[ ! "$name" =~ $skip ]]; then cp -L "$path" "$PACK/stage/lib/$name"; fi
  done
  {
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "source_dir $ROOT"
    echo "cuda_architectures $archs"
    echo "nvcc $(/usr/local/cuda/bin/nvcc --version | tail -1)"
    (cd "$PACK/stage" && find . -type f -printf '%P %s\n' | sort)
  } >"$PACK/stage/MANIFEST"
  tar -C "$PACK/stage" -cJf "$PACK/gpu-pack.tar.xz" . && rm -rf "$PACK/stage"
  local size
  size=$(stat -c %s "$PACK/gpu-pack.tar.xz")
  echo "gpu_check pack: $PACK/gpu-pack.tar.xz, $((size / 1048576)) MiB ($size bytes)"
  if ((size >= 40 * 1048576)); then echo "gpu_check pack: over the 40 MiB limit" >&2; exit 1; fi
}

# ---- run ----
OUT=""
STEPS_JSON=""
scale() { awk -v s="${GPU_CHECK_SCALE:-1}" -v t="$1" 'BEGIN{printf "%d", s*t}'; }

# step NAME LIMIT_S CMD...: runs CMD with a time limit, logs to OUT/NAME.log, records status.
step() {
  local name="$1" limit
  limit=$(scale "$2")
  shift 2
  local start end rc
  start=$(date +%s.%N)
  echo "== $name (limit ${limit}s): $*"
  if command -v timeout >/dev/null; then
    timeout -k 10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  else
    "$@" >"$OUT/$name.log" 2>&1
  fi
  rc=$?
  end=$(date +%s.%N)
  local status=ok
  ((rc == 124 || rc == 137)) && status=timeout
  ((rc != 0 && rc != 124 && rc != 137)) && status=failed
  echo "   $status (rc $rc, $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b-a}') s); log $OUT/$name.log"
  tail -3 "$OUT/$name.log" | sed 's/^/   | /'
  STEPS_JSON+="{\"step\":\"$name\",\"status\":\"$status\",\"rc\":$rc,\"seconds\":$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b-a}')},"
  return 0
}

# Puts the cuDNN and cuBLAS libraries of the system or of PyTorch's nvidia-* wheels on the path.
find_vendor_libs() {
  local dirs=""
  for d in /usr/local/cuda/lib64 /usr/lib/x86_64-linux-gnu; do
    [[ -d "$d" ]] && dirs="$dirs:$d"
  done
  if command -v python3 >/dev/null; then
    local wheel_dirs
    wheel_dirs=$(timeout 60 python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
found = set()
for r in roots:
    for lib in glob.glob(os.path.join(r, "nvidia", "*", "lib")):
        found.add(lib)
print(":".join(sorted(found)))
PY
    )
    [[ -n "$wheel_dirs" ]] && dirs="$dirs:$wheel_dirs"
  fi
  export LD_LIBRARY_PATH="$BIN/../lib${dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

# Sets BIN: the unpacked pack's executables, or build-gpu/bin when the GPU machine built its own,
# or GPU_CHECK_BIN (a folder of executables: how `train` is tried on a machine without a GPU).
unpack_bin() {
  local unpack="$ROOT/gpu-pack/run"
  if [[ -n "${GPU_CHECK_BIN:-}" ]]; then
    BIN="$GPU_CHECK_BIN"
  elif [[ -f "$PACK/gpu-pack.tar.xz" ]]; then
    rm -rf "$unpack" && mkdir -p "$unpack" && tar -C "$unpack" -xJf "$PACK/gpu-pack.tar.xz"
    BIN="$unpack/bin"
  elif [[ -x "$ROOT/build-gpu/bin/test_cuda" ]]; then
    BIN="$ROOT/build-gpu/bin"  # built on the GPU machine itself
  else
    echo "gpu_check: no gpu-pack/gpu-pack.tar.xz (run 'tools/perf/gpu_check.sh pack' first) and no build-gpu/" >&2
    exit 1
  fi
  find_vendor_libs
}

run() {
  OUT="${1:-$ROOT/results/gpu-check-$(date -u +%Y-%m-%d)}"
  mkdir -p "$OUT"
  unpack_bin
  export ENGINE_SOURCE_DIR="$ROOT"  # the tests' fixtures, wherever the checkout was copied
  local py="" candidate
  for candidate in python3 /usr/bin/python3 python; do  # the one with PyTorch
    if command -v "$candidate" >/dev/null && timeout 120 "$candidate" -c "import torch" 2>/dev/null; then
      py="$candidate"
      break
    fi
  done
  [[ -z "$py" ]] && echo "gpu_check: no Python with PyTorch: the PyTorch twins are skipped"

  step device_info 30 bash -c 'nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,memory.total --format=csv; nvidia-smi -L; nproc'
  step test_cuda 60 "$BIN/test_cuda"
  step test_models_cuda 60 "$BIN/test_models" "[cuda]"
  step sargan_parity 60 "$BIN/test_models" "[sargan]"
  for b in 1 8; do
    step "translate_b${b}_ours" 40 "$BIN/bench_sargan" --device cuda --batch_size "$b" --repeats 10
    step "translate_b${b}_cudnn" 40 env ENGINE_CONV_IMPL=cudnn "$BIN/bench_sargan" --device cuda --batch_size "$b" --repeats 10
    step "translate_b${b}_ours_tf32" 40 "$BIN/bench_sargan" --device cuda --precision tf32 --batch_size "$b" --repeats 10
    step "train_b${b}_ours" 40 "$BIN/bench_train" --device cuda --batch_size "$b" --repeats 5
    step "train_b${b}_cudnn" 40 env ENGINE_CONV_IMPL=cudnn "$BIN/bench_train" --device cuda --batch_size "$b" --repeats 5
    step "train_b${b}_ours_tf32" 40 "$BIN/bench_train" --device cuda --precision tf32 --batch_size "$b" --repeats 5
    step "translate_b${b}_ours_graph" 40 "$BIN/bench_sargan" --device cuda --cuda_graph --batch_size "$b" --repeats 10
    step "train_b${b}_ours_graph" 40 "$BIN/bench_train" --device cuda --cuda_graph --batch_size "$b" --repeats 5
    # Our kernels without Winograd (the implicit GEMM for the 3x3 stride-1 convs), to time the one against the other.
    step "translate_b${b}_ours_nowinograd" 40 env ENGINE_CONV_WINOGRAD=never "$BIN/bench_sargan" --device cuda --batch_size "$b" --repeats 10
    step "train_b${b}_ours_nowinograd" 40 env ENGINE_CONV_WINOGRAD=never "$BIN/bench_train" --device cuda --batch_size "$b" --repeats 5
    # F(4x4, 3x3) everywhere, to time F(6x6, 3x3) where the rule takes it (the training iteration's
    # 3x3 data gradients; docs/kernels.md, "conv2d_winograd.cu").
    step "train_b${b}_ours_tile4" 40 env ENGINE_CONV_WINOGRAD_TILE=4 "$BIN/bench_train" --device cuda --batch_size "$b" --repeats 5
    if [[ -n "$py" ]]; then
      for p in fp32 tf32; do
        step "translate_b${b}_torch_$p" 60 "$py" "$ROOT/tools/reference/bench_sargan_torch.py" --device cuda --precision "$p" --batch_size "$b" --repeats 10
        step "train_b${b}_torch_$p" 60 "$py" "$ROOT/tools/reference/bench_train_torch.py" --device cuda --precision "$p" --batch_size "$b" --repeats 5
      done
    fi
  done
  if command -v mpirun >/dev/null; then  # docs/distributed.md: one rank through NCCL (two cannot share a GPU)
    step nccl_train_1rank 90 bash -c "'$BIN/sargan' make-faces --out '$OUT/nccl_faces' --per_class 8 --image_size 32 &&
      mpirun --allow-run-as-root -np 1 '$BIN/sargan' --model SARGAN --mode train --device cuda \
        --image_dir '$OUT/nccl_faces' --image_size 32 --g_conv_dim 4 --d_conv_dim 4 --d_repeat_num 3 \
        --batch_size 8 --num_iters 10 --n_critic 2 --log_step 1 --model_save_step 10 --dist_timeout 60 \
        --model_save_dir '$OUT/nccl_run/m' --sample_dir '$OUT/nccl_run/s' --log_dir '$OUT/nccl_run/l' | grep -F '(nccl)'"
  else
    echo "gpu_check: no mpirun on this machine: the 1-rank NCCL training is skipped"
  fi
  # Every bench row, plus G's residual conv at 256x256 images (a 64x64 output): the one shape
  # whose forward and weight gradient run F(6x6, 3x3) (docs/kernels.md, "conv2d_winograd.cu"),
  # and the hourglass's first down-sampling conv as translate batch 8 runs it (56 images): the
  # one whose forward runs 3x3 stride 2 by F(4x4, 2x2) ("conv2d_winograd_stride2.cu").
  step bench_json 90 "$BIN/bench" --device cuda --repeats 5 --json "$OUT/bench_cuda.json" \
    --conv 1,256,66,66,256,3,1,0 --conv 56,256,34,34,64,3,2,0
  if command -v compute-sanitizer >/dev/null; then
    step memcheck 90 compute-sanitizer --tool memcheck --error-exitcode 1 "$BIN/test_cuda" "[kernel]"
    step racecheck 90 compute-sanitizer --tool racecheck --error-exitcode 1 "$BIN/test_cuda" "[instance_norm]"
  fi
  summarise
}

# ---- train ----
# The recipe of the 64x64 demo's first run (docs/training.md) at the authors' image size and
# critic (d_conv_dim 64, 2x2 at the last level), G at width 32 (a 4.7 MB checkpoint, within the
# demo's few MB; the authors' width 64 makes 12.8 MB), learning rates decaying linearly over the
# second half. A 50-iteration probe measures the speed; the run gets the iterations that fit the
# rest of the budget (a multiple of 50, so its five checkpoints fall on whole steps).
# GPU_TRAIN_SIZE, GPU_TRAIN_FACES (identities per expression) and GPU_TRAIN_DEVICE (cuda or cpu)
# shrink it for a try on a machine without a GPU.
train() {
  OUT="${1:-$ROOT/results/gpu-train-$(date -u +%Y-%m-%d)}"
  local budget="${2:-360}" size="${GPU_TRAIN_SIZE:-128}" per_class="${GPU_TRAIN_FACES:-2000}"
  local device="${GPU_TRAIN_DEVICE:-cuda}" start work repeat=0 graph=()
  start=$(date +%s)
  mkdir -p "$OUT"
  unpack_bin
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  while (((2 << repeat) < size)); do repeat=$((repeat + 1)); done  # the critic ends at 2x2
  [[ "$device" == cuda ]] && graph=(--cuda_graph)
  local log="$OUT/train.log"
  "$BIN/sargan" make-faces --out "$work/faces" --per_class "$per_class" --image_size "$size" --seed 1 >"$log" 2>&1 ||
    { echo "gpu_check train: make-faces failed (log $log)" >&2; return 1; }
  local common=(--mode train --device "$device" "${graph[@]}" --image_dir "$work/faces" --image_size "$size"
    --g_conv_dim 32 --d_conv_dim 64 --d_repeat_num "$repeat" --batch_size 16 --n_critic 3 --lambda_cls 1
    --lambda_rec 10 --lambda_gp 10 --g_lr 2e-4 --d_lr 2e-4 --lr_decay linear --keep_last 0 --seed 1)
  train_in() {  # folder, flags...: a training run with the recipe, its outputs under folder, logged
    local dir=$1
    shift
    "$BIN/sargan" "${common[@]}" --model_save_dir "$dir/models" --sample_dir "$dir/samples" --log_dir "$dir/logs" \
      "$@" >>"$log" 2>&1
  }
  local probe_start probe_s
  probe_start=$(date +%s.%N)
  train_in "$work/probe" --num_iters 50 --num_iters_decay 25 --lr_update_step 5 --log_step 50 --sample_step 1000 \
    --model_save_step 50 || { echo "gpu_check train: the probe run failed (log $log)" >&2; return 1; }
  probe_s=$(awk -v a="$probe_start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
  local left=$((budget - ($(date +%s) - start))) iters
  iters=$(awk -v p="$probe_s" -v l="$left" 'BEGIN{n = int(0.9 * l * 50 / p / 50) * 50; print (n < 50 ? 50 : n)}')
  local save=$((iters / 5))
  echo "gpu_check train: probe 50 iterations in ${probe_s}s; ${left}s left: $iters iterations, a checkpoint every $save" |
    tee -a "$log"
  local status=0
  train_in "$work/run" --num_iters "$iters" --num_iters_decay $((iters / 2)) --lr_update_step $((iters / 50)) \
    --log_step $((save / 10 > 0 ? save / 10 : 1)) --sample_step "$iters" --model_save_step "$save" || {
    status=1
    echo "gpu_check train: the run failed (log $log); the checkpoints it wrote are kept" | tee -a "$log" >&2
  }
  local k
  for k in 1 2 3 4 5; do
    [[ -f "$work/run/models/$((k * save))-G.safetensors" ]] && cp "$work/run/models/$((k * save))-G.safetensors" "$OUT/"
  done
  cp "$work/run/models/config.json" "$work/run/logs/metrics.csv" "$OUT/" 2>/dev/null
  echo "gpu_check train: $(($(date +%s) - start))s in all; in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')" | tee -a "$log"
  return $status
}

# One JSON of everything (steps, workload times, the bench) and the final table.
summarise() {
  local py=python3
  if ! command -v "$py" >/dev/null; then
    echo "[${STEPS_JSON%,}]" >"$OUT/gpu_check.json"
    echo "gpu_check: no python3 to summarise; steps in $OUT/gpu_check.json"
    return
  fi
  STEPS="[${STEPS_JSON%,}]" OUT="$OUT" "$py" - <<'PY'
import json, os, re
out = os.environ["OUT"]
steps = json.loads(os.environ["STEPS"])
def log(name):
    try:
        return open(os.path.join(out, name + ".log"), errors="replace").read()
    except OSError:
        return ""
def ours_ms(name):  # bench_sargan / bench_train: "wall median X s"
    m = re.search(r"wall median ([0-9.]+) s", log(name))
    return 1e3 * float(m.group(1)) if m else None
def torch_ms(name):
    m = re.search(r"^RESULT (.*)$", log(name), re.M)
    return json.loads(m.group(1))["median_ms"] if m else None
rows = []
for w in ("translate", "train"):
    for b in (1, 8):
        k = f"{w}_b{b}"
        rows.append({"workload": f"{w}, batch {b}", "ours_ms": ours_ms(k + "_ours"), "ours_graph_ms": ours_ms(k + "_ours_graph"),
                     "ours_nowinograd_ms": ours_ms(k + "_ours_nowinograd"), "ours_tile4_ms": ours_ms(k + "_ours_tile4"),
                     "ours_cudnn_ms": ours_ms(k + "_cudnn"),
                     "ours_tf32_ms": ours_ms(k + "_ours_tf32"), "torch_fp32_ms": torch_ms(k + "_torch_fp32"), "torch_tf32_ms": torch_ms(k + "_torch_tf32")})
bench = None
try:
    bench = json.load(open(os.path.join(out, "bench_cuda.json")))
except (OSError, ValueError):
    pass
doc = {"steps": steps, "workloads": rows, "bench": bench, "device_info": log("device_info").strip()}
tmp = os.path.join(out, "gpu_check.json.tmp")
json.dump(doc, open(tmp, "w"), indent=1)
os.replace(tmp, os.path.join(out, "gpu_check.json"))
print("\nsteps: " + ", ".join(f"{s['step']} {s['status']}" for s in steps))
fmt = lambda v: "-" if v is None else f"{v:.1f}"
print(f"\n{'workload':<20} {'ours ms':>9} {'ours graph':>11} {'no Winograd':>12} {'F(4x4) only':>12} {'ours+cuDNN':>11} {'ours tf32':>10} {'PyTorch fp32':>13} {'PyTorch tf32':>13} "
      f"{'ours/fp32':>10} {'tf32/tf32':>10}")
ratio = lambda a, b: "-" if not a or not b else f"{a / b:.2f}x"
for r in rows:
    print(f"{r['workload']:<20} {fmt(r['ours_ms']):>9} {fmt(r['ours_graph_ms']):>11} {fmt(r['ours_nowinograd_ms']):>12} {fmt(r['ours_tile4_ms']):>12} {fmt(r['ours_cudnn_ms']):>11} {fmt(r['ours_tf32_ms']):>10} "
          f"{fmt(r['torch_fp32_ms']):>13} {fmt(r['torch_tf32_ms']):>13} {ratio(r['ours_ms'], r['torch_fp32_ms']):>10} "
          f"{ratio(r['ours_tf32_ms'], r['torch_tf32_ms']):>10}")
print(f"\nall results: {os.path.join(out, 'gpu_check.json')}")
PY
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  train) shift; train "$@" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
