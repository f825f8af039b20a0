#!/usr/bin/python3
"""Makes tests/fixtures/sargan/: small random SARGAN checkpoints saved by torch.save, and what the
PyTorch networks (tools/sargan_torch.py) compute from them, for tests/models/sargan_*.cpp.

  g16.ckpt       Generator(conv_dim 16, c_dim 7, Hourglass width 8): torch.save(G.state_dict())
  d8.ckpt        Discriminator(image_size 32, conv_dim 8, c_dim 7, repeat_num 3)
  expected.pt    an OrderedDict of the fixed inputs and the outputs of G and D
  face_67x50.png a non-square source image, and expected_crop/, expected_nocrop/: the PNGs the
                 authors' test pipeline (PIL bilinear resize, ToTensor, Normalize(0.5, 0.5), G,
                 denorm, save_image) makes of it at image_size 32, after a centre crop to a square
                 or, with --crop none, after reflection padding to a multiple of 4

The instance norms get non-trivial affine parameters and the unused running-stat buffers random
values, so a C++ network that forgot an affine or used the running stats would fail the tests.
Run with /usr/bin/python3 (python3-torch, numpy, PIL from Debian):
  /usr/bin/python3 tools/make_sargan_fixtures.py
"""
import collections
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sargan_torch  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sargan")
EXPRESSIONS = ["AFS", "ANS", "DIS", "HAS", "NES", "SAS", "SUS"]
IMAGE_SIZE = 32


def randomise_norms(module, generator):
    for m in module.modules():
        if isinstance(m, torch.nn.InstanceNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=generator) + 0.5          # U(0.5, 1.5)
            m.bias.data = torch.rand(c, generator=generator) - 0.5            # U(-0.5, 0.5)
            if m.track_running_stats:
                m.running_mean.copy_(torch.rand(c, generator=generator) * 4 - 2)
                m.running_var.copy_(torch.rand(c, generator=generator) * 3 + 0.5)
                m.num_batches_tracked.fill_(7)


def one_hot(indices, c_dim=7):
    return F.one_hot(torch.tensor(indices), c_dim).float()


def source_image():
    """A 67x50 RGB picture: smooth ramps plus noise, so that resizing and cropping both matter."""
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:50, 0:67]
    base = np.stack([xx * 3.5, yy * 4.5 + 20, 255 - (xx + yy) * 2], axis=2)
    noisy = base + rng.normal(0, 18, size=base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def to_input(image):
    """torchvision's ToTensor then Normalize((0.5,) * 3, (0.5,) * 3), in float32 like theirs."""
    x = torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255)
    return x.sub(0.5).div(0.5).unsqueeze(0)


def to_png_bytes(y):
    """denorm then torchvision's save_image: floor(clamp((y + 1) / 2, 0, 1) * 255 + 0.5)."""
    out = ((y + 1) / 2).clamp_(0, 1)
    return out.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()


def translate(G, image, folder, pad_to=None):
    x = to_input(image)
    h, w = x.shape[2:]
    if pad_to:
        ph, pw = (-h) % pad_to, (-w) % pad_to
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    os.makedirs(os.path.join(OUT, folder), exist_ok=True)
    row = [to_png_bytes(x[0, :, :h, :w])]
    with torch.no_grad():
        for k, name in enumerate(EXPRESSIONS):
            y = G(x, one_hot([k]))[0, :, :h, :w]
            row.append(to_png_bytes(y))
            Image.fromarray(row[-1]).save(os.path.join(OUT, folder, f"face_SARGAN_{name}.png"))
    Image.fromarray(np.concatenate(row, axis=1)).save(os.path.join(OUT, folder, "face_grid.png"))


def centre_crop_square(image):
    """torchvision CenterCrop(min(w, h)): offsets rounded with Python's round (half to even)."""
    w, h = image.size
    s = min(w, h)
    left, top = int(round((w - s) / 2.0)), int(round((h - s) / 2.0))
    return image.crop((left, top, left + s, top + s))


def resize_shorter(image, size):
    """torchvision Resize(size) on a PIL image: shorter side to size, the other int(size * long / short)."""
    w, h = image.size
    if w <= h:
        ow, oh = size, int(size * h / w)
    else:
        ow, oh = int(size * w / h), size
    return image.resize((ow, oh), Image.BILINEAR)


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(1)

    G = sargan_torch.Generator(conv_dim=16, c_dim=7, cmid=8)
    randomise_norms(G, gen)
    torch.save(G.state_dict(), os.path.join(OUT, "g16.ckpt"))
    D = sargan_torch.Discriminator(image_size=IMAGE_SIZE, conv_dim=8, c_dim=7, repeat_num=3)
    for p in D.parameters():  # PyTorch's init makes outputs ~0.01: scale them to ~1 so 1e-4 means something
        p.data.mul_(2.5)
    torch.save(D.state_dict(), os.path.join(OUT, "d8.ckpt"))

    expected = collections.OrderedDict()
    # Train mode as in the authors' test (instance statistics); no_grad keeps the running stats
    # from being used, and the state_dict was saved before any forward updated them.
    with torch.no_grad():
        expected["g_x"] = torch.rand(2, 3, 32, 32, generator=gen) * 2 - 1
        expected["g_c"] = one_hot([3, 6])
        expected["g_y"] = G(expected["g_x"], expected["g_c"])
        # 36x28: the Hourglass inside the SARB sees 9x7, so its odd levels take the nearest resize.
        expected["g_x_odd"] = torch.rand(1, 3, 36, 28, generator=gen) * 2 - 1
        expected["g_c_odd"] = one_hot([1])
        expected["g_y_odd"] = G(expected["g_x_odd"], expected["g_c_odd"])
        expected["d_x"] = torch.rand(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=gen) * 2 - 1
        expected["d_src"], expected["d_cls"] = D(expected["d_x"])
    torch.save(expected, os.path.join(OUT, "expected.pt"))

    face = source_image()
    face.save(os.path.join(OUT, "face_67x50.png"))
    translate(G, resize_shorter(centre_crop_square(face), IMAGE_SIZE), "expected_crop")
    translate(G, resize_shorter(face, IMAGE_SIZE), "expected_nocrop", pad_to=4)

    manifest = {
        "made_by": "tools/make_sargan_fixtures.py",
        "torch": torch.__version__,
        "generator": {"file": "g16.ckpt", "conv_dim": 16, "c_dim": 7, "hourglass_dim": 8},
        "discriminator": {"file": "d8.ckpt", "image_size": IMAGE_SIZE, "conv_dim": 8, "c_dim": 7,
                          "repeat_num": 3},
        "pipeline": {"source": "face_67x50.png", "image_size": IMAGE_SIZE,
                     "crop": "expected_crop", "no_crop": "expected_nocrop"},
    }
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
