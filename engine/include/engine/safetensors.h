#pragma once
// Safetensors (huggingface.co/docs/safetensors): an 8-byte little-endian header length N, N bytes
// of JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
// then the tensors' bytes, row-major, little-endian.
//
// The reader trusts nothing: the header length is capped at 100 MB and checked against the file,
// the JSON must be an object without duplicate keys, shapes are non-negative, each tensor's byte
// range must equal numel * dtype size, and the ranges must tile the data buffer exactly (no
// overlap, no gap, nothing after the last one), as the format's specification requires. It reads
// F32, F16, BF16, F64, I64, I32, I16, I8, U8 and BOOL, converted to float32. The writer writes
// F32, atomically (temporary file + rename). See docs/formats.md.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace engine {

struct SafetensorsContents {
  std::vector<std::pair<std::string, Tensor>> tensors;  // CPU tensors, in data-offset order
  std::map<std::string, std::string> metadata;          // "__metadata__"
};

// Throws engine::Error naming the file and the problem.
SafetensorsContents load_safetensors(const std::string& path);

// Tensors in the given order (names unique, not "__metadata__"), each as F32.
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace engine
