// cat (torch.cat) along any dimension. Each input is copied into its block of the output by the
// narrow kernels; the backward hands each input its slice, narrow(g, dim, offset, size), so cat is
// differentiable to any order.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/narrow.h"
#include "op_util.h"

namespace engine {

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  ENGINE_CHECK(!xs.empty(), "cat: expected at least one tensor, got none");
  for (size_t i = 0; i < xs.size(); ++i) ENGINE_CHECK(xs[i].defined(), "cat: tensor ", i, " is undefined");
  const Shape& first = xs[0].shape();
  const int64_t rank = static_cast<int64_t>(first.size());
  ENGINE_CHECK(dim >= -rank && dim < rank, "cat: dimension ", dim, " out of range for shape ",
               shape_str(first));
  if (dim < 0) dim += rank;
  Shape out_shape = first;
  out_shape[dim] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool compatible = static_cast<int64_t>(s.size()) == rank;
    for (int64_t d = 0; compatible && d < rank; ++d) compatible = d == dim || s[d] == first[d];
    ENGINE_CHECK(compatible, "cat: expected tensors of shape ", shape_str(first), " except along ",
                 "dimension ", dim, ", got ", shape_str(s), " for tensor ", i);
    ENGINE_CHECK(xs[i].device() == xs[0].device(), "cat: expected all tensors on ",
                 xs[0].device().str(), ", got tensor ", i, " on ", xs[i].device().str());
    out_shape[dim] += s[dim];
  }
  const Device device = xs[0].device();
  Tensor y = Tensor::empty(out_shape, device);
  int64_t rows = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d) {
    if (d < dim) rows *= out_shape[d];
    if (d > dim) inner *= out_shape[d];
  }
  std::vector<int64_t> offsets, sizes;
  std::vector<bool> needs_grad;
  int64_t offset = 0;
  for (const Tensor& x : xs) {
    offsets.push_back(offset);
    needs_grad.push_back(x.requires_grad());
    sizes.push_back(x.shape()[dim]);
    if (x.numel() > 0)
      ENGINE_DISPATCH(device, narrow_backward, rows, out_shape[dim] * inner, offset * inner,
                      x.shape()[dim] * inner, x.data(), y.data());
    offset += x.shape()[dim];
  }
  return record("cat", xs, y,
                [dim, offsets, sizes, needs_grad](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < offsets.size(); ++i)
      grads.push_back(needs_grad[i] ? narrow(g, dim, offsets[i], sizes[i]) : Tensor());
    return grads;
  });
}

}  // namespace engine
