#!/usr/bin/python3
"""Makes tests/fixtures/io/: small files written by PyTorch and Python's zipfile, for the readers
in engine/io/ (tests/io/). Each reader's expected values are written beside, as JSON.

Run with /usr/bin/python3 (Debian's python3-torch, CPU 1.13; needed only here, never by the
product):  /usr/bin/python3 tools/make_io_fixtures.py

  state_dict.ckpt          torch.save of a state_dict in the default zip format: float32, int64
                           (num_batches_tracked), float16, bfloat16, float64, a transposed
                           (non-contiguous) tensor, two views sharing one storage at different
                           offsets, and an nn.Parameter (pickled via _rebuild_parameter)
  state_dict_legacy.ckpt   the same with _use_new_zipfile_serialization=False (must be refused
                           with a re-save hint)
  state_dict.json          [[name, shape, values as float32]] in state_dict order
  deflated.zip             zipfile.ZIP_DEFLATED entries, one stored entry, an empty entry and an
                           archive comment (contents are formulas the test recomputes)
  tensors.safetensors      written by hand with struct + json (the safetensors package is not
                           installed): F32, F16, BF16, F64, I64, I32, an empty and a 0-d tensor,
                           __metadata__, and a header padded with spaces as the reference writer does
  tensors.json             {"tensors": [[name, shape, values]] in data order, "metadata": {...}}
"""
import collections
import json
import os
import struct
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "io")


def as_float32_list(t):
    return [float(v) for v in t.detach().to(torch.float32).contiguous().reshape(-1).tolist()]


def state_dict():
    g = torch.Generator().manual_seed(5)
    base = torch.arange(10, dtype=torch.float32) * 0.25 - 1.0
    sd = collections.OrderedDict()
    sd["conv.weight"] = torch.randn(2, 1, 2, 2, generator=g)
    sd["bn.num_batches_tracked"] = torch.tensor(1234567, dtype=torch.int64)
    # float16: normal, subnormal (2^-24), negative zero, the largest half, a value needing rounding
    sd["half"] = torch.tensor([1.5, 2.0 ** -24, -0.0, 65504.0, -0.1], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -3.140625, 1e30], dtype=torch.bfloat16)
    sd["double"] = torch.tensor([[0.1, -2.5e-8], [1e10, 3.0]], dtype=torch.float64)
    sd["transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()  # strides (1, 3)
    sd["base"] = base
    sd["shared"] = base[2:8].view(2, 3)  # same storage, offset 2
    sd["strided"] = base[1::3]  # offset 1, stride 3
    sd["param"] = torch.nn.Parameter(torch.tensor([[0.5, -0.75]]))
    assert not sd["transposed"].is_contiguous() and sd["shared"].storage_offset() == 2
    return sd


def write_torch_fixtures():
    sd = state_dict()
    torch.save(sd, os.path.join(OUT, "state_dict.ckpt"))
    torch.save(sd, os.path.join(OUT, "state_dict_legacy.ckpt"), _use_new_zipfile_serialization=False)
    expected = [[k, list(v.shape), as_float32_list(v)] for k, v in sd.items()]
    with open(os.path.join(OUT, "state_dict.json"), "w") as f:
        json.dump(expected, f)
    # The zip fixture really does share storages (one record for base/shared/strided).
    with zipfile.ZipFile(os.path.join(OUT, "state_dict.ckpt")) as z:
        records = [n for n in z.namelist() if "/data/" in n]
    assert len(records) == len(sd) - 2, records


def deflated_contents():
    """The same formulas are in tests/io/zip.cpp (deflated_fixture_contents)."""
    return [
        ("text.txt", b"hello zip\n" * 50, zipfile.ZIP_DEFLATED),
        ("dir/bytes.bin", bytes((i * 7 + 3) % 256 for i in range(1000)), zipfile.ZIP_DEFLATED),
        ("stored.bin", b"stored entry", zipfile.ZIP_STORED),
        ("empty.txt", b"", zipfile.ZIP_DEFLATED),
    ]


def write_zip_fixture():
    with zipfile.ZipFile(os.path.join(OUT, "deflated.zip"), "w") as z:
        for name, data, method in deflated_contents():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.compress_type = method
            z.writestr(info, data)
        z.comment = b"an archive comment the reader must skip"


def write_safetensors_fixture():
    tensors = [  # name, dtype, numpy array (the values as stored)
        ("a", "F32", np.arange(6, dtype=np.float32).reshape(2, 3) / 3),
        ("b", "F16", np.array([1.5, -2.0 ** -24, 65504.0, 0.1], dtype=np.float16)),
        ("c", "BF16", np.array([0x3FC0, 0xC049], dtype=np.uint16)),  # 1.5, -3.140625 as bfloat16 bits
        ("d", "F64", np.array([[0.1, -1e10]], dtype=np.float64)),
        ("e", "I64", np.array([-3, 0, 1 << 40], dtype=np.int64)),
        ("f", "I32", np.array([[7, -8], [9, 2147483647]], dtype=np.int32)),
        ("empty", "F32", np.zeros((0, 3), dtype=np.float32)),
        ("scalar", "F32", np.array(2.5, dtype=np.float32)),
    ]
    header, data = collections.OrderedDict(), b""
    header["__metadata__"] = {"format": "pt", "note": "made by tools/make_io_fixtures.py"}
    for name, dtype, array in tensors:
        raw = array.astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(OUT, "tensors.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

    def values(dtype, array):
        if dtype == "BF16":
            return torch.from_numpy(array.astype(np.int16)).view(torch.bfloat16).float().reshape(-1).tolist()
        return [float(v) for v in array.astype(np.float32).reshape(-1)]

    expected = {"tensors": [[n, list(a.shape), values(d, a)] for n, d, a in tensors], "metadata": header["__metadata__"]}
    with open(os.path.join(OUT, "tensors.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_torch_fixtures()
    write_zip_fixture()
    write_safetensors_fixture()
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")
