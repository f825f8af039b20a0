#!/usr/bin/env bash
# Data-parallel training checks (docs/distributed.md), 2 ranks through `mpirun --oversubscribe`:
#   equivalence  2 ranks x global batch 8 against 1 process x batch 8, 20 iterations, same seed:
#                the same samples at every step (--batch_log of the ranks, sorted, equals the single
#                run's), losses within the tolerance below, and two 2-rank runs bit-identical
#                (every checkpoint file); 1 rank under mpirun equals the plain run bit for bit;
#   resume       a 2-rank run resumed from its step-10 checkpoint gives the straight run's step-20
#                weights and Adam state bit for bit;
#   failure      one rank stopped (SIGSTOP: hung) and one killed (SIGKILL: dead) mid-run: mpirun
#                exits non-zero within the timeout and the output names rank 1.
# Usage: tools/ci/test_distributed.sh BUILD_DIR [cpu|cuda]   (cuda: the emulated device of an EMU build)
# Exit 0 when every check passed, 1 otherwise; prints SKIPPED and exits 0 where mpirun is missing
# or the build has no MPI.
set -uo pipefail
build=${1:?usage: tools/ci/test_distributed.sh BUILD_DIR [cpu|cuda]}
device=${2:-cpu}
sargan=$(realpath "$build/bin/sargan")
if ! command -v mpirun >/dev/null 2>&1; then echo "distributed ($device): SKIPPED (no mpirun)"; exit 0; fi
# grep without -q reads ldd's whole output: under pipefail, -q's early exit would kill ldd with
# SIGPIPE and read as "no MPI" (a run of 7 Dec 2026 skipped the emulated build so).
if ! ldd "$sargan" | grep libmpi >/dev/null; then
  echo "distributed ($device): SKIPPED (built without MPI)"; exit 0
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1  # CI runs as root in containers
export OMP_NUM_THREADS=1  # two ranks on two cores
work=$(mktemp -d "${TMPDIR:-/tmp}/distributed.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }

"$sargan" make-faces --out faces --per_class 8 --image_size 32 --seed 3 >/dev/null || { echo "make-faces failed"; exit 1; }
# 56 images: 7 batches of 8 per epoch, so no short batch; n_critic 2: G steps every other iteration.
# CLI11 refuses a flag given twice: seed, iters and save (variables) set the ones a run changes.
args=(--model SARGAN --mode train --image_dir faces --image_size 32 --g_conv_dim 4 --d_conv_dim 4 --d_repeat_num 3
      --batch_size 8 --n_critic 2 --log_step 1 --sample_step 1000 --keep_last 0 --device "$device")
run_args() {  # dir: the flags of a run writing under dir
  echo --seed "${seed:-5}" --num_iters "${iters:-20}" --model_save_step "${save:-10}" \
    --model_save_dir "$work/$1/m" --sample_dir "$1/s" --log_dir "$1/l"
}
train1() { local dir=$1; shift; "$sargan" "${args[@]}" $(run_args "$dir") "$@" >"$dir.out" 2>&1; }
train2() {
  local dir=$1; shift
  mpirun --oversubscribe -np 2 "$sargan" "${args[@]}" $(run_args "$dir") --dist_timeout 120 "$@" >"$dir.out" 2>&1
}
same_files() {  # dir_a dir_b files...
  local a=$1 b=$2; shift 2
  for f in "$@"; do cmp -s "$a/$f" "$b/$f" || { echo "    $a/$f and $b/$f differ"; return 1; }; done
}
ckpt_files=(10-G.safetensors 10-D.safetensors 10-state.safetensors 20-G.safetensors 20-D.safetensors 20-state.safetensors)

# ---- equivalence
train1 one --batch_log one.log || { cat one.out; fail "single-process run"; }
train2 twoA --batch_log twoA.log || { cat twoA.out; fail "2-rank run A"; }
train2 twoB || { cat twoB.out; fail "2-rank run B"; }
seed=6 train1 control || { cat control.out; fail "control run (seed 6)"; }
sort -n one.log >one.sorted
cat twoA.log.rank0 twoA.log.rank1 | sort -n >two.sorted
if [ -s one.sorted ] && [ "$(wc -l <one.sorted)" -eq 160 ] && cmp -s one.sorted two.sorted; then
  pass "the 2 ranks trained the single run's 160 samples (file, flip, label, target, alpha) at the same steps"
else
  fail "samples differ between 1 process and 2 ranks"; diff one.sorted two.sorted | head -5
fi
if [ "$(awk '$2 < 4' twoA.log.rank0 | wc -l)" -eq 80 ] && [ "$(awk '$2 >= 4' twoA.log.rank1 | wc -l)" -eq 80 ]; then
  pass "rank 0 trained global positions 0-3, rank 1 positions 4-7"
else
  fail "ranks did not take their slices of the global batch"
fi
# Tolerance: step 1 runs on identical weights, so its losses differ only by the summation order
# (one mean of 8 against the mean of two means of 4: a few float ulps, < 1e-6 relative). From step
# 2 on the weights differ by that noise, and Adam turns a gradient difference into a step of up to
# ~lr = 1e-4 per weight wherever the gradient is near zero, so after 20 steps the losses may differ
# by O(1e-4..1e-3) relative; allowed: |a - b| <= 1e-4 + 3e-3 |a|. The control run (another seed)
# must break that tolerance, else the comparison could not fail.
compare_losses() {  # a.csv b.csv max_step_1_rel -> 0 when within tolerance
  python3 - "$@" <<'EOF'
import csv, math, sys
a, b, first = list(csv.reader(open(sys.argv[1]))), list(csv.reader(open(sys.argv[2]))), float(sys.argv[3])
assert a[0] == b[0] and len(a) == len(b) == 21, "metrics.csv: different headers or row counts"
worst = 0.0
for ra, rb in zip(a[1:], b[1:]):
    for x, y in zip(ra[1:], rb[1:]):
        x, y = float(x), float(y)
        if math.isnan(x) and math.isnan(y): continue
        if ra[0] == "1" and abs(x - y) > first * abs(x): print(f"    step 1: {x} vs {y}"); sys.exit(1)
        worst = max(worst, abs(x - y) / (1e-4 + 3e-3 * abs(x)))
print(f"    largest difference: {worst:.3f} of the tolerance")
sys.exit(0 if worst <= 1 else 1)
EOF
}
if compare_losses one/l/metrics.csv twoA/l/metrics.csv 1e-6; then
  pass "losses of 1 process and 2 ranks within 1e-4 + 3e-3 |loss| at all 20 steps (step 1: 1e-6 relative)"
else
  fail "losses of 1 process and 2 ranks outside the tolerance"
fi
if [ ! -s control/l/metrics.csv ] || compare_losses one/l/metrics.csv control/l/metrics.csv 1 >/dev/null; then
  fail "the control run (seed 6) passes the loss tolerance: the comparison cannot fail"
else
  pass "the control run (seed 6) breaks the loss tolerance"
fi
if same_files twoA/m twoB/m "${ckpt_files[@]}" && cmp -s twoA/l/metrics.csv twoB/l/metrics.csv; then
  pass "two 2-rank runs: identical weights, Adam states and losses at steps 10 and 20"
else
  fail "two 2-rank runs differ"
fi
mpirun --oversubscribe -np 1 "$sargan" "${args[@]}" $(run_args single_rank) >single_rank.out 2>&1 ||
  { cat single_rank.out; fail "1-rank mpirun"; }
if grep -q "distributed: 1 ranks (mpi)" single_rank.out && same_files one/m single_rank/m "${ckpt_files[@]}"; then
  pass "1 rank under mpirun (the MPI path, dividing by 1) equals the plain run bit for bit"
else
  fail "1 rank under mpirun differs from the plain run"
fi
for f in twoA/s twoA/l/metrics.csv twoA/m/20-G.safetensors; do [ -e "$f" ] || fail "rank 0 did not write $f"; done
grep -q "on 2 ranks" twoA.out && pass "rank 0 reported the 2-rank run" || fail "no 2-rank report"
[ "$(grep -c '^sargan: trained' twoA.out)" -eq 1 ] && pass "one report line (rank 0 alone prints)" ||
  fail "more than one rank printed the report"

# ---- resume: from the straight run's step-10 checkpoint (a run stopped there leaves these files)
mkdir -p resumed/m
cp twoA/m/10-* twoA/m/config.json resumed/m/
train2 resumed --resume_iters 10 || { cat resumed.out; fail "resumed 2-rank run"; }
if same_files twoA/m resumed/m 20-G.safetensors 20-D.safetensors 20-state.safetensors; then
  pass "2-rank resume from step 10: step-20 weights and Adam state bit-identical to the straight run"
else
  fail "2-rank resume differs from the straight run"
fi

# ---- failure: rank 1 hung, then rank 1 dead
rank1_pid() {  # the process of rank 1 of the run writing into $1
  local p
  for p in $(pgrep -f -- "$work/$1/m"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -x "OMPI_COMM_WORLD_RANK=1" >/dev/null && { echo "$p"; return; }
  done
}
fail_run() {  # name signal timeout
  local name=$1 sig=$2 timeout=$3 pid start rc elapsed
  iters=1000000 save=1000000
  mpirun --oversubscribe -np 2 "$sargan" "${args[@]}" $(run_args "$name") --dist_timeout "$timeout" >"$name.out" 2>&1 &
  local launcher=$!
  for _ in $(seq 100); do pid=$(rank1_pid "$name"); [ -n "$pid" ] && break; sleep 0.1; done
  sleep 2  # training under way
  if [ -z "$pid" ]; then kill "$launcher"; fail "$name: rank 1 not found"; return; fi
  kill "-$sig" "$pid"
  start=$(date +%s)
  for _ in $(seq $((timeout * 10 + 300))); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$launcher" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null; kill "$launcher"; wait "$launcher"
    fail "$name: mpirun still running $((timeout + 30)) s after rank 1 got SIG$sig"; return
  fi
  wait "$launcher"; rc=$?
  elapsed=$(($(date +%s) - start))
  kill -KILL "$pid" 2>/dev/null
  if [ "$rc" -ne 0 ] && grep -Eq "$4" "$name.out"; then
    pass "$name: rank 1 got SIG$sig, the job exited with $rc after ${elapsed} s, naming rank 1"
  else
    fail "$name: rc $rc, output:"; tail -5 "$name.out"
  fi
}
fail_run hung STOP 5 "rank 0: .*no answer from rank 1 within 5 s"
fail_run dead KILL 5 "rank 1 .*(exited on signal|no answer)|no answer from rank 1"

echo "distributed ($device): $failures failed"
[ "$failures" -eq 0 ]
