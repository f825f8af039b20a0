// instance_norm2d against a double-precision plain loop: C = 1, H != W, with and without affine,
// and the fused ReLU variant against relu(instance_norm2d).
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "test_util.h"

using engine::Shape;
using engine::Tensor;

namespace {

struct Reference {
  std::vector<float> y, dweight, dbias;
};

// y = (x - mean) / sqrt(var + eps) * w + b per plane, biased variance, and the parameter
// gradients sum(dy * xhat), sum(dy) over batch and plane; all in double.
Reference reference(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& dy, float eps) {
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  const auto vx = x.to_vector(), vdy = dy.to_vector();
  const std::vector<float> vw = w.defined() ? w.to_vector() : std::vector<float>(c, 1.f);
  const std::vector<float> vb = b.defined() ? b.to_vector() : std::vector<float>(c, 0.f);
  Reference r{std::vector<float>(x.numel()), std::vector<float>(c), std::vector<float>(c)};
  std::vector<double> dw(c, 0.0), db(c, 0.0);
  for (int64_t p = 0; p < n * c; ++p) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < hw; ++i) mean += vx[p * hw + i];
    mean /= hw;
    for (int64_t i = 0; i < hw; ++i) var += (vx[p * hw + i] - mean) * (vx[p * hw + i] - mean);
    var /= hw;
    for (int64_t i = 0; i < hw; ++i) {
      const double xhat = (vx[p * hw + i] - mean) / std::sqrt(var + eps);
      r.y[p * hw + i] = float(xhat * vw[p % c] + vb[p % c]);
      dw[p % c] += vdy[p * hw + i] * xhat;
      db[p % c] += vdy[p * hw + i];
    }
  }
  for (int64_t k = 0; k < c; ++k) {
    r.dweight[k] = float(dw[k]);
    r.dbias[k] = float(db[k]);
  }
  return r;
}

}  // namespace

TEST_CASE("instance_norm2d forward and parameter gradients against a double loop", "[cpu]") {
  struct Case { int64_t n, c, h, w; bool affine; };
  for (const Case k : {Case{2, 3, 4, 5, true}, Case{2, 3, 4, 5, false}, Case{3, 1, 3, 7, true},
                       Case{1, 1, 6, 2, false}, Case{1, 4, 1, 1, true}}) {
    INFO("shape " << k.n << "x" << k.c << "x" << k.h << "x" << k.w << (k.affine ? " affine" : ""));
    // An offset and scale per case so that the statistics are not those of the unit range.
    Tensor x = test::random_tensor({k.n, k.c, k.h, k.w}, 31, 2.f, 5.f);
    Tensor w = k.affine ? test::random_tensor({k.c}, 32, 0.5f, 1.5f) : Tensor();
    Tensor b = k.affine ? test::random_tensor({k.c}, 33) : Tensor();
    if (k.affine) {
      w.set_requires_grad(true);
      b.set_requires_grad(true);
    }
    x.set_requires_grad(true);
    Tensor y = engine::instance_norm2d(x, w, b, 1e-5f);
    Tensor dy = test::random_tensor(y.shape(), 34);
    const Reference r = reference(x, w, b, dy, 1e-5f);
    // A single plane element has zero variance: y is the bias, xhat 0, scaled by 1/sqrt(eps).
    test::expect_close(y.to_vector(), r.y, 2e-5, 1e-5, "forward");
    y.backward(dy);
    REQUIRE(x.grad().defined());
    if (k.affine) {
      test::expect_close(w.grad().to_vector(), r.dweight, 1e-5, 1e-5, "dweight");
      test::expect_close(b.grad().to_vector(), r.dbias, 1e-5, 1e-5, "dbias");
    }
  }
}

TEST_CASE("instance_norm2d_relu equals relu(instance_norm2d), forward and backward", "[cpu]") {
  Tensor x = test::random_tensor({2, 3, 5, 4}, 41);
  Tensor w = test::random_tensor({3}, 42, 0.5f, 1.5f), b = test::random_tensor({3}, 43, -0.5f, 0.5f);
  Tensor dy = test::random_tensor({2, 3, 5, 4}, 44);
  std::vector<Tensor> fused_grads, composed_grads;
  for (bool fused : {true, false}) {
    Tensor xs = x.detach().clone(), ws = w.detach().clone(), bs = b.detach().clone();
    for (Tensor* t : {&xs, &ws, &bs}) t->set_requires_grad(true);
    Tensor y = fused ? engine::instance_norm2d_relu(xs, ws, bs)
                     : engine::relu(engine::instance_norm2d(xs, ws, bs));
    auto grads = engine::grad({y}, {xs, ws, bs}, {dy});
    grads.push_back(y.detach());
    (fused ? fused_grads : composed_grads) = grads;
  }
  test::expect_close(fused_grads[3], composed_grads[3], 0, 0, "forward");
  test::expect_close(fused_grads[0], composed_grads[0], 1e-6, 1e-5, "dx");
  test::expect_close(fused_grads[1], composed_grads[1], 1e-6, 1e-5, "dweight");
  test::expect_close(fused_grads[2], composed_grads[2], 1e-6, 1e-5, "dbias");
}

TEST_CASE("instance_norm2d is once differentiable and checks its parameters", "[cpu]") {
  Tensor x = test::random_tensor({1, 2, 3, 3}, 51);
  x.set_requires_grad(true);
  Tensor dx = engine::grad({engine::sum(engine::pow(engine::instance_norm2d(x, {}, {}), 3.f))}, {x},
                           {}, false, true)[0];
  REQUIRE_THROWS_WITH(engine::grad({engine::sum(dx)}, {x}),
                      Catch::Contains("instance_norm2d_backward"));
  REQUIRE_THROWS_WITH(engine::instance_norm2d(x, Tensor::ones({3}), {}),
                      Catch::Contains("instance_norm2d") && Catch::Contains("weight") &&
                          Catch::Contains("[2]") && Catch::Contains("[3]"));
}
