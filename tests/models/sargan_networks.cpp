// SARGAN G and D against PyTorch: the fixture checkpoints (tests/fixtures/sargan/, made by
// tools/fixtures/make_sargan_fixtures.py with torch.save) load through our zip/pickle reader, and the
// outputs on the script's fixed inputs match PyTorch's on cpu and, when built, on cuda.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "engine/check.h"
#include "engine/device.h"
#include "engine/torch_checkpoint.h"
#include "models/sargan/networks.h"
#include "models/sargan/weights.h"
#include "test_util.h"

namespace {

using engine::Device;
using engine::NamedTensors;
using engine::Tensor;
using namespace models::sargan;

std::string fixture(const std::string& name) { return test::source_dir("tests/fixtures/sargan/" + name); }

// The fixture networks' sizes (tests/fixtures/sargan/manifest.json).
GeneratorConfig g16_config() { return {16, 7, 8}; }
DiscriminatorConfig d8_config() { return {32, 8, 7, 3}; }

std::map<std::string, Tensor> expected_tensors() {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : engine::load_torch_checkpoint(fixture("expected.pt"))) out[name] = t;
  return out;
}

std::vector<Device> devices() {
  std::vector<Device> out = {Device::cpu()};
  if (engine::cuda_available()) out.push_back(Device::cuda());
  return out;
}

// The fixture generator (g16.ckpt), on `device`.
std::unique_ptr<Generator> fixture_generator(Device device) {
  engine::Philox rng(1);
  auto g = std::make_unique<Generator>(g16_config(), rng);
  load_generator(*g, fixture("g16.ckpt"));
  g->to(device);
  return g;
}

}  // namespace

TEST_CASE("sargan: default sizes give the authors' parameter counts", "[sargan]") {
  engine::Philox rng(1);
  Generator g(GeneratorConfig{}, rng);
  CHECK(g.parameter_count() == 3203394);
  CHECK(g.state_dict().size() == 83);  // parameters and the IN running-stat buffers
  Discriminator d(DiscriminatorConfig{}, rng);
  CHECK(d.parameter_count() == 44778432);
  CHECK(d.state_dict().size() == 14);
}

TEST_CASE("sargan: state_dict keys, order and shapes equal the PyTorch checkpoint's", "[sargan]") {
  engine::Philox rng(1);
  auto compare = [](const NamedTensors& ours, const NamedTensors& theirs) {
    REQUIRE(ours.size() == theirs.size());
    for (size_t i = 0; i < ours.size(); ++i) {
      INFO("entry " << i);
      CHECK(ours[i].first == theirs[i].first);
      CHECK(engine::shape_str(ours[i].second.shape()) == engine::shape_str(theirs[i].second.shape()));
    }
  };
  Generator g(g16_config(), rng);
  compare(g.state_dict(), engine::load_torch_checkpoint(fixture("g16.ckpt")));
  Discriminator d(d8_config(), rng);
  compare(d.state_dict(), engine::load_torch_checkpoint(fixture("d8.ckpt")));
  // The names the authors' checkpoints use at the corners of the tree.
  std::map<std::string, std::string> shapes;
  for (auto& [name, t] : g.state_dict()) shapes[name] = engine::shape_str(t.shape());
  CHECK(shapes.at("main.0.weight") == "[16, 10, 7, 7]");
  CHECK(shapes.at("main.1.running_var") == "[16]");
  CHECK(shapes.at("main.10.weight") == "[64, 32, 4, 4]");  // ConvTranspose2d: [Ci, Co, K, K]
  CHECK(shapes.at("main.9.att_func.b2_plus_1.norm.norm.weight") == "[8]");
  CHECK(shapes.at("main.9.att_func.out_block.0.conv2d.bias") == "[1]");
  CHECK(shapes.at("att_func.b1_2.conv2d.weight") == "[8, 3, 3, 3]");
  CHECK(shapes.count("main.9.conv1.conv2d.bias") == 0);  // no bias before a norm
}

TEST_CASE("sargan: G matches PyTorch on the fixture inputs", "[sargan]") {
  auto expected = expected_tensors();
  for (Device device : devices()) {
    INFO("device " << device.str());
    const std::unique_ptr<Generator> fixture_g = fixture_generator(device);
    Generator& g = *fixture_g;
    // 1e-4: float32 through ~40 layers with instance norms; observed differences are ~1e-6, while
    // a wrong padding, norm or key moves outputs by > 1e-2.
    Tensor y = g.forward(expected["g_x"].to(device), expected["g_c"].to(device));
    test::expect_close(y.to(Device::cpu()), expected["g_y"], 1e-4, 0, "G(x, c) 2x3x32x32");
    // 36x28: odd sizes inside the Hourglass take the nearest-resize branch.
    Tensor y_odd = g.forward(expected["g_x_odd"].to(device), expected["g_c_odd"].to(device));
    test::expect_close(y_odd.to(Device::cpu()), expected["g_y_odd"], 1e-4, 0, "G(x, c) 1x3x36x28");
  }
}

TEST_CASE("sargan: D matches PyTorch on the fixture inputs", "[sargan]") {
  auto expected = expected_tensors();
  for (Device device : devices()) {
    INFO("device " << device.str());
    engine::Philox rng(1);
    Discriminator d(d8_config(), rng);
    load_discriminator(d, fixture("d8.ckpt"));
    d.to(device);
    auto [src, cls] = d.forward(expected["d_x"].to(device));
    test::expect_close(src.to(Device::cpu()), expected["d_src"], 1e-4, 0, "D src 2x1x4x4");
    test::expect_close(cls.to(Device::cpu()), expected["d_cls"], 1e-4, 0, "D cls 2x7");
  }
}

TEST_CASE("sargan: the running-stat buffers are loaded and kept but not used", "[sargan]") {
  engine::Philox rng(1);
  Generator g(g16_config(), rng);
  const NamedTensors file = engine::load_torch_checkpoint(fixture("g16.ckpt"));
  load_generator(g, fixture("g16.ckpt"));
  std::map<std::string, Tensor> ours;
  for (auto& [name, t] : g.state_dict()) ours[name] = t;
  for (auto& [name, t] : file) test::expect_close(ours.at(name), t, 0, 0, name);
  auto expected = expected_tensors();
  test::expect_close(g.forward(expected["g_x"], expected["g_c"]), expected["g_y"], 1e-4, 0, "G(x, c)");
  // The forward (the authors' train-mode instance norms) must not update them either.
  for (auto& [name, t] : file) test::expect_close(ours.at(name), t, 0, 0, name + " after forward");
}

TEST_CASE("sargan: strict loading names the keys and shapes that differ", "[sargan]") {
  engine::Philox rng(1);
  const NamedTensors file = engine::load_torch_checkpoint(fixture("g16.ckpt"));
  auto load_error = [&](engine::Module& net, const NamedTensors& state) -> std::string {
    try {
      load_weights_strict(net, state, "g16.ckpt", generator_flags_of(state));
    } catch (const engine::Error& e) {
      return e.what();
    }
    return "";
  };
  Generator g(g16_config(), rng);
  {
    NamedTensors state(file.begin() + 1, file.end());  // main.0.weight dropped
    const std::string error = load_error(g, state);
    CHECK_THAT(error, Catch::Contains("missing main.0.weight [16, 10, 7, 7]"));
  }
  {
    NamedTensors state = file;
    state.emplace_back("main.9.extra", Tensor::zeros({2, 3}));
    CHECK_THAT(load_error(g, state), Catch::Contains("unexpected main.9.extra [2, 3]"));
  }
  {
    Generator wide({32, 7, 8}, rng);  // --g_conv_dim 32 against a conv_dim 16 checkpoint
    const std::string error = load_error(wide, file);
    CHECK_THAT(error, Catch::Contains("main.0.weight is [16, 10, 7, 7] in the file, [32, 10, 7, 7] in the model"));
    CHECK_THAT(error, Catch::Contains("--g_conv_dim 16 --c_dim 7"));
  }
  {
    // A discriminator checkpoint given as the generator.
    CHECK_THROWS_WITH(load_generator(g, fixture("d8.ckpt")),
                      Catch::Contains("main.0.weight is [8, 3, 4, 4] in the file, [16, 10, 7, 7] in the model") &&
                          Catch::Contains("its shapes fit a discriminator (--d_conv_dim 8"));
    Discriminator d(d8_config(), rng);
    CHECK_THROWS_WITH(load_discriminator(d, fixture("g16.ckpt")),
                      Catch::Contains("a generator (--g_conv_dim 16 --c_dim 7 with an Hourglass width of 8"));
    CHECK_THAT(discriminator_flags_of(engine::load_torch_checkpoint(fixture("d8.ckpt"))),
               Catch::Equals("--d_conv_dim 8 --d_repeat_num 3 --c_dim 7 --image_size 32"));
  }
  // A failed load leaves the model untouched.
  const std::vector<float> before = g.state_dict()[1].second.to_vector();
  NamedTensors bad = file;
  bad[0].second = Tensor::zeros({1});
  CHECK_THROWS(load_weights_strict(g, bad, "x", ""));
  CHECK(g.state_dict()[1].second.to_vector() == before);
}

TEST_CASE("sargan: forward_all_targets equals forward on every one-hot target", "[sargan]") {
  for (Device device : devices()) {
    INFO("device " << device.str());
    const std::unique_ptr<Generator> fixture_g = fixture_generator(device);
    Generator& g = *fixture_g;
    const int64_t n = 2, h = 20, w = 24;  // the smallest sizes, for the emulated cuda device
    const Tensor x = test::random_tensor({n, 3, h, w}, 9, -1.f, 1.f, device);
    // The reference: each image repeated 7 times, paired with the rows of the identity.
    std::vector<float> x_values = x.to_vector(), repeated, targets;
    const size_t sample = size_t(3 * h * w);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 0; k < 7; ++k) {
        repeated.insert(repeated.end(), x_values.begin() + i * sample, x_values.begin() + (i + 1) * sample);
        for (int64_t j = 0; j < 7; ++j) targets.push_back(j == k ? 1.f : 0.f);
      }
    const Tensor expected = g.forward(Tensor::from_vector(repeated, {n * 7, 3, h, w}, device),
                                      Tensor::from_vector(targets, {n * 7, 7}, device));
    const Tensor ours = g.forward_all_targets(x, g.target_responses(h, w));
    // Only the first convolution's summation order differs: float rounding, far below 1e-4.
    test::expect_close(ours.to(Device::cpu()), expected.to(Device::cpu()), 1e-5, 0, "all targets at once");
    CHECK_THROWS_WITH(g.forward_all_targets(x, g.target_responses(h, w + 4)), Catch::Contains("responses must be"));
  }
}
