"""The SARGAN networks in PyTorch, written from the description in docs/sargan.md, for the
fixture and benchmark scripts only; the product never imports Python.

Module and attribute names equal the authors' state_dict keys:
  ConvLayer   conv2d.weight, conv2d.bias (no norm only), norm.norm.weight, norm.norm.bias
  Hourglass   b1_L, b2_L (L = depth..1), b2_plus_1, b3_L, out_block.0
  SARB        conv1, conv2, att_func
  Generator   main.0..17 (main.9 the SARB), att_func (loaded, never run)
  Discriminator main.0..2r-1, conv1, conv2

cmid, the Hourglass width, is 64 in the authors' networks; the fixtures shrink it to stay small.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class Norm(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.norm = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x):
        return self.norm(x)


class ConvLayer(nn.Module):
    def __init__(self, cin, cout, k=3, scale="none", norm="none", relu="none"):
        super().__init__()
        self.scale, self.relu = scale, relu
        self.pad = nn.ReflectionPad2d(k // 2)
        self.conv2d = nn.Conv2d(cin, cout, k, stride=2 if scale == "down" else 1, bias=(norm == "none"))
        self.norm = Norm(cout) if norm == "in" else None

    def forward(self, x):
        if self.scale == "up":
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        x = self.conv2d(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        if self.relu == "relu":
            x = F.relu(x)
        return x


class Hourglass(nn.Module):
    def __init__(self, depth, cin, cout, cmid=64):
        super().__init__()
        self.depth = depth
        self._make(depth, cin, cmid)
        self.out_block = nn.Sequential(ConvLayer(cmid, cout, 3))

    def _make(self, level, cin, cmid):
        c1 = cin if level == self.depth else cmid
        self.add_module(f"b1_{level}", ConvLayer(c1, cmid, 3, norm="in", relu="relu"))
        self.add_module(f"b2_{level}", ConvLayer(c1, cmid, 3, scale="down", norm="in", relu="relu"))
        if level > 1:
            self._make(level - 1, cin, cmid)
        else:
            self.add_module("b2_plus_1", ConvLayer(cmid, cmid, 3, norm="in", relu="relu"))
        self.add_module(f"b3_{level}", ConvLayer(cmid, cmid, 3, scale="up", norm="in", relu="relu"))

    def _level(self, level, x):
        up1 = self._modules[f"b1_{level}"](x)
        low = self._modules[f"b2_{level}"](x)
        low = self._level(level - 1, low) if level > 1 else self._modules["b2_plus_1"](low)
        up2 = self._modules[f"b3_{level}"](low)
        if up2.shape[2:] != up1.shape[2:]:
            up2 = F.interpolate(up2, size=up1.shape[2:], mode="nearest")
        return up1 + up2

    def forward(self, x):
        return x * torch.sigmoid(self.out_block(self._level(self.depth, x)))


class SARB(nn.Module):
    def __init__(self, channels, cmid=64):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, norm="in", relu="relu")
        self.conv2 = ConvLayer(channels, channels, 3, norm="in")
        self.att_func = Hourglass(2, channels, 1, cmid)

    def forward(self, x):
        return x + self.att_func(self.conv2(self.conv1(x)))


def instance_norm(c):
    return nn.InstanceNorm2d(c, affine=True, track_running_stats=True)


class Generator(nn.Module):
    def __init__(self, conv_dim=64, c_dim=7, cmid=64):
        super().__init__()
        d = conv_dim
        self.main = nn.Sequential(
            nn.Conv2d(3 + c_dim, d, 7, 1, 3, bias=False), instance_norm(d), nn.ReLU(inplace=True),
            nn.Conv2d(d, 2 * d, 4, 2, 1, bias=False), instance_norm(2 * d), nn.ReLU(inplace=True),
            nn.Conv2d(2 * d, 4 * d, 4, 2, 1, bias=False), instance_norm(4 * d), nn.ReLU(inplace=True),
            SARB(4 * d, cmid),
            nn.ConvTranspose2d(4 * d, 2 * d, 4, 2, 1, bias=False), instance_norm(2 * d), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(2 * d, d, 4, 2, 1, bias=False), instance_norm(d), nn.ReLU(inplace=True),
            nn.Conv2d(d, 3, 7, 1, 3, bias=False), nn.Tanh())
        self.att_func = Hourglass(2, 3, 1, cmid)  # in the authors' checkpoint, never run

    def forward(self, x, c):
        c = c.view(c.size(0), c.size(1), 1, 1).repeat(1, 1, x.size(2), x.size(3))
        return self.main(torch.cat([x, c], dim=1)) + x


class Discriminator(nn.Module):
    def __init__(self, image_size=128, conv_dim=64, c_dim=7, repeat_num=6):
        super().__init__()
        layers = [nn.Conv2d(3, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        d = conv_dim
        for _ in range(1, repeat_num):
            layers += [nn.Conv2d(d, 2 * d, 4, 2, 1), nn.LeakyReLU(0.01)]
            d *= 2
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(d, 1, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(d, c_dim, image_size // 2 ** repeat_num, bias=False)

    def forward(self, x):
        h = self.main(x)
        return self.conv1(h), self.conv2(h).view(h.size(0), -1)


def setup_device(device, precision):
    """For the benchmarks: strict FP32 or TF32 on cuda (cudnn.benchmark on); a clear error without a GPU."""
    if device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("--device cuda: PyTorch sees no CUDA device")
        torch.backends.cudnn.benchmark = True
        tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return torch.device(device)


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()

