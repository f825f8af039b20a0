// SARGAN weights files: .ckpt <-> .safetensors conversion keeps keys, order and values exactly,
// both load into the generator, and a .ckpt written here loads in PyTorch (checked by
// tools/check/check_sargan_ckpt.py under /usr/bin/python3 when it has torch).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "engine/check.h"
#include "engine/safetensors.h"
#include "engine/torch_checkpoint.h"
#include "models/sargan/commands.h"
#include "models/sargan/weights.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using engine::NamedTensors;
using namespace models::sargan;

std::string fixture(const std::string& name) { return test::source_dir("tests/fixtures/sargan/" + name); }

void expect_identical(const NamedTensors& a, const NamedTensors& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.shape() == b[i].second.shape());
    CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sargan_weights_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

int convert_command(const std::string& in, const std::string& out) {
  ConvertOptions o;
  o.in = in;
  o.out = out;
  std::ostringstream summary;
  return run_convert(o, summary);
}

}  // namespace

TEST_CASE("sargan convert: ckpt -> safetensors -> ckpt keeps every tensor", "[sargan]") {
  TempDir dir;
  const NamedTensors original = engine::load_torch_checkpoint(fixture("g16.ckpt"));
  REQUIRE(convert_command(fixture("g16.ckpt"), dir / "g.safetensors") == 0);
  REQUIRE(convert_command(dir / "g.safetensors", dir / "g.ckpt") == 0);
  expect_identical(engine::load_safetensors(dir / "g.safetensors").tensors, original);
  expect_identical(engine::load_torch_checkpoint(dir / "g.ckpt"), original);
  // read_weights tells the formats apart by content, whatever the file is called.
  fs::copy_file(dir / "g.safetensors", dir / "named_like.ckpt");
  expect_identical(read_weights(dir / "named_like.ckpt"), original);
  // Both load into the generator and give the same outputs.
  engine::Philox rng(3);
  Generator a({16, 7, 8}, rng), b({16, 7, 8}, rng);
  load_generator(a, dir / "g.safetensors");
  load_generator(b, dir / "g.ckpt");
  engine::Tensor x = test::random_tensor({1, 3, 20, 24}, 5);
  engine::Tensor c = engine::Tensor::from_vector({0, 0, 1, 0, 0, 0, 0}, {1, 7});
  CHECK(a.forward(x, c).to_vector() == b.forward(x, c).to_vector());
}

TEST_CASE("sargan convert: unreadable input is one clear error", "[sargan]") {
  TempDir dir;
  CHECK_THROWS_WITH(convert_command(dir / "absent.ckpt", dir / "x.safetensors"), Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(convert_command(fixture("face_67x50.png"), dir / "x.safetensors"),
                    Catch::Contains("not a PyTorch checkpoint"));
  CHECK(!fs::exists(dir / "x.safetensors"));
}

TEST_CASE("sargan convert: a .ckpt written here loads in PyTorch", "[sargan]") {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
    WARN("skipped: /usr/bin/python3 with torch is not available");
    return;
  }
  TempDir dir;
  REQUIRE(convert_command(fixture("g16.ckpt"), dir / "g.safetensors") == 0);
  REQUIRE(convert_command(dir / "g.safetensors", dir / "g.ckpt") == 0);
  const std::string command = "/usr/bin/python3 " + test::source_dir("tools/check/check_sargan_ckpt.py") + " " +
                              (dir / "g.ckpt") + " 16 8 " + fixture("expected.pt") + " > " + (dir / "log") + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log(dir / "log");
  std::stringstream text;
  text << log.rdbuf();
  INFO(text.str());
  CHECK(status == 0);
}
