#pragma once
// The exception the CUDA side of kernels/ throws for a failed CUDA runtime call or kernel launch
// (real GPU or the emulator). Kept free of CUDA types so that engine/ can catch it without
// seeing any CUDA header. kernels/ must not depend on engine/, hence its own type; the engine
// turns it into its own error at the dispatch boundary.
#include <stdexcept>
#include <string>

namespace kernels {

class CudaError : public std::runtime_error {
public:
  explicit CudaError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace kernels
