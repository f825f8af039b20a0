// Safetensors reading (validating) and writing (F32).
#include "engine/safetensors.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "element_type.h"
#include "engine/check.h"
#include "file_io.h"

namespace engine {
namespace {

using io::ElementType;

// The reference implementation's limit: real headers are at most a few MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DtypeName {
  const char* name;
  ElementType type;
};
constexpr DtypeName kDtypes[] = {
    {"F32", ElementType::float32}, {"F16", ElementType::float16}, {"BF16", ElementType::bfloat16},
    {"F64", ElementType::float64}, {"I64", ElementType::int64},   {"I32", ElementType::int32},
    {"I16", ElementType::int16},   {"I8", ElementType::int8},     {"U8", ElementType::uint8},
    {"BOOL", ElementType::boolean},
};

struct Entry {
  std::string name;
  ElementType type;
  Shape shape;
  uint64_t begin, end;
};

// JSON parse that refuses duplicate keys at any depth: nlohmann would keep the last silently,
// and two readers disagreeing on which copy counts is how "polyglot" files fool one of them.
nlohmann::json parse_header(const char* begin, const char* end, const std::string& path) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == Event::key && !open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(begin, end, callback);
  } catch (const nlohmann::json::exception& e) {
    ENGINE_FAIL(path, ": safetensors header is not valid JSON (", e.what(), ")");
  }
  if (!duplicate.empty()) ENGINE_FAIL(path, ": safetensors header repeats the key '", duplicate, "'");
  if (!header.is_object()) ENGINE_FAIL(path, ": safetensors header is not a JSON object");
  return header;
}

Entry parse_entry(const std::string& name, const nlohmann::json& info, const std::string& path) {
  const std::string where = path + ": tensor '" + name + "'";
  if (!info.is_object()) ENGINE_FAIL(where, ": header entry is not an object");
  for (const auto& field : info.items())
    if (field.key() != "dtype" && field.key() != "shape" && field.key() != "data_offsets")
      ENGINE_FAIL(where, ": unexpected field '", field.key(), "'");
  if (!info.contains("dtype") || !info["dtype"].is_string()) ENGINE_FAIL(where, ": missing dtype");
  if (!info.contains("shape") || !info["shape"].is_array()) ENGINE_FAIL(where, ": missing shape");
  if (!info.contains("data_offsets") || !info["data_offsets"].is_array() || info["data_offsets"].size() != 2)
    ENGINE_FAIL(where, ": data_offsets must be [begin, end]");
  Entry entry{name, ElementType::float32, {}, 0, 0};
  const std::string dtype = info["dtype"].get<std::string>();
  auto known = std::find_if(std::begin(kDtypes), std::end(kDtypes), [&](const DtypeName& d) { return dtype == d.name; });
  if (known == std::end(kDtypes))
    ENGINE_FAIL(where, ": dtype '", dtype, "' is not supported (F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL are)");
  entry.type = known->type;
  // numel * element size, refusing overflow: a shape may be anything a hostile writer likes.
  unsigned __int128 bytes = io::element_size(entry.type);
  for (const nlohmann::json& size : info["shape"]) {
    if (!size.is_number_unsigned()) ENGINE_FAIL(where, ": shape entries must be non-negative integers");
    const uint64_t s = size.get<uint64_t>();
    if (s > static_cast<uint64_t>(INT64_MAX)) ENGINE_FAIL(where, ": shape entry ", s, " is too large");
    entry.shape.push_back(static_cast<int64_t>(s));
    bytes *= s;
    if (bytes > UINT64_MAX) ENGINE_FAIL(where, ": shape ", shape_str(entry.shape), " is too large");
  }
  for (const nlohmann::json& offset : info["data_offsets"])
    if (!offset.is_number_unsigned()) ENGINE_FAIL(where, ": data_offsets must be non-negative integers");
  entry.begin = info["data_offsets"][0].get<uint64_t>();
  entry.end = info["data_offsets"][1].get<uint64_t>();
  if (entry.end < entry.begin || entry.end - entry.begin != bytes)
    ENGINE_FAIL(where, ": data_offsets [", entry.begin, ", ", entry.end, "] do not span the ",
                static_cast<uint64_t>(bytes), " bytes of a ", dtype, " tensor of shape ", shape_str(entry.shape));
  return entry;
}

}  // namespace

SafetensorsContents load_safetensors(const std::string& path) {
  const std::vector<uint8_t> bytes = io::read_file_bytes(path, "safetensors file");
  if (bytes.size() < 8) ENGINE_FAIL(path, ": truncated safetensors file (", bytes.size(), " bytes, no header length)");
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  if (header_size > kMaxHeaderBytes)
    ENGINE_FAIL(path, ": safetensors header length ", header_size, " exceeds the 100 MB limit (corrupt file?)");
  if (header_size > bytes.size() - 8)
    ENGINE_FAIL(path, ": truncated safetensors file (header of ", header_size, " bytes, file of ", bytes.size(), ")");
  const char* header_text = reinterpret_cast<const char*>(bytes.data() + 8);
  if (header_size == 0 || header_text[0] != '{')
    ENGINE_FAIL(path, ": safetensors header does not start with '{'");
  const nlohmann::json header = parse_header(header_text, header_text + header_size, path);

  SafetensorsContents contents;
  std::vector<Entry> entries;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object()) ENGINE_FAIL(path, ": __metadata__ must be an object of strings");
      for (const auto& field : item.value().items()) {
        if (!field.value().is_string())
          ENGINE_FAIL(path, ": __metadata__ value of '", field.key(), "' is not a string");
        contents.metadata[field.key()] = field.value().get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(item.key(), item.value(), path));
  }
  // The ranges must tile [0, buffer size) exactly: sorted, each starting where the last ended.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const uint64_t buffer_size = bytes.size() - 8 - header_size;
  uint64_t expected = 0;
  for (const Entry& entry : entries) {
    if (entry.begin != expected)
      ENGINE_FAIL(path, ": tensor '", entry.name, "' starts at data offset ", entry.begin, " but the previous one ends at ",
                  expected, entry.begin < expected ? " (overlapping tensors)" : " (a gap)");
    if (entry.end > buffer_size)
      ENGINE_FAIL(path, ": tensor '", entry.name, "' ends at data offset ", entry.end, ", past the ", buffer_size,
                  "-byte data buffer (truncated file?)");
    expected = entry.end;
  }
  if (expected != buffer_size)
    ENGINE_FAIL(path, ": ", buffer_size - expected, " bytes after the last tensor belong to none (not a safetensors file?)");

  const uint8_t* data = bytes.data() + 8 + header_size;
  for (const Entry& entry : entries) {
    const size_t count = static_cast<size_t>(numel(entry.shape));
    std::vector<float> values = io::to_float32(data + entry.begin, entry.type, count);
    io::check_finite(values, path, entry.name);
    contents.tensors.emplace_back(entry.name, Tensor::from_vector(std::move(values), entry.shape));
  }
  return contents;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<std::vector<float>> values;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    ENGINE_CHECK(tensor.defined(), "save_safetensors: tensor '", name, "' is undefined");
    ENGINE_CHECK(name != "__metadata__" && !header.contains(name), "save_safetensors: duplicate or reserved name '", name, "'");
    values.push_back(tensor.to_vector());
    const uint64_t size = values.back().size() * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", tensor.shape()}, {"data_offsets", {offset, offset + size}}};
    offset += size;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    ENGINE_FAIL("save_safetensors: '", path, "': cannot encode the header (", e.what(), ")");
  }
  // Pad with spaces (allowed by the format) so the data starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  io::AtomicFile file(path);
  file.write(length, 8);
  file.write(text.data(), text.size());
  for (const std::vector<float>& v : values) file.write(v.data(), v.size() * sizeof(float));
  file.commit();
}

}  // namespace engine
