// The --model_save_dir lock (issue 14 cases 7 and 8): a second training into one folder is
// refused naming the first, a stale lock is taken over, stale temporaries are swept.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/check.h"
#include "models/sargan/save_dir_lock.h"

namespace fs = std::filesystem;
using models::sargan::SaveDirLock;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("sargan_lock_" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("SaveDirLock: one training per folder, stale locks and temporaries recovered", "[trainer]") {
  TempDir dir;
  const std::string save = (dir.path / "models").string();
  {
    std::ostringstream log;
    const SaveDirLock first(save, log);  // creates the folder
    CHECK(log.str().empty());
    // flock conflicts between open file descriptions, even in one process: a stand-in for a
    // second training.
    std::ostringstream log2;
    REQUIRE_THROWS_WITH(SaveDirLock(save, log2),
                        Catch::Contains("is in use by another training (pid " + std::to_string(::getpid()) +
                                        " on host ") &&
                            Catch::Contains(".sargan.lock"));
  }
  // Released at scope exit: a new run takes it without complaint.
  {
    std::ostringstream log;
    const SaveDirLock again(save, log);
    CHECK(log.str().empty());
  }
  // A killed run leaves its owner line (the kernel dropped its flock) and temporaries.
  std::ofstream(save + "/.sargan.lock") << "pid 4242 on host elsewhere\n";
  for (const char* name : {"335-state.safetensors.tmp-513", "335-G.safetensors.tmp-513", "checkpoint.tmp-9",
                           "notes.txt.tmp-5", "335-G.safetensors"})
    std::ofstream(save + "/" + name) << "x";
  std::ostringstream log;
  const SaveDirLock recovered(save, log);
  CHECK_THAT(log.str(), Catch::Contains("took over the stale lock") && Catch::Contains("pid 4242 on host elsewhere") &&
                            Catch::Contains("removed 3 temporary files"));
  CHECK(!fs::exists(save + "/335-state.safetensors.tmp-513"));
  CHECK(!fs::exists(save + "/checkpoint.tmp-9"));
  CHECK(fs::exists(save + "/notes.txt.tmp-5"));  // not of our naming: left alone
  CHECK(fs::exists(save + "/335-G.safetensors"));
}
