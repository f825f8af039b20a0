#include "engine/tensor.h"

#include "engine/allocator.h"
#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/ops.h"

namespace engine {

Storage::Storage(Device device_, size_t bytes_) : device(device_), bytes(bytes_) {
  if (device.is_cuda()) pool = cuda_capture_pool();
  data = pool ? pool->allocate(bytes) : device_alloc(device, bytes);
}

Storage::~Storage() {
  if (pool)
    pool->release(data, bytes);
  else
    device_free(device, data, bytes);
}

Tensor Tensor::empty(const Shape& shape, Device device) {
  for (int64_t size : shape)
    ENGINE_CHECK(size >= 0, "Tensor::empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(device, sizeof(float) * engine::numel(shape));
  impl->shape = shape;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, Device device) {
  Tensor t = empty(shape, device);
  device_zero(device, t.data(), sizeof(float) * t.numel());
  return t;
}

Tensor Tensor::full(const Shape& shape, float value, Device device) {
  // On the cuda device without a host upload, so that a CUDA graph can capture it (the seed of
  // every backward pass): 0 x 0 + value is exactly value.
  if (device.is_cuda()) return affine_scalar(zeros(shape, device), 0.f, value);
  return from_vector(std::vector<float>(engine::numel(shape), value), shape, device);
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  ENGINE_CHECK(static_cast<int64_t>(values.size()) == engine::numel(shape), "Tensor::from_vector: ",
               values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, device);
  device_copy(device, t.data(), Device::cpu(), values.data(), sizeof(float) * values.size());
  return t;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t rank = dim();
  ENGINE_CHECK(d >= -rank && d < rank, "Tensor::size: dimension ", d, " out of range for shape ",
               shape_str(shape()));
  return shape()[d < 0 ? d + rank : d];
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> values(numel());
  device_copy(Device::cpu(), values.data(), device(), data(), sizeof(float) * values.size());
  return values;
}

float Tensor::item() const {
  ENGINE_CHECK(numel() == 1, "Tensor::item: tensor of shape ", shape_str(shape()),
               " has more than one element");
  return to_vector()[0];
}

Tensor& Tensor::set_requires_grad(bool requires) {
  ENGINE_CHECK(is_leaf(), "set_requires_grad: only leaf tensors (not results of ops) can be changed");
  impl_->requires_grad = requires;
  return *this;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  return Tensor(std::move(impl));
}

void Tensor::backward(const Tensor& grad_output, bool retain_graph, bool create_graph) const {
  detail::run_backward({*this}, {grad_output}, retain_graph, create_graph);
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = requested;
  int64_t known = 1, inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      ENGINE_CHECK(inferred < 0, "reshape: more than one -1 in ", shape_str(requested));
      inferred = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    ENGINE_CHECK(known > 0 && numel() % known == 0, "reshape: cannot reshape ", shape_str(this->shape()),
                 " to ", shape_str(requested));
    shape[inferred] = numel() / known;
  }
  ENGINE_CHECK(engine::numel(shape) == numel(), "reshape: cannot reshape ", shape_str(this->shape()),
               " (", numel(), " elements) to ", shape_str(requested));
  Tensor view = detach();
  view.impl()->shape = shape;
  const Shape input_shape = this->shape();
  return record("reshape", {*this}, view, [input_shape](const Tensor& g) -> std::vector<Tensor> {
    return {g.reshape(input_shape)};
  });
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor copy = empty(shape(), target);
  device_copy(target, copy.data(), device(), data(), sizeof(float) * numel());
  const Device source = device();
  return record("to", {*this}, copy, [source](const Tensor& g) -> std::vector<Tensor> {
    return {g.to(source)};
  });
}

Tensor Tensor::clone() const {
  Tensor copy = empty(shape(), device());
  device_copy(device(), copy.data(), device(), data(), sizeof(float) * numel());
  return record("clone", {*this}, copy, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

}  // namespace engine
