// Module tree against PyTorch's key lists (tests/fixtures/torch/module.json, made by
// tools/fixtures/make_torch_fixtures.py), strict loading errors, zero_grad, gradient accumulation and the
// default initialisation bounds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "engine/autograd.h"
#include "engine/nn.h"
#include "golden/fixture.h"
#include "test_util.h"

using engine::NamedTensors;
using engine::Shape;
using engine::Tensor;
namespace nn = engine::nn;

namespace {

// The model of tools/fixtures/make_torch_fixtures.py's Net, registered in the same order.
struct Block : engine::Module {
  explicit Block(engine::Philox& g) {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(4, 4, 3, 1, 1, false, g));
    norm = register_module("norm", std::make_shared<nn::InstanceNorm2d>(4, true));
  }
  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::InstanceNorm2d> norm;
};

struct Net : engine::Layer {
  explicit Net(engine::Philox& g) {
    main = register_module("main", std::make_shared<engine::Sequential>());
    main->add(std::make_shared<nn::Conv2d>(3, 4, 3, 1, 1, true, g))
        .add(std::make_shared<nn::InstanceNorm2d>(4, true, true))
        .add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::ConvTranspose2d>(4, 4, 4, 2, 1, false, g))
        .add(std::make_shared<nn::LeakyReLU>(0.01f));
    auto inner = std::make_shared<engine::Sequential>();
    inner->add(std::make_shared<nn::Conv2d>(4, 2, 3, 1, 1, true, g)).add(std::make_shared<nn::Tanh>());
    main->add(inner);
    block = register_module("block", std::make_shared<Block>(g));
    head = register_module("head", std::make_shared<nn::Conv2d>(2, 1, 1, 1, 0, true, g));
  }
  Tensor forward(const Tensor& x) override { return head->forward(main->forward(x)); }
  std::shared_ptr<engine::Sequential> main;
  std::shared_ptr<Block> block;
  std::shared_ptr<nn::Conv2d> head;
};

std::vector<std::string> names(const NamedTensors& tensors) {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors) out.push_back(name);
  return out;
}

NamedTensors fixture_state(const test::TorchFixture& fixture) {
  NamedTensors state;
  for (const auto& entry : fixture.json()["state_dict_keys"]) {
    const std::string name = entry[0];
    state.emplace_back(name, fixture.tensor("state." + name));
  }
  return state;
}

// The message of the engine::Error that f throws ("" when it does not throw).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const engine::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("Module names, order and shapes equal PyTorch's state_dict", "[cpu]") {
  const test::TorchFixture fixture("module.json");
  engine::Philox g(1);
  Net net(g);
  const NamedTensors state = net.state_dict();
  const auto& expected = fixture.json()["state_dict_keys"];
  REQUIRE(state.size() == expected.size());
  for (size_t i = 0; i < state.size(); ++i) {
    CHECK(state[i].first == expected[i][0].get<std::string>());
    CHECK(state[i].second.shape() == expected[i][1].get<Shape>());
  }
  CHECK(names(net.named_parameters()) == fixture.json()["parameter_keys"].get<std::vector<std::string>>());
  CHECK(names(net.named_buffers()) == fixture.json()["buffer_keys"].get<std::vector<std::string>>());
  int64_t count = 0;
  for (const auto& name : fixture.json()["parameter_keys"])
    count += fixture.tensor("state." + name.get<std::string>()).numel();
  CHECK(net.parameter_count() == count);
  CHECK(net.parameters().size() == fixture.json()["parameter_keys"].size());
  for (const Tensor& p : net.parameters()) CHECK(p.requires_grad());
  for (const auto& [name, b] : net.named_buffers()) CHECK_FALSE(b.requires_grad());
  // The layer's members are the registered tensors, not copies.
  CHECK(net.head->weight.same(net.named_parameters()[10].second));
}

TEST_CASE("load_state_dict copies PyTorch's values into the existing tensors", "[cpu]") {
  const test::TorchFixture fixture("module.json");
  engine::Philox g(1);
  Net net(g);
  const Tensor head_weight = net.head->weight;
  net.load_state_dict(fixture_state(fixture));
  for (const auto& [name, t] : net.state_dict())
    test::expect_close(t, fixture.tensor("state." + name), 0, 0, name);
  CHECK(head_weight.same(net.head->weight));
  CHECK(head_weight.to_vector() == fixture.tensor("state.head.weight").to_vector());
}

TEST_CASE("a model loaded from PyTorch's state_dict gives PyTorch's output", "[cpu]") {
  const test::TorchFixture fixture("module.json");
  engine::Philox g(1);
  Net net(g);
  net.load_state_dict(fixture_state(fixture));
  // conv, instance norm, conv-transpose, conv and a 1x1 conv, each summing <= 64 reordered float32
  // products of O(1) values: observed error 1.2e-7 on outputs of O(0.6); a wrong key-to-tensor
  // assignment or a skipped layer changes them by O(0.1).
  test::expect_close(net(fixture.tensor("x")), fixture.tensor("y"), 2e-6, 1e-5, "Net(x)");
}

TEST_CASE("load_state_dict errors: missing, unexpected, shape mismatch with both shapes", "[cpu]") {
  const test::TorchFixture fixture("module.json");
  engine::Philox g(1);
  Net net(g);
  const NamedTensors good = fixture_state(fixture);
  const std::vector<float> before = net.head->weight.to_vector();

  NamedTensors missing = good;
  missing.erase(std::find_if(missing.begin(), missing.end(),
                             [](const auto& e) { return e.first == "main.1.running_var"; }));
  missing.erase(std::find_if(missing.begin(), missing.end(),
                             [](const auto& e) { return e.first == "block.conv1.weight"; }));
  std::string message = error_of([&] { net.load_state_dict(missing); });
  CHECK_THAT(message, Catch::Contains("missing keys (2): main.1.running_var, block.conv1.weight"));
  CHECK(message.find("unexpected") == std::string::npos);
  CHECK(net.head->weight.to_vector() == before);  // nothing was loaded
  CHECK(error_of([&] { net.load_state_dict(missing, false); }).empty());
  CHECK(net.head->weight.to_vector() == fixture.tensor("state.head.weight").to_vector());

  NamedTensors extra = good;
  extra.emplace_back("main.7.weight", Tensor::zeros({2}));
  message = error_of([&] { net.load_state_dict(extra); });
  CHECK_THAT(message, Catch::Contains("unexpected keys (1): main.7.weight"));
  CHECK(error_of([&] { net.load_state_dict(extra, false); }).empty());

  NamedTensors mismatch = good;
  for (auto& [name, t] : mismatch)
    if (name == "main.0.weight") t = Tensor::zeros({4, 3, 5, 5});
  mismatch.emplace_back("surplus", Tensor::zeros({1}));
  message = error_of([&] { net.load_state_dict(mismatch); });
  CHECK_THAT(message, Catch::Contains("main.0.weight: checkpoint has [4, 3, 5, 5], model has [4, 3, 3, 3]"));
  CHECK_THAT(message, Catch::Contains("unexpected keys (1): surplus"));
  // A shape mismatch is an error even when not strict, as in PyTorch.
  message = error_of([&] { net.load_state_dict(mismatch, false); });
  CHECK_THAT(message, Catch::Contains("size mismatch (1): main.0.weight"));
  CHECK(message.find("surplus") == std::string::npos);
}

TEST_CASE("Sequential numbers its children and runs them in order", "[cpu]") {
  engine::Sequential seq;
  seq.add(std::make_shared<nn::LeakyReLU>(0.5f)).add(std::make_shared<nn::Tanh>());
  REQUIRE(seq.size() == 2);
  const Tensor x = test::random_tensor({2, 3}, 4);
  const auto y = seq(x).to_vector(), vx = x.to_vector();
  for (size_t i = 0; i < vx.size(); ++i) CHECK(y[i] == std::tanh(vx[i] > 0 ? vx[i] : 0.5f * vx[i]));
  engine::Philox g(1);
  engine::Sequential convs;
  convs.add(std::make_shared<nn::Tanh>()).add(std::make_shared<nn::Conv2d>(1, 1, 1, 1, 0, false, g));
  CHECK(names(convs.state_dict()) == std::vector<std::string>{"1.weight"});
}

namespace {
struct Affine : engine::Layer {
  Affine() {
    weight = register_parameter("weight", Tensor::from_vector({1.f, 2.f, 3.f}, {3}));
    bias = register_parameter("bias", Tensor::from_vector({0.5f}, {1}));
  }
  Tensor forward(const Tensor& x) override { return x * weight + bias; }
  Tensor weight, bias;
};
}  // namespace

TEST_CASE("gradients accumulate into .grad across backward calls; zero_grad clears them", "[cpu]") {
  Affine m;
  const Tensor x1 = Tensor::from_vector({1.f, -2.f, 4.f}, {3}), x2 = Tensor::from_vector({3.f, 5.f, -1.f}, {3});
  engine::sum(m(x1)).backward();
  CHECK(m.weight.grad().to_vector() == std::vector<float>{1.f, -2.f, 4.f});
  CHECK(m.bias.grad().to_vector() == std::vector<float>{3.f});
  engine::sum(m(x2) * 2.f).backward();
  CHECK(m.weight.grad().to_vector() == std::vector<float>{7.f, 8.f, 2.f});
  CHECK(m.bias.grad().to_vector() == std::vector<float>{9.f});
  m.zero_grad();
  CHECK_FALSE(m.weight.grad().defined());
  CHECK_FALSE(m.bias.grad().defined());
  engine::sum(m(x2)).backward();
  CHECK(m.weight.grad().to_vector() == std::vector<float>{3.f, 5.f, -1.f});
}

TEST_CASE("FrozenParameters: no weight gradients while alive, the input's still flows", "[cpu]") {
  Affine m;
  Tensor x = Tensor::from_vector({1.f, -2.f, 4.f}, {3});
  x.set_requires_grad(true);
  {
    const engine::FrozenParameters frozen(m);
    CHECK_FALSE(m.weight.requires_grad());
    engine::sum(m(x) * 2.f).backward();
    CHECK_FALSE(m.weight.grad().defined());
    CHECK_FALSE(m.bias.grad().defined());
    CHECK(x.grad().to_vector() == (m.weight * 2.f).to_vector());
  }
  CHECK(m.weight.requires_grad());
  CHECK(m.bias.requires_grad());
  engine::sum(m(x)).backward();
  CHECK(m.weight.grad().to_vector() == std::vector<float>{1.f, -2.f, 4.f});
}

TEST_CASE("Module::to keeps every handle valid", "[cpu]") {
  Affine m;
  m.to(engine::Device::cpu());
  CHECK(m.device() == engine::Device::cpu());
  if (!engine::cuda_available()) {
    WARN("no CUDA device in this build: Module::to(cuda) was not tested");
    return;
  }
  engine::sum(m(Tensor::from_vector({1.f, 1.f, 1.f}, {3}))).backward();
  m.to(engine::Device::cuda());
  CHECK(m.device() == engine::Device::cuda());
  CHECK(m.weight.device() == engine::Device::cuda());
  CHECK(m.weight.grad().device() == engine::Device::cuda());
  CHECK(m.weight.to_vector() == std::vector<float>{1.f, 2.f, 3.f});
}

TEST_CASE("default initialisation: PyTorch's bounds from its fan-in, filled to the edges", "[cpu]") {
  const test::TorchFixture fixture("module.json");
  engine::Philox g(17);
  for (const auto& spec : fixture.json()["init"]) {
    const std::string layer = spec["layer"];
    const int64_t c_in = spec["c_in"], c_out = spec["c_out"], k = spec["kernel"];
    Tensor weight, bias;
    if (layer == "Conv2d") {
      nn::Conv2d conv(c_in, c_out, k, 1, 0, true, g);
      weight = conv.weight, bias = conv.bias;
    } else {
      nn::ConvTranspose2d conv(c_in, c_out, k, 1, 0, true, g);
      weight = conv.weight, bias = conv.bias;
    }
    const double bounds[2] = {spec["weight_bound"], spec["bias_bound"]};
    const Tensor tensors[2] = {weight, bias};
    for (int i = 0; i < 2; ++i) {
      INFO(layer << (i ? " bias" : " weight") << ", bound " << bounds[i]);
      const auto v = tensors[i].to_vector();
      const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
      // float(bound) may round up by half an ulp.
      CHECK(lo >= -bounds[i] * (1 + 1e-6));
      CHECK(hi <= bounds[i] * (1 + 1e-6));
      if (i == 1) continue;  // 8 biases are too few for a spread test: see the next case
      // n >= 1152 uniform samples leave a gap of about 2 bound / n at each end, so they reach 98%
      // of the bound (failure probability below 1e-9); mean and variance within 5 standard errors.
      CHECK(hi > 0.98 * bounds[i]);
      CHECK(lo < -0.98 * bounds[i]);
      double sum = 0, sum_sq = 0;
      for (float x : v) sum += x, sum_sq += double(x) * x;
      const double n = double(v.size()), variance = sum_sq / n - (sum / n) * (sum / n);
      CHECK(std::fabs(sum / n) < 5 * bounds[i] / std::sqrt(3 * n));
      CHECK(std::fabs(variance / (bounds[i] * bounds[i] / 3) - 1) < 0.15);
    }
  }
}

TEST_CASE("default initialisation: bias bound 1/sqrt(fan_in), fan_in from weight.size(1)", "[cpu]") {
  engine::Philox g(18);
  // Conv2d(2, 4096, 1): fan_in = 2. ConvTranspose2d(2, 4096, 1): weight [2,4096,1,1], fan_in 4096.
  const nn::Conv2d conv(2, 4096, 1, 1, 0, true, g);
  const nn::ConvTranspose2d transposed(2, 4096, 1, 1, 0, true, g);
  const std::pair<Tensor, double> cases[] = {{conv.bias, 1 / std::sqrt(2.0)}, {transposed.bias, 1 / 64.0}};
  for (const auto& [bias, bound] : cases) {
    INFO("bound " << bound);
    const auto v = bias.to_vector();
    REQUIRE(v.size() == 4096);
    const double lo = *std::min_element(v.begin(), v.end()), hi = *std::max_element(v.begin(), v.end());
    CHECK(lo >= -bound * (1 + 1e-6));
    CHECK(hi <= bound * (1 + 1e-6));
    CHECK(hi > 0.99 * bound);
    CHECK(lo < -0.99 * bound);
  }
}

TEST_CASE("InstanceNorm2d: affine ones and zeros, running-stat buffers when asked", "[cpu]") {
  nn::InstanceNorm2d norm(3, true, true);
  CHECK(norm.weight.to_vector() == std::vector<float>{1.f, 1.f, 1.f});
  CHECK(norm.bias.to_vector() == std::vector<float>{0.f, 0.f, 0.f});
  const NamedTensors buffers = norm.named_buffers();
  REQUIRE(names(buffers) == std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(buffers[0].second.to_vector() == std::vector<float>{0.f, 0.f, 0.f});
  CHECK(buffers[1].second.to_vector() == std::vector<float>{1.f, 1.f, 1.f});
  CHECK(buffers[2].second.shape() == Shape{});
  CHECK(buffers[2].second.item() == 0.f);
  CHECK(nn::InstanceNorm2d(3, false).state_dict().empty());
}
