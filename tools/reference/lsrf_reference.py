#!/usr/bin/python3
"""Reference outputs of the LSRF/OMP authors' inference pipeline (LSRF-FES solver.py test(), with
f_load_data.py's image loading), re-implemented with NumPy and scipy.sparse, for
tests/models/lsrf_inference.cpp and the parity numbers in docs/lsrf.md.

    /usr/bin/python3 tools/reference/lsrf_reference.py --weights W.npz --image_size S --images DIR --out DIR

For every *.jpg in DIR (natural order): decode, resize to S x S (cv2 INTER_LINEAR), scale the whole
image to [0, 1] by its min and max, y_c = W[:, :S^2] x_c + W[:, S^2] per channel, min-max scale
the whole result to 0..255 (cv2.normalize NORM_MINMAX, 8 bits) and write <name>_y_1_test.png.

Backends: with OpenCV importable (python3-opencv) the decode, resize and final scaling are OpenCV's
own calls, as in the authors' code. Without it, JPEG decoding is Pillow's (libjpeg-turbo, the same
decoder OpenCV links on Debian) and the resize is a NumPy transcription of OpenCV 4's fixed-point
INTER_LINEAR for 8-bit images (11-bit weights, see engine/include/engine/image.h), so the script
needs only the packages of Debian's python3-scipy and python3-pil.
"""
import argparse
import glob
import os
import re

import numpy as np
import scipy.sparse
from PIL import Image

try:
    import cv2
except ImportError:
    cv2 = None


def natural_key(path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", os.path.basename(path))]


def cv_linear_taps(n_in, n_out, clamp_weights):
    scale = 1.0 / (n_out / n_in)
    f = ((np.arange(n_out) + 0.5) * scale - 0.5).astype(np.float32)
    s = np.floor(f).astype(np.int64)
    f = (f - s.astype(np.float32)).astype(np.float32)
    if clamp_weights:
        low, high = s < 0, s >= n_in - 1
        f[low], s[low] = 0, 0
        f[high], s[high] = 0, n_in - 1
    w0 = np.rint((np.float32(1) - f) * np.float32(2048)).astype(np.int64)
    w1 = np.rint(f * np.float32(2048)).astype(np.int64)
    return s, w0, w1


def resize_linear_u8(img, size):
    """cv2.resize(img, (size, size)) for uint8 HxWxC, in OpenCV 4's integer arithmetic."""
    h, w = img.shape[:2]
    if (h, w) == (size, size):
        return img.copy()
    src = img.astype(np.int64)
    if (h, w) == (2 * size, 2 * size):  # OpenCV switches to its area filter for an exact halving
        total = src[0::2, 0::2] + src[0::2, 1::2] + src[1::2, 0::2] + src[1::2, 1::2]
        return ((total + 2) >> 2).astype(np.uint8)
    sx, a0, a1 = cv_linear_taps(w, size, True)
    sy, b0, b1 = cv_linear_taps(h, size, False)
    sx1 = np.minimum(sx + 1, w - 1)
    rows = src[:, sx] * a0[None, :, None] + src[:, sx1] * a1[None, :, None]
    r0, r1 = np.clip(sy, 0, h - 1), np.clip(sy + 1, 0, h - 1)
    top = ((rows[r0] >> 4) * b0[:, None, None]) >> 16
    bottom = ((rows[r1] >> 4) * b1[:, None, None]) >> 16
    return np.clip((top + bottom + 2) >> 2, 0, 255).astype(np.uint8)


def load(path, size):
    """The authors' get_img for 3 channels: channel planes of the resized, min-max scaled image."""
    if cv2 is not None:
        img = cv2.resize(cv2.imread(path), (size, size))  # B, G, R
    else:
        img = resize_linear_u8(np.asarray(Image.open(path).convert("RGB")), size)  # R, G, B
    img = img.astype(np.float64)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img


def to_u8(y):
    if cv2 is not None:
        return cv2.normalize(y, None, 0, 255, cv2.NORM_MINMAX, cv2.CV_8UC1)
    lo, hi = y.min(), y.max()
    scale = 255.0 / (hi - lo) if hi - lo > np.finfo(np.float64).eps else 0.0
    return np.clip(np.rint(y * scale - lo * scale), 0, 255).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--image_size", type=int, required=True)
    parser.add_argument("--images", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--backend", choices=["auto", "numpy"], default="auto",
                        help="numpy: do not use OpenCV even when it is installed")
    args = parser.parse_args()
    if args.backend == "numpy":
        global cv2
        cv2 = None
    s = args.image_size
    w = scipy.sparse.load_npz(args.weights).tocsr()
    assert w.shape == (s * s, s * s + 1), w.shape
    matrix, bias = w[:, : s * s], np.asarray(w[:, s * s].todense()).ravel()
    os.makedirs(args.out, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(args.images, "*.jpg")), key=natural_key):
        x = load(path, s)
        y = np.zeros_like(x)
        for c in range(3):
            y[:, :, c] = (matrix @ x[:, :, c].reshape(-1) + bias).reshape(s, s)
        out = to_u8(y)
        name = os.path.splitext(os.path.basename(path))[0] + "_y_1_test.png"
        if cv2 is not None:
            cv2.imwrite(os.path.join(args.out, name), out)
        else:
            Image.fromarray(out).save(os.path.join(args.out, name))
    print("backend:", "opencv " + cv2.__version__ if cv2 is not None else "numpy+pillow")


if __name__ == "__main__":
    main()
