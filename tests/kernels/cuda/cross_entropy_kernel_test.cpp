// kernels::cuda::cross_entropy_* against kernels::cpu::, which sums exp in double. Tolerance
// |cuda - cpu| <= 1e-5 + 1e-5 |cpu|: the kernel sums at most 100 terms of at most 1 in float
// (relative error ~1e-6) and uses expf/logf (a few ulp).
#include "kernel_test_util.h"
#include "kernels/cross_entropy.h"
#include "test_util.h"

using kernel_test::DeviceBuffer;

namespace {

struct CrossEntropyCase {
  int64_t n, k;
  float scale;  // logits in [-scale, scale)
};

// SARGAN's 7 expressions; one row and one class; more classes than a warp has lanes; rows not a
// multiple of the 8 rows a block takes; logits of +-60, where exp without the max shift overflows.
const CrossEntropyCase cross_entropy_cases[] = {{5, 7, 3.f}, {1, 1, 1.f}, {3, 33, 2.f}, {17, 100, 4.f}, {9, 7, 60.f}};

std::vector<int64_t> labels_for(int64_t n, int64_t k) {
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = (i * 5 + 3) % k;
  return labels;
}

}  // namespace

TEST_CASE("cross_entropy kernels match the CPU on the case table", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  for (const CrossEntropyCase& c : cross_entropy_cases) {
    const std::string what = "n " + std::to_string(c.n) + ", k " + std::to_string(c.k);
    const std::vector<float> logits = test::random_values(c.n * c.k, 15, -c.scale, c.scale);
    const std::vector<float> dloss = test::random_values(c.n, 16);
    const std::vector<int64_t> labels = labels_for(c.n, c.k);
    std::vector<float> loss_cpu(c.n), lse_cpu(c.n), dlogits_cpu(c.n * c.k);
    kernels::cpu::cross_entropy_forward(c.n, c.k, logits.data(), labels.data(), loss_cpu.data(), lse_cpu.data());
    kernels::cpu::cross_entropy_backward(c.n, c.k, logits.data(), labels.data(), lse_cpu.data(), dloss.data(),
                                         dlogits_cpu.data());
    DeviceBuffer<float> logits_d(logits), loss_d(c.n), lse_d(c.n), dloss_d(dloss), dlogits_d(c.n * c.k);
    DeviceBuffer<int64_t> labels_d(labels);
    kernels::cuda::cross_entropy_forward(c.n, c.k, logits_d.get(), labels_d.get(), loss_d.get(), lse_d.get());
    test::expect_close(loss_d.to_host(), loss_cpu, 1e-5, 1e-5, what + " loss");
    test::expect_close(lse_d.to_host(), lse_cpu, 1e-5, 1e-5, what + " lse");
    // The backward from the CPU's lse, so that it is checked on its own.
    DeviceBuffer<float> lse_from_cpu(lse_cpu);
    kernels::cuda::cross_entropy_backward(c.n, c.k, logits_d.get(), labels_d.get(), lse_from_cpu.get(), dloss_d.get(),
                                          dlogits_d.get());
    test::expect_close(dlogits_d.to_host(), dlogits_cpu, 1e-6, 1e-5, what + " dlogits");
  }
}

TEST_CASE("cross_entropy kernels give the same bits under every emulator schedule", "[cuda][kernel]") {
  REQUIRE_CUDA_DEVICE();
  const int64_t n = 19, k = 45;
  DeviceBuffer<float> logits(test::random_values(n * k, 17, -5.f, 5.f)), loss(n), lse(n),
      dloss(test::random_values(n, 18)), dlogits(n * k);
  DeviceBuffer<int64_t> labels(labels_for(n, k));
  kernel_test::require_schedule_independent(
      [&] {
        kernels::cuda::cross_entropy_forward(n, k, logits.get(), labels.get(), loss.get(), lse.get());
        kernels::cuda::cross_entropy_backward(n, k, logits.get(), labels.get(), lse.get(), dloss.get(), dlogits.get());
        std::vector<float> all = loss.to_host(), more = lse.to_host(), grad = dlogits.to_host();
        all.insert(all.end(), more.begin(), more.end());
        all.insert(all.end(), grad.begin(), grad.end());
        return all;
      },
      "cross_entropy");
}
