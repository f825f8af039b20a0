#pragma once
// The precision of the convolutions on the CUDA device (kernels/precision.h): fp32 (default) or
// tf32 tensor cores. Chosen by set_precision (the executables' --precision), else by the
// environment variable ENGINE_PRECISION=fp32|tf32 (read on first use), else fp32. The CPU always
// computes in fp32, and the cuDNN/cuBLAS baselines (ENGINE_CONV_IMPL) keep their own FMA math.
#include <string>

#include "kernels/precision.h"

namespace engine {

using Precision = kernels::Precision;

// "fp32" or "tf32"; anything else throws engine::Error naming the accepted values.
Precision parse_precision(const std::string& name);
// set_precision's choice, else ENGINE_PRECISION's (a bad value throws, naming the variable), else fp32.
Precision precision();
void set_precision(Precision p);

}  // namespace engine
