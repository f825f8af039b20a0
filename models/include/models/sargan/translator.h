#pragma once
// The SARGAN test pipeline, as the authors' solver.test() with torchvision's transforms:
//   decode (JPEG, PNG, BMP) -> RGB -> centre crop to a square (ours: the authors' faces are already
//   square) -> Resize(image_size) (PIL bilinear, antialiased) -> ToTensor, Normalize(0.5, 0.5)
//   -> G(x, c) for each of the c_dim one-hot targets -> save_image: floor(clamp((y+1)/2) * 255 + 0.5)
// With Crop::none the aspect is kept (shorter side to image_size, the other int(image_size *
// long / short) as torchvision computes it); the input is reflection-padded on the right and bottom
// to a multiple of 4, which the generator needs, and the outputs are cropped back.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/cuda_graph.h"
#include "engine/device.h"
#include "engine/image.h"
#include "engine/stream.h"
#include "engine/tensor.h"
#include "models/sargan/networks.h"

namespace models::sargan {

enum class Crop { centre, none };

// RGB image (any size, 3 channels) -> what the network sees, 8-bit, before padding.
// Centre crop offsets are torchvision CenterCrop's: round((w - s) / 2) with ties to even.
engine::Image prepare_image(const engine::Image& rgb, int image_size, Crop crop);

// Same-sized 8-bit RGB images -> [N,3,H+ph,W+pw] in [-1,1], (p / 255 - 0.5) / 0.5 in float32 as
// torchvision computes it, reflection-padded on the right and bottom to multiples of `multiple`.
engine::Tensor images_to_tensor(const std::vector<engine::Image>& images, int multiple,
                                engine::Device device);

// Sample n of y [N,3,H',W'] (H' >= height, W' >= width), its top-left height x width, as an 8-bit
// RGB image with torchvision save_image's rounding of (y + 1) / 2.
engine::Image tensor_to_image(const std::vector<float>& y, const engine::Shape& shape, int64_t n, int height,
                              int width);

// The input and its translations side by side in one row, no padding (the authors' result
// image: save_image(cat(x_fake_list, dim=3), nrow=1, padding=0)).
engine::Image make_grid_row(const engine::Image& input, const std::vector<engine::Image>& outputs);

class Translator {
 public:
  // g must stay alive, its weights unchanged while the translator is used (it caches the first
  // layer's response to the targets, see Generator::target_responses); g is moved to `device`.
  // cuda_graph (the cuda device only): the second call with a given batch shape captures the
  // forward in a CUDA graph, and later calls with that shape replay it (one launch instead of
  // one per layer); the same bits. A new shape starts over.
  Translator(Generator& g, engine::Device device, bool cuda_graph = false);
  // Prepared same-sized images -> for each, its c_dim translations (one-hot index order), all in
  // one forward of N * c_dim samples (Generator::forward_all_targets), without autograd history.
  std::vector<std::vector<engine::Image>> translate(const std::vector<engine::Image>& images);
  bool graph_captured() const { return graph_ && graph_->captured(); }

 private:
  // The forward of a batch already on the device, from the graph when there is one for its shape.
  engine::Tensor forward(const engine::Tensor& x);

  Generator& g_;
  engine::Device device_;
  engine::Tensor responses_;  // for the last image size seen
  // cuda_graph: the stream the translations run on; the graph of the last batch shape, the input
  // it reads and the output it writes; calls seen with that shape.
  std::unique_ptr<engine::Stream> stream_;
  std::unique_ptr<engine::CudaGraph> graph_;
  engine::Tensor graph_x_, graph_y_;
  int shape_calls_ = 0;
};

}  // namespace models::sargan
