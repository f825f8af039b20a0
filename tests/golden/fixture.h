#pragma once
// Reader of the PyTorch fixtures made by tools/fixtures/make_torch_fixtures.py (tests/fixtures/torch/*.json):
// {"format": "engine-torch-fixture", "version": 1, ..., "tensors": {name: {"shape", "data"}}}.
// Header-only so that any test folder can include it as "golden/fixture.h".
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/check.h"
#include "engine/tensor.h"
#include "test_util.h"

namespace test {

class TorchFixture {
 public:
  explicit TorchFixture(const std::string& file_name)
      : path_(source_dir("tests/fixtures/torch/" + file_name)) {
    std::ifstream in(path_);
    ENGINE_CHECK(in.good(), "fixture ", path_, " not found: run /usr/bin/python3 tools/fixtures/make_torch_fixtures.py");
    json_ = nlohmann::json::parse(in);
    ENGINE_CHECK(json_.value("format", "") == "engine-torch-fixture" && json_.value("version", 0) == 1,
                 "fixture ", path_, ": unknown format or version; regenerate it");
  }

  const nlohmann::json& json() const { return json_; }
  bool has(const std::string& name) const { return json_["tensors"].contains(name); }

  engine::Tensor tensor(const std::string& name, bool requires_grad = false) const {
    const auto& tensors = json_["tensors"];
    ENGINE_CHECK(tensors.contains(name), "fixture ", path_, " has no tensor '", name, "'");
    const auto& entry = tensors[name];
    const engine::Shape shape = entry["shape"].get<engine::Shape>();
    std::vector<float> data;
    for (double v : entry["data"]) data.push_back(static_cast<float>(v));
    engine::Tensor t = engine::Tensor::from_vector(data, shape);
    if (requires_grad) t.set_requires_grad(true);
    return t;
  }

 private:
  std::string path_;
  nlohmann::json json_;
};

}  // namespace test
