// Finding, reading, validating and writing the LSRF/OMP CSR weight files (contract in weights.h).
#include "models/lsrf/weights.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>

#include "engine/check.h"
#include "engine/npy.h"

namespace models::lsrf {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

const engine::NpyArray& entry(const std::map<std::string, engine::NpyArray>& arrays, const std::string& key,
                              const std::string& path) {
  const auto it = arrays.find(key);
  if (it == arrays.end())
    ENGINE_FAIL(path, ": not a scipy.sparse CSR file (no '", key, ".npy' entry; expected data, indices, indptr, shape, format)");
  return it->second;
}

std::vector<int32_t> to_i32(const engine::NpyArray& a, const std::string& what) {
  if (a.kind != 'i' && a.kind != 'u') ENGINE_FAIL(what, " must be an integer array, got dtype ", a.descr());
  std::vector<int32_t> out;
  out.reserve(size_t(a.element_count()));
  for (int64_t v : a.to_i64()) {
    if (v < 0 || v > INT32_MAX) ENGINE_FAIL(what, " holds ", v, ", outside [0, 2^31)");
    out.push_back(int32_t(v));
  }
  return out;
}

}  // namespace

std::string weights_file_name(const std::string& model, int f, int image_size) {
  return lower(model) + "_weights_N2HAS_f-" + std::to_string(f) + "_img-size_" + std::to_string(image_size) + ".npz";
}

std::string find_weights_file(const std::string& dir, const std::string& model, int f, int image_size) {
  const std::string wanted = weights_file_name(model, f, image_size);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) ENGINE_FAIL("weights folder '", dir, "' does not exist (looked for ", wanted, ")");
  std::vector<std::string> present;
  for (const auto& item : fs::directory_iterator(dir, ec)) {
    const std::string name = item.path().filename().string();
    if (lower(name) == lower(wanted) && item.is_regular_file()) return item.path().string();
    present.push_back(name);
  }
  std::sort(present.begin(), present.end());
  std::string listing;
  for (const std::string& name : present) listing += (listing.empty() ? "" : ", ") + name;
  ENGINE_FAIL("no weights file ", wanted, " (any letter case) in '", dir, "'; the folder holds: ",
              listing.empty() ? "nothing" : listing, ". Check --model, --f and --image_size.");
}

CsrWeights load_csr_npz(const std::string& path) {
  const std::map<std::string, engine::NpyArray> arrays =
      engine::load_npz(path, {"format", "shape", "data", "indptr", "indices"});
  const engine::NpyArray& format = entry(arrays, "format", path);
  if ((format.kind != 'S' && format.kind != 'U') || format.element_count() != 1 || format.to_string() != "csr")
    ENGINE_FAIL(path, ": the sparse format must be 'csr'",
                (format.kind == 'S' || format.kind == 'U') && format.element_count() == 1 ? ", got '" + format.to_string() + "'" : "");
  const engine::NpyArray& shape = entry(arrays, "shape", path);
  if ((shape.kind != 'i' && shape.kind != 'u') || shape.element_count() != 2)
    ENGINE_FAIL(path, ": 'shape' must hold 2 integers, got dtype ", shape.descr(), " with ", shape.element_count(), " values");
  const engine::NpyArray& data = entry(arrays, "data", path);
  if (data.kind != 'f' || data.shape.size() != 1) ENGINE_FAIL(path, ": 'data' must be a 1-d float array, got ", data.descr());

  CsrWeights w;
  const std::vector<int64_t> dims = shape.to_i64();
  w.rows = dims[0];
  w.cols = dims[1];
  if (w.rows < 1 || w.cols < 1 || w.rows > INT32_MAX || w.cols > INT32_MAX)
    ENGINE_FAIL(path, ": bad matrix shape [", w.rows, ", ", w.cols, "]");
  w.indptr = to_i32(entry(arrays, "indptr", path), path + ": 'indptr'");
  w.indices = to_i32(entry(arrays, "indices", path), path + ": 'indices'");
  w.data = data.to_f64();
  const size_t nnz = w.data.size();
  for (size_t k = 0; k < nnz; ++k)  // the weights are used as float: 1e300 is as damaging as Inf
    if (!(std::fabs(w.data[k]) <= double(std::numeric_limits<float>::max())))
      ENGINE_FAIL(path, ": 'data' holds ", w.data[k], " at element ", k,
                  ", not a finite float; the weights are damaged");
  if (w.indptr.size() != size_t(w.rows) + 1)
    ENGINE_FAIL(path, ": 'indptr' has ", w.indptr.size(), " entries for ", w.rows, " rows (expected rows + 1)");
  if (w.indices.size() != nnz) ENGINE_FAIL(path, ": 'indices' has ", w.indices.size(), " entries, 'data' ", nnz);
  if (w.indptr.front() != 0 || size_t(w.indptr.back()) != nnz) ENGINE_FAIL(path, ": 'indptr' must run from 0 to ", nnz);
  for (int64_t r = 0; r < w.rows; ++r)
    if (w.indptr[r + 1] < w.indptr[r]) ENGINE_FAIL(path, ": 'indptr' decreases at row ", r);
  for (size_t k = 0; k < nnz; ++k)
    if (w.indices[k] >= w.cols) ENGINE_FAIL(path, ": column index ", w.indices[k], " out of range for ", w.cols, " columns");
  return w;
}

void save_csr_npz(const std::string& path, const CsrWeights& w) {
  ENGINE_CHECK(w.indptr.size() == size_t(w.rows) + 1 && w.indices.size() == w.data.size(), "save_csr_npz: inconsistent matrix");
  std::map<std::string, engine::NpyArray> arrays;
  arrays["data"] = engine::NpyArray::from_f64(w.data, {int64_t(w.data.size())});
  arrays["indices"] = engine::NpyArray::from_i32(w.indices, {int64_t(w.indices.size())});
  arrays["indptr"] = engine::NpyArray::from_i32(w.indptr, {int64_t(w.indptr.size())});
  arrays["shape"] = engine::NpyArray::from_i64({w.rows, w.cols}, {2});
  arrays["format"] = engine::NpyArray::from_bytes_scalar("csr");
  engine::save_npz(path, arrays);
}

void check_weights_shape(const CsrWeights& w, int image_size, const std::string& path) {
  const int64_t pixels = int64_t(image_size) * image_size;
  if (w.rows == pixels && w.cols == pixels + 1) return;
  std::string hint;
  for (int s = 1; int64_t(s) * s <= w.rows; ++s)
    if (int64_t(s) * s == w.rows && w.cols == w.rows + 1) hint = " (it was trained for --image_size " + std::to_string(s) + ")";
  ENGINE_FAIL(path, ": weight matrix is [", w.rows, ", ", w.cols, "] but --image_size ", image_size, " needs [", pixels,
              ", ", pixels + 1, "]", hint);
}

}  // namespace models::lsrf
