#!/usr/bin/python3
"""Makes tests/fixtures/image/: small source images and what OpenCV's cv2.resize(INTER_LINEAR) and
PIL's Image.resize(BILINEAR) make of them, for tests/io/image_resize.cpp.

Run with /usr/bin/python3 (PIL and numpy from Debian; OpenCV from `apt-get install python3-opencv`,
needed only here, never by the product):  /usr/bin/python3 tools/make_image_fixtures.py
"""
import json
import os

import cv2
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "image")


def sources():
    rng = np.random.default_rng(6)
    noise = rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8)  # odd sizes, every value
    yy, xx = np.mgrid[0:40, 0:64]
    smooth = np.stack([(xx * 4) % 256, (yy * 6) % 256, (xx + yy) * 2 % 256], axis=2).astype(np.uint8)
    grey = rng.integers(0, 256, size=(30, 17, 1), dtype=np.uint8)
    return {"noise": noise, "smooth": smooth, "grey": grey}


# (source, width, height): upscales, non-integer and integer reductions, an exact halving (OpenCV
# switches to its area filter), one axis only, and sizes the LSRF models use.
CASES = [
    ("noise", 50, 41), ("noise", 13, 9), ("noise", 37, 11), ("noise", 8, 23), ("noise", 80, 80),
    ("smooth", 32, 20), ("smooth", 16, 10), ("smooth", 21, 13), ("smooth", 128, 128), ("smooth", 64, 17),
    ("grey", 7, 5), ("grey", 40, 61),
]


def save(name, array):
    Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(os.path.join(OUT, name))


def main():
    os.makedirs(OUT, exist_ok=True)
    srcs = sources()
    for name, array in srcs.items():
        save(f"src_{name}.png", array)
    manifest = []
    for name, w, h in CASES:
        src = srcs[name]
        cv = cv2.resize(src, (w, h), interpolation=cv2.INTER_LINEAR)
        if cv.ndim == 2:
            cv = cv[:, :, None]
        pil_src = Image.fromarray(src[:, :, 0] if src.shape[2] == 1 else src)
        pil = np.asarray(pil_src.resize((w, h), Image.BILINEAR))
        if pil.ndim == 2:
            pil = pil[:, :, None]
        for lib, result in (("opencv", cv), ("pil", pil)):
            out = f"{lib}_{name}_{w}x{h}.png"
            save(out, result)
            manifest.append({"library": lib, "source": f"src_{name}.png", "width": w, "height": h,
                             "expected": out})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"made_by": "tools/make_image_fixtures.py", "opencv": cv2.__version__,
                   "pillow": Image.__version__, "cases": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
