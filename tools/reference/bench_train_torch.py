#!/usr/bin/python3
"""PyTorch CPU on the workload of apps/bench_train.cpp: one SARGAN training iteration (the
authors' D step with the gradient penalty, then a G step) on random data, with the networks of
tools/reference/sargan_torch.py and Adam(beta 0.5, 0.999). Prints the median and best of `repeats` timed
iterations after one warm-up, and the peak resident memory.
On a GPU (--device cuda): cudnn.benchmark on, --precision fp32 (TF32 off for convolutions and
matmuls: strict FP32) or tf32 (PyTorch's default for convolutions, and matmuls too); timing
synchronises the device before and after each run. The last line, `RESULT {json}`, is for
tools/perf/gpu_check.sh.

  /usr/bin/python3 tools/reference/bench_train_torch.py [--batch_size 8] [--image_size 128] [--g_conv_dim 64]
      [--d_conv_dim 64] [--d_repeat_num 6] [--demo] [--repeats 3] [--threads 2]
      [--device cpu|cuda] [--precision fp32|tf32]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sargan_torch  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--image_size", type=int, default=128)
    p.add_argument("--g_conv_dim", type=int, default=64)
    p.add_argument("--d_conv_dim", type=int, default=64)
    p.add_argument("--d_repeat_num", type=int, default=6)
    p.add_argument("--demo", action="store_true", help="32x32, g 16, d 32, d_repeat_num 3")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--precision", choices=["fp32", "tf32"], default="fp32", help="cuda only")
    a = p.parse_args()
    if a.demo:
        a.image_size, a.g_conv_dim, a.d_conv_dim, a.d_repeat_num = 32, 16, 32, 3
    torch.set_num_threads(a.threads)
    device = sargan_torch.setup_device(a.device, a.precision)
    torch.manual_seed(0)
    G = sargan_torch.Generator(conv_dim=a.g_conv_dim).to(device)
    D = sargan_torch.Discriminator(image_size=a.image_size, conv_dim=a.d_conv_dim, repeat_num=a.d_repeat_num).to(device)
    g_opt = torch.optim.Adam(G.parameters(), 1e-4, [0.5, 0.999])
    d_opt = torch.optim.Adam(D.parameters(), 1e-4, [0.5, 0.999])
    x = (torch.rand(a.batch_size, 3, a.image_size, a.image_size) * 2 - 1).to(device)
    lab = (torch.arange(a.batch_size) % 7).to(device)

    def iteration():
        trg = lab[torch.randperm(lab.size(0), device=device)]
        c_org, c_trg = F.one_hot(lab, 7).float(), F.one_hot(trg, 7).float()
        out_src, out_cls = D(x)
        d_loss_real, d_loss_cls = -out_src.mean(), F.cross_entropy(out_cls, lab)
        x_fake = G(x, c_trg)
        d_loss_fake = D(x_fake.detach())[0].mean()
        alpha = torch.rand(x.size(0), 1, 1, 1, device=device)
        x_hat = (alpha * x.data + (1 - alpha) * x_fake.data).requires_grad_(True)
        src = D(x_hat)[0]
        g = torch.autograd.grad(src, x_hat, torch.ones_like(src), retain_graph=True, create_graph=True)[0]
        gp = ((g.view(g.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
        d_loss = d_loss_real + d_loss_fake + d_loss_cls + 10 * gp
        g_opt.zero_grad(); d_opt.zero_grad(); d_loss.backward(); d_opt.step()
        x_fake = G(x, c_trg)
        out_src, out_cls = D(x_fake)
        g_loss = -out_src.mean() + (x - G(x_fake, c_org)).abs().mean() + F.cross_entropy(out_cls, trg)
        g_opt.zero_grad(); d_opt.zero_grad(); g_loss.backward(); g_opt.step()

    iteration()
    times = []
    for _ in range(a.repeats):
        sargan_torch.synchronize(device)
        start = time.perf_counter()
        iteration()
        sargan_torch.synchronize(device)
        times.append(time.perf_counter() - start)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    where = f"{torch.cuda.get_device_name()} {a.precision}" if device.type == "cuda" else f"CPU ({a.threads} threads)"
    print(f"PyTorch {torch.__version__} {where}, training iteration (D step + G step), batch "
          f"{a.batch_size} at {a.image_size}x{a.image_size}, g_conv_dim {a.g_conv_dim}, d_conv_dim {a.d_conv_dim}, "
          f"d_repeat_num {a.d_repeat_num}: median {statistics.median(times):.3f} s, best {times[0]:.3f} s over "
          f"{a.repeats} iterations; peak RSS {peak:.0f} MB")
    print("RESULT " + json.dumps({"workload": "train", "batch": a.batch_size, "device": a.device,
                                  "precision": a.precision if device.type == "cuda" else "fp32",
                                  "median_ms": 1e3 * statistics.median(times), "best_ms": 1e3 * times[0]}))


if __name__ == "__main__":
    main()
