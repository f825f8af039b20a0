// load_safetensors / save_safetensors: a file written by hand in Python (struct + json) with
// every dtype we read, a round trip with metadata, atomic writes, and malformed headers built
// here: overlaps, gaps, out-of-range offsets, wrong sizes, huge header lengths, bad JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "engine/check.h"
#include "engine/safetensors.h"
#include "engine/torch_checkpoint.h"
#include "format_test_util.h"
#include "test_util.h"

using Catch::Matchers::Contains;
using namespace format_test;

namespace {

const std::string fixture_dir = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/io/";

// 8-byte little-endian length, the header text, then `data` bytes.
std::vector<uint8_t> safetensors_bytes(const std::string& header, size_t data_size, uint64_t declared_length) {
  std::vector<uint8_t> bytes;
  bytes.reserve(8 + header.size() + data_size);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(declared_length >> (8 * i)));
  for (char c : header) bytes.push_back(static_cast<uint8_t>(c));
  for (size_t i = 0; i < data_size; ++i) bytes.push_back(static_cast<uint8_t>(i));
  return bytes;
}
std::vector<uint8_t> safetensors_bytes(const std::string& header, size_t data_size) {
  return safetensors_bytes(header, data_size, header.size());
}

}  // namespace

TEST_CASE("load_safetensors reads a Python-written file exactly", "[safetensors]") {
  const engine::SafetensorsContents contents = engine::load_safetensors(fixture_dir + "tensors.safetensors");
  std::ifstream in(fixture_dir + "tensors.json");
  const nlohmann::json expected = nlohmann::json::parse(in);
  const nlohmann::json& tensors = expected["tensors"];
  REQUIRE(contents.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string name = tensors[i][0];
    INFO(name);
    CHECK(contents.tensors[i].first == name);
    CHECK(contents.tensors[i].second.shape() == tensors[i][1].get<engine::Shape>());
    // float16/bfloat16 are exact in float32; F64/I64/I32 round to nearest like numpy's astype.
    test::expect_close(contents.tensors[i].second.to_vector(), tensors[i][2].get<std::vector<float>>(), 0, 0, name);
  }
  CHECK(contents.metadata == expected["metadata"].get<std::map<std::string, std::string>>());
}

TEST_CASE("save_safetensors round trip, padded header, atomic", "[safetensors]") {
  ScratchDir dir("safetensors_round_trip");
  const std::string path = dir.file("t.safetensors");
  const std::vector<std::pair<std::string, engine::Tensor>> tensors = {
      {"z.weight", test::random_tensor({3, 2, 2}, 11)},
      {"a.bias", test::random_tensor({5}, 12)},
      {"empty", engine::Tensor::zeros({2, 0})},
      {"scalar", engine::Tensor::scalar(7.5f)},
  };
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"step", "1200"}};
  engine::save_safetensors(path, tensors, metadata);
  CHECK(dir.listing() == std::vector<std::string>{"t.safetensors"});

  const std::vector<uint8_t> bytes = read_bytes(path);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  CHECK(header_size % 8 == 0);
  CHECK(bytes.size() == 8 + header_size + (12 + 5 + 0 + 1) * 4);

  const engine::SafetensorsContents loaded = engine::load_safetensors(path);
  CHECK(loaded.metadata == metadata);
  REQUIRE(loaded.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {  // data order is the order given
    INFO(tensors[i].first);
    CHECK(loaded.tensors[i].first == tensors[i].first);
    CHECK(loaded.tensors[i].second.shape() == tensors[i].second.shape());
    CHECK(loaded.tensors[i].second.to_vector() == tensors[i].second.to_vector());
  }

  // A failed save leaves the previous file as it was, and no temporary file.
  REQUIRE_THROWS_WITH(engine::save_safetensors(path, {{"x", engine::Tensor::scalar(1.f)}, {"x", engine::Tensor::scalar(2.f)}}),
                      Contains("duplicate"));
  REQUIRE_THROWS_WITH(engine::save_safetensors(path, {{"__metadata__", engine::Tensor::scalar(1.f)}}), Contains("reserved"));
  CHECK(read_bytes(path) == bytes);
  CHECK(dir.listing() == std::vector<std::string>{"t.safetensors"});
  REQUIRE_THROWS_WITH(engine::save_safetensors(dir.file("no/such/dir.safetensors"), tensors), Contains("cannot create"));
}

TEST_CASE("load_safetensors refuses malformed files", "[safetensors]") {
  ScratchDir dir("safetensors_hostile");
  const std::string path = dir.file("bad.safetensors");
  auto refuses = [&](const std::vector<uint8_t>& bytes, const std::string& message) {
    write_bytes(path, bytes);
    REQUIRE_THROWS_WITH(engine::load_safetensors(path), Contains(path) && Contains(message));
  };
  const std::string two = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)";
  SECTION("overlapping offsets") {
    refuses(safetensors_bytes(two + R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12), "overlapping");
  }
  SECTION("a gap between tensors") {
    refuses(safetensors_bytes(two + R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})", 16), "a gap");
  }
  SECTION("offsets past the end of the file") {
    refuses(safetensors_bytes(two + R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", 16), "past the");
  }
  SECTION("bytes after the last tensor") {
    refuses(safetensors_bytes(two + R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 20), "belong to none");
  }
  SECTION("range length disagrees with shape and dtype") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8), "do not span");
  }
  SECTION("end before begin") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8), "do not span");
  }
  SECTION("shape product overflows") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0),
            "too large");
  }
  SECTION("negative shape") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0), "non-negative");
  }
  SECTION("unsupported dtype") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1), "'F8_E4M3' is not supported");
  }
  SECTION("huge header length") {
    refuses(safetensors_bytes("{}", 0, uint64_t(1) << 62), "exceeds the 100 MB limit");
  }
  SECTION("header length beyond the file") {
    refuses(safetensors_bytes("{}", 0, 1000), "truncated");
  }
  SECTION("shorter than the length field") {
    refuses({1, 2, 3}, "truncated");
  }
  SECTION("bad JSON") {
    refuses(safetensors_bytes(R"({"a": {"dtype": )", 0), "not valid JSON");
  }
  SECTION("header not an object") {
    refuses(safetensors_bytes(R"([1, 2])", 0), "does not start with '{'");
  }
  SECTION("duplicate keys") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4),
            "repeats the key 'a'");
  }
  SECTION("metadata value not a string") {
    refuses(safetensors_bytes(R"({"__metadata__":{"n":1}})", 0), "not a string");
  }
  SECTION("unknown field") {
    refuses(safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0}})", 4), "unexpected field 'x'");
  }
  SECTION("every truncation of a valid file") {
    ScratchDir good_dir("safetensors_good");
    engine::save_safetensors(good_dir.file("g.safetensors"), {{"w", test::random_tensor({3}, 1)}}, {{"k", "v"}});
    const std::vector<uint8_t> good = read_bytes(good_dir.file("g.safetensors"));
    for (size_t length = 0; length < good.size(); ++length) {
      INFO("truncated to " << length << " bytes");
      write_bytes(path, std::vector<uint8_t>(good.begin(), good.begin() + length));
      REQUIRE_THROWS_AS(engine::load_safetensors(path), engine::Error);
    }
  }
}

TEST_CASE("load_safetensors and load_torch_checkpoint refuse NaN and infinities (issue 14 case 5)", "[safetensors]") {
  ScratchDir dir("nonfinite");
  const std::vector<std::pair<float, std::string>> bad = {{std::nanf(""), "holds NaN at element 2"},
                                                         {INFINITY, "holds an infinity"},
                                                         {-INFINITY, "holds an infinity"}};
  for (const auto& [value, message] : bad) {
    INFO("value " << value);
    const std::vector<std::pair<std::string, engine::Tensor>> tensors = {
        {"ok", engine::Tensor::from_vector({1, 2}, {2})}, {"w.bad", engine::Tensor::from_vector({0, 1, value}, {3})}};
    // The writers do not judge values; the loaders must.
    engine::save_safetensors(dir.file("w.safetensors"), tensors);
    REQUIRE_THROWS_WITH(engine::load_safetensors(dir.file("w.safetensors")),
                        Contains("w.safetensors: tensor 'w.bad' " + message));
    engine::save_torch_checkpoint(dir.file("w.ckpt"), tensors);
    REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(dir.file("w.ckpt")), Contains("w.ckpt: tensor 'w.bad' " + message));
  }
}
