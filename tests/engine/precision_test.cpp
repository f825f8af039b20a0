// The precision setting (engine/precision.h): its parsing, and that the CPU convolution ignores
// it (bit-identical results), as documented.
#include <catch2/catch.hpp>

#include "engine/ops.h"
#include "engine/precision.h"
#include "test_util.h"

using engine::Precision;

namespace {

// Restores the precision a test changed.
struct ScopedPrecision {
  explicit ScopedPrecision(Precision p) : saved(engine::precision()) { engine::set_precision(p); }
  ~ScopedPrecision() { engine::set_precision(saved); }
  Precision saved;
};

}  // namespace

TEST_CASE("precision names parse, and anything else is refused with the accepted values", "[precision]") {
  CHECK(engine::parse_precision("fp32") == Precision::fp32);
  CHECK(engine::parse_precision("tf32") == Precision::tf32);
  CHECK_THROWS_WITH(engine::parse_precision("fp16"), Catch::Matchers::Contains("expected fp32 or tf32"));
  CHECK_THROWS_WITH(engine::parse_precision("TF32"), Catch::Matchers::Contains("unknown precision 'TF32'"));
}

TEST_CASE("the setting is kept, and the cpu convolutions ignore it", "[precision]") {
  const engine::Tensor x = test::random_tensor({2, 3, 9, 7}, 5), w = test::random_tensor({4, 3, 3, 3}, 6);
  engine::Conv2dOptions options;
  options.stride = 2;
  options.padding = 1;
  const engine::Tensor fp32 = engine::conv2d(x, w, engine::Tensor(), options);
  ScopedPrecision tf32(Precision::tf32);
  CHECK(engine::precision() == Precision::tf32);
  const engine::Tensor again = engine::conv2d(x, w, engine::Tensor(), options);
  CHECK(again.to_vector() == fp32.to_vector());
}
