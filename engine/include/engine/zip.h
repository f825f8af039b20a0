#pragma once
// Reading and writing ZIP archives: the container of PyTorch checkpoints (.ckpt/.pt) and NumPy
// .npz files. Entries may be stored or deflated (zlib); ZIP64 records are understood. The reader
// trusts nothing it reads: every offset and size is checked against the file, CRC-32 is verified,
// and errors name the archive and the entry.
//
// Accepted: one-disk archives, methods 0 (stored) and 8 (deflate), ZIP64 end records and extra
// fields, data descriptors (the central directory sizes are used). Refused: encryption, other
// methods, multi-disk archives, duplicate names, entries whose bytes overlap each other or the
// central directory, a local header that disagrees with the central directory, and declared
// sizes that deflate cannot produce (a zip-bomb guard: deflate expands at most 1032:1).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace engine {

class ZipReader {
 public:
  // Reads the whole file and validates every entry's headers and bounds up front; throws
  // engine::Error naming the file.
  explicit ZipReader(const std::string& path);
  const std::string& path() const { return path_; }
  std::vector<std::string> names() const;  // in central-directory order
  bool contains(const std::string& name) const;
  // The entry's bytes, inflated and CRC-checked; throws naming the archive and the entry. Const
  // and stateless: several threads may read entries of one reader at once.
  std::vector<uint8_t> read(const std::string& name) const;
  // The entry's size once inflated, as the central directory declares it (read() checks it), so a
  // caller can refuse an entry larger than what it expects before anything is allocated.
  uint64_t size(const std::string& name) const;

 private:
  struct Entry {
    std::string name;
    uint64_t local_header_offset = 0;
    uint64_t data_offset = 0;  // first byte of the (compressed) data, after the local header
    uint64_t compressed_size = 0;
    uint64_t uncompressed_size = 0;
    uint16_t method = 0;
    uint32_t crc32 = 0;
  };
  const Entry& find(const std::string& name) const;
  uint64_t read_central_directory();  // returns the central directory's offset
  void check_local_headers(uint64_t data_limit);
  std::string path_;
  std::vector<uint8_t> bytes_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;  // name -> position in entries_
};

// Writes stored (uncompressed) entries, each entry's data aligned to 64 bytes as torch.save does
// (padding in an extra field with id "FB"), to `path.tmp-<pid>`, which finish() renames over
// `path`, so a crash never leaves half a file. ZIP64 records are written when a size, offset or
// the entry count needs them, or always with `force_zip64` (which exists so tests can exercise
// the ZIP64 reader on small archives).
class ZipWriter {
 public:
  explicit ZipWriter(const std::string& path, bool force_zip64 = false);
  ~ZipWriter();  // without finish(): the temporary file is removed
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;
  void add(const std::string& name, const std::vector<uint8_t>& data);
  void add(const std::string& name, const void* data, size_t size);
  void finish();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace engine
