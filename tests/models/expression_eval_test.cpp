// The measures of sargan_eval (expression_eval.h): distances and the speckle measure on small
// images with hand-computed values, the per-pair sums, and the whole evaluation on a generator
// that returns its input (every ratio against the unchanged input is then exactly 1).
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/image.h"
#include "models/data/faces.h"
#include "models/eval/expression_eval.h"

using namespace models::data;
using namespace models::eval;
using namespace models::sargan;
using engine::Image;

namespace {

Image filled(int size, uint8_t value) {
  Image im(size, size, 3);
  std::fill(im.pixels.begin(), im.pixels.end(), value);
  return im;
}

}  // namespace

TEST_CASE("mean_distance averages |a - b| per channel over the unmasked pixels", "[expression_eval]") {
  const Image a = filled(2, 0);
  Image b = filled(2, 0);
  b.at(0, 0, 0) = 30, b.at(0, 0, 1) = 60, b.at(0, 0, 2) = 90;  // 180 at pixel (0,0)
  b.at(1, 1, 0) = 3;                                           // 3 at pixel (1,1)
  CHECK(mean_distance(a, b, {}) == Approx(183.0 / 12));
  CHECK(mean_distance(b, a, {}) == Approx(183.0 / 12));
  const std::vector<uint8_t> mask = {1, 0, 0, 0};  // (0,0) excluded
  CHECK(mean_distance(a, b, mask) == Approx(3.0 / 9));
  CHECK_THROWS(mean_distance(a, filled(3, 0), {}));
}

TEST_CASE("abs_laplacian: a lone bright pixel, a smooth ramp, and the mask", "[expression_eval]") {
  // 4x4, interior pixels (1,1) (1,2) (2,1) (2,2); 10 at (1,1) in channel 0 only:
  // |4*10| = 40 at (1,1), |-10| = 10 at (1,2) and (2,1), 0 at (2,2): 60 over 4 pixels x 3 channels.
  Image dot = filled(4, 0);
  dot.at(1, 1, 0) = 10;
  const LaplacianSum all = abs_laplacian(dot, {});
  CHECK(all.sum == 60);
  CHECK(all.count == 12);
  CHECK(all.mean() == Approx(5.0));
  std::vector<uint8_t> mask(16, 0);
  mask[1 * 4 + 1] = 1;  // leave out (1,1): 20 over 3 pixels x 3 channels
  const LaplacianSum outside = abs_laplacian(dot, mask);
  CHECK(outside.sum == 20);
  CHECK(outside.count == 9);
  // A linear ramp has no curvature: 0 everywhere, though every pixel differs from its neighbours.
  Image ramp(6, 6, 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 6; ++x)
      for (int c = 0; c < 3; ++c) ramp.at(y, x, c) = uint8_t(3 * x + 5 * y + 10 * c);
  CHECK(abs_laplacian(ramp, {}).sum == 0);
  CHECK(abs_laplacian(ramp, {}).count == 16 * 3);
}

TEST_CASE("move_features moves only the masked pixels, from dy, dx away, clamped at the border",
          "[expression_eval]") {
  Image face = filled(4, 0);
  face.at(1, 1, 0) = 90;
  std::vector<uint8_t> mask(16, 0);
  mask[1 * 4 + 1] = mask[2 * 4 + 1] = mask[0] = 1;  // (1,1), (2,1) and the corner (0,0)
  face.at(0, 0, 2) = 7;
  face.at(3, 3, 1) = 50;  // outside the mask: stays
  const Image down = move_features(face, mask, 1, 0);
  CHECK(down.at(1, 1, 0) == 0);   // from (0,1)
  CHECK(down.at(2, 1, 0) == 90);  // from (1,1)
  CHECK(down.at(0, 0, 2) == 7);   // from (-1,0), clamped to itself
  CHECK(down.at(3, 3, 1) == 50);
  CHECK(mean_distance(face, down, {}) == Approx(180.0 / 48));
  const Image up = move_features(face, mask, -1, 0);
  CHECK(up.at(1, 1, 0) == 0);  // from (2,1)
  CHECK(up.at(2, 1, 0) == 0);  // from (3,1)
  CHECK(up.at(0, 0, 2) == 0);  // from (1,0)
  CHECK(mean_distance(face, up, {}) == Approx((90.0 + 7) / 48));
  const Image right = move_features(face, mask, 0, 1);
  CHECK(right.at(1, 1, 0) == 0);  // from (1,0)
  CHECK(right.at(0, 0, 2) == 7);  // from (0,-1), clamped to itself
  CHECK(mean_distance(face, move_features(face, mask, 0, 0), {}) == 0);
  CHECK_THROWS(move_features(face, std::vector<uint8_t>(15, 0), 1, 0));
}

TEST_CASE("PairSums keeps each expression pair apart", "[expression_eval]") {
  PairSums p;
  p.add(0, 1, 2);
  p.add(0, 1, 4);
  p.add(2, 3, 9);
  CHECK(p.mean(0, 1) == Approx(3));
  CHECK(p.mean(2, 3) == Approx(9));
  CHECK(p.mean(1, 0) == 0);  // never added
  CHECK(p.mean() == Approx(5));
  TranslationReport r;
  r.output_to_target = p;
  r.source_to_target.add(0, 1, 6);
  r.source_to_target.add(2, 3, 6);
  CHECK(r.pair_ratio(0, 1) == Approx(0.5));
  CHECK(r.pair_ratio(2, 3) == Approx(1.5));
  CHECK(r.worst_pair_ratio() == Approx(1.5));
}

TEST_CASE("evaluate_translations: a generator that returns its input scores exactly the unchanged input",
          "[expression_eval]") {
  engine::Philox rng(5);
  GeneratorConfig config;
  config.conv_dim = 4;
  config.hourglass_dim = 4;
  Generator g(config, rng);
  // main.16 is the last convolution before Tanh: zero weights make main() 0, so G(x, c) = x.
  for (auto& [name, p] : g.named_parameters())
    if (name == "main.16.weight") std::fill(p.data(), p.data() + p.numel(), 0.f);
  ExpressionClassifier classifier(32, rng);
  const TranslationReport r = evaluate_translations(g, classifier, 32, 3, 2);
  REQUIRE(r.translations == 2 * 7 * 6);
  CHECK(r.kept_distance == 0);
  CHECK(r.source_target_distance > 0.5);  // the expressions do differ
  CHECK(r.target_distance == Approx(r.source_target_distance).epsilon(1e-12));
  CHECK(r.target_ratio() == Approx(1).epsilon(1e-12));
  CHECK(r.worst_pair_ratio() == Approx(1).epsilon(1e-12));
  // The drawings differ only inside the mask, so there the distance is larger than over the
  // whole image (a mask read the wrong way round would measure the equal outside: 0).
  CHECK(r.mask_share > 0.02);
  CHECK(r.mask_share < 0.5);
  CHECK(r.target_distance_inside == Approx(r.source_target_distance_inside).epsilon(1e-12));
  CHECK(r.source_target_distance_inside > 1.5 * r.source_target_distance);
  // Outside the mask the drawn target equals the source (faces.h), so the speckle ratio is 1.
  // Inside it each output is the source's features, not the target's, but over all 42 pairs every
  // expression is a source 6 times and a target 6 times: the sums, hence the ratio, agree too.
  CHECK(r.speckle_outside() == Approx(1).epsilon(1e-12));
  CHECK(r.speckle_inside() == Approx(1).epsilon(1e-12));
  CHECK(r.output_laplacian_inside.mean() > 0);
  // The yardstick measures the drawn targets alone: a generator with other weights scores the same.
  CHECK(r.one_pixel_off_distance > 0);
  Generator other(config, rng);
  const TranslationReport r_other = evaluate_translations(other, classifier, 32, 3, 2);
  CHECK(r_other.target_distance != r.target_distance);
  CHECK(r_other.one_pixel_off_distance == r.one_pixel_off_distance);
  CHECK(r.one_pixel_off_ratio() == Approx(r.one_pixel_off_distance / r.source_target_distance));
}

TEST_CASE("translation_grid: the drawn source, then one translation per expression, enlarged", "[expression_eval]") {
  engine::Philox rng(5);
  GeneratorConfig config;
  config.conv_dim = 4;
  config.hourglass_dim = 4;
  Generator g(config, rng);
  const Image grid = translation_grid(g, 32, 3, 2, 2);
  REQUIRE(grid.width == 8 * 64);
  REQUIRE(grid.height == 2 * 64);
  // Row 1 starts with identity 1 drawn with expression 1, each pixel repeated 2 x 2.
  const Image source = draw_face(face_identity(3, 1), 1, 32);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) REQUIRE(grid.at(64 + y, x, c) == source.at(y / 2, x / 2, c));
  CHECK_THROWS(translation_grid(g, 32, 3, 0, 2));
}
