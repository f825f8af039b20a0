#!/usr/bin/python3
"""PyTorch CPU on the workload of apps/bench_sargan.cpp: N images x 7 expressions through the
default-size SARGAN generator (tools/reference/sargan_torch.py, random weights), train-mode instance norms
as in the authors' test, under no_grad, one forward per `batch` images (each repeated 7 times
with the 7 one-hot targets). Prints the median and best of `repeats` timed runs, in wall time and
in process CPU time (which a busy machine disturbs much less; with --threads 1 it is the wall
time of a quiet machine).
On a GPU (--device cuda): cudnn.benchmark on, --precision fp32 (TF32 off for convolutions and
matmuls: strict FP32) or tf32 (PyTorch's default for convolutions, and matmuls too); timing
synchronises the device before and after each run. The last line, `RESULT {json}`, is for
tools/perf/gpu_check.sh.

  /usr/bin/python3 tools/reference/bench_sargan_torch.py [--images 8] [--image_size 128] [--batch_size 1]
                                               [--repeats 5] [--threads 2]
                                               [--device cpu|cuda] [--precision fp32|tf32]
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sargan_torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--image_size", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", choices=["fp32", "tf32"], default="fp32", help="cuda only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = sargan_torch.setup_device(args.device, args.precision)
    torch.manual_seed(0)
    G = sargan_torch.Generator().to(device)
    x = (torch.rand(args.images, 3, args.image_size, args.image_size) * 2 - 1).to(device)
    eye = torch.eye(7, device=device)

    def run_once():
        sargan_torch.synchronize(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.no_grad():
            for first in range(0, args.images, args.batch_size):
                xb = x[first:first + args.batch_size]
                n = xb.size(0)
                y = G(xb.repeat_interleave(7, dim=0), eye.repeat(n, 1))
                ((y + 1) / 2).clamp(0, 1).mul(255).add(0.5).clamp(0, 255).to(torch.uint8).cpu()
        sargan_torch.synchronize(device)
        return time.perf_counter() - start, time.process_time() - cpu_start

    run_once()
    runs = [run_once() for _ in range(args.repeats)]
    times, cpu_times = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
    where = (f"{torch.cuda.get_device_name()} {args.precision}" if device.type == "cuda"
             else f"CPU ({args.threads} threads)")
    print(f"PyTorch {torch.__version__} {where}, {args.images} images x 7 expressions at "
          f"{args.image_size}x{args.image_size}, batch {args.batch_size} image(s): wall median "
          f"{statistics.median(times):.3f} s, best {times[0]:.3f} s; CPU median {statistics.median(cpu_times):.3f} s, "
          f"best {cpu_times[0]:.3f} s; over {args.repeats} runs")
    print("RESULT " + json.dumps({"workload": "translate", "batch": args.batch_size, "device": args.device,
                                  "precision": args.precision if device.type == "cuda" else "fp32",
                                  "median_ms": 1e3 * statistics.median(times), "best_ms": 1e3 * times[0]}))


if __name__ == "__main__":
    main()
