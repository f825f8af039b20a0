#pragma once
// 8-bit images: decoding (JPEG, PNG, BMP through stb_image), atomic PNG writing, and the two
// bilinear resizes the models' reference pipelines use, each reproducing its library's integer
// arithmetic so results match to the grey level:
//   resize_bilinear_opencv  cv::resize(src, dst, size, 0, 0, INTER_LINEAR) on CV_8U images
//                           (the LSRF/OMP authors' pipeline)
//   resize_bilinear_pil     PIL Image.resize(size, Image.BILINEAR), antialiased when reducing
//                           (torchvision's Resize on PIL images: the SARGAN authors' pipeline)
// Layout: interleaved (H, W, C) row-major, C = 1 (grey), 3 (in the file's order, RGB for stb) or 4.
#include <cstdint>
#include <string>
#include <vector>

namespace engine {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // width * height * channels bytes, (y, x, c) order

  Image() = default;
  Image(int width, int height, int channels);  // zero-filled
  uint8_t& at(int y, int x, int c) { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint8_t at(int y, int x, int c) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

// Decodes a JPEG, PNG or BMP file. channels = 0 keeps the file's channel count; 1, 3 or 4 converts
// as stb_image does (grey replicated to RGB, alpha dropped). Throws engine::Error naming the file and
// the decoder's reason for unreadable, non-image, corrupt or truncated files (a JPEG without its end
// marker after the last scan is refused: stb would silently fill the missing part with grey).
Image load_image(const std::string& path, int channels = 0);

// Writes a PNG through a temporary file in the same folder renamed over `path`, so a failure never
// leaves a partial file behind. Throws engine::Error when the folder is not writable.
void save_png(const std::string& path, const Image& image);

// Writes a baseline JPEG (stb_image_write, quality 1..100; chroma 4:2:0 up to 90, 4:4:4 above)
// atomically as save_png does. Grey and RGB only: JPEG has no alpha.
void save_jpeg(const std::string& path, const Image& image, int quality = 90);

// cv::resize(INTER_LINEAR) on 8-bit images, OpenCV 4's arithmetic: pixel-centre sampling
// (src = (dst + 0.5) * in/out - 0.5, clamped at the borders, no antialiasing), 11-bit fixed-point
// weights, the horizontal pass kept in 32-bit integers and the vertical pass rounded as OpenCV's
// SIMD path does (at the top and bottom the rows are clamped but not the weights, as in OpenCV);
// an exact 2x reduction becomes OpenCV's 2x2 box average as in cv::resize; equal sizes copy. Matches OpenCV 4.6 (Debian build) exactly on the tested sizes, see
// tests/io/image_resize.cpp.
Image resize_bilinear_opencv(const Image& src, int width, int height);

// PIL's Image.resize(BILINEAR) on 8-bit images (Pillow >= 7 arithmetic): a separable triangle
// filter whose support grows with the reduction factor (antialiasing), 22-bit fixed-point weights,
// horizontal pass first and rounded to 8 bits, then vertical; a pass whose size does not change is
// skipped, as in Pillow.
Image resize_bilinear_pil(const Image& src, int width, int height);

}  // namespace engine
