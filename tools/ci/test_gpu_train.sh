#!/usr/bin/env bash
# The plumbing of `tools/perf/gpu_check.sh train` (a GPU lease's training run, docs/training.md
# "Training on a GPU"), tried small on the CPU so that a rare lease never meets a broken script:
# 32x32 faces (the trainer's smallest size is 20), 10 identities, a 20 s budget, which the probe
# alone spends, so the run gets the minimum of 50 iterations. Checks the 8 files it leaves: the
# generator at each fifth of the run, config.json with the lease's recipe at this size,
# metrics.csv reaching the last step, and train.log with the probe's choice.
# Usage: tools/ci/test_gpu_train.sh BUILD_DIR (a build with bin/sargan). Exit 0 when every check passed.
set -uo pipefail
build=$(realpath "${1:?usage: tools/ci/test_gpu_train.sh BUILD_DIR}")
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/gpu_train.XXXXXX")
trap 'rm -rf "$out"' EXIT
GPU_CHECK_BIN="$build/bin" GPU_TRAIN_DEVICE=cpu GPU_TRAIN_SIZE=32 GPU_TRAIN_FACES=10 \
  "$root/tools/perf/gpu_check.sh" train "$out" 20 || { echo "FAILED: gpu_check.sh train exited non-zero"; exit 1; }
failures=0
check() {  # description, bash condition
  if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1"; failures=$((failures + 1)); fi
}
iters=$(sed -n 's/.*s left: \([0-9]*\) iterations.*/\1/p' "$out/train.log")
check "the probe chose a multiple of 50 iterations (${iters:-none})" '[[ -n "$iters" ]] && ((iters >= 50 && iters % 50 == 0))'
iters=${iters:-50}
for k in 1 2 3 4 5; do
  check "the generator of step $((k * iters / 5))" "[[ -s '$out/$((k * iters / 5))-G.safetensors' ]]"
done
key() { sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$out/config.json"; }
check "config.json: 32x32, G 32 wide, critic 64 wide ending at 2x2 (d_repeat_num 4), $iters iterations" \
  '[[ "$(key image_size) $(key g_conv_dim) $(key d_conv_dim) $(key d_repeat_num) $(key num_iters)" == "32 32 64 4 $iters" ]]'
check "metrics.csv reaches step $iters" '[[ "$(tail -1 "$out/metrics.csv" | cut -d, -f1)" == "$iters" ]]'
check "8 files, what a lease brings back" '[[ $(ls "$out" | wc -l) -eq 8 ]]'
# A run that fails after the probe: the script says so by its exit status (a lease's caller sees
# it), and its log says why. A stand-in trainer, instant: every call succeeds but the run's.
fake=$(mktemp -d "${TMPDIR:-/tmp}/gpu_train_fake.XXXXXX")
trap 'rm -rf "$out" "$fake"' EXIT
cat >"$fake/sargan" <<'STANDIN'
#!/usr/bin/env bash
[[ "$*" != *"/run/models"* ]] && exit 0
echo "stand-in trainer: this run fails" >&2
exit 3
STANDIN
chmod +x "$fake/sargan"
GPU_CHECK_BIN="$fake" GPU_TRAIN_DEVICE=cpu GPU_TRAIN_SIZE=32 GPU_TRAIN_FACES=2 \
  "$root/tools/perf/gpu_check.sh" train "$fake/out" 1 >/dev/null 2>&1
status=$?
check "a run that fails after the probe makes the script exit non-zero (status $status)" '((status != 0))'
check "and its log says the run failed" 'grep -q "the run failed" "$fake/out/train.log"'
((failures == 0))
