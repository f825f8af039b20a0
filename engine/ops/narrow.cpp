// narrow (torch.narrow, as a copy: every tensor is contiguous) and its backward, which places the
// gradient into zeros of the input's shape. A linear pair: the backward of each is the other, so
// both, and cat built on them, are differentiable to any order.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/narrow.h"
#include "op_util.h"

namespace engine {
namespace {

// Rows and per-row element count of `shape` viewed as [prod(shape[:dim]), prod(shape[dim:])],
// and the element count of one index of `dim` (prod(shape[dim+1:])).
struct BlockView {
  int64_t rows = 1, cols = 1, inner = 1;
};

BlockView block_view(const Shape& shape, int64_t dim) {
  BlockView v;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < dim) v.rows *= shape[d];
    else v.cols *= shape[d];
    if (d > dim) v.inner *= shape[d];
  }
  return v;
}

// grad_y of narrow(x, dim, start, ...) -> gradient of x: zeros with grad_y at [start, start+len).
Tensor narrow_backward(const Tensor& grad_y, const Shape& input_shape, int64_t dim, int64_t start) {
  Tensor dx = Tensor::zeros(input_shape, grad_y.device());
  const BlockView v = block_view(input_shape, dim);
  const int64_t length = grad_y.shape()[dim];
  if (grad_y.numel() > 0)
    ENGINE_DISPATCH(grad_y.device(), narrow_backward, v.rows, v.cols, start * v.inner,
                    length * v.inner, grad_y.data(), dx.data());
  return record("narrow_backward", {grad_y}, dx,
                [dim, start, length](const Tensor& g) -> std::vector<Tensor> {
                  return {narrow(g, dim, start, length)};
                });
}

}  // namespace

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  ENGINE_CHECK(x.defined(), "narrow: undefined input");
  ENGINE_CHECK(dim >= -x.dim() && dim < x.dim(), "narrow: dimension ", dim,
               " out of range for shape ", shape_str(x.shape()));
  if (dim < 0) dim += x.dim();
  const int64_t size = x.shape()[dim];
  ENGINE_CHECK(start >= 0 && length >= 0 && start + length <= size, "narrow: expected ",
               "0 <= start and start + length <= ", size, " along dimension ", dim, " of ",
               shape_str(x.shape()), ", got start ", start, " length ", length);
  Shape out_shape = x.shape();
  out_shape[dim] = length;
  Tensor y = Tensor::empty(out_shape, x.device());
  const BlockView v = block_view(x.shape(), dim);
  if (y.numel() > 0)
    ENGINE_DISPATCH(x.device(), narrow_forward, v.rows, v.cols, start * v.inner, length * v.inner,
                    x.data(), y.data());
  const Shape input_shape = x.shape();
  return record("narrow", {x}, y, [input_shape, dim, start](const Tensor& g) -> std::vector<Tensor> {
    return {narrow_backward(g, input_shape, dim, start)};
  });
}

}  // namespace engine
