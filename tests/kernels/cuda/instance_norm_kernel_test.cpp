// kernels::cuda::instance_norm_* against kernels::cpu::, which accumulates in double.
// Tolerance |cuda - cpu| <= 1e-4 + 1e-4 |cpu|: the kernels sum up to 4096 floats of magnitude ~1
// in float (relative error of a tree sum ~1e-6) and then divide by rstd-scaled quantities of
// magnitude ~1; dweight and dbias sum n planes more.
#include "kernel_test_util.h"
#include "kernels/instance_norm.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct NormCase {
  int64_t n, c, h, w;
  bool affine, relu, param_grads;
};

// Odd planes (scalar loads, a tail for the warps), planes of a multiple of 4 (float4 loads),
// batch 1, C = 1, 1x1 planes (variance 0: rstd = 1/sqrt(eps)), 2x2 (SARGAN's deepest maps),
// planes longer than a block, H != W, with and without affine, fused ReLU and parameter gradients.
const NormCase norm_cases[] = {
    {2, 3, 5, 7, true, false, true},   {1, 1, 4, 4, false, true, false}, {1, 2, 1, 1, true, true, true},
    {3, 5, 2, 2, true, true, true},    {2, 2, 33, 31, true, false, true}, {1, 3, 64, 64, true, true, true},
    {2, 1, 9, 3, false, false, false}, {4, 2, 6, 10, true, false, false},
};

}  // namespace

TEST_CASE("instance_norm kernels match the CPU on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const NormCase& k : norm_cases) {
    const std::string what = std::to_string(k.n) + "x" + std::to_string(k.c) + "x" + std::to_string(k.h) + "x" +
                             std::to_string(k.w) + (k.affine ? " affine" : "") + (k.relu ? " relu" : "");
    INFO(what);
    const int64_t planes = k.n * k.c, hw = k.h * k.w, numel = planes * hw;
    const std::vector<float> x = test::random_values(numel, 19, -2.f, 3.f), dy = test::random_values(numel, 20);
    const std::vector<float> weight = test::random_values(k.c, 21, 0.5f, 1.5f), bias = test::random_values(k.c, 22);
    const float* w_cpu = k.affine ? weight.data() : nullptr;
    const float* b_cpu = k.affine ? bias.data() : nullptr;
    std::vector<float> y(numel), mean(planes), rstd(planes), dx(numel), dweight(k.c), dbias(k.c);
    kernels::cpu::instance_norm_forward(k.n, k.c, hw, 1e-5f, x.data(), w_cpu, b_cpu, k.relu, y.data(), mean.data(),
                                        rstd.data());
    kernels::cpu::instance_norm_backward(k.n, k.c, hw, x.data(), w_cpu, mean.data(), rstd.data(),
                                         k.relu ? y.data() : nullptr, dy.data(), dx.data(),
                                         k.param_grads ? dweight.data() : nullptr,
                                         k.param_grads ? dbias.data() : nullptr);

    DeviceBuffer<float> x_d(x), dy_d(dy), weight_d(weight), bias_d(bias), y_d(numel), mean_d(planes), rstd_d(planes),
        dx_d(numel), dweight_d(k.c), dbias_d(k.c);
    const float* w_d = k.affine ? weight_d.get() : nullptr;
    kernels::cuda::instance_norm_forward(k.n, k.c, hw, 1e-5f, x_d.get(), w_d, k.affine ? bias_d.get() : nullptr, k.relu,
                                         y_d.get(), mean_d.get(), rstd_d.get());
    test::expect_close(y_d.to_host(), y, 1e-4, 1e-4, "y");
    test::expect_close(mean_d.to_host(), mean, 1e-5, 1e-5, "mean");
    test::expect_close(rstd_d.to_host(), rstd, 1e-4, 1e-4, "rstd");
    // The backward from the CPU's statistics and y, so that it is checked on its own.
    DeviceBuffer<float> y_cpu_d(y), mean_cpu_d(mean), rstd_cpu_d(rstd);
    kernels::cuda::instance_norm_backward(k.n, k.c, hw, x_d.get(), w_d, mean_cpu_d.get(), rstd_cpu_d.get(),
                                          k.relu ? y_cpu_d.get() : nullptr, dy_d.get(), dx_d.get(),
                                          k.param_grads ? dweight_d.get() : nullptr,
                                          k.param_grads ? dbias_d.get() : nullptr);
    test::expect_close(dx_d.to_host(), dx, 1e-4, 1e-4, "dx");
    if (k.param_grads) {
      test::expect_close(dweight_d.to_host(), dweight, 1e-4, 1e-4, "dweight");
      test::expect_close(dbias_d.to_host(), dbias, 1e-4, 1e-4, "dbias");
    }
  }
}

TEST_CASE("instance_norm kernels give the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const int64_t n = 3, c = 2, hw = 37 * 29;  // planes longer than a block, with a ragged last warp
  DeviceBuffer<float> x(test::random_values(n * c * hw, 23)), dy(test::random_values(n * c * hw, 24)),
      weight(test::random_values(c, 25)), bias(test::random_values(c, 26)), y(n * c * hw), mean(n * c), rstd(n * c),
      dx(n * c * hw), dweight(c), dbias(c);
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::instance_norm_forward(n, c, hw, 1e-5f, x.get(), weight.get(), bias.get(), true, y.get(),
                                             mean.get(), rstd.get());
        kernels::cuda::instance_norm_backward(n, c, hw, x.get(), weight.get(), mean.get(), rstd.get(), y.get(),
                                              dy.get(), dx.get(), dweight.get(), dbias.get());
        std::vector<float> all;
        for (const auto* buffer : {&y, &mean, &rstd, &dx, &dweight, &dbias}) {
          const std::vector<float> part = buffer->to_host();
          all.insert(all.end(), part.begin(), part.end());
        }
        return all;
      },
      "instance_norm");
}
