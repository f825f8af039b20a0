#!/usr/bin/env python3
"""(Historical: it models the split rule and tile shapes of 5 Dec 2026, before the 4-wide tiles
and wave rounding of 6 Dec; tools/perf/issue_model.py --workload prices today's launches.)
Block-count model of conv2d.cu's split-K rule (docs/kernels.md, "Split-K rule"): MODELLED
figures, not measurements, and not the calibrated time model of the profiler (issue 11).

From the measured per-row times of a bench JSON (default: the H200 measurement of 2026-12-04),
it predicts each conv row's time after the split (and, for data gradients and conv_transpose2d's
forward, the phase decomposition in one launch: stride^2 phases side by side in grid.x, each over
its own pixels and taps, padded to the largest phase): a launch of up to `slots` resident blocks takes
one block's time, proportional to the block's share of the reduction K; beyond that, one such
time per wave. The summing pass costs 4 us plus the workspace traffic at 3 TB/s. Optimistic: it
assumes a block's time does not grow when 4 share an SM, and it ignores that the 32-bit index
change also shortens each block.
--tiles applies the per-problem tile shapes of conv2d.cu (tile_shape_for; the gradients have no
128x128 instance): a block of a tile of area a, built for b resident blocks per SM, is assumed to
take a/4096 * b/4 of a 64x64 block's time per k step (every tile shape gets the same multiply-add
throughput per SM), or with --per-block a/4096 (a block's time set by its own work whatever the
SM's residency, as the split-K part assumes: pessimistic for 128x128 and 16-wide tiles, which
are built for 2 resident blocks instead of 4). So only the tiles' fill of the GPU and their padding (products
computed for outputs that do not exist, e.g. 61 of 64 columns for 3 output channels) count; the
double buffering, float4 paths and per-tile address arithmetic, which make each block faster, are
not credited.
  tools/perf/conv_split_model.py [BENCH_JSON] [--slots 528] [--rows N] [--no-phases] [--tiles [--per-block]] [--shape TEXT]"""
import argparse
import json
import re


def cdiv(a, b):
    return (a + b - 1) // b


def tiles_of(m, n, tm=64, tn=64):
    return cdiv(m, tm) * cdiv(n, tn)


# (rows, columns, resident blocks per SM) of conv2d_tiles.cuh's tile shapes
TILES = {'large': (128, 128, 2), 'medium': (64, 64, 4), 'tall': (256, 16, 2), 'wide': (16, 256, 2)}


def tile_shape_for(op, phases, m, n):  # kernels/cuda/conv2d.cu
    if n <= 16 or m <= 16:
        return 'tall' if n <= m else 'wide'
    padded = lambda size: cdiv(size, 128) * 128 * 8 <= size * 9
    forward = op in ('conv2d', 'conv_transpose2d backward data')  # the ops that run conv2d_forward
    if forward and padded(m) and padded(n) and phases * tiles_of(m, n, 128, 128) >= 128:
        return 'large'
    return 'medium'


def new_slices(m, n, k, slots):  # split_slices in kernels/cuda/conv2d.cu
    return max(1, min(slots // tiles_of(m, n), k // 128, 64))


def old_slices(m, n, k, op):  # before issue 12: weight gradient only, 256 blocks, slices >= 256 deep
    if not op.endswith('backward weight'):
        return 1
    return max(1, min(cdiv(256, tiles_of(m, n)), k // 256, 64))


def phased(n, h, w, c_image, c_other, kk, s, p):
    """conv2d_backward_input's one launch: (m, n, k, phases) with m and k of the largest phase."""
    def count(first, size):
        return (size - first + s - 1) // s if first < size else 0
    taps = max(count((r + p) % s, kk) * count((q + p) % s, kk) for r in range(s) for q in range(s))
    return n * count(0, h) * count(0, w), c_image, c_other * taps, s * s


def gemm_of(op, shape):
    """(m, n, k, phases) of a row's GEMM launch."""
    g = re.match(r'x (\d+)x(\d+)x(\d+)x(\d+) k(\d+) s(\d+) p(\d+) -> (\d+)', shape)
    n, c, h, w, kk, s, p, co = map(int, g.groups())
    ho, wo = (h + 2 * p - kk) // s + 1, (w + 2 * p - kk) // s + 1
    if op.startswith('conv_transpose2d'):  # the conv2d kernels with roles swapped: x is the conv's y
        ho, wo = (h - 1) * s - 2 * p + kk, (w - 1) * s - 2 * p + kk
        if op == 'conv_transpose2d':
            return phased(n, ho, wo, co, c, kk, s, p)
        return {'conv_transpose2d backward data': (n * h * w, c, co * kk * kk, 1),
                'conv_transpose2d backward weight': (c, co * kk * kk, n * h * w, 1)}[op]
    if op == 'conv2d':
        return n * ho * wo, co, c * kk * kk, 1
    if op == 'conv2d backward data':
        return phased(n, h, w, c, co, kk, s, p)
    return co, c * kk * kk, n * ho * wo, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('bench', nargs='?', default='../shared/gpu/h200-2026-12-04/bench_cuda.json')
    ap.add_argument('--slots', type=int, default=528, help='resident blocks: 4 per SM x 132 SMs')
    ap.add_argument('--no-phases', action='store_true', help='data gradients without the phase decomposition')
    ap.add_argument('--rows', type=int, default=12, help='worst rows to list')
    ap.add_argument('--tiles', action='store_true', help='per-problem tile shapes (conv2d.cu tile_shape_for)')
    ap.add_argument('--per-block', action='store_true', help='--tiles: a block time independent of residency')
    ap.add_argument('--shape', default='', help="only rows whose shape contains this ('x 8x': batch 8)")
    a = ap.parse_args()
    rows = [r for r in json.load(open(a.bench))['rows'] if r['op'].startswith('conv') and a.shape in r['shape']]
    before = after = cudnn = 0.0
    table = []
    for r in rows:
        m, n, k, phases = gemm_of(r['op'], r['shape'])
        m_all, k_all = m * phases, k * phases  # before: all pixels, all taps (zeros included)
        if a.no_phases:
            m, k, phases = m_all, k_all, 1

        tm, tn, bps = TILES[tile_shape_for(r['op'], phases, m, n) if a.tiles else 'medium']
        slots = a.slots * bps // 4

        def cost(m, k, s, phases=1, tm=64, tn=64, bps=4, slots=a.slots):
            share = 1 if a.per_block else bps / 4
            return cdiv(tiles_of(m, n, tm, tn) * phases * s, slots) * cdiv(cdiv(k, s), 16) * 16 * tm * tn / 4096 * share

        so = old_slices(m_all, n, k_all, r['op'])
        sn = max(1, min(slots // (tiles_of(m, n, tm, tn) * phases), k // 128, 64))  # split_slices
        t = r['median_ms'] * cost(m, k, sn, phases, tm, tn, bps, slots) / cost(m_all, k_all, so)
        if sn > 1:
            t += 0.004 + (sn + 1) * m * phases * n * 4 / 3e12 * 1e3
        ref = r['baselines']['cudnn']['median_ms']
        before, after, cudnn = before + r['median_ms'], after + t, cudnn + ref
        table.append((t / ref, r['op'], r['shape'], r['median_ms'], t, ref, sn))
    print(f'{len(rows)} conv rows: measured {before:.2f} ms ({before / cudnn:.2f}x cuDNN), '
          f'modelled {after:.2f} ms ({after / cudnn:.2f}x cuDNN); cuDNN measured {cudnn:.2f} ms')
    for ratio, op, shape, t0, t1, ref, sn in sorted(table, reverse=True)[:a.rows]:
        print(f'{ratio:5.1f}x  {op:24s} {shape:46s} {t0:7.3f} -> {t1:6.3f} ms  cuDNN {ref:.3f}  slices {sn}')


if __name__ == '__main__':
    main()
