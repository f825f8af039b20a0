// conv2d, conv_transpose2d and conv2d_weight_grad, forward and autograd gradients, against direct
// loops (not the im2col + GEMM path) on a table of shapes: odd sizes, batch 1 and 2, C = 1,
// H != W, and every kernel/stride/padding SARGAN uses. Each case runs twice: with random floats
// (tolerance from the float summation error) and with small integers, where every product and
// partial sum is an exactly representable integer, so any indexing slip shows as an exact mismatch.
// Legend: N batch, Ci/Co channels, H/W height/width, K kernel size, s stride, p padding.
#include <catch2/catch.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"
#include "conv_reference.h"
#include "conv_shape.h"
#include "kernels/conv2d.h"

using engine::Shape;
using engine::Tensor;

namespace {

// One convolution, x [N,Ci,H,W] * w [Co,Ci,Kh,Kw]; for conv_transpose2d the same numbers describe
// the conv whose input gradient the transpose computes.
struct ConvCase {
  const char* name;
  int64_t n, c_in, h, w, c_out, k_h, k_w;
  int stride, padding;
  int64_t h_out() const { return (h + 2 * padding - k_h) / stride + 1; }
  int64_t w_out() const { return (w + 2 * padding - k_w) / stride + 1; }
  Shape x_shape() const { return {n, c_in, h, w}; }
  Shape w_shape() const { return {c_out, c_in, k_h, k_w}; }
  Shape y_shape() const { return {n, c_out, h_out(), w_out()}; }
  int64_t contraction() const { return c_in * k_h * k_w; }  // terms in one output sum
  // Computed by Winograd (F(4x4, 3x3) or, for 4x4 stride-2 convs, F(4x4, 2x2)), whose transforms
  // scale by fractions such as 1/6 or 1/24: not exact on integers, so only the float inputs apply.
  bool winograd = false;
};

const ConvCase conv_cases[] = {
    {"odd sizes 3x3 s1 p1", 2, 3, 7, 5, 4, 3, 3, 1, 1},
    {"C=1, H!=W, 3x3 s1 p0", 1, 1, 6, 9, 1, 3, 3, 1, 0},
    {"7x7 s1 p3 (stem)", 1, 3, 9, 11, 2, 7, 7, 1, 3},
    {"4x4 s2 p1 (downsampling)", 2, 3, 8, 10, 5, 4, 4, 2, 1},
    {"4x4 s2 p1, odd input", 1, 2, 9, 7, 3, 4, 4, 2, 1},
    {"3x3 s1 p0", 1, 4, 5, 6, 3, 3, 3, 1, 0},
    {"3x3 s2 p1", 2, 3, 9, 8, 4, 3, 3, 2, 1},
    {"3x3 s2 p0", 1, 2, 8, 7, 2, 3, 3, 2, 0},
    {"3x3 p1 on a 2x2 map", 2, 5, 2, 2, 3, 3, 3, 1, 1},
    {"2x2 kernel on a 2x2 map (classifier head)", 2, 6, 2, 2, 7, 2, 2, 1, 0},
    {"4x4 s2 p1 onto a 1x1 map", 1, 3, 2, 2, 2, 4, 4, 2, 1},
    {"non-square 1x3 kernel", 1, 2, 5, 7, 3, 1, 3, 1, 1},
    // Large enough that the CPU kernels split the output rows into two blocks (66 and 65 rows).
    {"3x3 s1 p1 over two row blocks", 1, 16, 131, 64, 4, 3, 3, 1, 1},
    // The CPU kernels' other ways through: images spread over threads (an odd count of them);
    // few output channels, computed through the transposed conv (the generator's 7x7 64->3);
    // small outputs whose images share the weight gradient's GEMMs, in two groups (the
    // discriminator's deep layers).
    {"3 images over the threads", 3, 4, 20, 18, 6, 3, 3, 1, 1},
    {"7x7 s1 p3 to 3 channels (output layer)", 2, 16, 17, 16, 3, 7, 7, 1, 3},
    {"4x4 s2 p1, 9 small outputs in two GEMM groups", 9, 512, 8, 8, 2, 4, 4, 2, 1},
    {"3x3 s1 p1, 16 channels on 17x16 (Winograd)", 3, 16, 17, 16, 18, 3, 3, 1, 1, true},
    // A 14x13 output (16 tiles) of 16 input channels, two images: forward and input gradient by
    // Winograd F(4x4, 2x2) on the phases; the odd 29x27 input has a last row and column no tap reaches.
    {"4x4 s2 p1, 16 channels on 29x27 (Winograd)", 2, 16, 29, 27, 5, 4, 4, 2, 1, true},
};

// y = conv2d(x, w) and, for an upstream gradient dy, dx = d<y,dy>/dx and dw = d<y,dy>/dw, by the
// definition y[n,co,oh,ow] = sum x[n,ci,oh*s-p+kh,ow*s-p+kw] w[co,ci,kh,kw], accumulated in double.
struct Reference {
  std::vector<float> y, dx, dw;
};

Reference reference_conv2d(const ConvCase& c, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>& dy) {
  kernels::Conv2dShape s = test::square_conv_shape(c.n, c.c_in, c.h, c.w, c.c_out, c.k_h, c.stride, c.padding);
  s.k_w = c.k_w;
  s.w_out = c.w_out();
  const test::ConvReference r = test::direct_conv(s, x, w, dy);
  auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  return {to_float(r.y), to_float(r.dx), to_float(r.dw)};
}

// Inputs of a case: random floats in [-1, 1), or integers in [-3, 3] whose every sum is exact.
struct Values {
  bool integers;
  uint64_t seed;
  std::vector<float> operator()(int64_t count, uint64_t offset) const {
    std::vector<float> v = test::random_values(count, seed + offset, integers ? -3.49f : -1.f,
                                               integers ? 3.49f : 1.f);
    if (integers)
      for (float& e : v) e = std::nearbyint(e);
    return v;
  }
};

// Float tolerance: a sum of `terms` products of magnitude <= 1 rounds by far less than
// 1e-6 * terms (about 16 float epsilons per term), while one misplaced term moves it by O(0.1).
double atol_for(const Values& values, int64_t terms) { return values.integers ? 0.0 : 1e-6 * terms + 1e-6; }
double rtol_for(const Values& values) { return values.integers ? 0.0 : 1e-5; }

Tensor leaf(const std::vector<float>& v, const Shape& shape) {
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

void check_conv2d(const ConvCase& c, const Values& values) {
  INFO("case: " << c.name << (values.integers ? ", integers" : ", floats"));
  const auto xv = values(engine::numel(c.x_shape()), 1), wv = values(engine::numel(c.w_shape()), 2);
  const auto bv = values(c.c_out, 3), dyv = values(engine::numel(c.y_shape()), 4);
  const Reference ref = reference_conv2d(c, xv, wv, dyv);
  const double rtol = rtol_for(values);
  const int64_t output_terms = c.n * c.h_out() * c.w_out();

  Tensor x = leaf(xv, c.x_shape()), w = leaf(wv, c.w_shape()), b = leaf(bv, {c.c_out});
  const engine::Conv2dOptions options{c.stride, c.padding};
  Tensor y = engine::conv2d(x, w, b, options);
  REQUIRE(y.shape() == c.y_shape());
  std::vector<float> y_bias = ref.y;
  const int64_t plane = c.h_out() * c.w_out();
  for (size_t i = 0; i < y_bias.size(); ++i) y_bias[i] += bv[(i / plane) % c.c_out];
  test::expect_close(y.to_vector(), y_bias, atol_for(values, c.contraction()), rtol, "conv2d forward");
  test::expect_close(engine::conv2d(x, w, Tensor(), options).to_vector(), ref.y,
                     atol_for(values, c.contraction()), rtol, "conv2d forward, no bias");

  const std::vector<Tensor> grads = engine::grad({y}, {x, w, b}, {Tensor::from_vector(dyv, c.y_shape())});
  test::expect_close(grads[0].to_vector(), ref.dx, atol_for(values, c.c_out * c.k_h * c.k_w), rtol,
                     "conv2d input gradient");
  test::expect_close(grads[1].to_vector(), ref.dw, atol_for(values, output_terms), rtol,
                     "conv2d weight gradient");
  std::vector<float> db(c.c_out, 0.f);
  for (size_t i = 0; i < dyv.size(); ++i) db[(i / plane) % c.c_out] += dyv[i];
  test::expect_close(grads[2].to_vector(), db, atol_for(values, output_terms), rtol, "conv2d bias gradient");
}

// conv2d_weight_grad(x, dy) is the weight gradient; with upstream V its gradients are
// d/dx = the conv's input gradient with weight V, d/ddy = conv2d(x, V).
void check_conv2d_weight_grad(const ConvCase& c, const Values& values) {
  INFO("case: " << c.name << (values.integers ? ", integers" : ", floats"));
  const auto xv = values(engine::numel(c.x_shape()), 5), dyv = values(engine::numel(c.y_shape()), 6);
  const auto vv = values(engine::numel(c.w_shape()), 7);
  const Reference ref = reference_conv2d(c, xv, vv, dyv);
  const double rtol = rtol_for(values);
  Tensor x = leaf(xv, c.x_shape()), dy = leaf(dyv, c.y_shape());
  Tensor dw = engine::conv2d_weight_grad(x, dy, c.w_shape(), {c.stride, c.padding});
  REQUIRE(dw.shape() == c.w_shape());
  test::expect_close(dw.to_vector(), ref.dw, atol_for(values, c.n * c.h_out() * c.w_out()), rtol,
                     "conv2d_weight_grad forward");
  const std::vector<Tensor> grads = engine::grad({dw}, {x, dy}, {Tensor::from_vector(vv, c.w_shape())});
  test::expect_close(grads[0].to_vector(), ref.dx, atol_for(values, c.c_out * c.k_h * c.k_w), rtol,
                     "conv2d_weight_grad, gradient in x");
  test::expect_close(grads[1].to_vector(), ref.y, atol_for(values, c.contraction()), rtol,
                     "conv2d_weight_grad, gradient in grad_y");
}

// PyTorch ConvTranspose2d: x [N,Ci,H,W], w [Ci,Co,K,K],
// y[n,co,ih*s-p+kh,iw*s-p+kw] += x[n,ci,ih,iw] w[ci,co,kh,kw] inside y's extent.
struct TransposeCase {
  const char* name;
  int64_t n, c_in, h, w, c_out, k;
  int stride, padding;
  int64_t extra;  // output_size minus the smallest output size (0 .. stride - 1)
  bool winograd = false;  // as ConvCase::winograd
  int64_t h_out() const { return (h - 1) * stride - 2 * padding + k + extra; }
  int64_t w_out() const { return (w - 1) * stride - 2 * padding + k + extra; }
};

const TransposeCase transpose_cases[] = {
    {"4x4 s2 p1 (upsampling)", 2, 3, 4, 5, 2, 4, 2, 1, 0},
    {"4x4 s2 p1, C=1, odd", 1, 1, 3, 7, 1, 4, 2, 1, 0},
    {"3x3 s2 p1, output_size +1", 2, 2, 4, 3, 3, 3, 2, 1, 1},
    {"3x3 s1 p1", 1, 4, 5, 6, 3, 3, 1, 1, 0},
    {"3x3 s3 p0, output_size +2", 1, 2, 3, 2, 2, 3, 3, 0, 2},
    {"2x2 s1 p0 from a 1x1 map", 2, 3, 1, 1, 4, 2, 1, 0, 0},
    // The generator's upsampling through Winograd F(4x4, 2x2): 16 output channels (the conv's
    // input channels), 14x13 -> 29x27 (output_size +1), two images.
    {"4x4 s2 p1, 16 channels, output_size +1 (Winograd)", 2, 5, 14, 13, 16, 4, 2, 1, 1, true},
};

// y, and for upstream u the gradients d<y,u>/dx and d<y,u>/dw, by the scatter definition.
Reference reference_conv_transpose2d(const TransposeCase& c, const std::vector<float>& x,
                                     const std::vector<float>& w, const std::vector<float>& u) {
  const int64_t ho = c.h_out(), wo = c.w_out();
  std::vector<double> y(c.n * c.c_out * ho * wo, 0.0), dx(x.size(), 0.0), dw(w.size(), 0.0);
  for (int64_t n = 0; n < c.n; ++n)
    for (int64_t ci = 0; ci < c.c_in; ++ci)
      for (int64_t ih = 0; ih < c.h; ++ih)
        for (int64_t iw = 0; iw < c.w; ++iw) {
          const int64_t ix = ((n * c.c_in + ci) * c.h + ih) * c.w + iw;
          for (int64_t co = 0; co < c.c_out; ++co)
            for (int64_t kh = 0; kh < c.k; ++kh)
              for (int64_t kw = 0; kw < c.k; ++kw) {
                const int64_t oh = ih * c.stride - c.padding + kh, ow = iw * c.stride - c.padding + kw;
                if (oh < 0 || oh >= ho || ow < 0 || ow >= wo) continue;
                const int64_t iy = ((n * c.c_out + co) * ho + oh) * wo + ow;
                const int64_t iwt = ((ci * c.c_out + co) * c.k + kh) * c.k + kw;
                y[iy] += double(x[ix]) * w[iwt];
                dx[ix] += double(u[iy]) * w[iwt];
                dw[iwt] += double(u[iy]) * x[ix];
              }
        }
  auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  return {to_float(y), to_float(dx), to_float(dw)};
}

void check_conv_transpose2d(const TransposeCase& c, const Values& values) {
  INFO("case: " << c.name << (values.integers ? ", integers" : ", floats"));
  const Shape x_shape{c.n, c.c_in, c.h, c.w}, w_shape{c.c_in, c.c_out, c.k, c.k};
  const Shape y_shape{c.n, c.c_out, c.h_out(), c.w_out()};
  const auto xv = values(engine::numel(x_shape), 8), wv = values(engine::numel(w_shape), 9);
  const auto bv = values(c.c_out, 10), uv = values(engine::numel(y_shape), 11);
  const Reference ref = reference_conv_transpose2d(c, xv, wv, uv);
  const double rtol = rtol_for(values);
  Tensor x = leaf(xv, x_shape), w = leaf(wv, w_shape), b = leaf(bv, {c.c_out});
  const std::vector<int64_t> output_size =
      c.extra == 0 ? std::vector<int64_t>{} : std::vector<int64_t>{c.h_out(), c.w_out()};
  Tensor y = engine::conv_transpose2d(x, w, b, {c.stride, c.padding}, output_size);
  REQUIRE(y.shape() == y_shape);
  std::vector<float> y_bias = ref.y;
  const int64_t plane = c.h_out() * c.w_out();
  for (size_t i = 0; i < y_bias.size(); ++i) y_bias[i] += bv[(i / plane) % c.c_out];
  test::expect_close(y.to_vector(), y_bias, atol_for(values, c.c_in * c.k * c.k), rtol,
                     "conv_transpose2d forward");
  const std::vector<Tensor> grads = engine::grad({y}, {x, w, b}, {Tensor::from_vector(uv, y_shape)});
  test::expect_close(grads[0].to_vector(), ref.dx, atol_for(values, c.c_out * c.k * c.k), rtol,
                     "conv_transpose2d input gradient");
  test::expect_close(grads[1].to_vector(), ref.dw, atol_for(values, c.n * c.h * c.w), rtol,
                     "conv_transpose2d weight gradient");
  std::vector<float> db(c.c_out, 0.f);
  for (size_t i = 0; i < uv.size(); ++i) db[(i / plane) % c.c_out] += uv[i];
  test::expect_close(grads[2].to_vector(), db, atol_for(values, c.n * plane), rtol,
                     "conv_transpose2d bias gradient");
}

}  // namespace

TEST_CASE("conv2d and its gradients match direct loops", "[cpu]") {
  for (const ConvCase& c : conv_cases) {
    check_conv2d(c, {false, 100});
    if (!c.winograd) check_conv2d(c, {true, 200});
  }
}

TEST_CASE("conv2d_weight_grad and its gradients match direct loops", "[cpu]") {
  for (const ConvCase& c : conv_cases) {
    check_conv2d_weight_grad(c, {false, 300});
    if (!c.winograd) check_conv2d_weight_grad(c, {true, 400});
  }
}

TEST_CASE("conv_transpose2d and its gradients match direct loops", "[cpu]") {
  for (const TransposeCase& c : transpose_cases) {
    check_conv_transpose2d(c, {false, 500});
    if (!c.winograd) check_conv_transpose2d(c, {true, 600});
  }
}

// The CPU kernels' contract (kernels/conv2d.h): the forward and the input gradient give an image
// the same bits in any batch, with any thread count. Batches of 3 against the images one by one,
// on a shape for each way through the kernels, with 1 and 2 threads (OpenBLAS on Zen 2 sums a
// column in another order when the GEMM has more columns or is split over threads).
TEST_CASE("CPU conv2d forward and input gradient: an image gets the same bits in any batch", "[cpu]") {
  struct Case {
    const char* name;
    kernels::Conv2dShape s;
  };
  const Case cases[] = {
      {"im2col, 16x16 output in row blocks", test::square_conv_shape(3, 8, 16, 16, 16, 3, 1, 1)},
      {"im2col, 8x8 output (images shared a GEMM before)", test::square_conv_shape(3, 32, 8, 8, 32, 3, 1, 1)},
      {"4x4 s2 im2col, 8x8 output", test::square_conv_shape(3, 16, 16, 16, 32, 4, 2, 1)},
      {"4x4 s2 Winograd, 16 tiles per image", test::square_conv_shape(3, 16, 32, 32, 16, 4, 2, 1)},
      {"3x3 Winograd", test::square_conv_shape(3, 16, 16, 16, 16, 3, 1, 1)},
      {"7x7 to 3 channels, through the transpose", test::square_conv_shape(3, 16, 16, 16, 3, 7, 1, 3)},
      {"2x2 output", test::square_conv_shape(3, 64, 4, 4, 32, 4, 2, 1)},
      {"1x1 output, fewer rows than threads", test::square_conv_shape(3, 64, 2, 2, 32, 4, 2, 1)},
  };
  const int threads = omp_get_max_threads();
  for (const Case& c : cases)
    for (const int t : {1, 2}) {
      omp_set_num_threads(t);
      kernels::Conv2dShape one = c.s;
      one.n = 1;
      const int64_t x_size = c.s.c_in * c.s.h_in * c.s.w_in, y_size = c.s.c_out * c.s.h_out * c.s.w_out;
      std::mt19937 rng(7);
      std::normal_distribution<float> normal;
      std::vector<float> x(c.s.n * x_size), dy(c.s.n * y_size), w(c.s.c_out * c.s.c_in * c.s.k_h * c.s.k_w);
      for (std::vector<float>* v : {&x, &dy, &w})
        for (float& e : *v) e = normal(rng);
      std::vector<float> y(dy.size()), dx(x.size()), y_one(y_size), dx_one(x_size);
      kernels::cpu::conv2d_forward(c.s, x.data(), w.data(), y.data());
      kernels::cpu::conv2d_backward_input(c.s, dy.data(), w.data(), dx.data());
      for (int64_t n = 0; n < c.s.n; ++n) {
        INFO(c.name << ", " << t << " threads, image " << n);
        kernels::cpu::conv2d_forward(one, x.data() + n * x_size, w.data(), y_one.data());
        kernels::cpu::conv2d_backward_input(one, dy.data() + n * y_size, w.data(), dx_one.data());
        CHECK(std::memcmp(y_one.data(), y.data() + n * y_size, y_size * sizeof(float)) == 0);
        CHECK(std::memcmp(dx_one.data(), dx.data() + n * x_size, x_size * sizeof(float)) == 0);
      }
    }
  omp_set_num_threads(threads);
}

TEST_CASE("conv2d indexing on hand-computed values", "[cpu]") {
  // x = 1..9 in a 3x3 map, w = [[1, 2], [3, 4]].
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3});
  Tensor w = Tensor::from_vector({1, 2, 3, 4}, {1, 1, 2, 2});
  CHECK(engine::conv2d(x, w).to_vector() == std::vector<float>{37, 47, 67, 77});
  // Padding 1, stride 2: the taps at (-1,-1), (-1,1), (1,-1), (1,1) of the padded map.
  CHECK(engine::conv2d(x, w, Tensor(), {2, 1}).to_vector() == std::vector<float>{4, 3 * 2 + 4 * 3, 2 * 4 + 4 * 7,
                                                                                  1 * 5 + 2 * 6 + 3 * 8 + 4 * 9});
  // The transpose scatters each input value times the kernel: a 1x1 input of 2 gives 2 w.
  Tensor t = engine::conv_transpose2d(Tensor::from_vector({2}, {1, 1, 1, 1}), w);
  CHECK(t.to_vector() == std::vector<float>{2, 4, 6, 8});
  // Stride 2 without overlap puts two scaled copies of the kernel side by side.
  Tensor t2 = engine::conv_transpose2d(Tensor::from_vector({1, -1}, {1, 1, 1, 2}), w, Tensor(), {2, 0});
  CHECK(t2.to_vector() == std::vector<float>{1, 2, -1, -2, 3, 4, -3, -4});
}

TEST_CASE("conv ops refuse bad arguments naming the op, the expectation and what they got", "[cpu]") {
  Tensor x = Tensor::zeros({2, 3, 5, 5}), w = Tensor::zeros({4, 3, 3, 3});
  using Catch::Contains;
  REQUIRE_THROWS_WITH(engine::conv2d(Tensor::zeros({3, 5, 5}), w),
                      Contains("conv2d") && Contains("4 dimensions") && Contains("[3, 5, 5]"));
  REQUIRE_THROWS_WITH(engine::conv2d(x, Tensor::zeros({4, 2, 3, 3})),
                      Contains("conv2d") && Contains("2 channels") && Contains("[2, 3, 5, 5]"));
  REQUIRE_THROWS_WITH(engine::conv2d(x, Tensor::zeros({4, 3, 8, 8}), Tensor(), {1, 1}),
                      Contains("conv2d") && Contains("padded input 7x7") && Contains("8x8"));
  REQUIRE_THROWS_WITH(engine::conv2d(x, w, Tensor(), {0, 1}), Contains("conv2d") && Contains("stride >= 1, got 0"));
  REQUIRE_THROWS_WITH(engine::conv2d(x, w, Tensor(), {1, -1}),
                      Contains("conv2d") && Contains("padding >= 0, got -1"));
  REQUIRE_THROWS_WITH(engine::conv2d(x, w, Tensor::zeros({3})),
                      Contains("conv2d") && Contains("bias of shape [4]") && Contains("[3]"));
  REQUIRE_THROWS_WITH(engine::conv_transpose2d(x, Tensor::zeros({4, 2, 4, 4})),
                      Contains("conv_transpose2d") && Contains("4 channels") && Contains("[2, 3, 5, 5]"));
  // 4x4 s2 p1 from 5x5 allows 10x10 or 11x11.
  REQUIRE_THROWS_WITH(engine::conv_transpose2d(x, Tensor::zeros({3, 2, 4, 4}), Tensor(), {2, 1}, {12, 10}),
                      Contains("conv_transpose2d") && Contains("from 10x10 to 11x11") && Contains("got 12x10"));
  REQUIRE_THROWS_WITH(engine::conv_transpose2d(x, Tensor::zeros({3, 2, 4, 4}), Tensor(), {2, 1}, {10}),
                      Contains("conv_transpose2d") && Contains("output_size"));
  REQUIRE_THROWS_WITH(engine::conv2d_weight_grad(x, Tensor::zeros({2, 4, 5, 5}), w.shape(), {1, 0}),
                      Contains("conv2d_weight_grad") && Contains("grad_y of shape [2, 4, 3, 3]") &&
                          Contains("[2, 4, 5, 5]"));
  REQUIRE_THROWS_WITH(engine::conv2d_weight_grad(x, Tensor::zeros({2, 4, 3, 3}), {4, 3, 3}, {1, 0}),
                      Contains("conv2d_weight_grad") && Contains("[Co, Ci, Kh, Kw]") && Contains("[4, 3, 3]"));
}

namespace {

// `fused` and `separate`, two functions of x, w and b (which require grad), give the same bits:
// values, the first order in x, w and b, and the penalty's second order (the input gradient,
// taken with create_graph, then differentiated to w and b). Returns the values.
std::vector<float> check_same_bits_to_second_order(const std::function<Tensor()>& fused,
                                                   const std::function<Tensor()>& separate, const Tensor& x,
                                                   const Tensor& w, const Tensor& b) {
  const Tensor y = fused(), y_separate = separate();
  CHECK(y.to_vector() == y_separate.to_vector());
  const Tensor r = test::random_tensor(y.shape(), 24);
  const auto first = engine::grad({engine::sum(y * r)}, {x, w, b});
  const auto first_separate = engine::grad({engine::sum(y_separate * r)}, {x, w, b});
  for (size_t i = 0; i < first.size(); ++i) CHECK(first[i].to_vector() == first_separate[i].to_vector());
  auto second = [&](const Tensor& out) {
    const Tensor dx = engine::grad({engine::sum(out * r)}, {x}, {}, true, true)[0];
    return engine::grad({engine::sum(dx * dx)}, {w, b}, {}, false, false, true);
  };
  const auto fused_second = second(fused()), separate_second = second(separate());
  REQUIRE(fused_second[0].defined());
  CHECK(fused_second[0].to_vector() == separate_second[0].to_vector());
  CHECK(fused_second[1].defined() == separate_second[1].defined());
  return y.to_vector();
}

}  // namespace

// conv2d_leaky_relu applies the bias and the activation as the convolution stores its output: it
// must give the bits of the three separate ops, forward, first order (x, w, b) and the second
// order the gradient penalty takes (d/dw of a function of dD/dx), on the critic's shapes.
TEST_CASE("conv2d_leaky_relu: the bits of leaky_relu(conv2d(x, w, b)), to second order", "[cpu]") {
  struct Case {
    const char* name;
    Shape x, w;
    engine::Conv2dOptions options;
  };
  const Case cases[] = {{"4x4 s2 p1 (critic)", {2, 3, 8, 6}, {4, 3, 4, 4}, {2, 1}},
                        {"3x3 s1 p1, C = 1", {1, 1, 5, 7}, {2, 1, 3, 3}, {1, 1}}};
  for (const Case& c : cases) {
    INFO(c.name);
    Tensor x = test::random_tensor(c.x, 21), w = test::random_tensor(c.w, 22), b = test::random_tensor({c.w[0]}, 23);
    for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(true);
    const auto fused = [&] { return engine::conv2d_leaky_relu(x, w, b, 0.2f, c.options); };
    const auto separate = [&] { return engine::leaky_relu(engine::conv2d(x, w, b, c.options), 0.2f); };
    const std::vector<float> y = check_same_bits_to_second_order(fused, separate, x, w, b);
    CHECK(std::count_if(y.begin(), y.end(), [](float v) { return v < 0.f; }) > 0);
  }
}

// padding_mode reflect is torch's: conv2d of reflection_pad2d(x) with no padding. The values, and
// the gradients to second order, must be the two ops' bits, with gradients recorded or not; on the
// cuda device too, where nothing records (the kernels then take the reflection themselves;
// tests/kernels/cuda/conv2d_kernel_test.cpp checks the in-place reading).
TEST_CASE("conv2d with padding_mode reflect: the bits of reflection_pad2d then conv2d, to second order",
          "[cpu][cuda]") {
  struct Case {
    const char* name;
    Shape x, w;
    int stride, padding;
  };
  const Case cases[] = {{"3x3 s1 p1 (the generator's)", {2, 3, 6, 5}, {4, 3, 3, 3}, 1, 1},
                        {"3x3 s2 p1, odd sizes", {1, 2, 7, 9}, {3, 2, 3, 3}, 2, 1},
                        {"7x7 s1 p3", {1, 2, 8, 9}, {2, 2, 7, 7}, 1, 3},
                        {"3x3 s1 p2", {1, 3, 4, 3}, {2, 3, 3, 3}, 1, 2}};
  for (const Case& c : cases) {
    INFO(c.name);
    Tensor x = test::random_tensor(c.x, 31), w = test::random_tensor(c.w, 32), b = test::random_tensor({c.w[0]}, 33);
    const engine::Conv2dOptions reflect{c.stride, c.padding, engine::PaddingMode::reflect};
    const engine::Conv2dOptions unpadded{c.stride, 0};
    const auto fused = [&] { return engine::conv2d(x, w, b, reflect); };
    const auto separate = [&] { return engine::conv2d(engine::reflection_pad2d(x, c.padding), w, b, unpadded); };
    CHECK(fused().to_vector() == separate().to_vector());
    if (engine::cuda_available()) {
      const engine::Device gpu = engine::Device::cuda();
      const Tensor y = engine::conv2d(x.to(gpu), w.to(gpu), b.to(gpu), reflect);
      const Tensor y_separate =
          engine::conv2d(engine::reflection_pad2d(x.to(gpu), c.padding), w.to(gpu), b.to(gpu), unpadded);
      CHECK(y.to(engine::Device::cpu()).to_vector() == y_separate.to(engine::Device::cpu()).to_vector());
    }
    for (Tensor* t : {&x, &w, &b}) t->set_requires_grad(true);
    check_same_bits_to_second_order(fused, separate, x, w, b);
  }
  using Catch::Contains;
  const Tensor x = Tensor::zeros({1, 2, 3, 5}), w = Tensor::zeros({2, 2, 3, 3});
  REQUIRE_THROWS_WITH(engine::conv2d(x, w, Tensor(), {1, 3, engine::PaddingMode::reflect}),
                      Contains("conv2d") && Contains("reflect padding smaller than the input's") &&
                          Contains("padding 3") && Contains("[1, 2, 3, 5]"));
  REQUIRE_THROWS_WITH(engine::conv_transpose2d(x, w, Tensor(), {1, 1, engine::PaddingMode::reflect}),
                      Contains("conv_transpose2d") && Contains("padding_mode zeros, got reflect"));
  REQUIRE_THROWS_WITH(engine::conv2d_weight_grad(x, Tensor::zeros({1, 2, 3, 5}), w.shape(),
                                                 {1, 1, engine::PaddingMode::reflect}),
                      Contains("conv2d_weight_grad") && Contains("padding_mode zeros, got reflect"));
}
