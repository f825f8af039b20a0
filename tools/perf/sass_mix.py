#!/usr/bin/env python3
"""The instruction mix of each kernel's hot loop, from its sm_90 machine code (SASS): how many of
the instructions a k step issues are the FMAs (or tensor-core MMAs) that do the work. A GPU
issues one warp instruction per scheduler per cycle, and an FFMA takes one of those slots like
an integer add: a loop whose fetches issue more address arithmetic than FMAs cannot run faster
than its FMA share of the FP32 peak, whatever its occupancy (docs/kernels.md, "Instruction mix").

    tools/perf/sass_mix.py [kernels/cuda/conv2d.cu ...] [--arch sm_90] [--cuobjdump PATH] [--tsv OUT]

Compiles each file as cmake/ptxas_report.cmake does (nvcc -O3 -cubin), disassembles it with
cuobjdump, and for every kernel takes the loop (a backward branch and the code it jumps over)
holding the most FFMA and HMMA instructions. The counts are static: both sides of a branch
inside the loop are counted (for the conv kernels, the float4 and the scalar fetch paths), so the
FMA share is a lower bound of what one iteration executes. --tsv also writes the table as data
(docs/perf/sass-mix-<commit>.tsv), which tools/perf/issue_model.py reads.

cuobjdump is not in every CUDA toolkit install (it is not in this workplace's); NVIDIA publishes
it on PyPI: `python3 -m pip install nvidia-cuda-cuobjdump` (the tool looks in site-packages).
"""
import argparse
import collections
import glob
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK_OPS = ("FFMA", "HMMA")


def find_cuobjdump(given):
    if given:
        return given
    found = shutil.which("cuobjdump") or shutil.which("cuobjdump", path="/usr/local/cuda/bin")
    if found:
        return found
    for base in site.getsitepackages() + [site.getusersitepackages()]:
        hits = glob.glob(os.path.join(base, "nvidia", "cu*", "bin", "cuobjdump"))
        if hits:
            return hits[0]
    sys.exit("sass_mix: no cuobjdump (python3 -m pip install nvidia-cuda-cuobjdump, or --cuobjdump PATH)")


def kernels_of(sass):
    """{mangled name: [(address, opcode)]} of a cuobjdump -sass listing."""
    code, current = {}, None
    for line in sass.splitlines():
        m = re.search(r"Function : (\S+)", line)
        if m:
            current = code.setdefault(m.group(1), [])
            continue
        m = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z0-9_.]+)([^;]*);", line)
        if m and current is not None:
            current.append((int(m.group(1), 16), m.group(2).split(".")[0], m.group(3)))
    return code


def hot_loop(code):
    """Opcode counts of the loop with the most FMA/MMA instructions (None without a loop)."""
    best, best_work = None, -1
    for address, opcode, operands in code:
        target = re.search(r"0x([0-9a-f]+)", operands)
        if opcode != "BRA" or not target or int(target.group(1), 16) >= address:
            continue
        start = int(target.group(1), 16)
        counts = collections.Counter(op for a, op, _ in code if start <= a <= address and op != "NOP")
        work = sum(counts[op] for op in WORK_OPS)
        if work > best_work:
            best, best_work = counts, work
    return best


def short_name(mangled):
    try:
        demangled = subprocess.run(["c++filt", mangled], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return mangled
    demangled = re.sub(r"\(anonymous namespace\)::|kernels::cuda::", "", demangled)
    return demangled[: demangled.find("(")] if "(" in demangled else demangled


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", default=[os.path.join(ROOT, "kernels/cuda/conv2d.cu")])
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--nvcc", default=shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    parser.add_argument("--cuobjdump")
    parser.add_argument("--tsv", help="also write kernel, loop instructions, FFMA, HMMA, share as tab-separated data")
    args = parser.parse_args()
    cuobjdump = find_cuobjdump(args.cuobjdump)
    includes = ["-I" + os.path.join(ROOT, "kernels/include"), "-I" + os.path.join(ROOT, "kernels/cuda")]
    print("| kernel | k-loop instructions | FFMA | HMMA | FMA/MMA share | shared loads | global loads |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    data = ["# kernel\tloop_instructions\tffma\thmma\tshare: the k loop's static SASS mix (" + args.arch +
            ", tools/perf/sass_mix.py)"]
    with tempfile.TemporaryDirectory() as tmp:
        for source in args.sources:
            cubin = os.path.join(tmp, "k.cubin")
            subprocess.run([args.nvcc, "-std=c++17", "-O3", "-arch=" + args.arch, "-cubin", *includes, "-o", cubin,
                            source], check=True)
            sass = subprocess.run([cuobjdump, "-sass", cubin], capture_output=True, text=True, check=True).stdout
            for mangled, code in kernels_of(sass).items():
                counts = hot_loop(code)
                if not counts:
                    continue
                total = sum(counts.values())
                work = sum(counts[op] for op in WORK_OPS)
                print(f"| `{short_name(mangled)}` | {total} | {counts['FFMA']} | {counts['HMMA']} | "
                      f"{work / total:.2f} | {counts['LDS']} | {counts['LDG']} |")
                data.append(f"{short_name(mangled)}\t{total}\t{counts['FFMA']}\t{counts['HMMA']}\t{work / total:.4f}")
    if args.tsv:
        with open(args.tsv + ".tmp", "w") as f:
            f.write("\n".join(data) + "\n")
        os.replace(args.tsv + ".tmp", args.tsv)


if __name__ == "__main__":
    main()
