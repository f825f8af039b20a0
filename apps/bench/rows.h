#pragma once
// The benchmark's rows (apps/bench.cpp): the engine ops on the SARGAN shapes (batch 1, 128x128:
// the generator's and the discriminator's convolutions, both gradients of each, instance norm,
// the data path, Adam) and LSRF/OMP training's correlation GEMM, each with its FLOPs or bytes.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace bench {

// One benchmarked call: its inputs are made once, then `run` is timed.
struct Row {
  std::string op, shape;
  double flops = 0;  // per call, for compute-bound rows
  double bytes = 0;  // per call, for memory-bound rows: every tensor read or written once
  bool quick = false;
  bool records_graph = false;  // runs a backward, so it needs grad mode on
  std::vector<engine::Shape> input_shapes;
  std::function<engine::Tensor(const std::vector<engine::Tensor>&)> run;
};

// A convolution of the model: x [n,c_in,h,w] with a k x k kernel; for a transposed one, x is the
// transpose's input and w its [c_in,c_out,k,k] weight.
struct ConvSpec {
  const char* where;
  int64_t c_in, h, w, c_out, k;
  int stride, pad;
  bool transpose, quick;
  int64_t n = 1;  // batch: 1 on the SARGAN rows, any on --conv shapes
};

// The SARGAN rows and the LSRF rows; --conv shapes are added with add_conv_rows.
std::vector<Row> sargan_rows();
void add_lsrf_rows(std::vector<Row>& rows);
// A convolution's forward and both gradients (a transposed one's too).
void add_conv_rows(const ConvSpec& c, std::vector<Row>& rows);
// "N,C,H,W,Co,K,stride,pad" -> a convolution spec (as --conv gives it).
ConvSpec parse_conv(const std::string& text);
bool is_conv(const Row& row);

}  // namespace bench
