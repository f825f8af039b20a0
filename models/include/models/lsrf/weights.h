#pragma once
// The LSRF/OMP weight matrix W (S² x S²+1, column S² the bias) and its file: a SciPy CSR matrix in
// scipy.sparse.save_npz's layout, an .npz of data (float64), indices and indptr (int32), shape
// (int64 [rows, cols]) and format (b"csr"). Files are named
// <model>_weights_N2HAS_f-<f>_img-size_<S>.npz as the authors' code names them (found here
// case-insensitively; written lower-case, as the published files are).
#include <cstdint>
#include <string>
#include <vector>

namespace models::lsrf {

struct CsrWeights {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int32_t> indptr;   // rows + 1 entries, non-decreasing, from 0 to nnz
  std::vector<int32_t> indices;  // column of each stored value, in [0, cols)
  std::vector<double> data;
};

// "lsrf_weights_N2HAS_f-1_img-size_128.npz" for model "LSRF" (any case), f 1, size 128.
std::string weights_file_name(const std::string& model, int f, int image_size);

// The file in `dir` whose name equals weights_file_name() ignoring case. Throws engine::Error naming
// the file looked for and listing the .npz files (or all files) present in the folder.
std::string find_weights_file(const std::string& dir, const std::string& model, int f, int image_size);

// Reads and validates a CSR .npz: the five arrays with their dtypes (data float, indices/indptr
// integer, shape 2 integers, format "csr"), indptr monotone from 0 to nnz, indices in range. Throws
// engine::Error naming the file and what is wrong.
CsrWeights load_csr_npz(const std::string& path);

// The same layout as scipy.sparse.save_npz (stored entries; shape as int64); atomic.
void save_csr_npz(const std::string& path, const CsrWeights& weights);

// Throws unless the matrix is [S², S²+1] for image_size S, with a hint about --image_size.
void check_weights_shape(const CsrWeights& weights, int image_size, const std::string& path);

}  // namespace models::lsrf
