// Module tree: dotted names, PyTorch's state_dict order, strict loading and device moves.
#include "engine/module.h"

#include <set>
#include <sstream>
#include <unordered_map>

#include "engine/check.h"

namespace engine {
namespace {

void check_name(const std::string& name, const char* what) {
  ENGINE_CHECK(!name.empty() && name.find('.') == std::string::npos, "Module: ", what, " name '",
               name, "' must be non-empty and contain no '.'");
}

// Replaces the storage behind `t` in place, so every handle to it (a layer's `weight` member, an
// optimiser's list) sees the moved tensor.
void move_in_place(const Tensor& t, Device device) {
  if (!t.defined() || t.device() == device) return;
  const Tensor moved = t.detach().to(device);
  t.impl()->storage = moved.impl()->storage;
  t.impl()->offset = moved.impl()->offset;
}

}  // namespace

void Module::collect(const std::string& prefix, Kind kind, NamedTensors& out) const {
  // PyTorch's _save_to_state_dict: this module's parameters, then its buffers, then each child.
  if (kind != Kind::buffers)
    for (const auto& [name, t] : parameters_) out.emplace_back(prefix + name, t);
  if (kind != Kind::parameters)
    for (const auto& [name, t] : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", kind, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", Kind::parameters, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", Kind::buffers, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", Kind::both, out);
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) {
    ENGINE_CHECK(t.defined(), "load_state_dict: key '", name, "' holds an undefined tensor");
    given[name] = &t;
  }
  // Validate everything first so that a bad checkpoint leaves the model untouched.
  const NamedTensors own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  std::set<std::string> own_names;
  for (const auto& [name, t] : own) {
    own_names.insert(name);
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
    } else if (it->second->shape() != t.shape()) {
      mismatched.push_back(name + ": checkpoint has " + shape_str(it->second->shape()) +
                           ", model has " + shape_str(t.shape()));
    }
  }
  for (const auto& [name, t] : state)
    if (!own_names.count(name)) unexpected.push_back(name);

  std::ostringstream error;
  auto list = [&error](const char* title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    error << (error.tellp() > 0 ? "; " : "") << title << " (" << items.size() << "): ";
    for (size_t i = 0; i < items.size(); ++i) error << (i ? ", " : "") << items[i];
  };
  if (strict) {
    list("missing keys", missing);
    list("unexpected keys", unexpected);
  }
  list("size mismatch", mismatched);  // as in PyTorch, an error even when not strict
  if (error.tellp() > 0)
    ENGINE_FAIL("load_state_dict: ", error.str(),
                " (is the checkpoint from the same model configuration?)");

  for (const auto& [name, t] : own) {
    auto it = given.find(name);
    if (it == given.end()) continue;
    const Tensor& source = *it->second;
    device_copy(t.device(), t.data(), source.device(), source.data(), sizeof(float) * t.numel());
  }
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.set_grad(Tensor());
}

FrozenParameters::FrozenParameters(const Module& module) : parameters_(module.parameters()) {
  for (Tensor& p : parameters_) p.set_requires_grad(false);
}

FrozenParameters::~FrozenParameters() {
  for (Tensor& p : parameters_) p.set_requires_grad(true);
}

void Module::to(Device device) {
  for (auto& [name, t] : state_dict()) {
    move_in_place(t, device);
    if (t.grad().defined()) move_in_place(t.grad(), device);
  }
}

Device Module::device() const {
  const NamedTensors all = state_dict();
  return all.empty() ? Device::cpu() : all.front().second.device();
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (const auto& [name, t] : named_parameters()) count += t.numel();
  return count;
}

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  check_name(name, "parameter");
  ENGINE_CHECK(value.defined() && value.is_leaf(), "register_parameter: '", name,
               "' must be a defined leaf tensor");
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return parameters_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  check_name(name, "buffer");
  ENGINE_CHECK(value.defined(), "register_buffer: '", name, "' must be a defined tensor");
  buffers_.emplace_back(name, value);
  return buffers_.back().second;
}

void Module::check_child_name(const std::string& name) const { check_name(name, "child module"); }

Sequential& Sequential::add(std::shared_ptr<Layer> layer) {
  ENGINE_CHECK(layer != nullptr, "Sequential::add: null layer");
  register_module(std::to_string(layers_.size()), layer);
  layers_.push_back(std::move(layer));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = layer->forward(y);
  return y;
}

}  // namespace engine
