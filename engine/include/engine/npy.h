#pragma once
// NumPy's .npy and .npz files (format versions 1.0, 2.0 and 3.0), read without trusting them: the
// header dict is parsed by a small strict parser of the Python literals NumPy writes (never
// evaluated), the dtype must be one of the plain numeric, bool or string types below, the shape's
// element count must match the data length exactly, and every error names the file or entry.
// Arrays are held little-endian in C order; big-endian data is byte-swapped on reading, and
// Fortran-ordered arrays of 2 or more dimensions are refused (1-D and scalars are the same in both).
// An .npz is a zip of `<key>.npy` entries (stored or deflated); written .npz entries are stored,
// which numpy.load and scipy.sparse.load_npz read like their own compressed files.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace engine {

struct NpyArray {
  // dtype: kind 'f' (float), 'i' (signed), 'u' (unsigned), 'b' (bool), 'S' (bytes), 'U' (UTF-32);
  // item_size in bytes (4 or 8 for 'f'; 1, 2, 4, 8 for integers; 1 for bool; any for 'S' and 'U').
  char kind = 'f';
  int item_size = 8;
  std::vector<int64_t> shape;  // () for a scalar
  std::vector<uint8_t> data;   // element_count() * item_size bytes, little-endian, C order

  int64_t element_count() const;
  std::string descr() const;  // NumPy's name, e.g. "<f8", "|b1", "|S3", "<U3"

  // Values converted to a common type; throws engine::Error for a kind that does not convert
  // (strings to numbers, floats to integers).
  std::vector<double> to_f64() const;
  std::vector<int64_t> to_i64() const;
  std::string to_string() const;  // a scalar 'S' or 'U' array, trailing NULs removed; ASCII only for 'U'

  static NpyArray from_f64(const std::vector<double>& values, std::vector<int64_t> shape);
  static NpyArray from_f32(const std::vector<float>& values, std::vector<int64_t> shape);
  static NpyArray from_i32(const std::vector<int32_t>& values, std::vector<int64_t> shape);
  static NpyArray from_i64(const std::vector<int64_t>& values, std::vector<int64_t> shape);
  static NpyArray from_bytes_scalar(const std::string& text);  // '|S<n>' scalar, as np.array(b"csr")
};

// `what` names the source in error messages (a path, or "archive.npz: data.npy").
NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& what);
std::vector<uint8_t> encode_npy(const NpyArray& array);  // version 1.0, header padded to 64 bytes

NpyArray load_npy(const std::string& path);
void save_npy(const std::string& path, const NpyArray& array);  // atomic (temp file + rename)

// Keys are the entry names without ".npy"; entries not ending in ".npy" are refused. With
// `wanted` non-empty only those keys are inflated (the others are never read, so an unused
// entry cannot cost memory). The entries read may declare at most max_npz_bytes in all
// (checked from the directory before inflating).
constexpr uint64_t max_npz_bytes = uint64_t(4) << 30;
std::map<std::string, NpyArray> load_npz(const std::string& path, const std::set<std::string>& wanted = {});
void save_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays);  // atomic

}  // namespace engine
