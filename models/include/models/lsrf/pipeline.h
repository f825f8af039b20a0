#pragma once
// The LSRF/OMP image pipeline of the authors' code (Akram & Khan, LSRF-FES: f_load_data.py and
// solver.py), neutral -> target expression, one linear map W per output pixel shared by the colour
// channels:
//   load   decode, 3 channels; resize to S x S with OpenCV's INTER_LINEAR arithmetic
//          (engine::resize_bilinear_opencv); scale the whole image, all channels together, to [0, 1]
//          by its min and max
//   apply  for each channel c: y_c = W[:, :S²] x_c + W[:, S²], x_c the channel flattened row-major
//   save   min-max scale the whole 3-channel result to 0..255 and round (cv2.normalize NORM_MINMAX
//          to 8 bits), colours in the input's order
// The authors keep OpenCV's B, G, R order; every step treats the channels alike and the scalings
// are over all channels together, so working in R, G, B gives the same picture.
// Layout: Planes holds 3 channels of S² floats each, channel-major ([3, S, S]).
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/sparse.h"
#include "models/lsrf/weights.h"

namespace models::lsrf {

struct Planes {
  int size = 0;              // S
  std::vector<float> values;  // 3 * S * S
};

// Resize + min-max normalisation of a decoded 3-channel image.
// A constant image maps to 0 everywhere, as cv2.normalize does.
Planes preprocess(const engine::Image& image, int size);
Planes load_planes(const std::string& path, int size);  // load_image(path, 3) + preprocess

// min-max scaling of all values together to 0..255, rounded half to even (OpenCV's saturate_cast).
engine::Image planes_to_image(const Planes& planes);

// The weights as engine::csr_spmv takes them, on `device`: float values, the bias as a column that
// multiplies an appended 1. The cpu and cuda devices give the same bits (engine/sparse.h).
class LinearMap {
 public:
  // expects [S², S²+1] (check_weights_shape first)
  explicit LinearMap(const CsrWeights& weights, engine::Device device = engine::Device::cpu());
  int size() const { return size_; }
  Planes apply(const Planes& x) const;  // y = W [x; 1] per channel

 private:
  int size_ = 0;
  int64_t rows_ = 0;
  engine::CsrMatrix matrix_;
};

// Natural order as Python's natsort.natsorted: digit runs compare as numbers ("img2" < "img10").
bool natural_less(const std::string& a, const std::string& b);

// The regular files of `dir` whose extension is one of `extensions` (lower-case, with the dot;
// matched ignoring case), hidden files skipped, in natural order of their names.
std::vector<std::string> list_images(const std::string& dir, const std::vector<std::string>& extensions);

}  // namespace models::lsrf
