#pragma once
// Internal to engine/io: the element types found in checkpoint files, and their conversion to
// the engine's float32. Shared by the PyTorch and safetensors readers.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace engine::io {

enum class ElementType { float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, boolean };

size_t element_size(ElementType type);  // bytes

// `numel` little-endian elements at `data` as float32: float64 rounded to nearest, float16 and
// bfloat16 exact, integers exact up to 2^24 in magnitude then rounded.
std::vector<float> to_float32(const uint8_t* data, ElementType type, size_t numel);

}  // namespace engine::io
