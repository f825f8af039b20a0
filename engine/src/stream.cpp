#include "engine/stream.h"

#include "engine/dispatch.h"
#if ENGINE_WITH_CUDA
#include "kernels/cuda_stream.h"
#endif

namespace engine {

#if ENGINE_WITH_CUDA
Stream::Stream() : handle_(kernels::cuda::create_stream()) {}
Stream::~Stream() {
  try {
    kernels::cuda::destroy_stream(handle_);
  } catch (...) {  // a destructor must not throw; a failed destroy leaks one stream
  }
}
void Stream::synchronize() const { kernels::cuda::synchronize_stream(handle_); }
StreamGuard::StreamGuard(const Stream& stream) : previous_(kernels::cuda::current_stream()) {
  kernels::cuda::set_current_stream(stream.handle());
}
StreamGuard::~StreamGuard() { kernels::cuda::set_current_stream(previous_); }
#else
Stream::Stream() : handle_(nullptr) { detail::no_cuda_in_build("Stream"); }
Stream::~Stream() = default;
void Stream::synchronize() const {}
StreamGuard::StreamGuard(const Stream&) : previous_(nullptr) { detail::no_cuda_in_build("StreamGuard"); }
StreamGuard::~StreamGuard() = default;
#endif

}  // namespace engine
