// cross_entropy (F.cross_entropy(logits, labels), mean reduction): the per-row losses come from a
// fused, numerically stable log-softmax kernel, and the mean is the differentiable mean op. The
// per-row backward, (softmax - onehot) * dloss, is a fused kernel: once-differentiable.
#include <algorithm>
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

void check_labels(const std::vector<int64_t>& labels, int64_t k) {
  for (size_t i = 0; i < labels.size(); ++i)
    ENGINE_CHECK(labels[i] >= 0 && labels[i] < k, "cross_entropy: expected labels in [0, ", k,
                 "), got ", labels[i], " at index ", i, " (ignore_index is not supported)");
}

void check_logits(const Tensor& logits, int64_t labels) {
  ops::check_rank("cross_entropy", "logits [N,K]", logits, 2);
  ENGINE_CHECK(logits.size(0) > 0 && logits.size(1) > 0, "cross_entropy: expected non-empty logits, got ",
               shape_str(logits.shape()));
  ENGINE_CHECK(labels == logits.size(0), "cross_entropy: expected ", logits.size(0), " labels for logits ",
               shape_str(logits.shape()), ", got ", labels);
}

}  // namespace

Labels::Labels(const std::vector<int64_t>& values, int64_t classes, Device device)
    : storage_(std::make_shared<Storage>(device, sizeof(int64_t) * std::max<size_t>(values.size(), 1))),
      count_(int64_t(values.size())),
      classes_(classes) {
  set(values);
}

void Labels::set(const std::vector<int64_t>& values) {
  ENGINE_CHECK(storage_ && int64_t(values.size()) == count_, "Labels::set: expected ", count_, " labels, got ",
               values.size());
  check_labels(values, classes_);
  device_copy(storage_->device, storage_->data, Device::cpu(), values.data(), sizeof(int64_t) * values.size());
}

Tensor cross_entropy(const Tensor& logits, const std::vector<int64_t>& labels) {
  check_logits(logits, int64_t(labels.size()));
  return cross_entropy(logits, Labels(labels, logits.size(1), logits.device()));
}

Tensor cross_entropy(const Tensor& logits, const Labels& labels) {
  check_logits(logits, labels.size());
  ENGINE_CHECK(labels.classes() == logits.size(1) && labels.storage()->device == logits.device(),
               "cross_entropy: labels of ", labels.classes(), " classes on ", labels.storage()->device.str(),
               " for logits ", shape_str(logits.shape()), " on ", logits.device().str());
  return mean(cross_entropy_rows(logits, labels.storage()));
}

}  // namespace engine
