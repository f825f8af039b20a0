#include "op_util.h"

#include <algorithm>

namespace engine::ops {

Device common_device(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    ENGINE_CHECK(t.device() == first->device(), op, ": expected all tensors on ", first->device().str(),
                 ", got one on ", t.device().str());
  }
  ENGINE_CHECK(first != nullptr, op, ": no defined input tensor");
  return first->device();
}

void check_rank(const char* op, const char* what, const Tensor& t, int64_t rank) {
  ENGINE_CHECK(t.defined(), op, ": ", what, " is undefined");
  ENGINE_CHECK(t.dim() == rank, op, ": expected ", what, " with ", rank, " dimensions, got shape ",
               shape_str(t.shape()));
}

kernels::BroadcastIndex broadcast_index(const Shape& out, const Shape& a, const Shape& b) {
  const size_t rank = out.size();
  ENGINE_CHECK(a.size() <= rank && b.size() <= rank, "broadcast: operand rank above output rank");
  // Per output dimension: the operands' sizes (1 where they are broadcast or missing).
  std::vector<int64_t> sizes, strides_a, strides_b;
  const auto operand_size = [rank](const Shape& s, size_t d) {
    return d < rank - s.size() ? int64_t{1} : s[d - (rank - s.size())];
  };
  std::vector<int64_t> full_a(rank), full_b(rank);
  for (size_t d = 0; d < rank; ++d) {
    full_a[d] = operand_size(a, d);
    full_b[d] = operand_size(b, d);
  }
  auto stride_of = [](const std::vector<int64_t>& full) {
    std::vector<int64_t> s(full.size());
    int64_t stride = 1;
    for (size_t d = full.size(); d-- > 0;) {
      s[d] = full[d] == 1 ? 0 : stride;
      stride *= full[d];
    }
    return s;
  };
  const std::vector<int64_t> sa = stride_of(full_a), sb = stride_of(full_b);
  for (size_t d = 0; d < rank; ++d) {
    if (out[d] == 1) continue;  // size-1 dimensions carry no index
    const bool mergeable = !sizes.empty() && strides_a.back() == sa[d] * out[d] &&
                           strides_b.back() == sb[d] * out[d];
    if (mergeable) {
      sizes.back() *= out[d];
      strides_a.back() = sa[d];
      strides_b.back() = sb[d];
    } else {
      sizes.push_back(out[d]);
      strides_a.push_back(sa[d]);
      strides_b.push_back(sb[d]);
    }
  }
  kernels::BroadcastIndex index;
  ENGINE_CHECK(sizes.size() <= kernels::broadcast_max_rank, "broadcast: ", sizes.size(),
               " independent dimensions, at most ", kernels::broadcast_max_rank, " supported");
  index.rank = static_cast<int>(sizes.size());
  index.numel = numel(out);
  for (size_t d = 0; d < sizes.size(); ++d) {
    index.size[d] = sizes[d];
    index.stride_a[d] = strides_a[d];
    index.stride_b[d] = strides_b[d];
  }
  return index;
}

std::vector<int64_t> normalize_dims(const char* op, const std::vector<int64_t>& dims, int64_t rank) {
  std::vector<int64_t> result;
  for (int64_t d : dims) {
    ENGINE_CHECK(d >= -rank && d < rank, op, ": dimension ", d, " out of range for rank ", rank);
    result.push_back(d < 0 ? d + rank : d);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

}  // namespace engine::ops
