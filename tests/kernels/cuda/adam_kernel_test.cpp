// kernels::cuda::adam_step against kernels::cpu::adam_step, three steps on a model-like list of
// tensors. Tolerance |cuda - cpu| <= 1e-7 + 1e-6 |cpu|: the per-element operations are the same,
// but a compiler may fuse a multiply-add in one and not the other (one rounding of ~6e-8 relative
// per operation, a handful of operations per step).
#include <cmath>
#include <memory>

#include "kernel_test_util.h"
#include "kernels/adam.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

kernels::AdamStepParams step_params(int step) {
  const double lr = 1e-3, beta1 = 0.5, beta2 = 0.999;
  kernels::AdamStepParams p{};
  p.beta1 = float(beta1);
  p.beta2 = float(beta2);
  p.one_minus_beta1 = float(1.0 - beta1);
  p.one_minus_beta2 = float(1.0 - beta2);
  p.eps = 1e-8f;
  p.step_size = float(lr / (1.0 - std::pow(beta1, step)));
  p.bias_correction2_sqrt = float(std::sqrt(1.0 - std::pow(beta2, step)));
  return p;
}

// Sizes: more tensors than one launch packs (80), empty ones, single elements, sizes around the
// 4096-element chunk, and a tensor stored one float past an allocation's start (not 16-byte
// aligned: the scalar path).
std::vector<int64_t> tensor_sizes() {
  std::vector<int64_t> sizes = {1, 0, 5, 4096, 4097, 12288, 3, 64};
  for (int i = 0; i < 80; ++i) sizes.push_back(1 + (i * 37) % 200);
  return sizes;
}

}  // namespace

TEST_CASE("adam_step kernel matches the CPU over many tensors and steps", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const std::vector<int64_t> sizes = tensor_sizes();
  const size_t count = sizes.size();
  const size_t unaligned = 4;  // this tensor starts one float into its allocations
  std::vector<std::vector<float>> param(count), grad(count), m(count), v(count);
  std::vector<std::unique_ptr<DeviceBuffer<float>>> device;  // param, grad, m, v per tensor
  std::vector<float*> params_d, m_d, v_d;
  std::vector<const float*> grads_d;
  for (size_t t = 0; t < count; ++t) {
    param[t] = test::random_values(sizes[t], 100 + t);
    grad[t] = test::random_values(sizes[t], 300 + t);
    m[t] = test::random_values(sizes[t], 500 + t, -0.1f, 0.1f);
    v[t] = test::random_values(sizes[t], 700 + t, 0.f, 0.01f);
    const size_t skip = t == unaligned ? 1 : 0;
    for (const auto* host : {&param[t], &grad[t], &m[t], &v[t]}) {
      std::vector<float> padded(skip, 0.f);
      padded.insert(padded.end(), host->begin(), host->end());
      device.push_back(std::make_unique<DeviceBuffer<float>>(padded));
    }
    params_d.push_back(device[4 * t]->get() + skip);
    grads_d.push_back(device[4 * t + 1]->get() + skip);
    m_d.push_back(device[4 * t + 2]->get() + skip);
    v_d.push_back(device[4 * t + 3]->get() + skip);
  }
  std::vector<float*> params_h, m_h, v_h;
  std::vector<const float*> grads_h;
  for (size_t t = 0; t < count; ++t) {
    params_h.push_back(param[t].data());
    grads_h.push_back(grad[t].data());
    m_h.push_back(m[t].data());
    v_h.push_back(v[t].data());
  }
  for (int step = 1; step <= 3; ++step) {
    kernels::cpu::adam_step(int64_t(count), params_h.data(), grads_h.data(), m_h.data(), v_h.data(), sizes.data(),
                            step_params(step));
    kernels::cuda::adam_step(int64_t(count), params_d.data(), grads_d.data(), m_d.data(), v_d.data(), sizes.data(),
                             step_params(step));
  }
  for (size_t t = 0; t < count; ++t) {
    const size_t skip = t == unaligned ? 1 : 0;
    const std::string what = "tensor " + std::to_string(t) + " of " + std::to_string(sizes[t]) + " elements";
    const std::vector<float>* expected[] = {&param[t], &m[t], &v[t]};
    const char* names[] = {" param", " exp_avg", " exp_avg_sq"};
    const int buffer_of[] = {0, 2, 3};
    for (int j = 0; j < 3; ++j) {
      std::vector<float> got = device[4 * t + buffer_of[j]]->to_host();
      got.erase(got.begin(), got.begin() + skip);
      test::expect_close(got, *expected[j], 1e-7, 1e-6, what + names[j]);
    }
  }
}

TEST_CASE("adam_step kernel gives the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const std::vector<int64_t> sizes = {5000, 7, 4096};
  const std::vector<float> p0 = test::random_values(9103, 31), g = test::random_values(9103, 32);
  DeviceBuffer<float> grad(g), param(p0), m(9103), v(9103);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::copy_host_to_device(param.get(), p0.data(), p0.size() * sizeof(float));
        const std::vector<float> zeros(p0.size(), 0.f);
        kernels::cuda::copy_host_to_device(m.get(), zeros.data(), zeros.size() * sizeof(float));
        kernels::cuda::copy_host_to_device(v.get(), zeros.data(), zeros.size() * sizeof(float));
        float* params[] = {param.get(), param.get() + 5000, param.get() + 5007};
        const float* grads[] = {grad.get(), grad.get() + 5000, grad.get() + 5007};
        float* ms[] = {m.get(), m.get() + 5000, m.get() + 5007};
        float* vs[] = {v.get(), v.get() + 5000, v.get() + 5007};
        for (int step = 1; step <= 2; ++step)
          kernels::cuda::adam_step(3, params, grads, ms, vs, sizes.data(), step_params(step));
        std::vector<float> all = param.to_host(), more = m.to_host(), last = v.to_host();
        all.insert(all.end(), more.begin(), more.end());
        all.insert(all.end(), last.begin(), last.end());
        return all;
      },
      "adam_step");
}

TEST_CASE("adam_step kernel: the step's scalars from device memory, and the finite guard", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const std::vector<int64_t> sizes = {4100, 9};
  const std::vector<float> p0 = test::random_values(4109, 41), g = test::random_values(4109, 42);
  const std::vector<float> m0 = test::random_values(4109, 43, -0.1f, 0.1f), v0 = test::random_values(4109, 44, 0.f, 0.01f);
  DeviceBuffer<float> grad(g);
  // One step from (p0, m0, v0) on the device with `p`; returns param, m and v, concatenated.
  auto step_from_start = [&](const kernels::AdamStepParams& p) {
    DeviceBuffer<float> param(p0), m(m0), v(v0);
    float* params[] = {param.get(), param.get() + 4100};
    const float* grads[] = {grad.get(), grad.get() + 4100};
    float* ms[] = {m.get(), m.get() + 4100};
    float* vs[] = {v.get(), v.get() + 4100};
    kernels::cuda::adam_step(2, params, grads, ms, vs, sizes.data(), p);
    std::vector<float> all = param.to_host(), more = m.to_host(), last = v.to_host();
    all.insert(all.end(), more.begin(), more.end());
    all.insert(all.end(), last.begin(), last.end());
    return all;
  };
  const kernels::AdamStepParams by_value = step_params(2);
  const std::vector<float> expected = step_from_start(by_value);
  std::vector<float> start = p0;
  start.insert(start.end(), m0.begin(), m0.end());
  start.insert(start.end(), v0.begin(), v0.end());
  REQUIRE(expected != start);

  // The scalars in device memory replace the by-value ones (here those of another step).
  DeviceBuffer<float> scalars(std::vector<float>{by_value.step_size, by_value.bias_correction2_sqrt});
  kernels::AdamStepParams from_device = step_params(7);
  from_device.device_step_scalars = scalars.get();
  CHECK(step_from_start(from_device) == expected);

  // A finite guard lets the step through; NaN or infinity leaves every value as it was.
  for (const float guard : {1.5f, -0.f, std::nanf(""), INFINITY, -INFINITY}) {
    INFO("guard " << guard);
    DeviceBuffer<float> guard_value(std::vector<float>{guard});
    kernels::AdamStepParams guarded = from_device;
    guarded.device_finite_guard = guard_value.get();
    CHECK(step_from_start(guarded) == (std::isfinite(guard) ? expected : start));
  }
}
