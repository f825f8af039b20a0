#pragma once
// CUDA streams for the engine: ops launched by this thread go to the current stream. StreamGuard
// makes a stream current for a scope (restoring the previous one), as c10::cuda::CUDAStreamGuard.
// Without a CUDA device in the build these throw.
namespace engine {

class Stream {
 public:
  Stream();  // a new stream on the cuda device
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void synchronize() const;
  void* handle() const { return handle_; }

 private:
  void* handle_;
};

class StreamGuard {
 public:
  explicit StreamGuard(const Stream& stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  void* previous_;
};

}  // namespace engine
