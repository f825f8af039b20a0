// Whole-file reads and atomic writes for the file formats (see file_io.h).
#include "file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "engine/check.h"
#include "engine/file.h"

namespace engine::io {

std::vector<uint8_t> read_file_bytes(const std::string& path, const char* what) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) ENGINE_FAIL("cannot open ", what, " '", path, "': ", std::strerror(errno));
  std::vector<uint8_t> bytes;
  bool ok = std::fseek(file, 0, SEEK_END) == 0;
  long size = ok ? std::ftell(file) : -1;
  ok = ok && size >= 0 && std::fseek(file, 0, SEEK_SET) == 0;
  if (ok) {
    bytes.resize(static_cast<size_t>(size));
    ok = std::fread(bytes.data(), 1, bytes.size(), file) == bytes.size();
  }
  std::fclose(file);
  if (!ok) ENGINE_FAIL("cannot read ", what, " '", path, "' (is it a regular file?)");
  return bytes;
}

namespace {

// The rename in commit() replaces whatever `path` names. That is right for a regular file (or a
// symlink to one) and wrong for anything else: renaming over /dev/full or a FIFO would swap a
// device node for a plain file and report success.
void refuse_non_regular_target(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path resolved = std::filesystem::weakly_canonical(path, ec);
  const std::string text = ec ? path : resolved.string();
  const bool in_dev = text == "/dev" || text.rfind("/dev/", 0) == 0;
  if (in_dev && text.rfind("/dev/shm/", 0) != 0)  // /dev/shm holds plain files in memory
    ENGINE_FAIL("refusing to write '", path, "': it is in /dev (write to a regular file)");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    ENGINE_FAIL("refusing to write '", path, "': it exists and is not a regular file (",
                S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO" : "a device or socket", ")");
}

}  // namespace

void check_finite(const std::vector<float>& values, const std::string& path, const std::string& name) {
  for (size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i]))
      ENGINE_FAIL(printable(path, 4096), ": tensor '", printable(name), "' holds ",
                  std::isnan(values[i]) ? "NaN" : "an infinity (or a value beyond float range)", " at element ", i,
                  "; the weights are damaged (a diverged training or a corrupt file)");
}

AtomicFile::AtomicFile(const std::string& path)
    : path_(path), temp_path_(path + ".tmp-" + std::to_string(::getpid())) {
  refuse_non_regular_target(path);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_)
    ENGINE_FAIL("cannot create '", temp_path_, "' (to write '", path, "'): ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) std::remove(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  ENGINE_CHECK(file_ && !committed_, "AtomicFile: write to '", path_, "' after commit");
  if (size > 0 && std::fwrite(data, 1, size, file_) != size)
    ENGINE_FAIL("cannot write '", temp_path_, "': ", std::strerror(errno), " (disk full?)");
  position_ += size;
}

void AtomicFile::commit() {
  ENGINE_CHECK(file_ && !committed_, "AtomicFile: '", path_, "' committed twice");
  // fsync before rename: otherwise a crash can leave the new name pointing at an empty file.
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) ENGINE_FAIL("cannot write '", temp_path_, "': ", std::strerror(errno));
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    ENGINE_FAIL("cannot rename '", temp_path_, "' to '", path_, "': ", std::strerror(errno));
  committed_ = true;
}

}  // namespace engine::io

namespace engine {

void write_file_atomically(const std::string& path, const std::string& contents) {
  io::AtomicFile file(path);
  file.write(contents.data(), contents.size());
  file.commit();
}

}  // namespace engine
