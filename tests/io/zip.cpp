// ZipReader / ZipWriter: a Python-made deflated archive, round trips through our writer (with and
// without ZIP64, checked by walking the local headers by hand and by Python's zipfile), and
// hostile inputs: truncation at every length, every byte flipped, lying sizes and offsets,
// CRC mismatches, duplicate names and a declared size deflate cannot produce.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "engine/check.h"
#include "engine/zip.h"
#include "format_test_util.h"

using Catch::Matchers::Contains;
using namespace format_test;

namespace {

const std::string fixture_dir = std::string(ENGINE_SOURCE_DIR) + "/tests/fixtures/io/";

// The entries of tests/fixtures/io/deflated.zip, by the formulas in tools/fixtures/make_io_fixtures.py.
std::vector<std::pair<std::string, std::vector<uint8_t>>> deflated_fixture_contents() {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "hello zip\n";
  std::vector<uint8_t> numbers(1000);
  for (int i = 0; i < 1000; ++i) numbers[i] = static_cast<uint8_t>((i * 7 + 3) % 256);
  return {{"text.txt", bytes_of(text)}, {"dir/bytes.bin", numbers}, {"stored.bin", bytes_of("stored entry")},
          {"empty.txt", {}}};
}

std::vector<std::pair<std::string, std::vector<uint8_t>>> sample_entries() {
  std::vector<uint8_t> ramp(300);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<uint8_t>(i * 13);
  return {{"archive/data.pkl", bytes_of("pickle-ish")}, {"archive/data/0", ramp}, {"archive/empty", {}},
          {"archive/version", bytes_of("3\n")}};
}

void write_sample(const std::string& path, bool force_zip64) {
  engine::ZipWriter writer(path, force_zip64);
  for (const auto& [name, data] : sample_entries()) writer.add(name, data);
  writer.finish();
}

// Offset of the central-directory header of `name` in an archive's bytes.
size_t central_entry(const std::vector<uint8_t>& bytes, const std::string& name) {
  for (size_t at = 0; at + 46 + name.size() <= bytes.size(); ++at)
    if (get32(bytes, at) == 0x02014b50 && get16(bytes, at + 28) == name.size() &&
        std::equal(name.begin(), name.end(), bytes.begin() + at + 46))
      return at;
  FAIL("no central directory entry for " << name);
  return 0;
}

// Either the archive opens and every entry reads back as written, or engine::Error is thrown.
// Returns whether it threw.
bool reads_back_or_throws(const std::string& path) {
  try {
    engine::ZipReader reader(path);
    for (const auto& [name, data] : sample_entries()) {
      if (reader.read(name) != data) {
        FAIL_CHECK("entry " << name << " read back different bytes without an error");
        return false;
      }
    }
    return false;
  } catch (const engine::Error&) {
    return true;
  }
}

}  // namespace

TEST_CASE("ZipReader reads Python's deflated and stored entries", "[zip]") {
  engine::ZipReader reader(fixture_dir + "deflated.zip");
  const auto expected = deflated_fixture_contents();
  std::vector<std::string> names;
  for (const auto& entry : expected) names.push_back(entry.first);
  REQUIRE(reader.names() == names);
  for (const auto& [name, data] : expected) {
    INFO(name);
    CHECK(reader.contains(name));
    CHECK(reader.read(name) == data);
  }
  CHECK_FALSE(reader.contains("missing"));
  REQUIRE_THROWS_WITH(reader.read("missing"), Contains("deflated.zip") && Contains("'missing'"));
}

TEST_CASE("ZipWriter round trip, 64-byte aligned data, temp file renamed", "[zip]") {
  for (bool zip64 : {false, true}) {
    INFO("force_zip64 " << zip64);
    ScratchDir dir("zip_round_trip");
    const std::string path = dir.file("a.zip");
    write_sample(path, zip64);
    REQUIRE(dir.listing() == std::vector<std::string>{"a.zip"});
    engine::ZipReader reader(path);
    const auto entries = sample_entries();
    REQUIRE(reader.names().size() == entries.size());
    for (const auto& [name, data] : entries) CHECK(reader.read(name) == data);

    // Walk the local headers by hand: each entry's data starts on a 64-byte boundary.
    const std::vector<uint8_t> bytes = read_bytes(path);
    size_t at = 0;
    for (const auto& [name, data] : entries) {
      REQUIRE(get32(bytes, at) == 0x04034b50);
      const size_t data_start = at + 30 + get16(bytes, at + 26) + get16(bytes, at + 28);
      CHECK(data_start % 64 == 0);
      CHECK(std::equal(data.begin(), data.end(), bytes.begin() + data_start));
      at = data_start + data.size();
    }
    // ZIP64 end record present exactly when asked for (the sample needs no ZIP64).
    bool has_zip64_end = false;
    for (size_t i = at; i + 4 <= bytes.size(); ++i) has_zip64_end = has_zip64_end || get32(bytes, i) == 0x06064b50;
    CHECK(has_zip64_end == zip64);

    if (!python_has("zipfile")) {
      WARN("skipped: /usr/bin/python3 is absent, archive not cross-checked with Python's zipfile");
      continue;
    }
    std::string output;
    const bool ok = run_python(
        "import sys, zipfile\n"
        "z = zipfile.ZipFile(sys.argv[1])\n"
        "assert z.testzip() is None\n"
        "print(\";\".join(\"%s=%d\" % (i.filename, len(z.read(i))) for i in z.infolist()))",
        {path}, output);
    INFO(output);
    REQUIRE(ok);
    CHECK(output == "archive/data.pkl=10;archive/data/0=300;archive/empty=0;archive/version=2\n");
  }
}

TEST_CASE("ZipWriter leaves nothing behind when not finished", "[zip]") {
  ScratchDir dir("zip_abandon");
  const std::string path = dir.file("a.zip");
  write_bytes(path, bytes_of("previous contents"));
  {
    engine::ZipWriter writer(path);
    writer.add("x", bytes_of("data"));
    REQUIRE(dir.listing().size() == 2);  // the temporary file exists while writing
    REQUIRE_THROWS_WITH(writer.add("x", bytes_of("again")), Contains("duplicate"));
  }
  CHECK(dir.listing() == std::vector<std::string>{"a.zip"});
  CHECK(read_bytes(path) == bytes_of("previous contents"));
}

TEST_CASE("ZipReader refuses every truncation and survives every flipped byte", "[zip]") {
  ScratchDir dir("zip_fuzz");
  const std::string path = dir.file("a.zip");
  write_sample(path, true);
  const std::vector<uint8_t> good = read_bytes(path);
  const std::string broken = dir.file("broken.zip");
  for (size_t length = 0; length < good.size(); ++length) {
    write_bytes(broken, std::vector<uint8_t>(good.begin(), good.begin() + length));
    INFO("truncated to " << length << " bytes");
    REQUIRE_THROWS_AS(engine::ZipReader(broken), engine::Error);
  }
  size_t refused = 0;
  for (size_t at = 0; at < good.size(); ++at) {
    std::vector<uint8_t> bytes = good;
    bytes[at] ^= 0xFF;
    write_bytes(broken, bytes);
    INFO("byte " << at << " flipped");
    refused += reads_back_or_throws(broken);
  }
  // Only padding, timestamps, versions and attributes may change unnoticed: most flips are caught.
  CHECK(refused > good.size() / 2);
}

TEST_CASE("ZipReader refuses lying offsets, sizes, CRCs and names", "[zip]") {
  ScratchDir dir("zip_hostile");
  const std::string path = dir.file("a.zip");
  write_sample(path, false);
  const std::vector<uint8_t> good = read_bytes(path);
  const std::string bad = dir.file("bad.zip");
  const size_t eocd = good.size() - 22;
  REQUIRE(get32(good, eocd) == 0x06054b50);

  SECTION("end record points the central directory outside the file") {
    std::vector<uint8_t> bytes = good;
    put32(bytes, eocd + 16, static_cast<uint32_t>(good.size() + 100));
    write_bytes(bad, bytes);
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("bad.zip") && Contains("outside"));
  }
  SECTION("entry size lies: past the end of the file") {
    std::vector<uint8_t> bytes = good;
    const size_t cd = central_entry(bytes, "archive/data/0");
    put32(bytes, cd + 20, 1u << 30);
    put32(bytes, cd + 24, 1u << 30);
    write_bytes(bad, bytes);
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("bad.zip") && Contains("archive/data/0"));
  }
  SECTION("entry size lies: into the next entry") {
    std::vector<uint8_t> bytes = good;
    const size_t cd = central_entry(bytes, "archive/data/0");
    put32(bytes, cd + 20, 400);
    put32(bytes, cd + 24, 400);
    write_bytes(bad, bytes);
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("overlaps"));
  }
  SECTION("CRC mismatch") {
    std::vector<uint8_t> bytes = good;
    const size_t cd = central_entry(bytes, "archive/data/0");
    put32(bytes, cd + 16, get32(bytes, cd + 16) ^ 1);
    write_bytes(bad, bytes);
    engine::ZipReader reader(bad);
    CHECK(reader.read("archive/version") == bytes_of("3\n"));
    REQUIRE_THROWS_WITH(reader.read("archive/data/0"), Contains("bad.zip") && Contains("archive/data/0") && Contains("CRC"));
  }
  SECTION("duplicate names") {
    // Two entries "aa" and "ab", then every "ab" (local and central names) patched to "aa".
    engine::ZipWriter writer(bad);
    writer.add("aa", bytes_of("1"));
    writer.add("ab", bytes_of("2"));
    writer.finish();
    std::vector<uint8_t> bytes = read_bytes(bad);
    for (size_t i = 0; i + 2 <= bytes.size(); ++i)
      if (bytes[i] == 'a' && bytes[i + 1] == 'b') bytes[i + 1] = 'a';
    write_bytes(bad, bytes);
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("duplicate entry name 'aa'"));
  }
  SECTION("declared uncompressed size beyond what deflate can produce") {
    std::vector<uint8_t> bytes = read_bytes(fixture_dir + "deflated.zip");
    const size_t cd = central_entry(bytes, "text.txt");
    put32(bytes, cd + 24, 0x7FFFFFFF);
    write_bytes(bad, bytes);
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("text.txt") && Contains("more than deflate can produce"));
  }
  SECTION("declared uncompressed size smaller than the stream") {
    std::vector<uint8_t> bytes = read_bytes(fixture_dir + "deflated.zip");
    const size_t cd = central_entry(bytes, "text.txt");
    put32(bytes, cd + 24, 100);
    write_bytes(bad, bytes);
    engine::ZipReader reader(bad);
    REQUIRE_THROWS_WITH(reader.read("text.txt"), Contains("text.txt") && Contains("more bytes than the declared 100"));
  }
  SECTION("corrupt deflate stream") {
    std::vector<uint8_t> bytes = read_bytes(fixture_dir + "deflated.zip");
    const size_t cd = central_entry(bytes, "dir/bytes.bin");
    const size_t local = get32(bytes, cd + 42);
    const size_t data = local + 30 + get16(bytes, local + 26) + get16(bytes, local + 28);
    for (size_t i = 0; i < 8; ++i) bytes[data + i] = 0xFF;
    write_bytes(bad, bytes);
    engine::ZipReader reader(bad);
    REQUIRE_THROWS_WITH(reader.read("dir/bytes.bin"), Contains("bad.zip") && Contains("dir/bytes.bin"));
  }
  SECTION("not a zip at all") {
    write_bytes(bad, bytes_of(std::string(100, 'x')));
    REQUIRE_THROWS_WITH(engine::ZipReader(bad), Contains("bad.zip") && Contains("not a zip archive"));
    REQUIRE_THROWS_WITH(engine::ZipReader(dir.file("absent.zip")), Contains("cannot open") && Contains("absent.zip"));
  }
}
