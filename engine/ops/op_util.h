#pragma once
// Helpers shared by the op files: argument checks and the broadcast description the kernels take.
#include <initializer_list>

#include "engine/check.h"
#include "engine/tensor.h"
#include "kernels/broadcast.h"

namespace engine::ops {

// Throws naming `op` unless every defined tensor is on the same device; returns that device.
Device common_device(const char* op, std::initializer_list<Tensor> tensors);

void check_rank(const char* op, const char* what, const Tensor& t, int64_t rank);

// Index maps of a broadcast op writing `out` from operands of shapes a and b (a one-operand op
// passes b = out). Adjacent dimensions that broadcast alike are merged.
kernels::BroadcastIndex broadcast_index(const Shape& out, const Shape& a, const Shape& b);

// leaky_relu's derivative at x: 1 where x > 0, else negative_slope (engine/ops/unary.cpp). Not
// recorded: piecewise constant, its derivative is zero almost everywhere. The backward of
// leaky_relu and of conv2d_leaky_relu.
Tensor leaky_relu_mask(const Tensor& x, float negative_slope);

// Normalises possibly negative dimension indices, sorted and unique, against a rank.
std::vector<int64_t> normalize_dims(const char* op, const std::vector<int64_t>& dims, int64_t rank);

}  // namespace engine::ops
