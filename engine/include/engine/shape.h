#pragma once
// Shape: the sizes of a tensor's dimensions, outermost first (NCHW for images).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace engine {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
// Contiguous row-major strides, in elements.
std::vector<int64_t> contiguous_strides(const Shape& shape);
// NumPy/PyTorch broadcasting of two shapes; throws naming `op` when they are incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
std::string shape_str(const Shape& shape);

}  // namespace engine
