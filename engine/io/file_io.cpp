// Whole-file reads and atomic writes for the file formats (see file_io.h).
#include "file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/check.h"

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

AtomicFile::AtomicFile(const std::string& path)
    : path_(path), temp_path_(path + ".tmp-" + std::to_string(::getpid())) {
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
