#!/usr/bin/env python3
"""The H200 model with an instruction-issue term for the implicit-GEMM kernels (docs/perf.md,
"The issue-bound variant"), for the predictions the committed model cannot make: the committed
model prices every launch's FLOPs at one efficiency fitted on the kernels measured on the H200,
whose k loops issued 5-7 instructions per FMA, so it cannot credit a loop that issues fewer.

    tools/perf/issue_model.py [--profiled COUNTERS.json] [--workload WORKLOAD.json]... --mix docs/perf/sass-mix-<rev>.tsv
        [--old-mix docs/perf/sass-mix-d3e6d44.tsv] [--measured-dir ../shared/gpu/h200-2026-12-04]

The variant: a launch of a kernel whose k-loop mix is known (tools/perf/sass_mix.py --tsv) issues
executed FLOPs / 2 / share thread-instructions, and an H200 issues them at the FP32 FMA rate (one
warp instruction per scheduler per cycle, 4 schedulers per SM, 128 FP32 lanes per SM), so its
compute term is

    compute = executed FLOPs / share / (66.9 TFLOP/s x issue_efficiency x machine)

in place of FLOPs / (66.9 TFLOP/s x compute_efficiency x machine); every other term and constant
is the committed model's (kernels/emu/h200_model.cfg). A tensor-core loop's share counts each
HMMA (mma.sync m16n8k8, 1024 multiply-adds a warp) as 32 FFMAs, and its compute runs no faster
than an assumed roof of the tensor pipe (MMA_ROOF); executed FLOPs then come from the
emulator's MMA count (cuda_emu.h). issue_efficiency, the one new constant, is
fitted here, every run, on the same data as the committed constants: the 57 batch-1 conv rows
with Nsight Compute's counters of the measured kernels (calibrate_h200.py --ncu) and those
kernels' mix (--old-mix). Then every row of COUNTERS.json (bench --device cuda --profile --json
from a build with ENGINE_EMU_COUNT_FFMA, any kernels) is predicted with --mix, and printed beside
the measured times of the H200 run (ours then, cuDNN), with the sums of the batch-1 and batch-8
conv rows. Each --workload file (bench_train or bench_sargan --profile_json, run under
ENGINE_EMU_PROFILE=sampled or 1) is predicted whole by both models, with its kernels of most time.
"""
import argparse
import importlib.util
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
spec = importlib.util.spec_from_file_location("calibrate_h200", os.path.join(HERE, "calibrate_h200.py"))
calibrate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibrate)


def kernel_key(name):
    """A kernel's name without namespaces or parameters, as sass_mix.py writes it."""
    name = re.sub(r"\(anonymous namespace\)::|unnamed>::|kernels::cuda::|kernels::", "", name)
    depth = 0
    for i, c in enumerate(name):
        depth += c == "<"
        depth -= c == ">"
        if c == "(" and depth == 0:
            return name[:i].strip()
    return name.strip()


# An mma.sync m16n8k8 (TF32) does 16 x 8 x 8 = 1024 multiply-adds in one warp instruction's issue
# slot, an FFMA 32: counted in FFMAs' worth of work, an HMMA is 32.
HMMA_FFMAS = 16 * 8 * 8 // 32
# The tensor pipe's own roof for a loop of mma.sync TF32, as a multiple of the FP32 FMA peak that
# compute_efficiency is a fraction of. Assumed, not calibrated (no tensor-core kernel has been
# measured on the H200): half the H200's dense TF32 peak (494.7 against 66.9 TFLOP/s), since
# mma.sync, unlike Hopper's wgmma, is not documented to reach it.
MMA_ROOF = 0.5 * 494.7 / 66.9


def read_mix(path):
    """{kernel: (FFMAs' worth of work per issued instruction of its k loop, whether it uses MMAs)}."""
    mix = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        kernel, _, ffma, hmma, share = line.rstrip("\n").split("\t")
        ffma, hmma, share = int(ffma), int(hmma), float(share)
        if share > 0:  # share = (FFMA + HMMA) / loop instructions
            mix[kernel_key(kernel)] = (share * (ffma + HMMA_FFMAS * hmma) / (ffma + hmma), hmma > 0)
    return mix


def launch_ms(k, m, mix):
    entry = mix.get(kernel_key(k.get("kernel", "")))
    if entry is None:
        return calibrate.launch_ms(k, m)
    # The committed model with its compute term priced per issued instruction: the same code path,
    # with compute_efficiency = issue_efficiency x share for this launch (capped by the tensor
    # pipe's roof for an MMA loop).
    share, uses_mma = entry
    efficiency = m["issue_efficiency"] * share
    if uses_mma:
        efficiency = min(efficiency, MMA_ROOF)
    return calibrate.launch_ms(k, dict(m, compute_efficiency=efficiency))


def row_ms(row, m, mix):
    return sum(launch_ms(k, m, mix) for k in row["profile"]["kernels"])


def fit_issue_efficiency(pairs, m, mix):
    """Golden-section search of the squared log error over issue_efficiency in [0.05, 1]."""
    loss = lambda e: sum(math.log(row_ms(r, dict(m, issue_efficiency=e), mix) / t) ** 2 for r, t in pairs)
    lo, hi = math.log(0.05), 0.0
    for _ in range(60):
        a, b = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        if loss(math.exp(a)) < loss(math.exp(b)):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


def agreement(pairs, predict):
    ratios = [predict(r) / t for r, t in pairs]
    within = lambda f: sum(1 for x in ratios if max(x, 1 / x) <= f)
    return within(1.5), within(3.0), math.exp(sum(abs(math.log(x)) for x in ratios) / len(ratios))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profiled", help="bench --device cuda --profile --json output")
    ap.add_argument("--workload", action="append", default=[],
                    help="bench_train / bench_sargan --profile_json output (one run's launches)")
    ap.add_argument("--mix", required=True, help="sass_mix.py --tsv of the kernels that were profiled")
    ap.add_argument("--old-mix", default=os.path.join(ROOT, "docs", "perf", "sass-mix-d3e6d44.tsv"))
    ap.add_argument("--measured-dir", default=os.path.join(ROOT, "..", "shared", "gpu", "h200-2026-12-04"))
    args = ap.parse_args()
    b1 = os.path.join(args.measured_dir, "bench_cuda.json")
    if not os.path.isfile(b1):
        sys.exit(f"issue_model: no measurement at {b1}")
    measured = calibrate.read_measured(b1)
    b8_path = os.path.join(args.measured_dir, "bench_cuda_b8.json")
    if os.path.isfile(b8_path):
        measured.update(calibrate.read_measured(b8_path))
    m = calibrate.committed_constants()

    ncu = calibrate.ncu_rows(os.path.join(args.measured_dir, "ncu_kernels.csv"),
                             os.path.join(args.measured_dir, "ncu_bench_stdout.log"), measured)
    pairs = [(r, measured[(r["op"], r["shape"])][0]) for r in ncu]
    old_mix = read_mix(args.old_mix)
    missing = {kernel_key(k["kernel"]) for r, _ in pairs for k in r["profile"]["kernels"]} - set(old_mix)
    if any("implicit_gemm" in k for k in missing):
        sys.exit(f"issue_model: {args.old_mix} lacks {sorted(missing)}")
    m["issue_efficiency"] = fit_issue_efficiency(pairs, m, old_mix)
    committed = agreement(pairs, lambda r: calibrate.row_ms(r, m))
    variant = agreement(pairs, lambda r: row_ms(r, m, old_mix))
    print(f"issue_efficiency fitted on the {len(pairs)} measured conv rows (Nsight Compute counters, "
          f"mix {os.path.relpath(args.old_mix, ROOT)}): {m['issue_efficiency']:.3f}")
    print(f"  committed model: {committed[0]} within 1.5x, {committed[1]} within 3x, "
          f"geometric mean error {committed[2]:.3f}x")
    print(f"  issue variant:   {variant[0]} within 1.5x, {variant[1]} within 3x, "
          f"geometric mean error {variant[2]:.3f}x")

    mix = read_mix(args.mix)
    for path in args.workload:
        print_workloads(path, m, mix)
    if args.profiled:
        print_conv_rows(args.profiled, m, mix, measured)


def print_workloads(path, m, mix, top=8):
    """Every row of a --profile_json file: one run's launches, summed by both models."""
    with open(path) as f:
        rows = json.load(f)["rows"]
    for r in rows:
        launches = r["profile"]["kernels"]
        committed, variant = calibrate.row_ms(r, m), row_ms(r, m, mix)
        print(f"\n{r['op']}, {r['shape']} ({os.path.relpath(path, ROOT)}; modelled, not measured): "
              f"{len(launches)} launches; committed model {committed:.2f} ms, issue variant {variant:.2f} ms")
        by_kernel = {}
        for k in launches:
            entry = by_kernel.setdefault(kernel_key(k["kernel"]), [0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += calibrate.launch_ms(k, m)
            entry[2] += launch_ms(k, m, mix)
        print("| kernel | launches | committed ms | variant ms |\n|---|---:|---:|---:|")
        for name, (n, old, new) in sorted(by_kernel.items(), key=lambda kv: -kv[1][2])[:top]:
            print(f"| `{name}` | {n} | {old:.2f} | {new:.2f} |")


def print_conv_rows(path, m, mix, measured):
    with open(path) as f:
        rows = [r for r in json.load(f)["rows"] if "profile" in r and r["op"].startswith("conv")]
    print(f"\n{os.path.relpath(path, ROOT)} (modelled, not measured)")
    print("\n| op | shape | measured then (H200) | cuDNN (H200) | committed model | issue variant | variant / cuDNN |")
    print("|---|---|---:|---:|---:|---:|---:|")
    sums = {}
    for r in rows:
        ours, cudnn, _ = measured.get((r["op"], r["shape"]), (None, None, None))
        old, new = calibrate.row_ms(r, m), row_ms(r, m, mix)
        cells = ["-" if v is None else f"{v:.3f}" for v in (ours, cudnn)]
        ratio = f"{new / cudnn:.2f}" if cudnn else "-"
        print(f"| {r['op']} | {r['shape']} | {cells[0]} | {cells[1]} | {old:.3f} | {new:.3f} | {ratio} |")
        if cudnn:
            batch = "batch 8" if r["shape"].startswith("x 8x") else "batch 1"
            s = sums.setdefault(batch, [0, 0.0, 0.0, 0.0, 0.0])
            s[0] += 1
            s[1] += cudnn
            s[2] += old
            s[3] += new
            s[4] = max(s[4], new / cudnn)
    for batch, (n, cudnn, old, new, worst) in sorted(sums.items()):
        print(f"\n{batch}: {n} conv rows; cuDNN {cudnn:.2f} ms; committed model {old:.2f} ms ({old / cudnn:.2f}x); "
              f"issue variant {new:.2f} ms ({new / cudnn:.2f}x); worst row {worst:.2f}x cuDNN")


if __name__ == "__main__":
    main()
