// The LSRF/OMP image pipeline (contract in pipeline.h).
#include "models/lsrf/pipeline.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "engine/check.h"
#include "engine/dir_walk.h"
#include "engine/sparse.h"

namespace models::lsrf {

namespace fs = std::filesystem;

Planes preprocess(const engine::Image& image, int size) {
  ENGINE_CHECK(size > 0, "lsrf: image size must be positive");
  ENGINE_CHECK(image.channels == 3, "lsrf: expected a 3-channel image, got ", image.channels, " channels");
  const engine::Image resized = engine::resize_bilinear_opencv(image, size, size);
  const auto [lo, hi] = std::minmax_element(resized.pixels.begin(), resized.pixels.end());
  const int min_v = *lo, max_v = *hi;
  const double scale = max_v > min_v ? 1.0 / (max_v - min_v) : 0.0;
  Planes planes;
  planes.size = size;
  const size_t plane = size_t(size) * size;
  planes.values.resize(3 * plane);
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) planes.values[c * plane + p] = float((resized.pixels[p * 3 + c] - min_v) * scale);
  return planes;
}

// Grey files become 3 equal channels and alpha is dropped, as cv2.imread(IMREAD_COLOR) does.
Planes load_planes(const std::string& path, int size) { return preprocess(engine::load_image(path, 3), size); }

engine::Image planes_to_image(const Planes& planes) {
  const size_t plane = size_t(planes.size) * planes.size;
  ENGINE_CHECK(planes.values.size() == 3 * plane, "lsrf: planes of the wrong size");
  const auto [lo, hi] = std::minmax_element(planes.values.begin(), planes.values.end());
  const double min_v = *lo, max_v = *hi;
  // cv2.normalize(NORM_MINMAX): scale = 255 / (max - min) (0 for a constant input), shift = -min * scale,
  // then saturate_cast<uchar>, which rounds half to even.
  const double scale = max_v - min_v > 2.220446049250313e-16 ? 255.0 / (max_v - min_v) : 0.0;
  const double shift = -min_v * scale;
  engine::Image image(planes.size, planes.size, 3);
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) {
      const double v = std::nearbyint(planes.values[c * plane + p] * scale + shift);
      image.pixels[p * 3 + c] = uint8_t(std::clamp(v, 0.0, 255.0));
    }
  return image;
}

namespace {

engine::CsrMatrix checked_matrix(const CsrWeights& w, int size, engine::Device device) {
  ENGINE_CHECK(int64_t(size) * size == w.rows && w.cols == w.rows + 1, "LinearMap: weights are not [S², S²+1]");
  return engine::CsrMatrix(w.rows, w.cols, w.indptr, w.indices, std::vector<float>(w.data.begin(), w.data.end()),
                           device);
}

}  // namespace

LinearMap::LinearMap(const CsrWeights& w, engine::Device device)
    : size_(int(std::lround(std::sqrt(double(w.rows))))), rows_(w.rows), matrix_(checked_matrix(w, size_, device)) {}

Planes LinearMap::apply(const Planes& x) const {
  ENGINE_CHECK(x.size == size_, "LinearMap: input is ", x.size, "x", x.size, ", weights are for ", size_, "x", size_);
  const int64_t cols = rows_ + 1;
  std::vector<float> xs(size_t(3 * cols));
  for (int c = 0; c < 3; ++c) {
    std::copy_n(x.values.begin() + c * rows_, rows_, xs.begin() + c * cols);
    xs[c * cols + rows_] = 1.f;  // the bias column
  }
  Planes y;
  y.size = size_;
  y.values = engine::csr_spmv(matrix_, engine::Tensor::from_vector(xs, {3, cols}, matrix_.device())).to_vector();
  return y;
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i_end = i, j_end = j;
      while (i_end < a.size() && digit(a[i_end])) ++i_end;
      while (j_end < b.size() && digit(b[j_end])) ++j_end;
      // Compare as numbers without overflow: skip leading zeros, then longer is larger.
      size_t i_nz = i, j_nz = j;
      while (i_nz + 1 < i_end && a[i_nz] == '0') ++i_nz;
      while (j_nz + 1 < j_end && b[j_nz] == '0') ++j_nz;
      if (i_end - i_nz != j_end - j_nz) return i_end - i_nz < j_end - j_nz;
      const int order = a.compare(i_nz, i_end - i_nz, b, j_nz, j_end - j_nz);
      if (order != 0) return order < 0;
      i = i_end;
      j = j_end;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return a.size() - i < b.size() - j;
  return a < b;  // equal up to leading zeros: any fixed order
}

std::vector<std::string> list_images(const std::string& dir, const std::vector<std::string>& extensions) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    ENGINE_FAIL("image folder '", engine::printable(dir, 4096), "' does not exist or is not a folder");
  engine::DirWalkOptions options;
  options.recursive = false;
  options.want = [&](const std::string& name) {
    std::string ext = fs::path(name).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return std::find(extensions.begin(), extensions.end(), ext) != extensions.end();
  };
  std::vector<std::string> names;
  for (const std::string& path : engine::list_regular_files(
           dir, options, [](const std::string& line) { std::cerr << "warning: " << line << "\n"; }))
    names.push_back(fs::path(path).filename().string());
  std::sort(names.begin(), names.end(), natural_less);
  std::vector<std::string> paths;
  for (const std::string& name : names) paths.push_back((fs::path(dir) / name).string());
  return paths;
}

}  // namespace models::lsrf
