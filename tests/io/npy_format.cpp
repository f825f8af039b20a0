// .npy/.npz: files written by NumPy itself (tests/fixtures/npz, made by tools/fixtures/make_npz_fixtures.py)
// read here, our files read by NumPy/SciPy (when /usr/bin/python3 has them), and hand-made
// malformed headers refused with a message that names the file.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <fstream>

#include "engine/check.h"
#include "engine/npy.h"
#include "engine/zip.h"

namespace fs = std::filesystem;

namespace {

const std::string fixtures = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/npz/";

std::vector<uint8_t> with_header(const std::string& dict, const std::vector<uint8_t>& data, int version = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', uint8_t(version), 0};
  const size_t n = dict.size();
  out.push_back(uint8_t(n & 0xFF));
  out.push_back(uint8_t(n >> 8));
  if (version > 1) {
    out.push_back(0);
    out.push_back(0);
  }
  out.insert(out.end(), dict.begin(), dict.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    engine::parse_npy(bytes, "probe.npy");
  } catch (const engine::Error& e) {
    return e.what();
  }
  return "";
}

bool python_has(const std::string& modules) {
  const std::string command = "/usr/bin/python3 -c 'import " + modules + "' >/dev/null 2>&1";
  return fs::exists("/usr/bin/python3") && std::system(command.c_str()) == 0;
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("engine_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

const std::vector<double> expected_2x3 = {0, 0.25, 0.5, 0.75, 1.0, 1.25};

}  // namespace

TEST_CASE("npy: NumPy's files of every format version and byte order", "[npy]") {
  for (const char* name : {"f8_2x3_v1.npy", "f8_2x3_v2.npy", "f8_2x3_v3.npy", "f8_2x3_big_endian.npy"}) {
    INFO(name);
    const engine::NpyArray a = engine::load_npy(fixtures + name);
    CHECK(a.kind == 'f');
    CHECK(a.item_size == 8);
    CHECK(a.shape == std::vector<int64_t>{2, 3});
    CHECK(a.to_f64() == expected_2x3);
  }
  const engine::NpyArray ints = engine::load_npy(fixtures + "i4_big_endian.npy");
  CHECK(ints.descr() == "<i4");
  CHECK(ints.to_i64() == std::vector<int64_t>{1, -2, 70000});
  const engine::NpyArray scalar = engine::load_npy(fixtures + "i8_scalar.npy");
  CHECK(scalar.shape.empty());
  CHECK(scalar.to_i64() == std::vector<int64_t>{-5});
  CHECK(engine::load_npy(fixtures + "b1_4.npy").to_i64() == std::vector<int64_t>{1, 0, 0, 1});
  const engine::NpyArray text = engine::load_npy(fixtures + "u3_scalar.npy");
  CHECK(text.descr() == "<U3");
  CHECK(text.to_string() == "csr");
}

TEST_CASE("npy: Fortran order is refused for 2-d arrays", "[npy]") {
  const std::string path = fixtures + "f4_2x3_fortran.npy";
  CHECK_THROWS_WITH(engine::load_npy(path), Catch::Contains(path) && Catch::Contains("Fortran"));
  // 1-d Fortran order is the same layout as C order: accepted.
  const std::vector<uint8_t> one_d =
      with_header("{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }\n", {7, 0, 0, 0, 9, 0, 0, 0});
  CHECK(engine::parse_npy(one_d, "x").to_i64() == std::vector<int64_t>{7, 9});
}

TEST_CASE("npy: our encoding round-trips and matches NumPy's header layout", "[npy]") {
  const engine::NpyArray a = engine::NpyArray::from_f64(expected_2x3, {2, 3});
  const std::vector<uint8_t> bytes = engine::encode_npy(a);
  CHECK((bytes.size() - a.data.size()) % 64 == 0);  // data aligned as NumPy aligns it
  std::ifstream in(fixtures + "f8_2x3_v1.npy", std::ios::binary);
  const std::vector<uint8_t> numpy_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(bytes == numpy_bytes);  // byte for byte what np.save writes
  const engine::NpyArray back = engine::parse_npy(bytes, "roundtrip");
  CHECK(back.shape == a.shape);
  CHECK(back.to_f64() == expected_2x3);
  const engine::NpyArray s = engine::parse_npy(engine::encode_npy(engine::NpyArray::from_bytes_scalar("csr")), "s");
  CHECK(s.descr() == "|S3");
  CHECK(s.to_string() == "csr");
}

TEST_CASE("npy: malformed headers are refused with a reason", "[npy]") {
  const std::vector<uint8_t> eight(8, 0);
  const std::string good = "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n";
  REQUIRE(parse_error(with_header(good, eight)).empty());
  CHECK_THAT(parse_error({'N', 'O', 'T'}), Catch::Contains("probe.npy") && Catch::Contains("magic"));
  std::vector<uint8_t> version9 = with_header(good, eight);
  version9[6] = 9;
  CHECK_THAT(parse_error(version9), Catch::Contains("version 9.0"));
  std::vector<uint8_t> long_header = with_header(good, eight);
  long_header[8] = 0xFF;
  long_header[9] = 0x7F;  // header length beyond the file
  CHECK_THAT(parse_error(long_header), Catch::Contains("truncated"));
  struct Case {
    std::string dict, reason;
  };
  const std::vector<Case> cases = {
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), ", "expected"},      // unterminated dict
      {"{'descr': '<f8', 'fortran_order': False}", "no 'shape'"},                      // missing key
      {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", "expected a string"},    // not a bool
      {"{'descr': '<f8', 'fortran_order': False, 'shape': [1]}", "expected a string"}, // list, not tuple
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (-1,)}", "non-negative"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", "expected a string"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 'y'}", "unexpected keys"},
      {"{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", "duplicate"},
      {"{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype"},
      {"{'descr': 'O', 'fortran_order': False, 'shape': (1,)}", "unsupported dtype"},
      {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", "expected a string"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", "does not match"},   // 8 bytes for 2 doubles
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (0,)}", "does not match"},   // 8 bytes for none
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999)}", "larger than the data"},
      {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,)} __import__('os')", "after the dict"},
  };
  for (const Case& c : cases) {
    INFO(c.dict);
    CHECK_THAT(parse_error(with_header(c.dict, eight)), Catch::Contains("probe.npy") && Catch::Contains(c.reason));
  }
}

TEST_CASE("npz: written here, read back; entries that are not .npy refused", "[npy]") {
  const fs::path dir = temp_dir("npz");
  const std::string path = (dir / "a.npz").string();
  std::map<std::string, engine::NpyArray> arrays;
  arrays["x"] = engine::NpyArray::from_f32({1.5f, -2.f}, {2});
  arrays["n"] = engine::NpyArray::from_i64({3, 4, 5}, {3, 1});
  engine::save_npz(path, arrays);
  const auto back = engine::load_npz(path);
  REQUIRE(back.size() == 2);
  CHECK(back.at("x").to_f64() == std::vector<double>{1.5, -2.0});
  CHECK(back.at("n").shape == std::vector<int64_t>{3, 1});
  CHECK(back.at("n").to_i64() == std::vector<int64_t>{3, 4, 5});

  const std::string odd = (dir / "odd.npz").string();
  engine::ZipWriter zip(odd);
  zip.add("readme.txt", std::vector<uint8_t>{'h', 'i'});
  zip.finish();
  CHECK_THROWS_WITH(engine::load_npz(odd), Catch::Contains("readme.txt") && Catch::Contains("not a .npy"));

  // Entries not asked for are never inflated nor parsed (issue 14 case 11): a broken one that
  // is not wanted costs nothing and does not fail the load.
  const std::string extra = (dir / "extra.npz").string();
  engine::ZipWriter with_junk(extra);
  with_junk.add("x.npy", engine::encode_npy(arrays["x"]));
  with_junk.add("unused.npy", std::vector<uint8_t>{'j', 'u', 'n', 'k'});
  with_junk.finish();
  CHECK_THROWS_WITH(engine::load_npz(extra), Catch::Contains("unused.npy"));
  const auto wanted = engine::load_npz(extra, {"x"});
  REQUIRE(wanted.size() == 1);
  CHECK(wanted.at("x").to_f64() == std::vector<double>{1.5, -2.0});

  if (!python_has("numpy")) {
    WARN("skipped: /usr/bin/python3 with numpy not found, our .npz not checked by NumPy");
  } else {
    const std::string check = "/usr/bin/python3 -c \"import numpy as np; z = np.load('" + path +
                              "'); assert z['x'].dtype == np.float32 and list(z['x']) == [1.5, -2.0];"
                              " assert z['n'].shape == (3, 1) and z['n'].dtype == np.int64\"";
    CHECK(std::system(check.c_str()) == 0);
  }
  fs::remove_all(dir);
}
