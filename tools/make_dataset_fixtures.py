#!/usr/bin/env python3
"""Fixtures for tests/models/dataset_test.cpp: the SARGAN authors' image preparation done by PIL.

For each source picture (a wide 67x50 and a tall 41x60 one, smooth ramps plus noise), writes
  <name>.png                the source
  <name>_s<S>.png           torchvision's CenterCrop(min(w, h)) then Resize(S) (PIL BILINEAR)
  <name>_s<S>_flip.png      the same after RandomHorizontalFlip has flipped the source first
The loader's float values are (v / 255 - 0.5) / 0.5 of these bytes (ToTensor + Normalize).
Run with /usr/bin/python3 (PIL, numpy) from the repository root.
"""
import os

import numpy as np
from PIL import Image

OUT = os.path.join("tests", "fixtures", "dataset")
SIZES = (32, 17)


def source(width, height, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([255 * x / width, 255 * y / height, 128 + 100 * np.sin(x / 5 + y / 7)], axis=-1)
    rgb += rng.normal(0, 20, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")


def centre_crop_square(image):
    """torchvision CenterCrop(min(w, h)): offsets rounded with Python's round (half to even)."""
    w, h = image.size
    s = min(w, h)
    left, top = int(round((w - s) / 2.0)), int(round((h - s) / 2.0))
    return image.crop((left, top, left + s, top + s))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (w, h, seed) in {"wide_67x50": (67, 50, 1), "tall_41x60": (41, 60, 2)}.items():
        image = source(w, h, seed)
        image.save(os.path.join(OUT, name + ".png"))
        for size in SIZES:
            plain = centre_crop_square(image).resize((size, size), Image.BILINEAR)
            plain.save(os.path.join(OUT, f"{name}_s{size}.png"))
            flipped = centre_crop_square(image.transpose(Image.FLIP_LEFT_RIGHT)).resize((size, size), Image.BILINEAR)
            flipped.save(os.path.join(OUT, f"{name}_s{size}_flip.png"))


if __name__ == "__main__":
    main()
