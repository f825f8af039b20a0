#!/usr/bin/env python3
"""Float32 rounding of Winograd F(m x m, r x r) transforms, simulated, against the convolution in
double: which output tiles are accurate enough for the GPU's Winograd kernels (docs/perf.md, "F(6x6,
3x3) beside F(4x4, 3x3)"; docs/kernels.md, "conv2d_winograd.cu").

    /usr/bin/python3 tools/perf/winograd_error.py      (numpy and sympy: python3-numpy, python3-sympy)

For each candidate (m, r, interpolation points; infinity is always the last point) the matrices
are built exactly (Toom-Cook: A^T the points' powers, G the Lagrange weights, B^T solved so that
A^T[(G g) . (B^T d)] is the correlation), rounded to float32, and a tile of 64 input channels is
computed as the kernels do: U = G w G^T and V = B^T d B per channel, M = the channels' U . V summed
in order, y = A^T M A, every step in float32. The error is max |y - exact| over the tile divided by
the tests' magnitude (sum over channels of max |patch| x sum |w|), the worst and the mean over
30 random tiles of uniform [-1, 1] values. The matrices' products are numpy's, not the kernels'
hand-written expressions, so the figures are the order of the kernels' errors, not their bits
(the kernels' own, measured by tests/kernels/cuda/conv2d_kernel_test.cpp: F(4x4, 3x3) 1.3e-6,
F(6x6, 3x3) 2.1e-6 of the magnitude; the tests allow 1e-5).
"""
import numpy as np
import sympy as sp


def matrices(points, m, r):
    alpha = m + r - 1
    p = [sp.Rational(v) for v in points]
    assert len(p) == alpha - 1, "alpha - 1 finite points"
    a_t = sp.zeros(m, alpha)
    for i in range(m):
        for j in range(alpha - 1):
            a_t[i, j] = p[j] ** i
    a_t[m - 1, alpha - 1] = 1
    g = sp.zeros(alpha, r)
    for j in range(alpha - 1):
        weight = sp.Integer(1)
        for l in range(alpha - 1):
            if l != j:
                weight *= p[j] - p[l]
        for k in range(r):
            g[j, k] = p[j] ** k / weight
    g[alpha - 1, r - 1] = 1
    b_t = sp.zeros(alpha, alpha)
    unknowns = sp.symbols(f"b0:{alpha}")
    for l in range(alpha):  # column l of B^T: the coefficient of d_l in each position
        equations = [sum(a_t[i, j] * g[j, k] * unknowns[j] for j in range(alpha)) - (1 if l == i + k else 0)
                     for i in range(m) for k in range(r)]
        solution = sp.solve(equations, unknowns, dict=True)[0]
        for j in range(alpha):
            b_t[j, l] = solution.get(unknowns[j], 0)
    return a_t, g, b_t


def error(points, m, r, channels=64, trials=30, seed=0):
    to32 = lambda mat: np.array(mat.tolist(), dtype=np.float64).astype(np.float32)
    a_t, g, b_t = (to32(mat) for mat in matrices(points, m, r))
    alpha = m + r - 1
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(trials):
        d = rng.uniform(-1, 1, (channels, alpha, alpha)).astype(np.float32)
        w = rng.uniform(-1, 1, (channels, r, r)).astype(np.float32)
        u = np.einsum("ij,cjk,lk->cil", g, w, g).astype(np.float32)
        v = np.einsum("ij,cjk,lk->cil", b_t, d, b_t).astype(np.float32)
        acc = np.zeros((alpha, alpha), np.float32)
        for c in range(channels):
            acc = (acc + u[c] * v[c]).astype(np.float32)
        y = (a_t @ acc @ a_t.T).astype(np.float32)
        d64, w64 = d.astype(np.float64), w.astype(np.float64)
        exact = np.array([[np.sum(d64[:, i:i + r, j:j + r] * w64) for j in range(m)] for i in range(m)])
        magnitude = np.sum(np.abs(d64).max(axis=(1, 2)) * np.abs(w64).sum(axis=(1, 2)))
        errors.append(np.abs(y - exact).max() / magnitude)
    return max(errors), float(np.mean(errors))


CANDIDATES = [  # (name, finite points, m, r)
    ("F(4x4, 3x3) 0 ±1 ±2 (built)", [0, 1, -1, 2, -2], 4, 3),
    ("F(6x6, 3x3) 0 ±1 ±2 ±1/2 (built)", [0, 1, -1, 2, -2, "1/2", "-1/2"], 6, 3),
    ("F(4x4, 2x2) 0 ±1 1/2 (built)", [0, 1, -1, "1/2"], 4, 2),
    ("F(6x6, 2x2) 0 ±1 ±2 1/2", [0, 1, -1, 2, -2, "1/2"], 6, 2),
    ("F(8x8, 2x2) 0 ±1 ±2 ±1/2 4", [0, 1, -1, 2, -2, "1/2", "-1/2", 4], 8, 2),
    ("F(8x8, 2x2) 0 ±1 ±2 ±1/2 1/4", [0, 1, -1, 2, -2, "1/2", "-1/2", "1/4"], 8, 2),
    ("F(8x8, 2x2) 0 ±1 ±2 ±1/2 -3/2", [0, 1, -1, 2, -2, "1/2", "-1/2", "-3/2"], 8, 2),
]

if __name__ == "__main__":
    print(f"{'transform, finite points (and infinity)':<40} {'worst':>9} {'mean':>9}"
          "  (of the magnitude; tests allow 1e-5)")
    for name, points, m, r in CANDIDATES:
        worst, mean = error(points, m, r)
        print(f"{name:<40} {worst:9.2e} {mean:9.2e}", flush=True)
