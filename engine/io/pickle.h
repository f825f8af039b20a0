#pragma once
// Internal to engine/io: the pickle layer of PyTorch checkpoints. A restricted unpickler that
// interprets (never executes) the few globals a tensor state_dict needs, and the matching
// writer. The zip container and the storage bytes are handled by torch_checkpoint.cpp.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "element_type.h"

namespace engine::io {

// torch.<Name>Storage types are named by their element type.
using StorageType = ElementType;
const char* storage_type_global(StorageType type);  // "torch.FloatStorage", ...

struct StorageRef {
  std::string key;  // the record <archive>/data/<key>
  StorageType type = StorageType::float32;
  int64_t numel = 0;
};

// A view of a storage as _rebuild_tensor_v2 describes it, already checked to lie inside it.
struct TensorRef {
  size_t storage = 0;  // index into UnpickledStateDict::storages
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size;
  std::vector<int64_t> stride;
};

struct UnpickledStateDict {
  std::vector<StorageRef> storages;                       // distinct keys
  std::vector<std::pair<std::string, TensorRef>> tensors;  // in pickle (insertion) order
};

// Interprets a pickle that must evaluate to a dict of name -> tensor. Refuses, naming it, any
// global outside the state_dict allow-list, and anything malformed; `where` prefixes messages.
UnpickledStateDict unpickle_state_dict(const std::vector<uint8_t>& pickle, const std::string& where);

// Protocol-2 pickle of an OrderedDict name -> _rebuild_tensor_v2(contiguous view of a whole
// storage), the layout torch.save gives a state_dict.
struct PickledTensor {
  std::string name;
  std::string storage_key;
  StorageType type = StorageType::float32;
  std::vector<int64_t> shape;
};
std::vector<uint8_t> pickle_state_dict(const std::vector<PickledTensor>& tensors);

}  // namespace engine::io
