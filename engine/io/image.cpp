// Image decoding/encoding through the prebuilt stb library, and the OpenCV and PIL bilinear
// resizes reproduced with their own fixed-point arithmetic (see image.h for the contracts).
#include "engine/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "engine/check.h"
#include "file_io.h"

namespace engine {

Image::Image(int width_, int height_, int channels_)
    : width(width_), height(height_), channels(channels_) {
  ENGINE_CHECK(width > 0 && height > 0 && channels >= 1 && channels <= 4, "image: bad size ",
               width, "x", height, "x", channels);
  pixels.assign(size_t(width) * height * channels, 0);
}

namespace {

bool starts_with(const std::vector<uint8_t>& b, std::initializer_list<uint8_t> sig) {
  return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
}

// stb decodes a JPEG cut short by padding the missing scan data, which would turn a truncated
// download into a silently grey picture. Entropy-coded data never contains FF D9 (EOI) nor FF DA
// (SOS), so a complete file has an EOI after its last SOS.
bool jpeg_has_end_marker(const std::vector<uint8_t>& b) {
  size_t last_sos = 0;
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) last_sos = i;
  for (size_t i = last_sos + 2; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
  return false;
}

}  // namespace

Image load_image(const std::string& path, int channels) {
  ENGINE_CHECK(channels >= 0 && channels <= 4 && channels != 2, "load_image: channels must be 0, 1, 3 or 4");
  const std::vector<uint8_t> bytes = io::read_file_bytes(path, "image file");
  const bool jpeg = starts_with(bytes, {0xFF, 0xD8, 0xFF});
  const bool png = starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
  const bool bmp = starts_with(bytes, {'B', 'M'});
  if (!jpeg && !png && !bmp) ENGINE_FAIL(path, ": not a JPEG, PNG or BMP file");
  if (jpeg && !jpeg_has_end_marker(bytes)) ENGINE_FAIL(path, ": truncated JPEG (no end-of-image marker)");
  if (bytes.size() > size_t(INT32_MAX)) ENGINE_FAIL(path, ": image file too large");
  int w = 0, h = 0, file_channels = 0;
  uint8_t* data = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &file_channels, channels);
  if (!data) ENGINE_FAIL(path, ": cannot decode image (", stbi_failure_reason(), ")");
  Image image;
  image.width = w;
  image.height = h;
  image.channels = channels ? channels : file_channels;
  image.pixels.assign(data, data + size_t(w) * h * image.channels);
  stbi_image_free(data);
  return image;
}

void save_png(const std::string& path, const Image& image) {
  ENGINE_CHECK(image.width > 0 && image.height > 0 && image.channels >= 1 && image.channels <= 4 &&
                   image.pixels.size() == size_t(image.width) * image.height * image.channels,
               "save_png: inconsistent image ", image.width, "x", image.height, "x", image.channels);
  std::vector<uint8_t> encoded;
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (!stbi_write_png_to_func(append, &encoded, image.width, image.height, image.channels,
                              image.pixels.data(), image.width * image.channels))
    ENGINE_FAIL(path, ": PNG encoding failed");

  io::AtomicFile file(path);
  file.write(encoded.data(), encoded.size());
  file.commit();
}

void save_jpeg(const std::string& path, const Image& image, int quality) {
  ENGINE_CHECK((image.channels == 1 || image.channels == 3) && image.width > 0 && image.height > 0 &&
                   image.pixels.size() == size_t(image.width) * image.height * image.channels,
               "save_jpeg: need a grey or RGB image, got ", image.width, "x", image.height, "x",
               image.channels);
  ENGINE_CHECK(quality >= 1 && quality <= 100, "save_jpeg: quality must be 1..100, got ", quality);
  std::vector<uint8_t> encoded;
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
  };
  if (!stbi_write_jpg_to_func(append, &encoded, image.width, image.height, image.channels,
                              image.pixels.data(), quality))
    ENGINE_FAIL(path, ": JPEG encoding failed");

  io::AtomicFile file(path);
  file.write(encoded.data(), encoded.size());
  file.commit();
}

// ---- OpenCV INTER_LINEAR ----

namespace {

constexpr int cv_coef_bits = 11;  // INTER_RESIZE_COEF_BITS
constexpr int cv_coef_scale = 1 << cv_coef_bits;

// One axis of cv::resize's table: source index and the two 11-bit weights per output index.
struct CvTaps {
  std::vector<int> index;
  std::vector<short> w0, w1;
};

short cv_round_short(float v) { return short(std::lrint(v)); }  // saturate_cast<short>(float)

// Horizontally OpenCV clamps the position at the borders (weight 1 on the edge pixel); vertically it
// does not: it clamps the two row indices and keeps both weights, whose separate truncation in the
// vertical pass can lose one grey level on the first and last rows. `clamp_weights` picks the axis.
CvTaps cv_linear_taps(int in_size, int out_size, bool clamp_weights) {
  CvTaps taps;
  const double scale = 1.0 / (double(out_size) / in_size);  // OpenCV keeps 1 / inv_scale
  for (int d = 0; d < out_size; ++d) {
    float f = float((d + 0.5) * scale - 0.5);  // computed in double, stored as float as OpenCV does
    int s = int(std::floor(f));
    f -= float(s);
    if (clamp_weights && s < 0) f = 0, s = 0;
    if (clamp_weights && s >= in_size - 1) f = 0, s = in_size - 1;
    taps.index.push_back(s);
    taps.w0.push_back(cv_round_short((1.f - f) * cv_coef_scale));
    taps.w1.push_back(cv_round_short(f * cv_coef_scale));
  }
  return taps;
}

// OpenCV's vertical pass (VResizeLinearVec_32s8u): each 32-bit row sum is shifted down by 4,
// multiplied by the 16-bit weight keeping the high half, and the sum rounded by 2 bits. Its scalar
// tail rounds the exact 22-bit product instead; the two differ by at most one grey level and the
// SIMD form covers all but the last few bytes of a row, so it is used throughout.
uint8_t cv_vertical(int s0, int s1, short b0, short b1) {
  auto mul_hi = [](int a, short b) { return int16_t((int32_t(int16_t(std::clamp(a >> 4, -32768, 32767))) * b) >> 16); };
  const int sum = std::clamp(int(mul_hi(s0, b0)) + int(mul_hi(s1, b1)), -32768, 32767);
  return uint8_t(std::clamp((sum + 2) >> 2, 0, 255));
}

Image cv_area_half(const Image& src, int width, int height) {
  Image dst(width, height, src.channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < src.channels; ++c) {
        const int sum = src.at(2 * y, 2 * x, c) + src.at(2 * y, 2 * x + 1, c) +
                        src.at(2 * y + 1, 2 * x, c) + src.at(2 * y + 1, 2 * x + 1, c);
        dst.at(y, x, c) = uint8_t((sum + 2) >> 2);
      }
  return dst;
}

}  // namespace

Image resize_bilinear_opencv(const Image& src, int width, int height) {
  ENGINE_CHECK(width > 0 && height > 0 && src.width > 0 && src.height > 0, "resize: empty size");
  if (width == src.width && height == src.height) return src;
  // cv::resize turns INTER_LINEAR into INTER_AREA for an exact halving (same result, cheaper).
  if (src.width == 2 * width && src.height == 2 * height) return cv_area_half(src, width, height);
  const CvTaps tx = cv_linear_taps(src.width, width, true), ty = cv_linear_taps(src.height, height, false);
  const int cn = src.channels;
  Image dst(width, height, cn);
  std::vector<int> row0(size_t(width) * cn), row1(size_t(width) * cn);
  auto horizontal = [&](int sy, std::vector<int>& row) {
    for (int x = 0; x < width; ++x) {
      const int sx = tx.index[x];
      const int sx1 = std::min(sx + 1, src.width - 1);  // weight 0 there when clamped
      for (int c = 0; c < cn; ++c)
        row[size_t(x) * cn + c] = src.at(sy, sx, c) * tx.w0[x] + src.at(sy, sx1, c) * tx.w1[x];
    }
  };
  for (int y = 0; y < height; ++y) {
    const int sy = ty.index[y];
    horizontal(std::clamp(sy, 0, src.height - 1), row0);
    horizontal(std::clamp(sy + 1, 0, src.height - 1), row1);
    uint8_t* out = &dst.pixels[size_t(y) * width * cn];
    for (size_t i = 0; i < row0.size(); ++i) out[i] = cv_vertical(row0[i], row1[i], ty.w0[y], ty.w1[y]);
  }
  return dst;
}

// ---- PIL BILINEAR (Pillow's ImagingResample) ----

namespace {

constexpr int pil_precision_bits = 32 - 8 - 2;

struct PilTaps {
  int ksize = 0;
  std::vector<int> start, count;
  std::vector<int32_t> weights;  // out_size * ksize, 22-bit fixed point
};

PilTaps pil_bilinear_taps(int in_size, int out_size) {
  const double scale = double(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;  // the triangle filter's support is 1
  PilTaps taps;
  taps.ksize = int(std::ceil(support)) * 2 + 1;
  taps.weights.assign(size_t(out_size) * taps.ksize, 0);
  std::vector<double> k(taps.ksize);
  for (int d = 0; d < out_size; ++d) {
    const double center = (d + 0.5) * scale;
    const int lo = std::max(int(center - support + 0.5), 0);
    const int n = std::min(int(center + support + 0.5), in_size) - lo;
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
      const double t = std::abs((i + lo - center + 0.5) / filterscale);
      k[i] = t < 1.0 ? 1.0 - t : 0.0;
      total += k[i];
    }
    for (int i = 0; i < n; ++i) {
      const double w = total != 0.0 ? k[i] / total : k[i];
      taps.weights[size_t(d) * taps.ksize + i] =
          int32_t(w < 0 ? -0.5 + w * (1 << pil_precision_bits) : 0.5 + w * (1 << pil_precision_bits));
    }
    taps.start.push_back(lo);
    taps.count.push_back(n);
  }
  return taps;
}

uint8_t pil_clip8(int32_t v) { return uint8_t(std::clamp(v >> pil_precision_bits, 0, 255)); }

Image pil_horizontal(const Image& src, int width) {
  const PilTaps t = pil_bilinear_taps(src.width, width);
  Image dst(width, src.height, src.channels);
  for (int y = 0; y < src.height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < src.channels; ++c) {
        int32_t sum = 1 << (pil_precision_bits - 1);
        for (int i = 0; i < t.count[x]; ++i)
          sum += src.at(y, t.start[x] + i, c) * t.weights[size_t(x) * t.ksize + i];
        dst.at(y, x, c) = pil_clip8(sum);
      }
  return dst;
}

Image pil_vertical(const Image& src, int height) {
  const PilTaps t = pil_bilinear_taps(src.height, height);
  Image dst(src.width, height, src.channels);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < src.width; ++x)
      for (int c = 0; c < src.channels; ++c) {
        int32_t sum = 1 << (pil_precision_bits - 1);
        for (int i = 0; i < t.count[y]; ++i)
          sum += src.at(t.start[y] + i, x, c) * t.weights[size_t(y) * t.ksize + i];
        dst.at(y, x, c) = pil_clip8(sum);
      }
  return dst;
}

}  // namespace

Image resize_bilinear_pil(const Image& src, int width, int height) {
  ENGINE_CHECK(width > 0 && height > 0 && src.width > 0 && src.height > 0, "resize: empty size");
  Image out = width != src.width ? pil_horizontal(src, width) : src;
  if (height != src.height) out = pil_vertical(out, height);
  return out;
}

}  // namespace engine
