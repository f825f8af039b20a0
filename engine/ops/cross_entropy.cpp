// cross_entropy (F.cross_entropy(logits, labels), mean reduction): the per-row losses come from a
// fused, numerically stable log-softmax kernel, and the mean is the differentiable mean op. The
// per-row backward, (softmax - onehot) * dloss, is a fused kernel: once-differentiable.
#include <memory>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/cross_entropy.h"
#include "op_util.h"

namespace engine {
namespace {

// Per-row losses [N] of logits [N,K]; labels already checked and copied to the logits' device.
Tensor cross_entropy_rows(const Tensor& logits, const std::shared_ptr<Storage>& labels) {
  const int64_t n = logits.size(0), k = logits.size(1);
  const Device device = logits.device();
  Tensor loss = Tensor::empty({n}, device), lse = Tensor::empty({n}, device);
  ENGINE_DISPATCH(device, cross_entropy_forward, n, k, logits.data(),
                  static_cast<const int64_t*>(labels->data), loss.data(), lse.data());
  const Tensor saved_logits = logits.detach();
  // The backward holds the device copy of the labels alive through `labels`.
  return record("cross_entropy", {logits}, loss, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dlogits = Tensor::empty({n, k}, device);
    ENGINE_DISPATCH(device, cross_entropy_backward, n, k, saved_logits.data(),
                    static_cast<const int64_t*>(labels->data), lse.data(), g.data(), dlogits.data());
    return {once_differentiable("cross_entropy_backward", {g, logits}, dlogits)};
  });
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  ops::check_rank("cross_entropy", "logits [N,K]", logits, 2);
  const int64_t n = logits.size(0), k = logits.size(1);
  ENGINE_CHECK(n > 0 && k > 0, "cross_entropy: expected non-empty logits, got ",
               shape_str(logits.shape()));
  ENGINE_CHECK(static_cast<int64_t>(labels.size()) == n, "cross_entropy: expected ", n,
               " labels for logits ", shape_str(logits.shape()), ", got ", labels.size());
  for (size_t i = 0; i < labels.size(); ++i)
    ENGINE_CHECK(labels[i] >= 0 && labels[i] < k, "cross_entropy: expected labels in [0, ", k,
                 "), got ", labels[i], " at index ", i, " (ignore_index is not supported)");
  auto device_labels = std::make_shared<Storage>(logits.device(), sizeof(int64_t) * labels.size());
  device_copy(logits.device(), device_labels->data, Device::cpu(), labels.data(),
              sizeof(int64_t) * labels.size());
  return mean(cross_entropy_rows(logits, device_labels));
}

}  // namespace engine
