#!/usr/bin/python3
"""Makes tests/fixtures/npz/: tiny files written by NumPy and SciPy themselves, for
tests/io/npy_format.cpp and tests/models/lsrf_weights.cpp.

    /usr/bin/python3 tools/make_npz_fixtures.py
"""
import os

import numpy as np
import scipy.sparse

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "npz")

# The matrix the tests expect (also written out in the tests): a zero row, negative values, the
# last column set as the LSRF bias column would be.
DENSE = np.array([[1.5, 0, 0, 0, -2.0],
                  [0, 0, 0, 0, 0],
                  [0, 0.25, 0, 3.0, 0],
                  [0, 0, 0, 0, 7.0]])


def write(name, array, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)
    scipy.sparse.save_npz(os.path.join(OUT, "scipy_csr.npz"), scipy.sparse.csr_matrix(DENSE))  # deflated
    values = np.arange(6, dtype=np.float64).reshape(2, 3) / 4
    write("f8_2x3_v1.npy", values)
    write("f8_2x3_v2.npy", values, version=(2, 0))
    write("f8_2x3_v3.npy", values, version=(3, 0))
    write("f8_2x3_big_endian.npy", values.astype(">f8"))
    write("i4_big_endian.npy", np.array([1, -2, 70000], dtype=">i4"))
    write("f4_2x3_fortran.npy", np.asfortranarray(values.astype(np.float32)))
    write("i8_scalar.npy", np.array(-5, dtype=np.int64))
    write("b1_4.npy", np.array([True, False, False, True]))
    write("u3_scalar.npy", np.array("csr"))  # '<U3'


if __name__ == "__main__":
    main()
