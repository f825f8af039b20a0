// PyTorch zip checkpoints: the container and storage bytes around the pickle layer (pickle.cpp).
#include "engine/torch_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/check.h"
#include "engine/zip.h"
#include "file_io.h"
#include "pickle.h"

namespace engine {
namespace {

using io::StorageType;

constexpr uint64_t max_pickle_bytes = uint64_t(256) << 20;
constexpr uint64_t max_checkpoint_bytes = uint64_t(4) << 30;  // declared storage bytes in all

// Refuses, with a fix, files that are not zip checkpoints: the legacy format (a pickled magic
// number, then pickles) and the even older tar format.
void check_zip_checkpoint(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) ENGINE_FAIL("cannot open checkpoint '", path, "'");
  uint8_t head[512] = {};
  size_t got = std::fread(head, 1, sizeof(head), file);
  std::fclose(file);
  if (got >= 4 && head[0] == 'P' && head[1] == 'K') return;
  bool legacy = (got >= 2 && head[0] == 0x80) || (got >= 262 && std::memcmp(head + 257, "ustar", 5) == 0);
  if (legacy)
    ENGINE_FAIL(path, ": legacy (pre-zip) PyTorch checkpoint, which is not supported; re-save it with "
                      "python3 -c \"import torch; p='", path, "'; torch.save(torch.load(p), p, "
                      "_use_new_zipfile_serialization=True)\"");
  ENGINE_FAIL(path, ": not a PyTorch checkpoint (neither a zip archive nor a legacy pickle)");
}

// Gathers a strided view (already checked to lie inside `storage`) into a contiguous tensor.
Tensor gather_view(const std::vector<float>& storage, const io::TensorRef& view) {
  Shape shape(view.size.begin(), view.size.end());
  std::vector<float> values(static_cast<size_t>(numel(shape)));
  if (values.empty()) return Tensor::from_vector(values, shape);
  if (view.stride == contiguous_strides(shape)) {  // the common case: one block copy
    std::copy_n(storage.begin() + view.offset, values.size(), values.begin());
    return Tensor::from_vector(values, shape);
  }
  std::vector<int64_t> index(shape.size(), 0);
  for (float& value : values) {
    int64_t source = view.offset;
    for (size_t d = 0; d < shape.size(); ++d) source += index[d] * view.stride[d];
    value = storage[static_cast<size_t>(source)];
    for (size_t d = shape.size(); d-- > 0;) {  // odometer increment, last dimension fastest
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return Tensor::from_vector(values, shape);
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> load_torch_checkpoint(const std::string& path) {
  check_zip_checkpoint(path);
  ZipReader zip(path);
  const std::vector<std::string> names = zip.names();
  if (names.empty() || names[0].find('/') == std::string::npos)
    ENGINE_FAIL(path, ": zip archive without a top folder; not a torch.save checkpoint");
  const std::string prefix = names[0].substr(0, names[0].find('/') + 1);
  if (!zip.contains(prefix + "data.pkl"))
    ENGINE_FAIL(path, ": no '", prefix, "data.pkl' record; not a torch.save checkpoint");
  bool swap_bytes = false;
  if (zip.contains(prefix + "byteorder")) {
    std::vector<uint8_t> order = zip.read(prefix + "byteorder");
    std::string text(order.begin(), order.end());
    if (text != "little" && text != "big") ENGINE_FAIL(path, ": unknown byteorder record '", printable(text), "'");
    swap_bytes = text == "big";
  }
  // Budgets, checked from the zip directory and the pickle before anything is inflated: a few
  // MB of deflated zeros can declare gigabytes.
  if (zip.size(prefix + "data.pkl") > max_pickle_bytes)
    ENGINE_FAIL(path, ": its pickle declares ", zip.size(prefix + "data.pkl"), " bytes, more than a state_dict needs (",
                max_pickle_bytes >> 20, " MiB); refusing it");
  const io::UnpickledStateDict state = io::unpickle_state_dict(zip.read(prefix + "data.pkl"), path);
  uint64_t declared = 0;
  for (const io::StorageRef& ref : state.storages)
    declared += std::min<uint64_t>(uint64_t(ref.numel) * io::element_size(ref.type), max_checkpoint_bytes + 1);
  if (declared > max_checkpoint_bytes)
    ENGINE_FAIL(path, ": its storages declare more than ", max_checkpoint_bytes >> 30,
                " GiB; refusing to allocate that (a damaged or hostile file?)");

  std::vector<std::vector<float>> storages;
  for (const io::StorageRef& ref : state.storages) {
    const std::string record = prefix + "data/" + ref.key;
    if (!zip.contains(record)) ENGINE_FAIL(path, ": storage record '", printable(record), "' is missing");
    if (zip.size(record) > uint64_t(ref.numel) * io::element_size(ref.type))
      ENGINE_FAIL(path, ": storage record '", printable(record), "' holds ", zip.size(record), " bytes, more than its ",
                  ref.numel, " elements of ", io::storage_type_global(ref.type), " need");
    std::vector<uint8_t> bytes = zip.read(record);
    const size_t element = io::element_size(ref.type);
    if (bytes.size() / element < static_cast<uint64_t>(ref.numel))
      ENGINE_FAIL(path, ": storage record '", record, "' holds ", bytes.size(), " bytes, too few for ", ref.numel,
                  " elements of ", io::storage_type_global(ref.type));
    if (swap_bytes)
      for (size_t i = 0; i + element <= bytes.size(); i += element) std::reverse(&bytes[i], &bytes[i] + element);
    storages.push_back(io::to_float32(bytes.data(), ref.type, static_cast<size_t>(ref.numel)));
  }
  std::vector<std::pair<std::string, Tensor>> tensors;
  tensors.reserve(state.tensors.size());
  for (const auto& [name, view] : state.tensors) {
    tensors.emplace_back(name, gather_view(storages[view.storage], view));
    io::check_finite(tensors.back().second.to_vector(), path, name);
  }
  return tensors;
}

void save_torch_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                           const std::set<std::string>& int64_names) {
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    ENGINE_CHECK(tensor.defined(), "save_torch_checkpoint: tensor '", name, "' is undefined");
    ENGINE_CHECK(seen.insert(name).second, "save_torch_checkpoint: duplicate name '", name, "'");
  }
  for (const std::string& name : int64_names)
    ENGINE_CHECK(seen.count(name), "save_torch_checkpoint: int64 name '", name, "' is not among the tensors");

  std::vector<io::PickledTensor> pickled;
  std::vector<std::vector<uint8_t>> records;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, tensor] = tensors[i];
    const bool as_int64 = int64_names.count(name) != 0;
    pickled.push_back({name, std::to_string(i), as_int64 ? StorageType::int64 : StorageType::float32,
                       std::vector<int64_t>(tensor.shape().begin(), tensor.shape().end())});
    const std::vector<float> values = tensor.to_vector();
    std::vector<uint8_t> bytes(values.size() * (as_int64 ? 8 : 4));
    for (size_t k = 0; k < values.size(); ++k) {
      if (as_int64) {
        ENGINE_CHECK(std::nearbyint(values[k]) == values[k] && std::fabs(values[k]) < 9.2e18f, "save_torch_checkpoint: '", name,
                     "' is saved as int64 but holds the non-integer ", values[k]);
        const int64_t v = static_cast<int64_t>(values[k]);
        std::memcpy(&bytes[8 * k], &v, 8);
      } else {
        std::memcpy(&bytes[4 * k], &values[k], 4);
      }
    }
    records.push_back(std::move(bytes));
  }
  ZipWriter zip(path);
  zip.add("archive/data.pkl", io::pickle_state_dict(pickled));
  zip.add("archive/byteorder", "little", 6);
  for (size_t i = 0; i < records.size(); ++i) zip.add("archive/data/" + std::to_string(i), records[i]);
  zip.add("archive/version", "3\n", 2);
  zip.finish();
}

}  // namespace engine
