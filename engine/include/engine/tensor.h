#pragma once
// Tensor: a float32, contiguous, row-major (NCHW) array on a device, with the autograd state that
// makes it a node of a define-by-run graph. A Tensor is a cheap handle (shared_ptr); copies alias.
// Views (reshape) share storage with an element offset; every tensor is contiguous.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/shape.h"

namespace engine {

struct Node;
class CachingAllocator;

// A block of device memory, freed (or returned to the caching allocator) when the last view dies.
struct Storage {
  Device device;
  void* data = nullptr;
  size_t bytes = 0;
  std::shared_ptr<CachingAllocator> pool;  // a CUDA graph's pool (allocator.h), or null
  Storage(Device device, size_t bytes);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;           // the op that made this tensor; null for leaves
  std::shared_ptr<Node> grad_accumulator;  // leaves that require grad: where .grad is summed
  std::shared_ptr<TensorImpl> grad;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Factories. `empty` leaves the values uninitialised.
  static Tensor empty(const Shape& shape, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, Device device = Device::cpu());
  static Tensor full(const Shape& shape, float value, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, Device device = Device::cpu()) { return full(shape, 1.f, device); }
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor scalar(float value, Device device = Device::cpu()) { return full({}, value, device); }

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return engine::numel(impl_->shape); }
  Device device() const { return impl_->storage->device; }

  // Device pointer to the first element.
  float* data() const { return static_cast<float*>(impl_->storage->data) + impl_->offset; }
  std::vector<float> to_vector() const;  // copies to the host
  float item() const;                    // a one-element tensor's value

  // Autograd.
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& set_requires_grad(bool requires);  // leaves only
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& grad) { impl_->grad = grad.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  // Same values and storage, no history.
  Tensor detach() const;
  // PyTorch's loss.backward(): sums d(this)/d(leaf) into each leaf's .grad.
  void backward(const Tensor& grad_output = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

  // Differentiable views and copies.
  Tensor reshape(const Shape& shape) const;  // one size may be -1
  Tensor to(Device device) const;
  Tensor clone() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

}  // namespace engine
