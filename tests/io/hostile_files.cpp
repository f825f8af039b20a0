// Hostile filesystems (issue 14 cases 1, 2, 4, 10): the guarded folder walk and the atomic
// writer's refusal to replace anything but a regular file.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>

#include "engine/check.h"
#include "engine/dir_walk.h"
#include "engine/torch_checkpoint.h"
#include "format_test_util.h"

using Catch::Matchers::Contains;
using namespace format_test;
namespace fs = std::filesystem;

namespace {

struct Walk {
  std::vector<std::string> files, warnings;
};

Walk walk(const std::string& root, bool recursive = true) {
  Walk result;
  engine::DirWalkOptions options;
  options.recursive = recursive;
  options.want = [](const std::string& name) { return fs::path(name).extension() == ".png"; };
  result.files = engine::list_regular_files(root, options,
                                            [&](const std::string& line) { result.warnings.push_back(line); });
  return result;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& text) {
  for (const std::string& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("list_regular_files enters each folder once (case 1: symlink cycles)", "[dir_walk]") {
  ScratchDir dir("walk_cycle");
  fs::create_directories(dir.file("NES"));
  write_bytes(dir.file("NES/a.png"), bytes_of("x"));
  fs::create_directory_symlink("..", dir.file("NES/up"));
  fs::create_directory_symlink("../NES", dir.file("NES/again"));
  fs::create_directory_symlink(".", dir.file("me"));
  const Walk w = walk(dir.file(""));
  CHECK(w.files == std::vector<std::string>{dir.file("NES/a.png")});
  CHECK(any_contains(w.warnings, "a folder already listed"));
  CHECK(w.warnings.size() == 3);  // NES/up, NES/again, me
}

TEST_CASE("list_regular_files skips FIFOs, dangling and looping links (cases 2, 10)", "[dir_walk]") {
  ScratchDir dir("walk_special");
  write_bytes(dir.file("good.png"), bytes_of("x"));
  REQUIRE(::mkfifo(dir.file("pipe.png").c_str(), 0600) == 0);
  fs::create_symlink("missing.png", dir.file("dangling.png"));
  fs::create_symlink("self.png", dir.file("self.png"));
  fs::create_symlink("good.png", dir.file("link.png"));
  const Walk w = walk(dir.file(""), false);
  CHECK(w.files == std::vector<std::string>{dir.file("good.png"), dir.file("link.png")});
  CHECK(any_contains(w.warnings, "pipe.png': a FIFO, not a regular file"));
  CHECK(any_contains(w.warnings, "dangling.png': No such file"));
  CHECK(any_contains(w.warnings, "self.png': Too many levels of symbolic links"));
  CHECK(w.warnings.size() == 3);
}

TEST_CASE("list_regular_files escapes hostile names and refuses a missing root", "[dir_walk]") {
  ScratchDir dir("walk_names");
  fs::create_symlink("nowhere", dir.file("esc\x1b]0;x\x07.png"));
  const Walk w = walk(dir.file(""));
  REQUIRE(w.warnings.size() == 1);
  CHECK(w.warnings[0].find('\x1b') == std::string::npos);
  CHECK(any_contains(w.warnings, "esc\\x1b]0;x\\x07.png"));
  REQUIRE_THROWS_WITH(walk(dir.file("absent")), Contains("cannot read the folder") && Contains("absent"));
}

TEST_CASE("atomic writes refuse to replace devices, FIFOs and folders (case 4)", "[dir_walk]") {
  const std::vector<std::pair<std::string, engine::Tensor>> none;
  if (fs::exists("/dev/full")) {
    REQUIRE_THROWS_WITH(engine::save_torch_checkpoint("/dev/full", none), Contains("'/dev/full': it is in /dev"));
    CHECK(fs::is_character_file("/dev/full"));
  }
  ScratchDir dir("atomic_special");
  REQUIRE(::mkfifo(dir.file("pipe.ckpt").c_str(), 0600) == 0);
  REQUIRE_THROWS_WITH(engine::save_torch_checkpoint(dir.file("pipe.ckpt"), none),
                      Contains("pipe.ckpt': it exists and is not a regular file (a FIFO)"));
  CHECK(fs::is_fifo(dir.file("pipe.ckpt")));
  fs::create_directory(dir.file("folder.ckpt"));
  REQUIRE_THROWS_WITH(engine::save_torch_checkpoint(dir.file("folder.ckpt"), none), Contains("(a folder)"));
  fs::create_symlink("/dev/null", dir.file("to_null.ckpt"));
  REQUIRE_THROWS_WITH(engine::save_torch_checkpoint(dir.file("to_null.ckpt"), none), Contains("it is in /dev"));
  // A regular file, and a symlink to one, are still replaced.
  write_bytes(dir.file("old.ckpt"), bytes_of("old"));
  engine::save_torch_checkpoint(dir.file("old.ckpt"), none);
  CHECK(engine::load_torch_checkpoint(dir.file("old.ckpt")).empty());
}
