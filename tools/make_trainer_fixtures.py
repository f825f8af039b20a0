#!/usr/bin/python3
"""Makes tests/fixtures/trainer/: two SARGAN training iterations in PyTorch, following the
authors' solver.py (StarGAN's train loop) line by line, for tests/models/trainer_parity.cpp.

  g.ckpt, d.ckpt   the initial weights (torch.save(state_dict)): G conv_dim 4, Hourglass width 4,
                   D image_size 32, conv_dim 4, repeat_num 3, c_dim 7
  expected.pt      an OrderedDict: for iteration k = 1, 2 the inputs (x{k}, labels{k}, targets{k},
                   alpha{k}; labels as float), the D step's loss terms (d{k}/loss_real, loss_fake,
                   loss_cls, loss_gp), every D gradient (d{k}/grad/<name>) and parameter after
                   Adam (d{k}/param/<name>), then the same for the G step (g{k}/loss_fake, loss_rec,
                   loss_cls, g{k}/grad/<name>, g{k}/param/<name>)

Settings: n_critic 1 (a G step every iteration), lambda_cls 0.7, lambda_rec 3, lambda_gp 10
(non-default weights, so a term weighted wrongly shows), g_lr = d_lr = 1e-3, betas (0.5, 0.999).
The permutation and alpha are given, not drawn, so the C++ test feeds the same ones.
Run with /usr/bin/python3 (python3-torch 1.13, CPU):
  /usr/bin/python3 tools/make_trainer_fixtures.py
"""
import collections
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sargan_torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "trainer")
C_DIM, IMAGE_SIZE, BATCH = 7, 32, 3
LAMBDA_CLS, LAMBDA_REC, LAMBDA_GP, LR = 0.7, 3.0, 10.0, 1e-3


def label2onehot(labels, dim):
    out = torch.zeros(labels.size(0), dim)
    out[torch.arange(labels.size(0)), labels.long()] = 1
    return out


def gradient_penalty(y, x):
    """The authors' gradient_penalty, verbatim."""
    weight = torch.ones(y.size())
    dydx = torch.autograd.grad(outputs=y, inputs=x, grad_outputs=weight, retain_graph=True, create_graph=True,
                               only_inputs=True)[0]
    dydx = dydx.view(dydx.size(0), -1)
    dydx_l2norm = torch.sqrt(torch.sum(dydx ** 2, dim=1))
    return torch.mean((dydx_l2norm - 1) ** 2)


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(5)
    G = sargan_torch.Generator(conv_dim=4, c_dim=C_DIM, cmid=4)
    D = sargan_torch.Discriminator(image_size=IMAGE_SIZE, conv_dim=4, c_dim=C_DIM, repeat_num=3)
    for m in G.modules():  # non-trivial affine norms, so a C++ G that ignored them would fail
        if isinstance(m, torch.nn.InstanceNorm2d):
            m.weight.data = torch.rand(m.num_features, generator=gen) + 0.5
            m.bias.data = torch.rand(m.num_features, generator=gen) - 0.5
    torch.save(G.state_dict(), os.path.join(OUT, "g.ckpt"))
    torch.save(D.state_dict(), os.path.join(OUT, "d.ckpt"))
    g_optimizer = torch.optim.Adam(G.parameters(), LR, [0.5, 0.999])
    d_optimizer = torch.optim.Adam(D.parameters(), LR, [0.5, 0.999])

    def reset_grad():
        g_optimizer.zero_grad()
        d_optimizer.zero_grad()

    expected = collections.OrderedDict()
    for k, (labels, perm) in enumerate([([0, 3, 5], [2, 0, 1]), ([6, 1, 1], [1, 2, 0])], start=1):
        x_real = torch.rand(BATCH, 3, IMAGE_SIZE, IMAGE_SIZE, generator=gen) * 2 - 1
        label_org = torch.tensor(labels)
        label_trg = label_org[torch.tensor(perm)]
        alpha = torch.rand(BATCH, 1, 1, 1, generator=gen)
        c_org, c_trg = label2onehot(label_org, C_DIM), label2onehot(label_trg, C_DIM)
        expected[f"x{k}"] = x_real
        expected[f"labels{k}"] = label_org.float()
        expected[f"targets{k}"] = label_trg.float()
        expected[f"alpha{k}"] = alpha.view(-1)

        # =================== Train the discriminator (solver.py) =================== #
        out_src, out_cls = D(x_real)
        d_loss_real = -torch.mean(out_src)
        d_loss_cls = F.cross_entropy(out_cls, label_org)
        x_fake = G(x_real, c_trg)
        out_src, out_cls = D(x_fake.detach())
        d_loss_fake = torch.mean(out_src)
        x_hat = (alpha * x_real.data + (1 - alpha) * x_fake.data).requires_grad_(True)
        out_src, _ = D(x_hat)
        d_loss_gp = gradient_penalty(out_src, x_hat)
        d_loss = d_loss_real + d_loss_fake + LAMBDA_CLS * d_loss_cls + LAMBDA_GP * d_loss_gp
        reset_grad()
        d_loss.backward()
        d_optimizer.step()
        for name, value in [("loss_real", d_loss_real), ("loss_fake", d_loss_fake), ("loss_cls", d_loss_cls),
                            ("loss_gp", d_loss_gp)]:
            expected[f"d{k}/{name}"] = value.detach().reshape(1)
        for name, p in D.named_parameters():
            expected[f"d{k}/grad/{name}"] = p.grad.detach().clone()
            expected[f"d{k}/param/{name}"] = p.detach().clone()

        # =================== Train the generator (n_critic 1) =================== #
        x_fake = G(x_real, c_trg)
        out_src, out_cls = D(x_fake)
        g_loss_fake = -torch.mean(out_src)
        g_loss_cls = F.cross_entropy(out_cls, label_trg)
        x_reconst = G(x_fake, c_org)
        g_loss_rec = torch.mean(torch.abs(x_real - x_reconst))
        g_loss = g_loss_fake + LAMBDA_REC * g_loss_rec + LAMBDA_CLS * g_loss_cls
        reset_grad()
        g_loss.backward()
        g_optimizer.step()
        for name, value in [("loss_fake", g_loss_fake), ("loss_rec", g_loss_rec), ("loss_cls", g_loss_cls)]:
            expected[f"g{k}/{name}"] = value.detach().reshape(1)
        for name, p in G.named_parameters():
            if p.grad is None:  # att_func: in the checkpoint, never run
                continue
            expected[f"g{k}/grad/{name}"] = p.grad.detach().clone()
            expected[f"g{k}/param/{name}"] = p.detach().clone()
    torch.save(expected, os.path.join(OUT, "expected.pt"))

    manifest = {
        "made_by": "tools/make_trainer_fixtures.py",
        "torch": torch.__version__,
        "generator": {"file": "g.ckpt", "conv_dim": 4, "c_dim": C_DIM, "hourglass_dim": 4},
        "discriminator": {"file": "d.ckpt", "image_size": IMAGE_SIZE, "conv_dim": 4, "c_dim": C_DIM, "repeat_num": 3},
        "train": {"n_critic": 1, "lambda_cls": LAMBDA_CLS, "lambda_rec": LAMBDA_REC, "lambda_gp": LAMBDA_GP,
                  "g_lr": LR, "d_lr": LR, "beta1": 0.5, "beta2": 0.999, "iterations": 2, "batch": BATCH},
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
