#pragma once
// PyTorch checkpoints of tensor state_dicts: the zip format torch.save has written since 1.6
// (<archive>/data.pkl, <archive>/data/<key>, <archive>/version, optional <archive>/byteorder).
//
// Loading never executes anything: the pickle is interpreted by a restricted unpickler that
// knows only OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter,
// torch._tensor._rebuild_from_type_v2 and the torch.<T>Storage types, and refuses any other
// global by name. Storages of every numeric dtype are converted to float32 (float16, bfloat16,
// float64 rounded; int64/int32/int16/int8/uint8/bool converted, exact up to 2^24); views with
// strides and storage offsets are gathered into contiguous tensors. Legacy (pre-1.6, non-zip)
// checkpoints are refused with the one-line command that re-saves them. See docs/formats.md.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace engine {

// The state_dict's tensors, on the CPU, in the order of the file (the dict's insertion order).
// Throws engine::Error naming the file and the problem, including: a repeated key, a NaN or
// infinity in any tensor, a pickle over 256 MiB or nested over 64 deep, storages declaring over
// 4 GiB in all or a record larger than its declared storage (checked before inflating).
std::vector<std::pair<std::string, Tensor>> load_torch_checkpoint(const std::string& path);

// Writes what torch.save(state_dict, path) writes (a protocol-2 pickle of an OrderedDict of
// _rebuild_tensor_v2 views, archive name "archive", version 3, byteorder little), so that
// torch.load + load_state_dict accept it. Tensors are stored as float32, except the names in
// `int64_names` (BatchNorm's num_batches_tracked, say), stored as int64: their values must be
// integers. Atomic: written to a temporary file renamed over `path` on success.
void save_torch_checkpoint(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                           const std::set<std::string>& int64_names = {});

}  // namespace engine
