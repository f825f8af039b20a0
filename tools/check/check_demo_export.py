#!/usr/bin/python3
"""Checks a trained generator exported with `sargan convert ... G.ckpt` in PyTorch: the authors'
Generator (tools/reference/sargan_torch.py) loads it strictly, translates every face of FACES_DIR into the 7
expressions with the authors' test pipeline (ToTensor, Normalize(0.5, 0.5), G, denorm,
save_image rounding), and the bytes are compared with the PNGs `sargan --mode test_inthewild`
wrote into RESULTS_DIR. Prints the largest byte difference (1 = rounding at a .5 boundary).

  /usr/bin/python3 tools/check/check_demo_export.py G.ckpt CONV_DIM FACES_DIR RESULTS_DIR
"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sargan_torch  # noqa: E402

EXPRESSIONS = ["AFS", "ANS", "DIS", "HAS", "NES", "SAS", "SUS"]


def main():
    ckpt, conv_dim, faces, results = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    G = sargan_torch.Generator(conv_dim=conv_dim, c_dim=7)
    G.load_state_dict(torch.load(ckpt), strict=True)
    worst, count = 0, 0
    for name in sorted(os.listdir(faces)):
        stem = name.split(".")[0]
        image = np.array(Image.open(os.path.join(faces, name)).convert("RGB"))
        x = torch.from_numpy(image).permute(2, 0, 1).float().div(255).sub(0.5).div(0.5).unsqueeze(0)
        with torch.no_grad():
            for k, target in enumerate(EXPRESSIONS):
                y = G(x, torch.eye(7)[k:k + 1])[0]
                out = ((y + 1) / 2).clamp(0, 1).mul(255).add(0.5).clamp(0, 255).permute(1, 2, 0).to(torch.uint8)
                ours = np.array(Image.open(os.path.join(results, f"{stem}_SARGAN_{target}.png")).convert("RGB"))
                worst = max(worst, int(np.abs(out.numpy().astype(int) - ours.astype(int)).max()))
                count += 1
    print(f"{count} translations: PyTorch (strict load of {ckpt}) vs ours, max byte difference {worst}")
    sys.exit(0 if worst <= 1 else 1)


if __name__ == "__main__":
    main()
