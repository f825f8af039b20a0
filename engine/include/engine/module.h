#pragma once
// Module: a node of a model tree holding named parameters, buffers and child modules, so that
// the dotted names equal PyTorch's state_dict keys (`main.0.weight`, `main.9.conv1.conv2d.weight`,
// `main.1.running_mean`). Models are runtime objects built from these, not template types.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace engine {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;

  // Every parameter / buffer of this module and its children, in registration order, with
  // dotted names.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Parameters and buffers together: PyTorch's state_dict (same keys, same order).
  NamedTensors state_dict() const;
  // Copies values into the existing tensors (their device is kept). strict: every key must be
  // present and no extra key given; errors list missing and unexpected keys and both shapes of a
  // mismatch.
  void load_state_dict(const NamedTensors& state, bool strict = true);

  void zero_grad();                 // sets every parameter's .grad to undefined
  void to(Device device);           // moves parameters and buffers
  Device device() const;
  int64_t parameter_count() const;

 protected:
  Tensor& register_parameter(const std::string& name, Tensor value);  // makes it require grad
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    check_child_name(name);
    children_.emplace_back(name, module);
    return module;
  }

 private:
  enum class Kind { parameters, buffers, both };
  void collect(const std::string& prefix, Kind kind, NamedTensors& out) const;
  void check_child_name(const std::string& name) const;
  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  friend class Sequential;
};

// While alive, the module's parameters are constants for autograd (PyTorch's
// requires_grad_(False)): graphs through the module record no weight gradients.
class FrozenParameters {
 public:
  explicit FrozenParameters(const Module& module);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<Tensor> parameters_;
};

// A module with one tensor input and output.
class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

// Children named 0, 1, 2... as torch.nn.Sequential; forward runs them in order.
class Sequential : public Layer {
 public:
  Sequential& add(std::shared_ptr<Layer> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Layer>& operator[](size_t i) const { return layers_[i]; }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace engine
