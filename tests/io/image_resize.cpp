// The two bilinear resizes against the libraries they reproduce: fixtures made by
// tools/fixtures/make_image_fixtures.py with OpenCV (cv2.resize INTER_LINEAR) and Pillow (BILINEAR).
// Both are integer pipelines reproduced step by step, so the expected agreement is exact (OpenCV's
// vertical pass has a scalar tail that rounds differently from the SIMD body we reproduce, see
// image.h; on these fixtures the two agree, and a change there would show up here).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "engine/image.h"
#include "test_util.h"

namespace {

const std::string fixture_dir = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/image/";

nlohmann::json manifest() {
  std::ifstream in(fixture_dir + "manifest.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("resize_bilinear_opencv and resize_bilinear_pil match their libraries", "[image]") {
  const nlohmann::json m = manifest();
  REQUIRE(m["cases"].size() >= 20);
  for (const auto& c : m["cases"]) {
    const std::string library = c["library"];
    const int width = c["width"], height = c["height"];
    const engine::Image src = engine::load_image(fixture_dir + c["source"].get<std::string>());
    const engine::Image want = engine::load_image(fixture_dir + c["expected"].get<std::string>());
    const engine::Image got = library == "opencv" ? engine::resize_bilinear_opencv(src, width, height)
                                                  : engine::resize_bilinear_pil(src, width, height);
    INFO(library << " " << c["source"] << " -> " << width << "x" << height);
    const test::PixelDifference difference = test::compare_pixels(got, want);
    INFO("max difference " << difference.max << ", differing values " << difference.differing << " of "
                           << difference.count);
    CHECK(difference.max == 0);
  }
}
