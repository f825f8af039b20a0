// mean_n (||g_n||_2 - 1)^2 in one pass; the norms are an explicit output that the backward uses.
#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/gradient_penalty.h"
#include "op_util.h"

namespace engine {

Tensor gradient_penalty(const Tensor& g) {
  ENGINE_CHECK(g.defined() && g.dim() >= 1 && g.size(0) > 0,
               "gradient_penalty: expected a gradient [N, ...] with N > 0, got ",
               g.defined() ? shape_str(g.shape()) : std::string("undefined"));
  const int64_t n = g.size(0), m = g.numel() / n;
  Tensor norms = Tensor::empty({n}, g.device()), loss = Tensor::empty({}, g.device());
  ENGINE_DISPATCH(g.device(), gradient_penalty_forward, n, m, g.data(), norms.data(), loss.data());
  return record("gradient_penalty", {g}, loss, [g, norms, n, m](const Tensor& dloss) -> std::vector<Tensor> {
    Tensor dg = Tensor::empty(g.shape(), g.device());
    ENGINE_DISPATCH(g.device(), gradient_penalty_backward, n, m, g.data(), norms.data(), dloss.data(),
                    dg.data());
    return {once_differentiable("gradient_penalty_backward", {g, dloss}, dg)};
  });
}

}  // namespace engine
