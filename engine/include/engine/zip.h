#pragma once
// Reading and writing ZIP archives: the container of PyTorch checkpoints (.ckpt/.pt) and NumPy
// .npz files. Entries may be stored or deflated (zlib); ZIP64 records are understood. The reader
// trusts nothing it reads: every offset and size is checked against the file, CRC-32 is verified,
// and errors name the archive and the entry.
#include <cstdint>
#include <string>
#include <vector>

namespace engine {

class ZipReader {
 public:
  explicit ZipReader(const std::string& path);  // throws engine::Error naming the file
  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  std::vector<uint8_t> read(const std::string& name) const;  // inflated, CRC-checked

 private:
  struct Entry {
    std::string name;
    uint64_t local_header_offset = 0;
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint16_t method = 0;
    uint32_t crc32 = 0;
  };
  std::string path_;
  std::vector<uint8_t> bytes_;
  std::vector<Entry> entries_;
};

// Writes stored (uncompressed) entries, each entry's data aligned to 64 bytes as torch.save does,
// to a temporary file that finish() renames over `path`, so a crash never leaves half a file.
class ZipWriter {
 public:
  explicit ZipWriter(const std::string& path);
  ~ZipWriter();  // without finish(): the temporary file is removed
  void add(const std::string& name, const std::vector<uint8_t>& data);
  void finish();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace engine
