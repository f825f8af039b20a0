// Adam: the bookkeeping (state, bias corrections in double as PyTorch's Python scalars) around
// the fused kernel, one kernel call per device for all parameters that have a gradient.
#include "engine/adam.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/dispatch.h"
#include "kernels/adam.h"

namespace engine {

Adam::Adam(NamedTensors parameters, AdamOptions options)
    : parameters_(std::move(parameters)), options_(options) {
  ENGINE_CHECK(options.lr >= 0.0 && options.eps >= 0.0, "Adam: invalid lr ", options.lr, " or eps ",
               options.eps);
  ENGINE_CHECK(options.beta1 >= 0.0 && options.beta1 < 1.0 && options.beta2 >= 0.0 &&
                   options.beta2 < 1.0,
               "Adam: betas must lie in [0, 1), got ", options.beta1, ", ", options.beta2);
  for (const auto& [name, p] : parameters_) {
    ENGINE_CHECK(p.defined() && p.is_leaf() && p.requires_grad(), "Adam: parameter '", name,
                 "' must be a leaf tensor that requires grad");
    exp_avg_.push_back(Tensor::zeros(p.shape(), p.device()));
    exp_avg_sq_.push_back(Tensor::zeros(p.shape(), p.device()));
  }
}

void Adam::step() {
  ++step_;
  update(false, Tensor());
}

void Adam::begin_step() {
  ++step_;
  staged_ = true;
  const kernels::AdamStepParams p = step_params();
  const std::vector<float> scalars = {p.step_size, p.bias_correction2_sqrt};
  if (step_scalars_.defined()) {  // in place: a captured update reads this address
    device_copy(step_scalars_.device(), step_scalars_.data(), Device::cpu(), scalars.data(), sizeof(float) * 2);
    return;
  }
  const auto on_cuda = std::find_if(parameters_.begin(), parameters_.end(),
                                    [](const auto& named) { return named.second.device().is_cuda(); });
  if (on_cuda != parameters_.end()) step_scalars_ = Tensor::from_vector(scalars, {2}, on_cuda->second.device());
}

void Adam::apply_step(const Tensor& finite_guard) {
  ENGINE_CHECK(staged_, "Adam::apply_step: no begin_step before it");
  ENGINE_CHECK(!finite_guard.defined() || (finite_guard.numel() == 1 && finite_guard.device().is_cuda()),
               "Adam::apply_step: the finite guard must be one value on the cuda device, got ",
               shape_str(finite_guard.shape()), " on ", finite_guard.device().str());
  staged_ = false;
  update(true, finite_guard);
}

kernels::AdamStepParams Adam::step_params() const {
  const double t = double(step_);
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  kernels::AdamStepParams params{};
  params.beta1 = float(options_.beta1);
  params.beta2 = float(options_.beta2);
  params.one_minus_beta1 = float(1.0 - options_.beta1);
  params.one_minus_beta2 = float(1.0 - options_.beta2);
  params.eps = float(options_.eps);
  params.step_size = float(options_.lr / bias_correction1);
  params.bias_correction2_sqrt = float(std::sqrt(bias_correction2));
  params.device_step_scalars = nullptr;
  params.device_finite_guard = nullptr;
  return params;
}

void Adam::update(bool scalars_on_device, const Tensor& finite_guard) {
  kernels::AdamStepParams params = step_params();
  struct Batch {
    std::vector<float*> params, exp_avgs, exp_avg_sqs;
    std::vector<const float*> grads;
    std::vector<int64_t> sizes;
  };
  Batch per_device[2];  // indexed by DeviceType
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const auto& [name, p] = parameters_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    ENGINE_CHECK(g.shape() == p.shape() && g.device() == p.device(), "Adam: gradient of '", name,
                 "' has shape ", shape_str(g.shape()), " on ", g.device().str(), ", parameter has ",
                 shape_str(p.shape()), " on ", p.device().str());
    // The model may have moved since the optimiser was made: the state follows its parameter.
    if (exp_avg_[i].device() != p.device()) {
      exp_avg_[i] = exp_avg_[i].to(p.device());
      exp_avg_sq_[i] = exp_avg_sq_[i].to(p.device());
    }
    Batch& batch = per_device[int(p.device().type)];
    batch.params.push_back(p.data());
    batch.grads.push_back(g.data());
    batch.exp_avgs.push_back(exp_avg_[i].data());
    batch.exp_avg_sqs.push_back(exp_avg_sq_[i].data());
    batch.sizes.push_back(p.numel());
  }
  for (Device device : {Device::cpu(), Device::cuda()}) {
    Batch& batch = per_device[int(device.type)];
    if (batch.params.empty()) continue;
    params.device_step_scalars = device.is_cuda() && scalars_on_device ? step_scalars_.data() : nullptr;
    params.device_finite_guard = device.is_cuda() && finite_guard.defined() ? finite_guard.data() : nullptr;
    ENGINE_DISPATCH(device, adam_step, int64_t(batch.params.size()), batch.params.data(),
                    batch.grads.data(), batch.exp_avgs.data(), batch.exp_avg_sqs.data(),
                    batch.sizes.data(), params);
  }
}

void Adam::zero_grad() {
  for (auto& [name, p] : parameters_) p.set_grad(Tensor());
}

NamedTensors Adam::state() const {
  NamedTensors out;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    out.emplace_back(parameters_[i].first + ".exp_avg", exp_avg_[i]);
    out.emplace_back(parameters_[i].first + ".exp_avg_sq", exp_avg_sq_[i]);
  }
  out.emplace_back("step", Tensor::scalar(float(step_)).reshape({1}));
  return out;
}

void Adam::load_state(const NamedTensors& state) {
  std::unordered_map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) given[name] = &t;
  auto find = [&given](const std::string& name, const Shape& shape) -> const Tensor& {
    auto it = given.find(name);
    ENGINE_CHECK(it != given.end() && it->second->defined(), "Adam::load_state: missing key '", name,
                 "' (was the optimiser state saved for the same model?)");
    ENGINE_CHECK(it->second->shape() == shape, "Adam::load_state: '", name, "' has shape ",
                 shape_str(it->second->shape()), ", expected ", shape_str(shape));
    return *it->second;
  };
  // Look everything up before copying anything, so that a bad state leaves this one untouched.
  const Tensor& step = find("step", {1});
  std::vector<const Tensor*> sources;
  for (const auto& [name, p] : parameters_) {
    sources.push_back(&find(name + ".exp_avg", p.shape()));
    sources.push_back(&find(name + ".exp_avg_sq", p.shape()));
  }
  const float step_value = step.item();
  ENGINE_CHECK(step_value >= 0.f && step_value == std::floor(step_value),
               "Adam::load_state: 'step' must be a non-negative integer, got ", step_value);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const Device device = parameters_[i].second.device();
    exp_avg_[i] = sources[2 * i]->detach().to(device).clone();
    exp_avg_sq_[i] = sources[2 * i + 1]->detach().to(device).clone();
  }
  step_ = int64_t(step_value);
}

}  // namespace engine
