// Which implementation the engine's cuda convolutions run (kernels/conv2d_baseline.h): ours by
// default, cuDNN or the cuBLAS lowering when ENGINE_CONV_IMPL or set_conv_impl asks for it; and
// the dispatch to the chosen baseline (the only code that names kernels::cudnn, which a build
// without cuDNN lacks).
#include <cstdlib>
#include <optional>
#include <string>

#include "kernels/conv2d_baseline.h"
#include "kernels/cuda_error.h"

namespace kernels {
namespace {

std::optional<ConvImpl>& chosen() {
  static std::optional<ConvImpl> impl;
  return impl;
}

void check_in_build(ConvImpl impl, const char* where) {
  if (impl == ConvImpl::cudnn && !cudnn_in_build())
    throw CudaError(std::string(where) +
                    ": cudnn, but this build has no cuDNN (CMake did not find it; install cuDNN and reconfigure)");
}

ConvImpl from_environment() {
  const char* value = std::getenv("ENGINE_CONV_IMPL");
  if (value == nullptr || std::string(value).empty() || std::string(value) == "ours") return ConvImpl::ours;
  const std::string name = value;
  ConvImpl impl;
  if (name == "cudnn") {
    impl = ConvImpl::cudnn;
  } else if (name == "cublas") {
    impl = ConvImpl::cublas;
  } else {
    throw CudaError("ENGINE_CONV_IMPL=" + name + ": expected ours, cudnn or cublas");
  }
  check_in_build(impl, "ENGINE_CONV_IMPL");
  return impl;
}

}  // namespace

bool cudnn_in_build() {
#if ENGINE_WITH_CUDNN
  return true;
#else
  return false;
#endif
}

const char* conv_impl_name(ConvImpl impl) {
  switch (impl) {
    case ConvImpl::cudnn:
      return "cudnn";
    case ConvImpl::cublas:
      return "cublas";
    case ConvImpl::ours:
      break;
  }
  return "ours";
}

ConvImpl conv_impl() {
  if (!chosen()) chosen() = from_environment();
  return *chosen();
}

void set_conv_impl(ConvImpl impl) {
  check_in_build(impl, "set_conv_impl");
  chosen() = impl;
}

namespace baseline {
// `impl` is cudnn or cublas: the engine runs ours without coming here.

void conv2d_forward(ConvImpl impl, const Conv2dShape& s, const float* x, const float* w, float* y,
                    const ConvEpilogue& epilogue) {
  check_in_build(impl, "conv2d_forward");
#if ENGINE_WITH_CUDNN
  if (impl == ConvImpl::cudnn) cudnn::conv2d_forward(s, x, w, y);
#endif
  if (impl == ConvImpl::cublas) cublas::conv2d_forward(s, x, w, y);
  cuda::conv2d_apply_epilogue(s, y, epilogue);
}

void conv2d_backward_input(ConvImpl impl, const Conv2dShape& s, const float* dy, const float* w, float* dx) {
#if ENGINE_WITH_CUDNN
  if (impl == ConvImpl::cudnn) return cudnn::conv2d_backward_input(s, dy, w, dx);
#endif
  check_in_build(impl, "conv2d_backward_input");
  cublas::conv2d_backward_input(s, dy, w, dx);
}

void conv2d_backward_weight(ConvImpl impl, const Conv2dShape& s, const float* x, const float* dy, float* dw) {
#if ENGINE_WITH_CUDNN
  if (impl == ConvImpl::cudnn) return cudnn::conv2d_backward_weight(s, x, dy, dw);
#endif
  check_in_build(impl, "conv2d_backward_weight");
  cublas::conv2d_backward_weight(s, x, dy, dw);
}

}  // namespace baseline
}  // namespace kernels
