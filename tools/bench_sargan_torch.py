#!/usr/bin/python3
"""PyTorch CPU on the workload of apps/bench_sargan.cpp: N images x 7 expressions through the
default-size SARGAN generator (tools/sargan_torch.py, random weights), train-mode instance norms
as in the authors' test, under no_grad, one forward per `batch` images (each repeated 7 times
with the 7 one-hot targets). Prints the median and best of `repeats` timed runs, in wall time and
in process CPU time (which a busy machine disturbs much less; with --threads 1 it is the wall
time of a quiet machine).

  /usr/bin/python3 tools/bench_sargan_torch.py [--images 8] [--image_size 128] [--batch_size 1]
                                               [--repeats 5] [--threads 2]
"""
import argparse
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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    G = sargan_torch.Generator()
    x = torch.rand(args.images, 3, args.image_size, args.image_size) * 2 - 1
    eye = torch.eye(7)

    def run_once():
        start, cpu_start = time.perf_counter(), time.process_time()
        with torch.no_grad():
            for first in range(0, args.images, args.batch_size):
                xb = x[first:first + args.batch_size]
                n = xb.size(0)
                y = G(xb.repeat_interleave(7, dim=0), eye.repeat(n, 1))
                ((y + 1) / 2).clamp(0, 1).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)
        return time.perf_counter() - start, time.process_time() - cpu_start

    run_once()
    runs = [run_once() for _ in range(args.repeats)]
    times, cpu_times = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
    print(f"PyTorch {torch.__version__} CPU ({args.threads} threads), {args.images} images x 7 expressions at "
          f"{args.image_size}x{args.image_size}, batch {args.batch_size} image(s): wall median "
          f"{statistics.median(times):.3f} s, best {times[0]:.3f} s; CPU median {statistics.median(cpu_times):.3f} s, "
          f"best {cpu_times[0]:.3f} s; over {args.repeats} runs")


if __name__ == "__main__":
    main()
