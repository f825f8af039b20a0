// flatten and unsqueeze: views of their input through Tensor::reshape, whose backward is a reshape
// back, so both are differentiable to any order.
#include <algorithm>

#include "engine/check.h"
#include "engine/ops.h"

namespace engine {

Tensor flatten(const Tensor& x, int64_t start_dim) {
  ENGINE_CHECK(start_dim >= 0 && start_dim < std::max<int64_t>(x.dim(), 1), "flatten: start_dim ",
               start_dim, " out of range for shape ", shape_str(x.shape()));
  Shape shape(x.shape().begin(), x.shape().begin() + start_dim);
  shape.push_back(-1);
  return x.reshape(shape);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  ENGINE_CHECK(dim >= 0 && dim <= x.dim(), "unsqueeze: dimension ", dim, " out of range for shape ",
               shape_str(x.shape()));
  Shape shape = x.shape();
  shape.insert(shape.begin() + dim, 1);
  return x.reshape(shape);
}

}  // namespace engine
