// Image decoding and PNG writing: lossless round trips, channel conversion, and files that are not
// images, are corrupt or truncated refused with a message naming the file; writes are atomic.
#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "engine/check.h"
#include "engine/image.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("engine_test_image_io_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

engine::Image pattern(int w, int h, int c) {
  engine::Image image(w, h, c);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = uint8_t((i * 37 + i / 7) % 256);
  return image;
}

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("save_png then load_image is lossless for 1, 3 and 4 channels", "[image]") {
  const fs::path dir = temp_dir();
  for (int c : {1, 3, 4}) {
    const engine::Image image = pattern(13, 7, c);
    const std::string path = (dir / ("p" + std::to_string(c) + ".png")).string();
    engine::save_png(path, image);
    const engine::Image back = engine::load_image(path);
    CHECK(back.width == 13);
    CHECK(back.height == 7);
    CHECK(back.channels == c);
    CHECK(back.pixels == image.pixels);
  }
  // Grey to RGB replicates the value, as cv2.imread(IMREAD_COLOR) and PIL's convert("RGB") do.
  const engine::Image rgb = engine::load_image((dir / "p1.png").string(), 3);
  REQUIRE(rgb.channels == 3);
  const engine::Image grey = pattern(13, 7, 1);
  for (int i = 0; i < 13 * 7; ++i) {
    CHECK(rgb.pixels[i * 3] == grey.pixels[i]);
    CHECK(rgb.pixels[i * 3 + 2] == grey.pixels[i]);
  }
  // Only the final file remains: no temporary left behind.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  CHECK(files == 3);
  fs::remove_all(dir);
}

TEST_CASE("load_image refuses non-images, corrupt and truncated files, naming them", "[image]") {
  const fs::path dir = temp_dir();
  const std::string missing = (dir / "missing.png").string();
  CHECK_THROWS_WITH(engine::load_image(missing), Catch::Contains(missing));

  const fs::path text = dir / "notes.jpg";
  write_bytes(text, {'h', 'e', 'l', 'l', 'o'});
  CHECK_THROWS_WITH(engine::load_image(text.string()), Catch::Contains(text.string()) && Catch::Contains("not a JPEG"));

  engine::save_png((dir / "good.png").string(), pattern(32, 32, 3));
  std::vector<char> png = read_bytes(dir / "good.png");
  const fs::path cut = dir / "cut.png";
  write_bytes(cut, std::vector<char>(png.begin(), png.begin() + png.size() / 2));
  CHECK_THROWS_WITH(engine::load_image(cut.string()), Catch::Contains(cut.string()) && Catch::Contains("cannot decode"));
  std::vector<char> garbled = png;
  for (size_t i = 40; i < garbled.size() - 20; ++i) garbled[i] = char(garbled[i] ^ 0x5A);
  const fs::path bad = dir / "garbled.png";
  write_bytes(bad, garbled);
  CHECK_THROWS_WITH(engine::load_image(bad.string()), Catch::Contains(bad.string()));
  fs::remove_all(dir);
}

TEST_CASE("load_image decodes the authors' JPEG and refuses it truncated", "[image][shared]") {
  const std::string jpeg = test::shared_dir("data/lsrf_testing_imgs/andrew.jpg");
  if (jpeg.empty()) return;
  const fs::path dir = temp_dir();
  const engine::Image whole = engine::load_image(jpeg);
  CHECK(whole.width == 128);
  CHECK(whole.channels == 3);
  const std::vector<char> bytes = read_bytes(jpeg);
  const fs::path half = dir / "half.jpg";
  write_bytes(half, std::vector<char>(bytes.begin(), bytes.begin() + bytes.size() * 2 / 3));
  CHECK_THROWS_WITH(engine::load_image(half.string()), Catch::Contains(half.string()) && Catch::Contains("truncated"));
  fs::remove_all(dir);
}

TEST_CASE("save_png into a missing folder fails cleanly", "[image]") {
  const fs::path dir = temp_dir();
  const std::string path = (dir / "no" / "such" / "out.png").string();
  CHECK_THROWS_WITH(engine::save_png(path, pattern(4, 4, 3)), Catch::Contains("out.png"));
  CHECK(!fs::exists(path));
  fs::remove_all(dir);
}
