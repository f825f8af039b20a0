#!/bin/bash
# sargan's command line refuses what would silently do nothing or the wrong thing (issue 14,
# case 9), run as a user runs it: the executable, its exit status and its one-line message.
# Usage: sargan_refusals.sh SARGAN_EXECUTABLE
set -u
sargan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0

expect_refusal() {  # what, expected message, command...
  local what=$1 message=$2
  shift 2
  local output status
  output=$("$@" 2>&1)
  status=$?
  if [[ $status -eq 0 ]]; then
    echo "FAIL: $what: exit 0, expected a refusal"; failures=$((failures + 1))
  elif [[ "$output" != *"$message"* ]]; then
    echo "FAIL: $what: message lacks '$message':"; echo "$output"; failures=$((failures + 1))
  else
    echo "ok: $what ($message)"
  fi
}

"$sargan" make-faces --out faces --per_class 2 --image_size 32 --seed 1 >/dev/null || exit 1
train=("$sargan" --mode train --image_dir faces --image_size 32 --g_conv_dim 4 --d_conv_dim 4 --d_repeat_num 3
       --batch_size 2 --num_iters 2 --model_save_step 1 --model_save_dir models --sample_dir samples
       --log_dir logs --device cpu)
"${train[@]}" >train.log 2>&1 || { cat train.log; exit 1; }

# An empty folder name (an unset shell variable) used to fall back to ./results/ silently.
expect_refusal '--result_dir ""' "--result_dir: must not be empty" \
  "$sargan" --model SARGAN --mode test_inthewild --test_dataset_dir faces --weights_dir models --image_size 32 \
  --g_conv_dim 4 --result_dir ""
[[ -e results ]] && { echo "FAIL: --result_dir \"\" created ./results"; failures=$((failures + 1)); }
# Resuming at or past --num_iters used to exit 0 "having trained iterations 3..2".
expect_refusal "resume at --num_iters" "nothing was trained: the run resumed at step 2 and --num_iters is 2" \
  "${train[@]}" --resume_iters latest
exit $((failures > 0))
