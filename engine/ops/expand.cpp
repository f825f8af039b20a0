// expand (broadcast to a shape, as a contiguous copy) and repeat. Their backward is sum_to.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/expand.h"
#include "op_util.h"

namespace engine {

Tensor expand(const Tensor& x, const Shape& shape) {
  ENGINE_CHECK(x.defined(), "expand: undefined input");
  if (x.shape() == shape) return x;
  ENGINE_CHECK(shape.size() >= x.shape().size() &&
                   broadcast_shapes(x.shape(), shape, "expand") == shape,
               "expand: cannot expand ", shape_str(x.shape()), " to ", shape_str(shape));
  Tensor y = Tensor::empty(shape, x.device());
  if (y.numel() > 0) {
    const kernels::BroadcastIndex index = ops::broadcast_index(shape, x.shape(), shape);
    ENGINE_DISPATCH(x.device(), expand_forward, index, x.data(), y.data());
  }
  const Shape input_shape = x.shape();
  return record("expand", {x}, y, [input_shape](const Tensor& g) -> std::vector<Tensor> {
    return {sum_to(g, input_shape)};
  });
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  ENGINE_CHECK(repeats.size() >= x.shape().size(), "repeat: ", repeats.size(),
               " repeat counts for a tensor of rank ", x.dim());
  // [.., s, ..] repeated r times = [.., r, s, ..] expanded, then merged: no new kernel needed.
  const size_t lead = repeats.size() - x.shape().size();
  Shape interleaved, expanded, result;
  for (size_t d = 0; d < repeats.size(); ++d) {
    const int64_t size = d < lead ? 1 : x.shape()[d - lead];
    interleaved.push_back(1);
    interleaved.push_back(size);
    expanded.push_back(repeats[d]);
    expanded.push_back(size);
    result.push_back(repeats[d] * size);
  }
  return expand(x.reshape(interleaved), expanded).reshape(result);
}

}  // namespace engine
