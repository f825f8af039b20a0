#pragma once
// Internal helpers of engine/io: whole-file reads and atomic writes (temp file + rename), shared
// by the zip, checkpoint and safetensors code so each format only deals with its own layout.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace engine::io {

// The whole file; throws engine::Error "cannot open <what> '<path>'" when it cannot be read.
std::vector<uint8_t> read_file_bytes(const std::string& path, const char* what);

// Weights with a NaN or an infinity give silently black images, so every loader refuses them:
// throws "<path>: tensor '<name>' holds NaN at element <i> ..." for the first one found.
void check_finite(const std::vector<float>& values, const std::string& path, const std::string& name);

// Refuses (engine::Error) a `path` that exists and is not a regular file or a symlink to one, or
// that resolves into /dev (but /dev/shm). Writes to `path.tmp-<pid>`; commit() flushes, syncs and renames it over `path`. Destroyed
// without commit() (an exception on the way), it removes the temporary file, so `path` is never
// left half-written.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t size);
  uint64_t position() const { return position_; }
  void commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  uint64_t position_ = 0;
  bool committed_ = false;
};

}  // namespace engine::io
