// The SARGAN test pipeline: torchvision's CenterCrop / Resize / ToTensor / Normalize, the
// generator over every target expression, and save_image's rounding.
#include "models/sargan/translator.h"

#include <algorithm>

#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/ops.h"

namespace models::sargan {

using engine::Image;
using engine::Tensor;

namespace {

// Python's round((a - b) / 2.0): halves go to the even neighbour.
int half_round_even(int difference) {
  const int floor_half = difference / 2;
  if (difference % 2 == 0 || floor_half % 2 == 0) return floor_half;
  return floor_half + 1;
}

Image crop(const Image& src, int left, int top, int width, int height) {
  Image out(width, height, src.channels);
  const size_t row = size_t(width) * src.channels;
  for (int y = 0; y < height; ++y)
    std::copy_n(&src.pixels[(size_t(top + y) * src.width + left) * src.channels], row, &out.pixels[size_t(y) * row]);
  return out;
}

// torch.nn.functional.pad(mode="reflect") index: -1 -> 1, n -> n - 2.
int reflect(int i, int n) { return i < n ? i : 2 * (n - 1) - i; }

}  // namespace

Image prepare_image(const Image& rgb, int image_size, Crop crop_mode) {
  ENGINE_CHECK(rgb.channels == 3, "prepare_image: expected an RGB image, got ", rgb.channels, " channels");
  ENGINE_CHECK(image_size >= 4, "--image_size must be at least 4, got ", image_size);
  Image src = rgb;
  if (crop_mode == Crop::centre && src.width != src.height) {
    const int s = std::min(src.width, src.height);
    src = crop(src, half_round_even(src.width - s), half_round_even(src.height - s), s, s);
  }
  // torchvision Resize(int): the shorter side becomes image_size, the longer int(size * long / short).
  int width = image_size, height = image_size;
  if (src.width < src.height)
    height = int(int64_t(image_size) * src.height / src.width);
  else if (src.height < src.width)
    width = int(int64_t(image_size) * src.width / src.height);
  if (width == src.width && height == src.height) return src;
  return engine::resize_bilinear_pil(src, width, height);
}

Tensor images_to_tensor(const std::vector<Image>& images, int multiple, engine::Device device) {
  ENGINE_CHECK(!images.empty() && multiple >= 1, "images_to_tensor: no images");
  const int h = images[0].height, w = images[0].width;
  const int hp = (h + multiple - 1) / multiple * multiple, wp = (w + multiple - 1) / multiple * multiple;
  ENGINE_CHECK(hp - h < h && wp - w < w, "images_to_tensor: ", w, "x", h, " is too small to pad to a multiple of ",
               multiple);
  std::vector<float> values(images.size() * 3 * size_t(hp) * wp);
  for (size_t n = 0; n < images.size(); ++n) {
    const Image& image = images[n];
    ENGINE_CHECK(image.width == w && image.height == h && image.channels == 3,
                 "images_to_tensor: images must be RGB and of one size");
    for (int c = 0; c < 3; ++c) {
      float* plane = &values[(n * 3 + c) * size_t(hp) * wp];
      for (int y = 0; y < hp; ++y)
        for (int x = 0; x < wp; ++x) {
          const float p = image.at(reflect(y, h), reflect(x, w), c);
          plane[size_t(y) * wp + x] = (p / 255.f - 0.5f) / 0.5f;  // ToTensor, then Normalize
        }
    }
  }
  return Tensor::from_vector(values, {int64_t(images.size()), 3, hp, wp}, device);
}

Image tensor_to_image(const std::vector<float>& y, const engine::Shape& shape, int64_t n, int height, int width) {
  ENGINE_CHECK(shape.size() == 4 && shape[1] == 3 && n < shape[0] && height <= shape[2] && width <= shape[3],
               "tensor_to_image: bad request for ", height, "x", width, " from ", engine::shape_str(shape));
  Image out(width, height, 3);
  for (int c = 0; c < 3; ++c) {
    const float* plane = &y[size_t((n * 3 + c) * shape[2] * shape[3])];
    for (int row = 0; row < height; ++row)
      for (int x = 0; x < width; ++x) {
        float v = (plane[size_t(row) * shape[3] + x] + 1.f) / 2.f;  // the authors' denorm
        v = v >= 0.f ? std::min(v, 1.f) : 0.f;                      // clamp, NaN -> 0
        out.at(row, x, c) = uint8_t(v * 255.f + 0.5f);             // save_image: truncating cast
      }
  }
  return out;
}

Image make_grid_row(const Image& input, const std::vector<Image>& outputs) {
  Image grid(input.width * int(1 + outputs.size()), input.height, 3);
  for (size_t k = 0; k <= outputs.size(); ++k) {
    const Image& tile = k == 0 ? input : outputs[k - 1];
    ENGINE_CHECK(tile.width == input.width && tile.height == input.height && tile.channels == 3,
                 "make_grid_row: tiles must be RGB and of one size");
    for (int y = 0; y < tile.height; ++y)
      std::copy_n(&tile.pixels[size_t(y) * tile.width * 3], size_t(tile.width) * 3,
                  &grid.pixels[(size_t(y) * grid.width + k * tile.width) * 3]);
  }
  return grid;
}

Translator::Translator(Generator& g, engine::Device device, bool cuda_graph) : g_(g), device_(device) {
  g_.to(device);
  if (cuda_graph) {
    ENGINE_CHECK(device.is_cuda(), "--cuda_graph needs the cuda device (got ", device.str(), ")");
    stream_ = std::make_unique<engine::Stream>();
  }
}

Tensor Translator::forward(const Tensor& x) {
  const int64_t h = x.size(2), w = x.size(3);
  if (!responses_.defined() || responses_.size(2) != h || responses_.size(3) != w)
    responses_ = g_.target_responses(h, w);
  if (!stream_) return g_.forward_all_targets(x, responses_);
  if (!graph_x_.defined() || graph_x_.shape() != x.shape()) {  // a new shape: run it once op by op
    graph_.reset();
    graph_x_ = Tensor::empty(x.shape(), device_);  // filled before each replay
    graph_y_ = Tensor();
    shape_calls_ = 0;
  }
  if (++shape_calls_ == 1) return g_.forward_all_targets(x, responses_);
  engine::device_copy(device_, graph_x_.data(), device_, x.data(), sizeof(float) * size_t(x.numel()));
  if (!graph_) {
    graph_ = std::make_unique<engine::CudaGraph>();
    graph_->capture([&] { graph_y_ = g_.forward_all_targets(graph_x_, responses_); });
  }
  graph_->replay();
  return graph_y_;
}

std::vector<std::vector<Image>> Translator::translate(const std::vector<Image>& images) {
  const int64_t c_dim = g_.config().c_dim;
  const int64_t count = int64_t(images.size());
  engine::NoGradGuard no_grad;
  std::unique_ptr<engine::StreamGuard> on_stream;
  if (stream_) on_stream = std::make_unique<engine::StreamGuard>(*stream_);
  const Tensor x = images_to_tensor(images, 4, device_);
  const Tensor y = forward(x);
  const std::vector<float> y_values = y.to_vector();
  std::vector<std::vector<Image>> out(images.size());
  for (int64_t n = 0; n < count; ++n)
    for (int64_t k = 0; k < c_dim; ++k)
      out[n].push_back(tensor_to_image(y_values, y.shape(), n * c_dim + k, images[n].height, images[n].width));
  return out;
}

}  // namespace models::sargan
