// sum and mean over all or some dimensions, and sum_to (the backward of broadcasting). The
// backward of a sum is an expand and the backward of an expand is a sum, so both are
// differentiable to any order.
#include <algorithm>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/sum.h"
#include "op_util.h"

namespace engine {
namespace {

// Sums x over `dims` (normalised, sorted); returns the keepdim-shaped result.
Tensor sum_keepdim(const Tensor& x, const std::vector<int64_t>& dims) {
  Shape kept_shape = x.shape();
  for (int64_t d : dims) kept_shape[d] = 1;
  Tensor y = Tensor::empty(kept_shape, x.device());
  kernels::SumShape shape;
  bool previous_reduced = false;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.shape()[d] == 1) continue;  // carries no index
    const bool reduced = std::binary_search(dims.begin(), dims.end(), d);
    if (shape.rank > 0 && reduced == previous_reduced) {
      shape.size[shape.rank - 1] *= x.shape()[d];
    } else {
      ENGINE_CHECK(shape.rank < kernels::sum_max_rank, "sum: too many alternating dimensions in ",
                   shape_str(x.shape()));
      shape.size[shape.rank] = x.shape()[d];
      shape.reduced[shape.rank] = reduced;
      ++shape.rank;
    }
    previous_reduced = reduced;
  }
  if (x.numel() == 0) {
    device_zero(x.device(), y.data(), sizeof(float) * y.numel());
  } else {
    ENGINE_DISPATCH(x.device(), sum_forward, shape, x.data(), y.data());
  }
  const Shape input_shape = x.shape();
  return record("sum", {x}, y, [input_shape](const Tensor& g) -> std::vector<Tensor> {
    return {expand(g, input_shape)};
  });
}

Shape without_dims(const Shape& shape, const std::vector<int64_t>& dims) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) out.push_back(shape[d]);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  ENGINE_CHECK(x.defined(), "sum: undefined input");
  const std::vector<int64_t> normalized = ops::normalize_dims("sum", dims, x.dim());
  Tensor y = sum_keepdim(x, normalized);
  return keepdim ? y : y.reshape(without_dims(x.shape(), normalized));
}

Tensor sum(const Tensor& x) {
  std::vector<int64_t> all(x.dim());
  for (int64_t d = 0; d < x.dim(); ++d) all[d] = d;
  return sum(x, all, false);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const std::vector<int64_t> normalized = ops::normalize_dims("mean", dims, x.dim());
  int64_t count = 1;
  for (int64_t d : normalized) count *= x.shape()[d];
  ENGINE_CHECK(count > 0, "mean: reducing over an empty dimension of ", shape_str(x.shape()));
  return sum(x, normalized, keepdim) * (1.f / static_cast<float>(count));
}

Tensor mean(const Tensor& x) {
  ENGINE_CHECK(x.numel() > 0, "mean: empty tensor");
  return sum(x) * (1.f / static_cast<float>(x.numel()));
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  ENGINE_CHECK(shape.size() <= x.shape().size() &&
                   broadcast_shapes(shape, x.shape(), "sum_to") == x.shape(),
               "sum_to: shape ", shape_str(shape), " does not broadcast to ", shape_str(x.shape()));
  const size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t d = 0; d < x.shape().size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && x.shape()[d] != 1)) dims.push_back(static_cast<int64_t>(d));
  return sum_keepdim(x, dims).reshape(shape);
}

}  // namespace engine
