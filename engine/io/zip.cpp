// ZIP archives (PKWARE APPNOTE 6.3): a validating reader for stored/deflated entries with ZIP64,
// and a writer of stored, 64-byte-aligned entries in the layout torch.save produces.
#include "engine/zip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "engine/check.h"
#include "file_io.h"

namespace engine {
namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndSize = 22;
constexpr size_t kZip64EndSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint16_t kPaddingExtraId = 0x4246;  // "FB": PyTorch's alignment padding
constexpr uint64_t kAlignment = 64;
constexpr uint32_t kMax32 = 0xFFFFFFFF;
constexpr uint16_t kMax16 = 0xFFFF;
// Deflate cannot expand more than 1032:1 (a 258-byte match in 2 bits); a larger declared
// uncompressed size is a lie or a bomb, refused before any allocation.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t get32(const uint8_t* p) { return get16(p) | (static_cast<uint32_t>(get16(p + 2)) << 16); }
uint64_t get64(const uint8_t* p) { return get32(p) | (static_cast<uint64_t>(get32(p + 4)) << 32); }

void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v));
  put16(out, static_cast<uint16_t>(v >> 16));
}
void put64(std::vector<uint8_t>& out, uint64_t v) {
  put32(out, static_cast<uint32_t>(v));
  put32(out, static_cast<uint32_t>(v >> 32));
}

// True when [offset, offset + size) lies inside [0, limit), without overflow.
bool in_range(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

uint32_t crc32_of(const uint8_t* data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(size, UINT_MAX));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Raw deflate (no zlib header), exactly `expected` bytes out or an error message.
std::string inflate_raw(const uint8_t* in, size_t in_size, std::vector<uint8_t>& out) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) return "zlib inflateInit2 failed";
  size_t in_done = 0, out_done = 0;
  int status = Z_OK;
  while (status == Z_OK) {
    stream.next_in = const_cast<uint8_t*>(in + in_done);
    stream.avail_in = static_cast<uInt>(std::min<size_t>(in_size - in_done, UINT_MAX));
    // One spare byte of output room, so data beyond the declared size is detected.
    uint8_t spare = 0;
    bool full = out_done == out.size();
    stream.next_out = full ? &spare : out.data() + out_done;
    stream.avail_out = full ? 1u : static_cast<uInt>(std::min<size_t>(out.size() - out_done, UINT_MAX));
    uInt avail_in = stream.avail_in, avail_out = stream.avail_out;
    status = inflate(&stream, Z_NO_FLUSH);
    in_done += avail_in - stream.avail_in;
    size_t produced = avail_out - stream.avail_out;
    if (full && produced > 0) {
      inflateEnd(&stream);
      return "inflates to more bytes than the declared " + std::to_string(out.size());
    }
    out_done += produced;
    if (status == Z_BUF_ERROR && in_done == in_size) break;  // input exhausted before the end
    if (status == Z_BUF_ERROR) status = Z_OK;
  }
  const std::string message = stream.msg ? stream.msg : "truncated";
  inflateEnd(&stream);
  if (status != Z_STREAM_END) return "corrupt deflate stream (" + message + ")";
  if (out_done != out.size())
    return "inflates to " + std::to_string(out_done) + " bytes, the header declares " +
           std::to_string(out.size());
  return "";
}

struct CentralDirectory {
  uint64_t offset, size, count;
};

// Finds the end record (and the ZIP64 one it may point to) and checks the central directory it
// describes lies inside the file.
CentralDirectory locate_central_directory(const std::vector<uint8_t>& bytes, const std::string& path) {
  const uint64_t size = bytes.size();
  const uint8_t* base = bytes.data();
  if (size < kEndSize)
    ENGINE_FAIL(path, ": not a zip archive (", size, " bytes, too short for an end record)");
  // The end record sits in the last 22 bytes plus an optional comment of up to 64 KiB; search
  // backwards, only that far, for a signature whose comment length reaches exactly to the end.
  uint64_t end_pos = UINT64_MAX;
  const uint64_t lowest = size >= kEndSize + kMax16 ? size - kEndSize - kMax16 : 0;
  for (uint64_t pos = size - kEndSize + 1; pos-- > lowest;) {
    if (get32(base + pos) == kEndSig && pos + kEndSize + get16(base + pos + 20) == size) {
      end_pos = pos;
      break;
    }
  }
  if (end_pos == UINT64_MAX)
    ENGINE_FAIL(path, ": not a zip archive or truncated (no end-of-central-directory record)");
  const uint8_t* end = base + end_pos;
  uint64_t disk = get16(end + 4), cd_disk = get16(end + 6);
  uint64_t count_here = get16(end + 8), count = get16(end + 10);
  uint64_t cd_size = get32(end + 12), cd_offset = get32(end + 16);
  uint64_t cd_limit = end_pos;  // the central directory ends before the end records
  if (end_pos >= kZip64LocatorSize && get32(end - kZip64LocatorSize) == kZip64LocatorSig) {
    const uint8_t* locator = end - kZip64LocatorSize;
    uint64_t record_pos = get64(locator + 8);
    if (get32(locator + 4) != 0 || get32(locator + 16) > 1)
      ENGINE_FAIL(path, ": multi-disk zip archives are not supported");
    if (!in_range(record_pos, kZip64EndSize, end_pos - kZip64LocatorSize) ||
        get32(base + record_pos) != kZip64EndSig)
      ENGINE_FAIL(path, ": corrupt zip archive (ZIP64 end record locator points to offset ",
                  record_pos, ", not at a ZIP64 end record)");
    const uint8_t* record = base + record_pos;
    disk = get32(record + 16);
    cd_disk = get32(record + 20);
    count_here = get64(record + 24);
    count = get64(record + 32);
    cd_size = get64(record + 40);
    cd_offset = get64(record + 48);
    cd_limit = record_pos;
  }
  if (disk != 0 || cd_disk != 0 || count_here != count)
    ENGINE_FAIL(path, ": multi-disk zip archives are not supported");
  if (!in_range(cd_offset, cd_size, cd_limit))
    ENGINE_FAIL(path, ": corrupt or truncated zip archive (central directory at offset ",
                cd_offset, " size ", cd_size, " lies outside the ", size, "-byte file)");
  if (count > cd_size / kCentralHeaderSize)
    ENGINE_FAIL(path, ": corrupt zip archive (", count, " entries cannot fit in a ", cd_size,
                "-byte central directory)");
  return {cd_offset, cd_size, count};
}

// ZIP64 extra field (id 1): the 64-bit values, in this order, of those of `fields` (uncompressed
// size, compressed size, local header offset) that hold 0xFFFFFFFF.
void read_zip64_extra(const uint8_t* extra, uint64_t extra_len, uint64_t* const (&fields)[3], const std::string& where) {
  for (uint64_t e = 0; e + 4 <= extra_len;) {
    const uint16_t id = get16(extra + e), field_size = get16(extra + e + 2);
    if (e + 4 + field_size > extra_len) ENGINE_FAIL(where, ": extra field overruns its header");
    if (id == kZip64ExtraId) {
      const uint8_t* p = extra + e + 4;
      uint64_t left = field_size;
      for (uint64_t* field : fields) {
        if (*field != kMax32) continue;
        if (left < 8) ENGINE_FAIL(where, ": ZIP64 extra field too short");
        *field = get64(p);
        p += 8;
        left -= 8;
      }
    }
    e += 4 + field_size;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------- reader

ZipReader::ZipReader(const std::string& path) : path_(path) {
  bytes_ = io::read_file_bytes(path, "zip archive");
  check_local_headers(read_central_directory());
}

uint64_t ZipReader::read_central_directory() {
  const uint8_t* base = bytes_.data();
  const auto [cd_offset, cd_size, count] = locate_central_directory(bytes_, path_);
  const uint64_t cd_end = cd_offset + cd_size;
  uint64_t pos = cd_offset;
  entries_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (!in_range(pos, kCentralHeaderSize, cd_end) || get32(base + pos) != kCentralHeaderSig)
      ENGINE_FAIL(path_, ": corrupt zip archive (central directory entry ", i, " at offset ", pos,
                  " is missing or truncated)");
    const uint8_t* h = base + pos;
    uint64_t name_len = get16(h + 28), extra_len = get16(h + 30), comment_len = get16(h + 32);
    if (!in_range(pos + kCentralHeaderSize, name_len + extra_len + comment_len, cd_end))
      ENGINE_FAIL(path_, ": corrupt zip archive (central directory entry ", i, " overruns it)");
    Entry entry;
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    uint16_t flags = get16(h + 8);
    entry.method = get16(h + 10);
    entry.crc32 = get32(h + 16);
    entry.compressed_size = get32(h + 20);
    entry.uncompressed_size = get32(h + 24);
    entry.local_header_offset = get32(h + 42);
    if (flags & 0x41)  // bit 0: encrypted, bit 6: strong encryption
      ENGINE_FAIL(path_, ": entry '", entry.name, "' is encrypted; encrypted archives are not supported");
    read_zip64_extra(h + kCentralHeaderSize + name_len, extra_len,
                     {&entry.uncompressed_size, &entry.compressed_size, &entry.local_header_offset},
                     path_ + ": entry '" + entry.name + "'");
    if (!index_.emplace(entry.name, entries_.size()).second)
      ENGINE_FAIL(path_, ": duplicate entry name '", entry.name, "' (refused: which copy is meant is ambiguous)");
    entries_.push_back(std::move(entry));
    pos += kCentralHeaderSize + name_len + extra_len + comment_len;
  }
  return cd_offset;
}

// Entry headers and data must lie before `data_limit`, the start of the central directory.
void ZipReader::check_local_headers(uint64_t data_limit) {
  const uint8_t* base = bytes_.data();
  std::vector<size_t> order(entries_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return entries_[a].local_header_offset < entries_[b].local_header_offset;
  });
  uint64_t previous_end = 0;
  std::string previous_name;
  for (size_t i : order) {
    Entry& entry = entries_[i];
    const uint64_t lho = entry.local_header_offset;
    if (!in_range(lho, kLocalHeaderSize, data_limit) || get32(base + lho) != kLocalHeaderSig)
      ENGINE_FAIL(path_, ": entry '", entry.name, "': no local header at offset ", lho,
                  " (corrupt or truncated archive)");
    uint64_t name_len = get16(base + lho + 26), extra_len = get16(base + lho + 28);
    if (!in_range(lho + kLocalHeaderSize, name_len + extra_len, data_limit) ||
        name_len != entry.name.size() ||
        entry.name.compare(0, name_len, reinterpret_cast<const char*>(base + lho + kLocalHeaderSize), name_len) != 0)
      ENGINE_FAIL(path_, ": entry '", entry.name, "': local header disagrees with the central directory");
    if (get16(base + lho + 8) != entry.method)
      ENGINE_FAIL(path_, ": entry '", entry.name, "': local header and central directory disagree on the method");
    entry.data_offset = lho + kLocalHeaderSize + name_len + extra_len;
    if (!in_range(entry.data_offset, entry.compressed_size, data_limit))
      ENGINE_FAIL(path_, ": entry '", entry.name, "': ", entry.compressed_size, " bytes of data at offset ",
                  entry.data_offset, " run past the central directory at offset ", data_limit,
                  " (corrupt or truncated archive)");
    if (lho < previous_end)
      ENGINE_FAIL(path_, ": entry '", entry.name, "' overlaps entry '", previous_name,
                  "' (refused: overlapping entries are a zip-bomb technique)");
    previous_end = entry.data_offset + entry.compressed_size;
    previous_name = entry.name;
    if (entry.method == 0 && entry.compressed_size != entry.uncompressed_size)
      ENGINE_FAIL(path_, ": entry '", entry.name, "' is stored but its sizes differ (", entry.compressed_size,
                  " vs ", entry.uncompressed_size, ")");
    if (entry.method == 8 && entry.uncompressed_size / kMaxDeflateRatio > entry.compressed_size + 1)
      ENGINE_FAIL(path_, ": entry '", entry.name, "' declares ", entry.uncompressed_size,
                  " bytes from ", entry.compressed_size, " deflated bytes, more than deflate can produce");
  }
}

std::vector<std::string> ZipReader::names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const Entry& entry : entries_) names.push_back(entry.name);
  return names;
}

bool ZipReader::contains(const std::string& name) const { return index_.count(name) != 0; }

const ZipReader::Entry& ZipReader::find(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) ENGINE_FAIL(path_, ": no entry named '", name, "' in the archive");
  return entries_[it->second];
}

uint64_t ZipReader::size(const std::string& name) const { return find(name).uncompressed_size; }

std::vector<uint8_t> ZipReader::read(const std::string& name) const {
  const Entry& entry = find(name);
  const uint8_t* data = bytes_.data() + entry.data_offset;
  std::vector<uint8_t> out;
  if (entry.method == 0) {
    out.assign(data, data + entry.compressed_size);
  } else if (entry.method == 8) {
    out.resize(entry.uncompressed_size);
    std::string error = inflate_raw(data, entry.compressed_size, out);
    if (!error.empty()) ENGINE_FAIL(path_, ": entry '", name, "': ", error);
  } else {
    ENGINE_FAIL(path_, ": entry '", name, "' uses compression method ", entry.method,
                "; only stored (0) and deflate (8) are supported");
  }
  uint32_t crc = crc32_of(out.data(), out.size());
  if (crc != entry.crc32)
    ENGINE_FAIL(path_, ": entry '", name, "' is corrupt (CRC-32 ", crc, " does not match the recorded ",
                entry.crc32, ")");
  return out;
}

// ---------------------------------------------------------------------------------- writer

struct ZipWriter::Impl {
  struct Written {
    std::string name;
    uint64_t local_header_offset;
    uint64_t size;
    uint32_t crc32;
  };
  io::AtomicFile file;
  bool force_zip64;
  bool finished = false;
  std::vector<Written> written;
  std::map<std::string, size_t> names;
  Impl(const std::string& path, bool force) : file(path), force_zip64(force) {}
};

namespace {

constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: fixed, so output is reproducible

// A stored entry's central-directory header, with a ZIP64 extra field for whichever of its size
// and offset needs one (both when `force`).
void append_central_header(std::vector<uint8_t>& out, const std::string& name, uint64_t size, uint32_t crc,
                           uint64_t local_header_offset, bool force) {
  const bool big_size = force || size >= kMax32;
  const bool big_offset = force || local_header_offset >= kMax32;
  std::vector<uint8_t> extra;
  if (big_size || big_offset) {
    put16(extra, kZip64ExtraId);
    put16(extra, static_cast<uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0)));
    if (big_size) {
      put64(extra, size);
      put64(extra, size);
    }
    if (big_offset) put64(extra, local_header_offset);
  }
  put32(out, kCentralHeaderSig);
  put16(out, extra.empty() ? 20 : 45);  // version made by (MS-DOS attributes)
  put16(out, extra.empty() ? 20 : 45);  // version needed
  put16(out, 0);                        // flags
  put16(out, 0);                        // method: stored
  put16(out, 0);                        // time
  put16(out, kDosDate);
  put32(out, crc);
  put32(out, big_size ? kMax32 : static_cast<uint32_t>(size));
  put32(out, big_size ? kMax32 : static_cast<uint32_t>(size));
  put16(out, static_cast<uint16_t>(name.size()));
  put16(out, static_cast<uint16_t>(extra.size()));
  put16(out, 0);  // comment length
  put16(out, 0);  // disk
  put16(out, 0);  // internal attributes
  put32(out, 0);  // external attributes
  put32(out, big_offset ? kMax32 : static_cast<uint32_t>(local_header_offset));
  out.insert(out.end(), name.begin(), name.end());
  out.insert(out.end(), extra.begin(), extra.end());
}

}  // namespace

ZipWriter::ZipWriter(const std::string& path, bool force_zip64) : impl_(new Impl(path, force_zip64)) {}

ZipWriter::~ZipWriter() { delete impl_; }

void ZipWriter::add(const std::string& name, const std::vector<uint8_t>& data) {
  add(name, data.data(), data.size());
}

void ZipWriter::add(const std::string& name, const void* data, size_t size) {
  ENGINE_CHECK(!impl_->finished, "ZipWriter: add('", name, "') after finish()");
  ENGINE_CHECK(!name.empty() && name.size() <= kMax16, "ZipWriter: bad entry name '", name, "'");
  ENGINE_CHECK(impl_->names.emplace(name, impl_->written.size()).second,
               "ZipWriter: duplicate entry name '", name, "'");
  const uint64_t offset = impl_->file.position();
  const bool zip64 = impl_->force_zip64 || size >= kMax32;
  const uint32_t crc = crc32_of(static_cast<const uint8_t*>(data), size);

  std::vector<uint8_t> header;
  put32(header, kLocalHeaderSig);
  put16(header, zip64 ? 45 : 20);  // version needed: 4.5 for ZIP64
  put16(header, 0);                // flags
  put16(header, 0);                // method: stored
  put16(header, 0);                // time
  put16(header, kDosDate);
  put32(header, crc);
  put32(header, zip64 ? kMax32 : static_cast<uint32_t>(size));
  put32(header, zip64 ? kMax32 : static_cast<uint32_t>(size));
  put16(header, static_cast<uint16_t>(name.size()));
  // Extra fields: ZIP64 sizes when needed, then "FB" padding so the data starts on a 64-byte
  // boundary (torch.load memory-maps storages and relies on that alignment).
  const uint64_t zip64_extra = zip64 ? 20 : 0;
  const uint64_t data_start = offset + kLocalHeaderSize + name.size() + zip64_extra + 4;
  const uint64_t padding = (kAlignment - data_start % kAlignment) % kAlignment;
  put16(header, static_cast<uint16_t>(zip64_extra + 4 + padding));
  header.insert(header.end(), name.begin(), name.end());
  if (zip64) {
    put16(header, kZip64ExtraId);
    put16(header, 16);
    put64(header, size);
    put64(header, size);
  }
  put16(header, kPaddingExtraId);
  put16(header, static_cast<uint16_t>(padding));
  header.insert(header.end(), padding, 'Z');
  impl_->file.write(header.data(), header.size());
  impl_->file.write(data, size);
  impl_->written.push_back({name, offset, size, crc});
}

void ZipWriter::finish() {
  ENGINE_CHECK(!impl_->finished, "ZipWriter: finish() called twice");
  io::AtomicFile& file = impl_->file;
  const bool force = impl_->force_zip64;
  const uint64_t cd_offset = file.position();
  std::vector<uint8_t> out;
  for (const Impl::Written& w : impl_->written)
    append_central_header(out, w.name, w.size, w.crc32, w.local_header_offset, force);
  const uint64_t cd_size = out.size();
  const uint64_t count = impl_->written.size();
  const bool zip64 = force || count >= kMax16 || cd_offset >= kMax32 || cd_size >= kMax32;
  if (zip64) {
    const uint64_t record_offset = cd_offset + cd_size;
    put32(out, kZip64EndSig);
    put64(out, kZip64EndSize - 12);  // size of the rest of the record
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, cd_size);
    put64(out, cd_offset);
    put32(out, kZip64LocatorSig);
    put32(out, 0);
    put64(out, record_offset);
    put32(out, 1);  // total disks
  }
  put32(out, kEndSig);
  put16(out, 0);
  put16(out, 0);
  put16(out, zip64 ? kMax16 : static_cast<uint16_t>(count));
  put16(out, zip64 ? kMax16 : static_cast<uint16_t>(count));
  put32(out, zip64 ? kMax32 : static_cast<uint32_t>(cd_size));
  put32(out, zip64 ? kMax32 : static_cast<uint32_t>(cd_offset));
  put16(out, 0);  // comment length
  file.write(out.data(), out.size());
  file.commit();
  impl_->finished = true;
}

}  // namespace engine
