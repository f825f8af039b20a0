// The benchmark's rows (contract in rows.h).
#include "rows.h"

#include <sstream>

#include "engine/adam.h"
#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/ops.h"

namespace bench {

using engine::Shape;
using engine::Tensor;

namespace {

std::string dims(const Shape& s) {
  std::ostringstream out;
  for (size_t i = 0; i < s.size(); ++i) out << (i ? "x" : "") << s[i];
  return out.str();
}

void add_instance_norm_rows(const Shape& x, bool quick, std::vector<Row>& rows) {
  const Shape c{x[1]};
  const double bytes = 4.0 * engine::numel(x);
  const std::string label = "x " + dims(x) + " affine";
  rows.push_back({"instance_norm2d", label, 0, 2 * bytes, quick, false, {x, c, c},
                  [](const std::vector<Tensor>& v) { return engine::instance_norm2d(v[0], v[1], v[2]); }});
  // Forward and backward together (reads x, writes y; reads x and dy, writes dx), since the
  // backward needs its forward's graph.
  rows.push_back({"instance_norm2d forward+backward", label, 0, 5 * bytes, quick, true, {x, c, c, x},
                  [](const std::vector<Tensor>& v) {
                    std::vector<Tensor> leaves{v[0].detach(), v[1].detach(), v[2].detach()};
                    for (Tensor& t : leaves) t.set_requires_grad(true);
                    Tensor y = engine::instance_norm2d(leaves[0], leaves[1], leaves[2]);
                    return engine::grad({y}, {leaves[0]}, {v[3]})[0];
                  }});
}

// Forward, and forward + backward, of a memory-bound op of one input (bytes: x and y once each
// forward; the backward reads dy and writes dx as well).
void add_resampling_rows(const std::string& op, const std::string& label, const Shape& x, const Shape& y,
                         bool quick, const std::function<Tensor(const Tensor&)>& f, std::vector<Row>& rows) {
  const double bytes = 4.0 * (engine::numel(x) + engine::numel(y));
  rows.push_back({op, label, 0, bytes, quick, false, {x}, [f](const std::vector<Tensor>& v) { return f(v[0]); }});
  rows.push_back({op + " forward+backward", label, 0, 2 * bytes, quick, true, {x, y},
                  [f](const std::vector<Tensor>& v) {
                    Tensor leaf = v[0].detach();
                    leaf.set_requires_grad(true);
                    return engine::grad({f(leaf)}, {leaf}, {v[1]})[0];
                  }});
}

// The generator's data path around its convolutions, the classification loss and the optimiser.
void add_data_path_rows(std::vector<Row>& rows) {
  add_resampling_rows("reflection_pad2d", "x 1x256x32x32 p1 (G residual)", {1, 256, 32, 32}, {1, 256, 34, 34}, true,
                      [](const Tensor& x) { return engine::reflection_pad2d(x, 1); }, rows);
  add_resampling_rows("reflection_pad2d", "x 1x64x128x128 p3 (G in/out)", {1, 64, 128, 128}, {1, 64, 134, 134},
                      false, [](const Tensor& x) { return engine::reflection_pad2d(x, 3); }, rows);
  add_resampling_rows("upsample_nearest2d", "x 1x64x16x16 x2 (G hourglass)", {1, 64, 16, 16}, {1, 64, 32, 32}, true,
                      [](const Tensor& x) { return engine::upsample_nearest2d_x2(x); }, rows);
  add_resampling_rows("upsample_nearest2d", "x 1x256x32x32 x2", {1, 256, 32, 32}, {1, 256, 64, 64}, false,
                      [](const Tensor& x) { return engine::upsample_nearest2d_x2(x); }, rows);
  const Shape half{1, 128, 32, 32};
  rows.push_back({"cat", "2 x 1x128x32x32 along channels", 0, 4.0 * 4 * engine::numel(half), true, false,
                  {half, half}, [](const std::vector<Tensor>& v) { return engine::cat({v[0], v[1]}, 1); }});
  rows.push_back({"cross_entropy", "logits 16x7 (D cls head, batch 16)", 0, 4.0 * 16 * 7, true, false, {{16, 7}},
                  [](const std::vector<Tensor>& v) {
                    return engine::cross_entropy(v[0], {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1});
                  }});
  // One fused step over four tensors; each call also copies the parameters and zero-fills fresh
  // moments, so the bytes count 11 passes: copy 2, zeros 2, Adam 7 (reads p, g, m, v; writes p, m, v).
  const std::vector<Shape> params = {{256, 256, 3, 3}, {64, 256, 3, 3}, {256}, {64}};
  double adam_bytes = 0;
  for (const Shape& s : params) adam_bytes += 11.0 * 4 * engine::numel(s);
  std::vector<Shape> adam_inputs = params;
  adam_inputs.insert(adam_inputs.end(), params.begin(), params.end());  // their gradients
  rows.push_back({"adam step", "4 tensors, 0.74M parameters (fresh state)", 0, adam_bytes, true, false, adam_inputs,
                  [](const std::vector<Tensor>& v) {
                    const size_t count = v.size() / 2;
                    engine::NamedTensors named;
                    for (size_t i = 0; i < count; ++i) {
                      Tensor p = v[i].clone();
                      p.set_requires_grad(true);
                      p.set_grad(v[count + i]);
                      named.emplace_back("p" + std::to_string(i), p);
                    }
                    engine::Adam adam(named, engine::AdamOptions{});
                    adam.step();
                    return named[0].second;
                  }});
}

// LSRF/OMP training's correlation GEMM (engine::gemm_tn, as models/lsrf calls it): corr [P, block]
// = features^T [P, 3 n] x residuals [3 n, block] for one block of 256 output pixels, n training
// pairs of S x S images.
Tensor correlation_gemm(const std::vector<Tensor>& v) { return engine::gemm_tn(v[0], v[1]); }

std::string conv_label(const ConvSpec& c) {
  std::ostringstream label;
  label << "x " << dims({c.n, c.c_in, c.h, c.w}) << " k" << c.k << " s" << c.stride << " p" << c.pad << " -> "
        << c.c_out << " (" << c.where << ")";
  return label.str();
}

// A critic layer's forward as SARGAN runs it: the convolution with its bias and leaky ReLU applied
// as it stores its output (engine::conv2d_leaky_relu).
void add_fused_forward_row(const ConvSpec& c, std::vector<Row>& rows) {
  const engine::Conv2dOptions o{c.stride, c.pad};
  const int64_t ho = (c.h + 2 * c.pad - c.k) / c.stride + 1, wo = (c.w + 2 * c.pad - c.k) / c.stride + 1;
  const double flops = 2.0 * c.n * c.c_out * ho * wo * c.c_in * c.k * c.k;
  rows.push_back({"conv2d_leaky_relu", conv_label(c), flops, 0, false, false,
                  {{c.n, c.c_in, c.h, c.w}, {c.c_out, c.c_in, c.k, c.k}, {c.c_out}},
                  [o](const std::vector<Tensor>& v) { return engine::conv2d_leaky_relu(v[0], v[1], v[2], 0.01f, o); }});
}

}  // namespace

void add_conv_rows(const ConvSpec& c, std::vector<Row>& rows) {
  const engine::Conv2dOptions o{c.stride, c.pad};
  const Shape x{c.n, c.c_in, c.h, c.w};
  const std::string label = conv_label(c);
  if (!c.transpose) {
    const int64_t ho = (c.h + 2 * c.pad - c.k) / c.stride + 1, wo = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    const Shape w{c.c_out, c.c_in, c.k, c.k}, y{c.n, c.c_out, ho, wo};
    const double flops = 2.0 * c.n * c.c_out * ho * wo * c.c_in * c.k * c.k;
    const std::vector<int64_t> in_size{c.h, c.w};
    rows.push_back({"conv2d", label, flops, 0, c.quick, false, {x, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv2d backward data", label, flops, 0, c.quick, false, {y, w},
                    [o, in_size](const std::vector<Tensor>& v) {
                      return engine::conv_transpose2d(v[0], v[1], Tensor(), o, in_size);
                    }});
    rows.push_back({"conv2d backward weight", label, flops, 0, c.quick, false, {x, y},
                    [o, w](const std::vector<Tensor>& v) { return engine::conv2d_weight_grad(v[0], v[1], w, o); }});
  } else {
    const int64_t ho = (c.h - 1) * c.stride - 2 * c.pad + c.k, wo = (c.w - 1) * c.stride - 2 * c.pad + c.k;
    const Shape w{c.c_in, c.c_out, c.k, c.k}, y{c.n, c.c_out, ho, wo};
    const double flops = 2.0 * c.n * c.c_in * c.h * c.w * c.c_out * c.k * c.k;
    rows.push_back({"conv_transpose2d", label, flops, 0, c.quick, false, {x, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv_transpose2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv_transpose2d backward data", label, flops, 0, c.quick, false, {y, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv_transpose2d backward weight", label, flops, 0, c.quick, false, {y, x},
                    [o, w](const std::vector<Tensor>& v) { return engine::conv2d_weight_grad(v[0], v[1], w, o); }});
  }
}

void add_lsrf_rows(std::vector<Row>& rows) {
  struct LsrfShape {
    int64_t size, pairs;
    bool quick;
  };
  const int64_t block = 256;
  for (const LsrfShape& s : {LsrfShape{40, 100, true}, LsrfShape{80, 300, false}, LsrfShape{128, 300, false}}) {
    const int64_t p = s.size * s.size, k = 3 * s.pairs;
    const std::string label = "corr " + std::to_string(p) + "x" + std::to_string(block) + ", k " + std::to_string(k) +
                              " (" + std::to_string(s.size) + "^2, " + std::to_string(s.pairs) + " pairs)";
    rows.push_back({"lsrf correlation (gemm_tn)", label, 2.0 * p * block * k, 0, s.quick, false, {{k, p}, {k, block}},
                    correlation_gemm});
  }
}

std::vector<Row> sargan_rows() {
  std::vector<Row> rows;
  const ConvSpec convs[] = {
      // generator: 10 = 3 image channels + 7 expression maps
      {"G in", 10, 128, 128, 64, 7, 1, 3, false, false},
      {"G down 1", 64, 128, 128, 128, 4, 2, 1, false, false},
      {"G down 2", 128, 64, 64, 256, 4, 2, 1, false, false},
      // The 3x3 convs run on reflection-padded input, hence padding 0.
      {"G residual", 256, 34, 34, 256, 3, 1, 0, false, true},
      {"G attention", 256, 34, 34, 64, 3, 1, 0, false, false},
      {"G attention down", 256, 34, 34, 64, 3, 2, 0, false, false},
      {"G hourglass", 64, 18, 18, 64, 3, 1, 0, false, false},
      {"G hourglass", 64, 10, 10, 64, 3, 1, 0, false, false},
      {"G up 1", 256, 32, 32, 128, 4, 2, 1, true, true},
      {"G up 2", 128, 64, 64, 64, 4, 2, 1, true, false},
      {"G out", 64, 128, 128, 3, 7, 1, 3, false, false},
      // discriminator (StarGAN, repeat_num 6) and its two heads
      {"D 1", 3, 128, 128, 64, 4, 2, 1, false, false},
      {"D 2", 64, 64, 64, 128, 4, 2, 1, false, true},
      {"D 3", 128, 32, 32, 256, 4, 2, 1, false, false},
      {"D 4", 256, 16, 16, 512, 4, 2, 1, false, false},
      {"D 5", 512, 8, 8, 1024, 4, 2, 1, false, false},
      {"D 6", 1024, 4, 4, 2048, 4, 2, 1, false, true},
      {"D src head", 2048, 2, 2, 1, 3, 1, 1, false, false},
      {"D cls head", 2048, 2, 2, 7, 2, 1, 0, false, false},
  };
  for (const ConvSpec& c : convs) add_conv_rows(c, rows);
  for (const ConvSpec& c : convs)
    if (c.where[0] == 'D' && std::string(c.where).find("head") == std::string::npos) add_fused_forward_row(c, rows);
  add_instance_norm_rows({1, 256, 32, 32}, true, rows);
  add_instance_norm_rows({1, 64, 128, 128}, false, rows);
  add_data_path_rows(rows);
  return rows;
}

ConvSpec parse_conv(const std::string& text) {
  std::vector<int64_t> v;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      ENGINE_FAIL("--conv ", text, ": '", item, "' is not an integer (expected N,C,H,W,Co,K,stride,pad)");
    }
  }
  ENGINE_CHECK(v.size() == 8, "--conv ", text, ": expected 8 integers N,C,H,W,Co,K,stride,pad, got ", v.size());
  ENGINE_CHECK(v[0] > 0 && v[1] > 0 && v[2] > 0 && v[3] > 0 && v[4] > 0 && v[5] > 0 && v[6] > 0 && v[7] >= 0,
               "--conv ", text, ": sizes and stride must be positive, padding >= 0");
  ENGINE_CHECK(v[5] <= v[2] + 2 * v[7] && v[5] <= v[3] + 2 * v[7], "--conv ", text,
               ": the kernel is larger than the padded input");
  ConvSpec spec{"--conv", v[1], v[2], v[3], v[4], v[5], int(v[6]), int(v[7]), false, true};
  spec.n = v[0];
  return spec;
}

bool is_conv(const Row& row) { return row.op.rfind("conv", 0) == 0; }

}  // namespace bench
