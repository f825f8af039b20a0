#!/usr/bin/python3
"""Makes tests/fixtures/torch/: PyTorch reference values for the engine's parity tests
(tests/golden/, tests/engine/module_test.cpp). Tiny shapes, so each file stays well under 200 KB.

Run with /usr/bin/python3 (Debian's python3-torch, CPU 1.13; needed only to regenerate, never by
the product):  /usr/bin/python3 tools/make_torch_fixtures.py

Every file is JSON: {"format": "engine-torch-fixture", "version": 1, "torch": <version>, ...,
"tensors": {name: {"shape": [...], "data": [float32 values, row-major]}}} plus file-specific
fields described below. Float32 values are written as the shortest decimal of the double they
widen to, so reading them back as double and rounding to float is exact.

  conv2d.json            cases: SARGAN's conv kernel/stride/padding combos on tiny shapes (H != W,
                         with and without bias): x, weight, bias, grad_y -> y, grad_x, grad_weight,
                         grad_bias
  conv_transpose2d.json  the same for ConvTranspose2d (4x4/2 pad 1 as in SARGAN, and 3x3/1 pad 1)
  instance_norm.json     F.instance_norm with affine weight/bias, eps 1e-5: y and the three grads
  cross_entropy.json     F.cross_entropy(logits, labels): loss and grad_logits
  gradient_penalty.json  D = conv 4x4/2 + leaky_relu(0.01) + conv 3x3/1 on x_hat:
                         g = autograd.grad(D(x_hat).sum(), x_hat, create_graph=True),
                         gp = ((g.view(N, -1).norm(2, dim=1) - 1) ** 2).mean(), gp.backward():
                         gp and every parameter's gradient (no_grad lists those left None)
  adam.json              three torch.optim.Adam steps (lr 1e-3, betas (0.5, 0.999), then lr 2e-4
                         for the third step) with given gradients: parameters after each step and
                         the final exp_avg / exp_avg_sq
  module.json            a nested model (Sequential with InstanceNorm2d running stats and a named
                         submodule): state_dict / named_parameters / named_buffers key lists in
                         order with shapes, its state_dict values, an input and the output;
                         "init": the default-initialisation bounds of a Conv2d and a
                         ConvTranspose2d from torch's own fan-in computation
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "torch")
VERSION = 1


def tensor_entry(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def write(name, tensors, **fields):
    document = {"format": "engine-torch-fixture", "version": VERSION, "torch": torch.__version__}
    document.update(fields)
    document["tensors"] = {k: tensor_entry(v) for k, v in tensors.items()}
    path = os.path.join(OUT, name)
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")
    os.replace(temporary, path)
    print(f"{name}: {os.path.getsize(path)} bytes")


def rand(g, *shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape, generator=g) * (hi - lo) + lo


def conv_cases(g, transposed):
    # (name, n, c_in, c_out, h, w, kernel, stride, padding, bias)
    if transposed:
        specs = [("k4s2p1", 2, 3, 2, 4, 5, 4, 2, 1, False),
                 ("k4s2p1_bias", 1, 2, 3, 3, 3, 4, 2, 1, True),
                 ("k3s1p1_bias", 2, 2, 3, 5, 4, 3, 1, 1, True)]
    else:
        specs = [("k7s1p3", 1, 5, 3, 9, 8, 7, 1, 3, False),       # generator first/last conv
                 ("k4s2p1_bias", 2, 3, 4, 8, 6, 4, 2, 1, True),   # discriminator, generator down
                 ("k3s1p0", 2, 4, 3, 7, 6, 3, 1, 0, False),       # after reflection padding
                 ("k3s2p0", 1, 3, 2, 9, 7, 3, 2, 0, False),       # down-scaling residual block
                 ("k3s1p1", 2, 3, 1, 5, 4, 3, 1, 1, False),       # discriminator conv1
                 ("k2s1p0", 2, 4, 5, 2, 2, 2, 1, 0, False)]       # discriminator conv2 (kernel = H)
    cases, tensors = [], {}
    for name, n, ci, co, h, w, k, s, p, bias in specs:
        x = rand(g, n, ci, h, w).requires_grad_()
        wshape = (ci, co, k, k) if transposed else (co, ci, k, k)
        weight = rand(g, *wshape, lo=-0.5, hi=0.5).requires_grad_()
        b = rand(g, co).requires_grad_() if bias else None
        if transposed:
            y = F.conv_transpose2d(x, weight, b, stride=s, padding=p)
        else:
            y = F.conv2d(x, weight, b, stride=s, padding=p)
        grad_y = rand(g, *y.shape)
        y.backward(grad_y)
        cases.append({"name": name, "stride": s, "padding": p, "bias": bias})
        tensors.update({f"{name}.x": x, f"{name}.weight": weight, f"{name}.grad_y": grad_y,
                        f"{name}.y": y, f"{name}.grad_x": x.grad, f"{name}.grad_weight": weight.grad})
        if bias:
            tensors.update({f"{name}.bias": b, f"{name}.grad_bias": b.grad})
    return cases, tensors


def instance_norm(g):
    x = (rand(g, 2, 3, 5, 4) * 3.0 + 0.5).requires_grad_()
    weight = rand(g, 3, lo=0.5, hi=1.5).requires_grad_()
    bias = rand(g, 3).requires_grad_()
    y = F.instance_norm(x, weight=weight, bias=bias, eps=1e-5)
    grad_y = rand(g, *y.shape)
    y.backward(grad_y)
    write("instance_norm.json", {"x": x, "weight": weight, "bias": bias, "grad_y": grad_y, "y": y,
                                 "grad_x": x.grad, "grad_weight": weight.grad, "grad_bias": bias.grad},
          eps=1e-5)


def cross_entropy(g):
    logits = (rand(g, 6, 5) * 4.0).requires_grad_()
    labels = [0, 4, 2, 2, 1, 3]
    loss = F.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    write("cross_entropy.json", {"logits": logits, "loss": loss, "grad_logits": logits.grad},
          labels=labels)


def gradient_penalty(g):
    w1 = rand(g, 4, 3, 4, 4, lo=-0.3, hi=0.3).requires_grad_()
    b1 = rand(g, 4, lo=-0.3, hi=0.3).requires_grad_()
    w2 = rand(g, 1, 4, 3, 3, lo=-0.3, hi=0.3).requires_grad_()
    b2 = rand(g, 1, lo=-0.3, hi=0.3).requires_grad_()
    x_hat = rand(g, 2, 3, 8, 6).requires_grad_()
    d = F.conv2d(F.leaky_relu(F.conv2d(x_hat, w1, b1, stride=2, padding=1), 0.01), w2, b2, padding=1)
    grad, = torch.autograd.grad(d.sum(), x_hat, create_graph=True)
    gp = ((grad.view(grad.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
    gp.backward()
    tensors = {"w1": w1, "b1": b1, "w2": w2, "b2": b2, "x_hat": x_hat, "d": d, "grad_x_hat": grad,
               "gp": gp}
    # A parameter that gp does not reach keeps .grad None (b2: d D / d x_hat does not involve it).
    no_grad = []
    for name, p in (("w1", w1), ("b1", b1), ("w2", w2), ("b2", b2)):
        if p.grad is None:
            no_grad.append(name)
        else:
            tensors[f"grad_{name}"] = p.grad
    write("gradient_penalty.json", tensors, slope=0.01, no_grad=no_grad)


def adam(g):
    p1 = rand(g, 3, 4).requires_grad_()
    p2 = rand(g, 5).requires_grad_()
    optimizer = torch.optim.Adam([p1, p2], lr=1e-3, betas=(0.5, 0.999))
    tensors = {"p1.initial": p1.clone(), "p2.initial": p2.clone()}
    lrs = [1e-3, 1e-3, 2e-4]
    for step, lr in enumerate(lrs, start=1):
        for group in optimizer.param_groups:
            group["lr"] = lr
        # Gradients of mixed magnitude, including small ones where eps matters.
        p1.grad = rand(g, 3, 4) * (10.0 ** -step)
        p2.grad = rand(g, 5) * 3.0
        tensors[f"p1.grad.{step}"] = p1.grad.clone()
        tensors[f"p2.grad.{step}"] = p2.grad.clone()
        optimizer.step()
        tensors[f"p1.after.{step}"] = p1.clone()
        tensors[f"p2.after.{step}"] = p2.clone()
    for name, p in (("p1", p1), ("p2", p2)):
        tensors[f"{name}.exp_avg"] = optimizer.state[p]["exp_avg"]
        tensors[f"{name}.exp_avg_sq"] = optimizer.state[p]["exp_avg_sq"]
    write("adam.json", tensors, lr=lrs, beta1=0.5, beta2=0.999, eps=1e-8, steps=len(lrs))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 4, 3, 1, 1, bias=False)
        self.norm = nn.InstanceNorm2d(4, affine=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(3, 4, 3, 1, 1),
            nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 4, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.01),
            nn.Sequential(nn.Conv2d(4, 2, 3, 1, 1), nn.Tanh()))
        self.block = Block()
        self.head = nn.Conv2d(2, 1, 1, 1, 0)

    def forward(self, x):
        # block is not on the forward path: it only gives the key list a named, nested submodule.
        return self.head(self.main(x))


def module(g):
    torch.manual_seed(3)
    net = Net()
    with torch.no_grad():
        for _, b in net.named_buffers():
            if b.dtype == torch.float32:
                b.copy_(rand(g, *b.shape, lo=0.5, hi=1.0))  # values a loader must carry over
            else:
                b.fill_(7)
        for _, p in net.named_parameters():
            p.copy_(rand(g, *p.shape, lo=-0.5, hi=0.5))
    x = rand(g, 2, 3, 5, 4)
    # Before the forward: in training mode it updates the running statistics (the engine never
    # does, it always normalises with instance statistics, as does PyTorch's training mode).
    state = {k: v.clone() for k, v in net.state_dict().items()}
    y = net(x)
    tensors = {f"state.{k}": v for k, v in state.items()}
    tensors.update({"x": x, "y": y})
    # Default initialisation: RNGs differ, so the test checks the bounds PyTorch's reset_parameters
    # uses (from torch's own fan-in computation) and the spread of a sample, not the values.
    init = []
    for layer, c_in, c_out, k in (("Conv2d", 16, 8, 3), ("ConvTranspose2d", 16, 8, 4)):
        m = getattr(nn, layer)(c_in, c_out, k)
        fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
        gain = nn.init.calculate_gain("leaky_relu", 5 ** 0.5)
        init.append({"layer": layer, "c_in": c_in, "c_out": c_out, "kernel": k,
                     "weight_bound": gain * (3.0 / fan_in) ** 0.5, "bias_bound": 1.0 / fan_in ** 0.5,
                     "torch_weight_max_abs": float(m.weight.abs().max())})
    write("module.json", tensors, init=init,
          state_dict_keys=[[k, list(v.shape)] for k, v in state.items()],
          parameter_keys=[k for k, _ in net.named_parameters()],
          buffer_keys=[k for k, _ in net.named_buffers()])


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(2024)
    for transposed, name in ((False, "conv2d.json"), (True, "conv_transpose2d.json")):
        cases, tensors = conv_cases(g, transposed)
        write(name, tensors, cases=cases)
    instance_norm(g)
    cross_entropy(g)
    gradient_penalty(g)
    adam(g)
    module(g)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
