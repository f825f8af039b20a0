#!/usr/bin/python3
"""Checks that a generator checkpoint written by this project is usable by the authors' PyTorch
code: torch.load + load_state_dict(strict=True) into the PyTorch Generator (tools/reference/sargan_torch.py),
num_batches_tracked kept as int64, and G(x, c) equal to the fixture's expected output.

  /usr/bin/python3 tools/check/check_sargan_ckpt.py CKPT CONV_DIM HOURGLASS_DIM EXPECTED.pt
Exit code 0 and "ok" when it all holds; used by tests/models/sargan_weights.cpp.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import sargan_torch  # noqa: E402


def main():
    path, conv_dim, cmid, expected_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    state = torch.load(path)
    G = sargan_torch.Generator(conv_dim=conv_dim, c_dim=7, cmid=cmid)
    G.load_state_dict(state, strict=True)
    assert state["main.1.num_batches_tracked"].dtype == torch.int64, "num_batches_tracked is not int64"
    expected = torch.load(expected_path)
    with torch.no_grad():
        y = G(expected["g_x"], expected["g_c"])
    diff = (y - expected["g_y"]).abs().max().item()
    assert diff <= 1e-5, f"G(x, c) differs from the expected output by {diff}"
    print("ok")


if __name__ == "__main__":
    main()
