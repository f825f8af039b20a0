#!/bin/bash
# sargan's flags as the executable registers them (models/cli.h): every name once, and
# --result_dir and --results_dir one option (one row of --help, one default), so the authors' and
# the seed's command lines both run. tests/models/command_line_test.cpp checks the parsed values.
# Usage: sargan_flags.sh SARGAN_EXECUTABLE
set -u
sargan=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

help=$("$sargan" --help 2>&1) || { echo "$help"; fail "--help exits non-zero (a flag registered twice aborts the app)"; exit 1; }
# The option column of --help: rows starting "  -", first word, names split at commas, no type.
names=$(grep -E '^  -' <<<"$help" | awk '{print $1}' | tr ',' '\n')
twice=$(sort <<<"$names" | uniq -d)
[[ -z "$twice" ]] || fail "flags listed more than once: $twice"
grep -qE '^  --result_dir,--results_dir ' <<<"$help" || fail "--result_dir and --results_dir are not one option"
[[ $failures -eq 0 ]] && echo "ok: $(wc -l <<<"$names") flag names, each once; --result_dir,--results_dir one option"
exit $((failures > 0))
