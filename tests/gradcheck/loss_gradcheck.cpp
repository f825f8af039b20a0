// cross_entropy and l1_loss: first order (cross_entropy's backward is fused), and the attention
// gate x * sigmoid(a) with a broadcast [N,1,H,W] map.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "test_util.h"

using engine::Tensor;
using Inputs = std::vector<Tensor>;

TEST_CASE("cross_entropy and l1_loss: first order", "[gradcheck]") {
  Tensor logits = test::random_tensor({3, 5}, 141, -2.f, 2.f);
  test::gradcheck([](const Inputs& v) { return engine::cross_entropy(v[0], {4, 0, 2}); }, {logits},
                  "cross_entropy");
  // Operands at least 0.1 apart (differences of 1e-2 never cross the kink of |a - b|).
  std::vector<float> va = test::random_values(8, 142), vb(8);
  for (int i = 0; i < 8; ++i) vb[i] = va[i] + (i % 2 ? 0.1f : -0.2f) * float(1 + i % 3);
  test::gradcheck([](const Inputs& v) { return engine::l1_loss(v[0], v[1]); },
                  {Tensor::from_vector(va, {2, 4}), Tensor::from_vector(vb, {2, 4})}, "l1_loss");
}

TEST_CASE("attention gate x * sigmoid(a): first order through the broadcast", "[gradcheck]") {
  Tensor x = test::random_tensor({2, 3, 2, 2}, 143), a = test::random_tensor({2, 1, 2, 2}, 144, -2.f, 2.f);
  test::gradcheck([](const Inputs& v) { return v[0] * engine::sigmoid(v[1]); }, {x, a}, "gate");
}
