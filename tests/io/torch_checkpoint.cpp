// load_torch_checkpoint / save_torch_checkpoint: a torch.save'd state_dict (every dtype we
// convert, non-contiguous and storage-sharing views, a Parameter) against the values PyTorch
// printed; the legacy format's re-save hint; our writer read back by us and by torch.load
// (weights_only, then load_state_dict); and hand-built hostile pickles.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "engine/check.h"
#include "engine/torch_checkpoint.h"
#include "engine/zip.h"
#include "format_test_util.h"
#include "test_util.h"

using Catch::Matchers::Contains;
using namespace format_test;

namespace {

const std::string fixture_dir = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/io/";

// A minimal protocol-2 pickle assembler, written from the pickle opcode table (independent of
// engine/io/pickle.cpp), for checkpoints the tests build by hand.
struct Pickle {
  std::string bytes = "\x80\x02";
  Pickle& op(const std::string& raw) {
    bytes += raw;
    return *this;
  }
  Pickle& str(const std::string& s) {
    bytes += 'X';
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>(s.size() >> (8 * i));
    bytes += s;
    return *this;
  }
  Pickle& int1(int v) {
    bytes += 'K';
    bytes += static_cast<char>(v);
    return *this;
  }
  Pickle& int4(int32_t v) {  // BININT
    bytes += 'J';
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>(uint32_t(v) >> (8 * i));
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) { return op("c" + module + "\n" + name + "\n"); }
  // _rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', numel), offset, size, stride, False, OrderedDict())
  // The argument tuple ('storage', torch.<type>, key, location, numel), offset, size, stride,
  // False, OrderedDict()) of _rebuild_tensor_v2.
  Pickle& tensor_args(const std::string& type, const std::string& key, int numel, int offset, std::vector<int> size,
                      std::vector<int> stride, const std::string& location = "cpu") {
    op("((").str("storage").global("torch", type).str(key).str(location);
    (numel < 256 ? int1(numel) : int4(numel)).op("tQ").int1(offset).op("(");
    for (int s : size) int1(s);
    op("t(");
    for (int s : stride) int1(s);
    return op("t\x89").global("collections", "OrderedDict").op(")Rt");
  }
  Pickle& tensor(const std::string& type, const std::string& key, int numel, int offset, std::vector<int> size,
                 std::vector<int> stride, const std::string& location = "cpu") {
    global("torch._utils", "_rebuild_tensor_v2");
    return tensor_args(type, key, numel, offset, size, stride, location).op("R");
  }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(")R"); }
};

std::vector<uint8_t> float_bytes(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

void write_checkpoint(const std::string& path, const std::string& pickle,
                      const std::vector<std::pair<std::string, std::vector<uint8_t>>>& storages,
                      const std::string& byteorder = "") {
  engine::ZipWriter writer(path);
  writer.add("model/data.pkl", bytes_of(pickle));
  if (!byteorder.empty()) writer.add("model/byteorder", bytes_of(byteorder));
  for (const auto& [key, data] : storages) writer.add("model/data/" + key, data);
  writer.add("model/version", bytes_of("3\n"));
  writer.finish();
}

}  // namespace

TEST_CASE("load_torch_checkpoint reads torch.save's state_dict exactly", "[torch_checkpoint]") {
  const auto tensors = engine::load_torch_checkpoint(fixture_dir + "state_dict.ckpt");
  std::ifstream in(fixture_dir + "state_dict.json");
  const nlohmann::json expected = nlohmann::json::parse(in);
  REQUIRE(tensors.size() == expected.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string name = expected[i][0];
    INFO(name);
    CHECK(tensors[i].first == name);
    CHECK(tensors[i].second.shape() == expected[i][1].get<engine::Shape>());
    // Every conversion (float16/bfloat16 exact, float64 and int64 rounded to nearest, as torch's
    // .float()) and every gather is exact: zero tolerance.
    test::expect_close(tensors[i].second.to_vector(), expected[i][2].get<std::vector<float>>(), 0, 0, name);
  }
}

TEST_CASE("load_torch_checkpoint refuses legacy checkpoints with the re-save command", "[torch_checkpoint]") {
  const std::string path = fixture_dir + "state_dict_legacy.ckpt";
  REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(path),
                      Contains("legacy") && Contains(path) &&
                          Contains("torch.save(torch.load(p), p, _use_new_zipfile_serialization=True)"));
  ScratchDir dir("ckpt_not");
  write_bytes(dir.file("text.ckpt"), bytes_of("hello, not a checkpoint"));
  REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(dir.file("text.ckpt")), Contains("not a PyTorch checkpoint"));
}

TEST_CASE("save_torch_checkpoint round trip and int64 names", "[torch_checkpoint]") {
  ScratchDir dir("ckpt_round_trip");
  const std::string path = dir.file("m.ckpt");
  const std::vector<std::pair<std::string, engine::Tensor>> tensors = {
      {"conv.weight", test::random_tensor({2, 3, 3, 3}, 1)},
      {"conv.bias", test::random_tensor({2}, 2)},
      {"scalar", engine::Tensor::scalar(-4.25f)},
      {"empty", engine::Tensor::zeros({0, 5})},
      {"bn.num_batches_tracked", engine::Tensor::scalar(300000.f)},
  };
  engine::save_torch_checkpoint(path, tensors, {"bn.num_batches_tracked"});
  CHECK(dir.listing() == std::vector<std::string>{"m.ckpt"});
  const auto loaded = engine::load_torch_checkpoint(path);
  REQUIRE(loaded.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(loaded[i].first == tensors[i].first);
    CHECK(loaded[i].second.shape() == tensors[i].second.shape());
    CHECK(loaded[i].second.to_vector() == tensors[i].second.to_vector());
  }
  // int64 storage: 8 bytes holding the integer.
  engine::ZipReader zip(path);
  const std::vector<uint8_t> int64_record = zip.read("archive/data/4");
  REQUIRE(int64_record.size() == 8);
  int64_t stored;
  std::memcpy(&stored, int64_record.data(), 8);
  CHECK(stored == 300000);
  CHECK(zip.read("archive/byteorder") == bytes_of("little"));
  CHECK(zip.read("archive/version") == bytes_of("3\n"));

  REQUIRE_THROWS_WITH(engine::save_torch_checkpoint(dir.file("x.ckpt"), {{"a", engine::Tensor::scalar(0.5f)}}, {"a"}),
                      Contains("non-integer"));
  REQUIRE_THROWS_WITH(engine::save_torch_checkpoint(dir.file("x.ckpt"), tensors, {"typo"}), Contains("typo"));
  CHECK(dir.listing() == std::vector<std::string>{"m.ckpt"});
}

TEST_CASE("save_torch_checkpoint is accepted by torch.load and load_state_dict", "[torch_checkpoint]") {
  if (!python_has("torch")) {
    WARN("skipped: /usr/bin/python3 with torch is absent; checkpoint not cross-checked with torch.load");
    return;
  }
  ScratchDir dir("ckpt_torch");
  const std::string path = dir.file("m.ckpt");
  const std::vector<std::pair<std::string, engine::Tensor>> tensors = {
      {"conv.weight", test::random_tensor({2, 3, 3, 3}, 3)}, {"conv.bias", test::random_tensor({2}, 4)},
      {"bn.weight", test::random_tensor({2}, 5)},           {"bn.bias", test::random_tensor({2}, 6)},
      {"bn.running_mean", test::random_tensor({2}, 7)},     {"bn.running_var", test::random_tensor({2}, 8, 0.5f, 2.f)},
      {"bn.num_batches_tracked", engine::Tensor::scalar(42.f)},
  };
  engine::save_torch_checkpoint(path, tensors, {"bn.num_batches_tracked"});
  std::string output;
  const bool ok = run_python(
      "import sys, json, torch\n"
      "sd = torch.load(sys.argv[1], weights_only=True)\n"
      "m = torch.nn.Module()\n"
      "m.conv = torch.nn.Conv2d(3, 2, 3)\n"
      "m.bn = torch.nn.BatchNorm2d(2)\n"
      "m.load_state_dict(sd)\n"
      "print(json.dumps([[k, str(v.dtype), list(v.shape), v.double().reshape(-1).tolist()] "
      "for k, v in m.state_dict().items()]))",
      {path}, output);
  INFO(output);
  REQUIRE(ok);
  const nlohmann::json seen = nlohmann::json::parse(output);
  REQUIRE(seen.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(seen[i][0] == tensors[i].first);
    CHECK(seen[i][1] == (i + 1 == tensors.size() ? "torch.int64" : "torch.float32"));
    CHECK(seen[i][2].get<engine::Shape>() == tensors[i].second.shape());
    test::expect_close(seen[i][3].get<std::vector<float>>(), tensors[i].second.to_vector(), 0, 0, tensors[i].first);
  }
}

TEST_CASE("load_torch_checkpoint gathers hand-built strided views and tensor subclasses", "[torch_checkpoint]") {
  ScratchDir dir("ckpt_views");
  const std::string path = dir.file("v.ckpt");
  // Storage 0..9; views: offset 1, size (2, 3), stride (1, 3) -> [[1, 4, 7], [2, 5, 8]]; a
  // Parameter of a 0-d view at offset 9, recorded as saved from a GPU (loads on the CPU).
  Pickle p;
  p.ordered_dict().op("(").str("t").tensor("FloatStorage", "0", 10, 1, {2, 3}, {1, 3});
  p.str("p").global("torch._utils", "_rebuild_parameter").op("(").tensor("FloatStorage", "0", 10, 9, {}, {}, "cuda:0");
  p.op("\x89").ordered_dict().op("tR");
  // A tensor subclass's form: _rebuild_from_type_v2(_rebuild_tensor_v2, Parameter, args, {}).
  p.str("s").global("torch._tensor", "_rebuild_from_type_v2").op("(").global("torch._utils", "_rebuild_tensor_v2");
  p.global("torch.nn.parameter", "Parameter").tensor_args("FloatStorage", "0", 10, 6, {2}, {2}).op("}tR");
  p.op("u.");
  write_checkpoint(path, p.bytes, {{"0", float_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9})}});
  const auto loaded = engine::load_torch_checkpoint(path);
  REQUIRE(loaded.size() == 3);
  CHECK(loaded[0].first == "t");
  CHECK(loaded[0].second.shape() == engine::Shape{2, 3});
  CHECK(loaded[0].second.to_vector() == std::vector<float>{1, 4, 7, 2, 5, 8});
  CHECK(loaded[1].first == "p");
  CHECK(loaded[1].second.shape() == engine::Shape{});
  CHECK(loaded[1].second.to_vector() == std::vector<float>{9});
  CHECK(loaded[2].first == "s");
  CHECK(loaded[2].second.to_vector() == std::vector<float>{6, 8});
}

TEST_CASE("load_torch_checkpoint honours the byteorder record", "[torch_checkpoint]") {
  ScratchDir dir("ckpt_byteorder");
  const std::string path = dir.file("b.ckpt");
  Pickle p;
  p.ordered_dict().op("(").str("d").tensor("DoubleStorage", "0", 2, 0, {2}, {1}).op("u.");
  // 1.5 and -2.0 as big-endian doubles.
  const std::vector<uint8_t> big = {0x3F, 0xF8, 0, 0, 0, 0, 0, 0, 0xC0, 0x00, 0, 0, 0, 0, 0, 0};
  write_checkpoint(path, p.bytes, {{"0", big}}, "big");
  CHECK(engine::load_torch_checkpoint(path)[0].second.to_vector() == std::vector<float>{1.5f, -2.f});
  std::vector<uint8_t> little(big.rbegin(), big.rend());  // -2.0, 1.5 little-endian, reversed order
  write_checkpoint(path, p.bytes, {{"0", little}}, "little");
  CHECK(engine::load_torch_checkpoint(path)[0].second.to_vector() == std::vector<float>{-2.f, 1.5f});
  write_checkpoint(path, p.bytes, {{"0", little}}, "middle");
  REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(path), Contains("unknown byteorder record 'middle'"));
}

TEST_CASE("load_torch_checkpoint refuses hostile and malformed pickles", "[torch_checkpoint]") {
  ScratchDir dir("ckpt_hostile");
  const std::string path = dir.file("evil.ckpt");
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> storage = {{"0", float_bytes({1, 2, 3, 4})}};
  auto refuses = [&](const std::string& pickle, const std::string& message) {
    write_checkpoint(path, pickle, storage);
    REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(path), Contains(path) && Contains(message));
  };
  SECTION("GLOBAL os.system") {
    refuses(Pickle().global("os", "system").str("touch pwned").op("\x85R.").bytes,
            "refusing to load: checkpoint needs global 'os.system'; only tensor state_dicts are supported");
  }
  SECTION("STACK_GLOBAL builtins.exec") {
    refuses(Pickle().str("builtins").str("exec").op("\x93").bytes, "needs global 'builtins.exec'");
  }
  SECTION("REDUCE of an allowed global that a state_dict never calls") {
    refuses(Pickle().global("torch", "FloatStorage").op(")R.").bytes, "calls 'torch.FloatStorage'");
  }
  SECTION("_rebuild_from_type_v2 of another type") {
    Pickle p;
    p.ordered_dict().str("s").global("torch._tensor", "_rebuild_from_type_v2").op("(");
    p.global("torch._utils", "_rebuild_tensor_v2").global("collections", "OrderedDict");
    p.tensor_args("FloatStorage", "0", 4, 0, {4}, {1}).op("}tR").op("s.");
    refuses(p.bytes, "only for torch.Tensor and Parameter");
  }
  SECTION("REDUCE of a non-callable") {
    refuses(Pickle().int1(1).op(")R.").bytes, "REDUCE of an int");
  }
  SECTION("not a dict") {
    refuses(Pickle().int1(5).op(".").bytes, "holds an int, not a state_dict");
  }
  SECTION("a value that is not a tensor") {
    refuses(Pickle().ordered_dict().str("a").int1(1).op("s.").bytes, "entry 'a' is an int, not a tensor");
  }
  SECTION("view past the end of its storage") {
    refuses(Pickle().ordered_dict().str("t").tensor("FloatStorage", "0", 4, 2, {3}, {1}).op("s.").bytes,
            "reaches past the end of its 4-element storage");
  }
  SECTION("view larger than its storage (stride 0)") {
    refuses(Pickle().ordered_dict().str("t").tensor("FloatStorage", "0", 4, 0, {100, 100}, {0, 0}).op("s.").bytes,
            "more elements than its storage");
  }
  SECTION("storage record shorter than its element count") {
    refuses(Pickle().ordered_dict().str("t").tensor("DoubleStorage", "0", 4, 0, {4}, {1}).op("s.").bytes,
            "too few for 4 elements");
  }
  SECTION("storage record missing") {
    refuses(Pickle().ordered_dict().str("t").tensor("FloatStorage", "7", 4, 0, {4}, {1}).op("s.").bytes,
            "'model/data/7' is missing");
  }
  SECTION("same storage key with two types") {
    Pickle p;
    p.ordered_dict().op("(").str("a").tensor("FloatStorage", "0", 4, 0, {4}, {1});
    p.str("b").tensor("IntStorage", "0", 4, 0, {4}, {1}).op("u.");
    refuses(p.bytes, "described twice");
  }
  SECTION("unsupported opcode") {
    refuses(Pickle().op("i").bytes, "opcode 0x69 is not supported");
  }
  SECTION("memo read before write") {
    refuses(Pickle().op("h\x05.").bytes, "memo lookup of an unset index");
  }
  SECTION("a repeated key (issue 14 case 6)") {
    Pickle p;
    p.ordered_dict().op("(").str("t").tensor("FloatStorage", "0", 4, 0, {4}, {1});
    p.str("t").tensor("FloatStorage", "0", 4, 0, {2}, {1}).op("u.");
    refuses(p.bytes, "the dict repeats the key 't'");
  }
  SECTION("containers nested past the limit (issue 14 case 11)") {
    Pickle p;
    for (int i = 0; i < 70; ++i) p.op("]");
    for (int i = 0; i < 69; ++i) p.op("a");
    refuses(p.op(".").bytes, "containers nested more than 64 deep");
  }
  SECTION("more objects than the cap (issue 14 case 11)") {
    // 2^22 + 1 small ints appended to one list: ~12.6 MB of pickle that would become gigabytes of
    // values without the cap.
    Pickle p;
    p.op("]");
    for (int i = 0; i <= (1 << 22); ++i) p.op(std::string("K\0a", 3));
    refuses(p.op(".").bytes, "more than 4194304 objects");
  }
  SECTION("bytes of a hostile name are escaped (issue 14 case 12)") {
    const std::string name = std::string("evil\x1b]0;pwned\x07\xff") + '\0' + "tail";
    write_checkpoint(path, Pickle().global("os", name).bytes, storage);
    REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(path),
                        Contains("os.evil\\x1b]0;pwned\\x07\\xff\\x00tail") && !Contains("\x1b"));
  }
  SECTION("storages declaring more than the budget, refused before inflating (issue 14 case 11)") {
    refuses(Pickle().ordered_dict().str("t").tensor("FloatStorage", "0", 0x7fffffff, 0, {4}, {1}).op("s.").bytes,
            "its storages declare more than 4 GiB");
  }
  SECTION("a storage record larger than its declared storage (issue 14 case 11)") {
    write_checkpoint(path, Pickle().ordered_dict().str("t").tensor("FloatStorage", "0", 2, 0, {2}, {1}).op("s.").bytes,
                     storage);
    REQUIRE_THROWS_WITH(engine::load_torch_checkpoint(path), Contains("holds 16 bytes, more than its 2 elements"));
  }
  SECTION("every truncation of a valid pickle") {
    Pickle p;
    p.ordered_dict().op("(").str("t").tensor("FloatStorage", "0", 4, 0, {2, 2}, {2, 1}).op("u.");
    for (size_t length = 0; length < p.bytes.size(); ++length) {
      INFO("pickle truncated to " << length << " bytes");
      write_checkpoint(path, p.bytes.substr(0, length), storage);
      REQUIRE_THROWS_AS(engine::load_torch_checkpoint(path), engine::Error);
    }
    write_checkpoint(path, p.bytes, storage);
    CHECK(engine::load_torch_checkpoint(path)[0].second.to_vector() == std::vector<float>{1, 2, 3, 4});
  }
}
