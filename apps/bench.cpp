// bench: the op benchmark. Times the engine ops on the SARGAN shapes (batch 1, 128x128 images:
// the generator's and the discriminator's convolutions, both gradients of each, instance norm)
// and LSRF/OMP training's correlation GEMM, and prints, per op, the median time, GFLOP/s (or GB/s
// for memory-bound ops) and the share of the machine's sgemm GFLOP/s, measured in the same run as
// the ceiling.
//   bench [--device cpu|cuda] [--quick] [--profile] [--repeats N] [--json PATH] [--conv N,C,H,W,Co,K,stride,pad]...
//         [--precision fp32|tf32]
// --profile (emulator): every row, each with the profiler's counters and the H200 model's time
// (predicted_h200_ms in the JSON) beside the measured H200 times (docs/perf.md).
// --conv adds a convolution of that shape (its forward and both gradients) to the SARGAN rows.
// The cuda rows check each result against the CPU op (max abs and relative error). On a real GPU
// (ENGINE_CUDA=ON) they are timed with CUDA events, shown as a share of the device's fp32 peak or
// memory bandwidth, and the conv rows are also run through cuDNN and cuBLAS (ENGINE_CONV_IMPL's
// baselines, kernels/conv2d_baseline.h) as the yardstick. Under the emulator the times are
// labelled "emulated, not a speed" and the baselines "n/a (no GPU)". Checking the CPU ops against
// references is the tests' job, not this.
#include <cblas.h>
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/adam.h"
#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/ops.h"
#include "kernels/gemm_tn.h"
#include "precision_option.h"
#if ENGINE_CUDA_EMULATED
#include "kernels/emu_profile.h"
#endif
#if ENGINE_WITH_CUDA_BASELINES
#include "kernels/conv2d_baseline.h"
#endif

using engine::Device;
using engine::Shape;
using engine::Tensor;

namespace {

#if ENGINE_CUDA_EMULATED
constexpr bool cuda_emulated = true;
#else
constexpr bool cuda_emulated = false;
#endif

// One benchmarked call: its inputs are made once, then `run` is timed.
struct Row {
  std::string op, shape;
  double flops = 0;  // per call, for compute-bound rows
  double bytes = 0;  // per call, for memory-bound rows: every tensor read or written once
  bool quick = false;
  bool records_graph = false;  // runs a backward, so it needs grad mode on
  std::vector<Shape> input_shapes;
  std::function<Tensor(const std::vector<Tensor>&)> run;
};

// Largest |cuda - cpu|, and that divided by the largest |cpu|.
struct Difference {
  double max_abs = 0, relative = 0;
};

// A conv row run through a vendor library instead of our kernels (real GPU only).
struct BaselineResult {
  std::string impl;
  double median_s = 0;
  Difference error;
};

// The emulator profiler's view of one call of a row (docs/perf.md): the counters summed over its
// launches and the modelled H200 time.
struct RowProfile {
  bool present = false;
  int launches = 0;
  double predicted_ms = 0;
  nlohmann::json counters;
};

struct Result {
  double median_s = 0, gflops = 0, gbytes = 0, percent_of_sgemm = 0, percent_of_peak = 0;
  RowProfile profile;
  std::string note;
  bool mismatch = false;
  bool checked = false;  // a cuda row: `error` is against the CPU op
  Difference error;
  std::vector<BaselineResult> baselines;
};

std::string dims(const Shape& s) {
  std::ostringstream out;
  for (size_t i = 0; i < s.size(); ++i) out << (i ? "x" : "") << s[i];
  return out.str();
}

// A convolution of the model: x [n,c_in,h,w] with a k x k kernel; for a transposed one, x is the
// transpose's input and w its [c_in,c_out,k,k] weight.
struct ConvSpec {
  const char* where;
  int64_t c_in, h, w, c_out, k;
  int stride, pad;
  bool transpose, quick;
  int64_t n = 1;  // batch: 1 on the SARGAN rows, any on --conv shapes
};

void add_conv_rows(const ConvSpec& c, std::vector<Row>& rows) {
  const engine::Conv2dOptions o{c.stride, c.pad};
  const Shape x{c.n, c.c_in, c.h, c.w};
  std::ostringstream label;
  label << "x " << dims(x) << " k" << c.k << " s" << c.stride << " p" << c.pad << " -> " << c.c_out
        << " (" << c.where << ")";
  if (!c.transpose) {
    const int64_t ho = (c.h + 2 * c.pad - c.k) / c.stride + 1, wo = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    const Shape w{c.c_out, c.c_in, c.k, c.k}, y{c.n, c.c_out, ho, wo};
    const double flops = 2.0 * c.n * c.c_out * ho * wo * c.c_in * c.k * c.k;
    const std::vector<int64_t> in_size{c.h, c.w};
    rows.push_back({"conv2d", label.str(), flops, 0, c.quick, false, {x, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv2d backward data", label.str(), flops, 0, c.quick, false, {y, w},
                    [o, in_size](const std::vector<Tensor>& v) {
                      return engine::conv_transpose2d(v[0], v[1], Tensor(), o, in_size);
                    }});
    rows.push_back({"conv2d backward weight", label.str(), flops, 0, c.quick, false, {x, y},
                    [o, w](const std::vector<Tensor>& v) { return engine::conv2d_weight_grad(v[0], v[1], w, o); }});
  } else {
    const int64_t ho = (c.h - 1) * c.stride - 2 * c.pad + c.k, wo = (c.w - 1) * c.stride - 2 * c.pad + c.k;
    const Shape w{c.c_in, c.c_out, c.k, c.k}, y{c.n, c.c_out, ho, wo};
    const double flops = 2.0 * c.n * c.c_in * c.h * c.w * c.c_out * c.k * c.k;
    rows.push_back({"conv_transpose2d", label.str(), flops, 0, c.quick, false, {x, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv_transpose2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv_transpose2d backward data", label.str(), flops, 0, c.quick, false, {y, w},
                    [o](const std::vector<Tensor>& v) { return engine::conv2d(v[0], v[1], Tensor(), o); }});
    rows.push_back({"conv_transpose2d backward weight", label.str(), flops, 0, c.quick, false, {y, x},
                    [o, w](const std::vector<Tensor>& v) { return engine::conv2d_weight_grad(v[0], v[1], w, o); }});
  }
}

void add_instance_norm_rows(const Shape& x, bool quick, std::vector<Row>& rows) {
  const Shape c{x[1]};
  const double bytes = 4.0 * engine::numel(x);
  const std::string label = "x " + dims(x) + " affine";
  rows.push_back({"instance_norm2d", label, 0, 2 * bytes, quick, false, {x, c, c},
                  [](const std::vector<Tensor>& v) { return engine::instance_norm2d(v[0], v[1], v[2]); }});
  // Forward and backward together (reads x, writes y; reads x and dy, writes dx), since the
  // backward needs its forward's graph.
  rows.push_back({"instance_norm2d forward+backward", label, 0, 5 * bytes, quick, true, {x, c, c, x},
                  [](const std::vector<Tensor>& v) {
                    std::vector<Tensor> leaves{v[0].detach(), v[1].detach(), v[2].detach()};
                    for (Tensor& t : leaves) t.set_requires_grad(true);
                    Tensor y = engine::instance_norm2d(leaves[0], leaves[1], leaves[2]);
                    return engine::grad({y}, {leaves[0]}, {v[3]})[0];
                  }});
}

// Forward, and forward + backward, of a memory-bound op of one input (bytes: x and y once each
// forward; the backward reads dy and writes dx as well).
void add_resampling_rows(const std::string& op, const std::string& label, const Shape& x, const Shape& y,
                         bool quick, const std::function<Tensor(const Tensor&)>& f, std::vector<Row>& rows) {
  const double bytes = 4.0 * (engine::numel(x) + engine::numel(y));
  rows.push_back({op, label, 0, bytes, quick, false, {x}, [f](const std::vector<Tensor>& v) { return f(v[0]); }});
  rows.push_back({op + " forward+backward", label, 0, 2 * bytes, quick, true, {x, y},
                  [f](const std::vector<Tensor>& v) {
                    Tensor leaf = v[0].detach();
                    leaf.set_requires_grad(true);
                    return engine::grad({f(leaf)}, {leaf}, {v[1]})[0];
                  }});
}

// The generator's data path around its convolutions, the classification loss and the optimiser.
void add_data_path_rows(std::vector<Row>& rows) {
  add_resampling_rows("reflection_pad2d", "x 1x256x32x32 p1 (G residual)", {1, 256, 32, 32}, {1, 256, 34, 34}, true,
                      [](const Tensor& x) { return engine::reflection_pad2d(x, 1); }, rows);
  add_resampling_rows("reflection_pad2d", "x 1x64x128x128 p3 (G in/out)", {1, 64, 128, 128}, {1, 64, 134, 134},
                      false, [](const Tensor& x) { return engine::reflection_pad2d(x, 3); }, rows);
  add_resampling_rows("upsample_nearest2d", "x 1x64x16x16 x2 (G hourglass)", {1, 64, 16, 16}, {1, 64, 32, 32}, true,
                      [](const Tensor& x) { return engine::upsample_nearest2d_x2(x); }, rows);
  add_resampling_rows("upsample_nearest2d", "x 1x256x32x32 x2", {1, 256, 32, 32}, {1, 256, 64, 64}, false,
                      [](const Tensor& x) { return engine::upsample_nearest2d_x2(x); }, rows);
  const Shape half{1, 128, 32, 32};
  rows.push_back({"cat", "2 x 1x128x32x32 along channels", 0, 4.0 * 4 * engine::numel(half), true, false,
                  {half, half}, [](const std::vector<Tensor>& v) { return engine::cat({v[0], v[1]}, 1); }});
  rows.push_back({"cross_entropy", "logits 16x7 (D cls head, batch 16)", 0, 4.0 * 16 * 7, true, false, {{16, 7}},
                  [](const std::vector<Tensor>& v) {
                    return engine::cross_entropy(v[0], {0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1});
                  }});
  // One fused step over four tensors; each call also copies the parameters and zero-fills fresh
  // moments, so the bytes count 11 passes: copy 2, zeros 2, Adam 7 (reads p, g, m, v; writes p, m, v).
  const std::vector<Shape> params = {{256, 256, 3, 3}, {64, 256, 3, 3}, {256}, {64}};
  double adam_bytes = 0;
  for (const Shape& s : params) adam_bytes += 11.0 * 4 * engine::numel(s);
  std::vector<Shape> adam_inputs = params;
  adam_inputs.insert(adam_inputs.end(), params.begin(), params.end());  // their gradients
  rows.push_back({"adam step", "4 tensors, 0.74M parameters (fresh state)", 0, adam_bytes, true, false, adam_inputs,
                  [](const std::vector<Tensor>& v) {
                    const size_t count = v.size() / 2;
                    engine::NamedTensors named;
                    for (size_t i = 0; i < count; ++i) {
                      Tensor p = v[i].clone();
                      p.set_requires_grad(true);
                      p.set_grad(v[count + i]);
                      named.emplace_back("p" + std::to_string(i), p);
                    }
                    engine::Adam adam(named, engine::AdamOptions{});
                    adam.step();
                    return named[0].second;
                  }});
}

// LSRF/OMP training's correlation GEMM (kernels/gemm_tn.h, called as models/lsrf does, not an
// engine op): corr [P, block] = features^T [P, 3 n] x residuals [3 n, block] for one block of 256
// output pixels, n training pairs of S x S images.
Tensor correlation_gemm(const std::vector<Tensor>& v) {
  const int64_t k = v[0].shape()[0], m = v[0].shape()[1], n = v[1].shape()[1];
  Tensor c = Tensor::empty({m, n}, v[0].device());
  if (v[0].device().is_cpu()) kernels::cpu::gemm_tn(m, n, k, v[0].data(), m, v[1].data(), n, c.data(), n);
#if ENGINE_WITH_CUDA
  else kernels::cuda::gemm_tn(m, n, k, v[0].data(), m, v[1].data(), n, c.data(), n);
#endif
  return c;
}

void add_lsrf_rows(std::vector<Row>& rows) {
  struct LsrfShape {
    int64_t size, pairs;
    bool quick;
  };
  const int64_t block = 256;
  for (const LsrfShape& s : {LsrfShape{40, 100, true}, LsrfShape{80, 300, false}, LsrfShape{128, 300, false}}) {
    const int64_t p = s.size * s.size, k = 3 * s.pairs;
    const std::string label = "corr " + std::to_string(p) + "x" + std::to_string(block) + ", k " + std::to_string(k) +
                              " (" + std::to_string(s.size) + "^2, " + std::to_string(s.pairs) + " pairs)";
    rows.push_back({"lsrf correlation (gemm_tn)", label, 2.0 * p * block * k, 0, s.quick, false, {{k, p}, {k, block}},
                    correlation_gemm});
  }
}

std::vector<Row> sargan_rows() {
  std::vector<Row> rows;
  const ConvSpec convs[] = {
      // generator: 10 = 3 image channels + 7 expression maps
      {"G in", 10, 128, 128, 64, 7, 1, 3, false, false},
      {"G down 1", 64, 128, 128, 128, 4, 2, 1, false, false},
      {"G down 2", 128, 64, 64, 256, 4, 2, 1, false, false},
      // The 3x3 convs run on reflection-padded input, hence padding 0.
      {"G residual", 256, 34, 34, 256, 3, 1, 0, false, true},
      {"G attention", 256, 34, 34, 64, 3, 1, 0, false, false},
      {"G attention down", 256, 34, 34, 64, 3, 2, 0, false, false},
      {"G hourglass", 64, 18, 18, 64, 3, 1, 0, false, false},
      {"G hourglass", 64, 10, 10, 64, 3, 1, 0, false, false},
      {"G up 1", 256, 32, 32, 128, 4, 2, 1, true, true},
      {"G up 2", 128, 64, 64, 64, 4, 2, 1, true, false},
      {"G out", 64, 128, 128, 3, 7, 1, 3, false, false},
      // discriminator (StarGAN, repeat_num 6) and its two heads
      {"D 1", 3, 128, 128, 64, 4, 2, 1, false, false},
      {"D 2", 64, 64, 64, 128, 4, 2, 1, false, true},
      {"D 3", 128, 32, 32, 256, 4, 2, 1, false, false},
      {"D 4", 256, 16, 16, 512, 4, 2, 1, false, false},
      {"D 5", 512, 8, 8, 1024, 4, 2, 1, false, false},
      {"D 6", 1024, 4, 4, 2048, 4, 2, 1, false, true},
      {"D src head", 2048, 2, 2, 1, 3, 1, 1, false, false},
      {"D cls head", 2048, 2, 2, 7, 2, 1, 0, false, false},
  };
  for (const ConvSpec& c : convs) add_conv_rows(c, rows);
  add_instance_norm_rows({1, 256, 32, 32}, true, rows);
  add_instance_norm_rows({1, 64, 128, 128}, false, rows);
  add_data_path_rows(rows);
  return rows;
}

std::vector<Tensor> make_inputs(const std::vector<Shape>& shapes, uint64_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  std::vector<Tensor> inputs;
  for (const Shape& s : shapes) {
    std::vector<float> values(engine::numel(s));
    for (float& v : values) v = uniform(generator);
    inputs.push_back(Tensor::from_vector(values, s));
  }
  return inputs;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

// Median seconds of `repeats` calls after `warmup` untimed ones. `sync` waits for the device.
double time_median(const std::function<void()>& call, const std::function<void()>& sync, int warmup,
                   int repeats) {
  for (int i = 0; i < warmup; ++i) call();
  sync();
  std::vector<double> seconds;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    call();
    sync();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return median(seconds);
}

// The ceiling: a square single-precision GEMM on the BLAS, large enough to run at its peak.
double sgemm_gflops(int64_t size, int warmup, int repeats) {
  const std::vector<Tensor> m = make_inputs({{size, size}, {size, size}}, 7);
  std::vector<float> c(size * size);
  const double seconds = time_median(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1.f, m[0].data(), size,
                    m[1].data(), size, 0.f, c.data(), size);
      },
      [] {}, warmup, repeats);
  return 2.0 * size * size * size / seconds * 1e-9;
}

// The cuda op must agree with the CPU op up to float summation order: relative <= 1e-3.
Difference difference(const Tensor& cuda, const Tensor& cpu) {
  const std::vector<float> a = cuda.to_vector(), b = cpu.to_vector();
  if (a.size() != b.size()) return {INFINITY, INFINITY};
  double worst = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, double(std::fabs(a[i] - b[i])));
    scale = std::max(scale, double(std::fabs(b[i])));
  }
  return {worst, worst / scale};
}

bool agrees(const Difference& d) { return d.relative <= 1e-3; }

// ---- cuda on a real GPU (ENGINE_CUDA=ON): CUDA-event times, the device's peaks and the cuDNN /
// cuBLAS baselines of the conv rows (kernels/conv2d_baseline.h) ----
#if ENGINE_WITH_CUDA_BASELINES
double gpu_median_s(const std::function<void()>& call, int warmup, int repeats) {
  return median(kernels::gpu::time_calls_ms(call, warmup, repeats)) * 1e-3;
}

// The conv row again on each vendor baseline the build has, timed and checked like ours.
std::vector<BaselineResult> time_baselines(const std::function<Tensor()>& call, const Tensor& cpu_output,
                                           int warmup, int repeats) {
  std::vector<kernels::ConvImpl> impls;
  if (kernels::cudnn_in_build()) impls.push_back(kernels::ConvImpl::cudnn);
  impls.push_back(kernels::ConvImpl::cublas);
  const kernels::ConvImpl previous = kernels::conv_impl();
  std::vector<BaselineResult> results;
  for (const kernels::ConvImpl impl : impls) {
    BaselineResult r;
    r.impl = kernels::conv_impl_name(impl);
    Tensor output;
    kernels::set_conv_impl(impl);
    try {
      r.median_s = gpu_median_s([&] { output = call(); }, warmup, repeats);
      r.error = difference(output, cpu_output);
    } catch (...) {
      kernels::set_conv_impl(previous);
      throw;
    }
    kernels::set_conv_impl(previous);
    results.push_back(r);
  }
  return results;
}

// cuBLAS sgemm of two size x size device matrices: what the GPU's GEMM reaches in practice.
double cublas_sgemm_gflops(int64_t size, int warmup, int repeats) {
  std::vector<Tensor> m = make_inputs({{size, size}, {size, size}}, 7);
  for (Tensor& t : m) t = t.to(Device::cuda());
  Tensor c = Tensor::empty({size, size}, Device::cuda());
  const double seconds = gpu_median_s(
      [&] { kernels::cublas::sgemm(size, size, size, m[0].data(), m[1].data(), c.data()); }, warmup, repeats);
  return 2.0 * size * size * size / seconds * 1e-9;
}
#endif

// What "% peak" of a cuda row is measured against; zero when unknown (the emulator).
struct DevicePeaks {
  double gflops = 0, gbytes = 0;
};

// Prints the device's peaks (and, on a real GPU, the cuBLAS sgemm it reaches) and records them.
// The rows' own times are of our kernels whatever ENGINE_CONV_IMPL says.
DevicePeaks cuda_peaks(int warmup, int repeats, nlohmann::json& document) {
  DevicePeaks peaks;
#if ENGINE_WITH_CUDA_BASELINES
  kernels::set_conv_impl(kernels::ConvImpl::ours);
  const kernels::gpu::DevicePeak p = kernels::gpu::device_peak();
  peaks = {p.fp32_gflops, p.bandwidth_gbs};
  const double sgemm = cublas_sgemm_gflops(4096, warmup, repeats);
  std::printf("device: %s (sm_%d%d), %d SMs x %d fp32 lanes x %.2f GHz = %.0f GFLOP/s fp32 peak; "
              "%d-bit bus x %.2f GHz x 2 = %.0f GB/s\n",
              p.name.c_str(), p.major, p.minor, p.sm_count, p.fp32_lanes_per_sm, p.clock_ghz, p.fp32_gflops,
              p.bus_width_bits, p.memory_clock_ghz, p.bandwidth_gbs);
  std::printf("cuBLAS sgemm 4096^3: %.0f GFLOP/s (%.0f%% of peak); baselines: %s\n", sgemm,
              100.0 * sgemm / p.fp32_gflops,
              kernels::cudnn_in_build() ? "cudnn, cublas" : "cublas (no cuDNN in build)");
  document["device_peak"] = {{"name", p.name},
                             {"compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor)},
                             {"sm_count", p.sm_count}, {"fp32_lanes_per_sm", p.fp32_lanes_per_sm},
                             {"clock_ghz", p.clock_ghz}, {"fp32_gflops", p.fp32_gflops},
                             {"memory_clock_ghz", p.memory_clock_ghz}, {"bus_width_bits", p.bus_width_bits},
                             {"bandwidth_gbs", p.bandwidth_gbs}};
  document["cublas_sgemm_gflops"] = sgemm;
#else
  (void)warmup;
  (void)repeats;
  std::printf("device: emulated on the CPU: times are not speeds, no peak, baselines n/a (no GPU)\n");
  document["device_peak"] = nullptr;
#endif
  return peaks;
}

bool is_conv(const Row& row) { return row.op.rfind("conv", 0) == 0; }

// "N,C,H,W,Co,K,stride,pad" -> a convolution spec (as --conv gives it).
ConvSpec parse_conv(const std::string& text) {
  std::vector<int64_t> v;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stoll(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      ENGINE_FAIL("--conv ", text, ": '", item, "' is not an integer (expected N,C,H,W,Co,K,stride,pad)");
    }
  }
  ENGINE_CHECK(v.size() == 8, "--conv ", text, ": expected 8 integers N,C,H,W,Co,K,stride,pad, got ", v.size());
  ENGINE_CHECK(v[0] > 0 && v[1] > 0 && v[2] > 0 && v[3] > 0 && v[4] > 0 && v[5] > 0 && v[6] > 0 && v[7] >= 0,
               "--conv ", text, ": sizes and stride must be positive, padding >= 0");
  ENGINE_CHECK(v[5] <= v[2] + 2 * v[7] && v[5] <= v[3] + 2 * v[7], "--conv ", text,
               ": the kernel is larger than the padded input");
  ConvSpec spec{"--conv", v[1], v[2], v[3], v[4], v[5], int(v[6]), int(v[7]), false, true};
  spec.n = v[0];
  return spec;
}

#if ENGINE_CUDA_EMULATED
void discard_launch_profiles() { kernels::emu::take_launch_profiles(); }

// The launches of `calls` calls of `row`: counters per call and the modelled H200 time per call.
// FLOPs come from the op's kernels::FlopScope (conv2d has one); otherwise the row's FLOPs are
// shared among its launches in proportion to their memory requests.
RowProfile row_profile(const Row& row, int calls) {
  RowProfile out;
  std::vector<kernels::emu::LaunchProfile> launches = kernels::emu::take_launch_profiles();
  if (launches.empty()) return out;
  const auto requests = [](const kernels::emu::LaunchProfile& p) {
    return p.global_load_requests + p.global_store_requests + p.shared_load_requests + p.shared_store_requests;
  };
  double all_requests = 0, attributed = 0;
  for (const auto& p : launches) all_requests += requests(p), attributed += p.flops;
  out.present = true;
  out.launches = static_cast<int>(launches.size()) / std::max(1, calls);
  double sectors = 0, footprint = 0, global_requests = 0, shared_requests = 0, conflicts = 0;
  nlohmann::json kernels = nlohmann::json::array();
  for (auto& p : launches) {
    if (attributed == 0) {  // no FlopScope around the op's launches: the row's FLOPs
      p.flops = all_requests > 0 ? row.flops * requests(p) / all_requests * calls : row.flops;
      p.predicted_h200_ms = kernels::emu::predict_h200_ms(p);
    }
    out.predicted_ms += p.predicted_h200_ms / calls;
    sectors += (p.global_load_sectors + p.global_store_sectors) / calls;
    footprint += p.global_footprint_bytes / calls;
    global_requests += (p.global_load_requests + p.global_store_requests) / calls;
    shared_requests += (p.shared_load_requests + p.shared_store_requests) / calls;
    conflicts += (p.shared_load_conflicts + p.shared_store_conflicts) / calls;
    if (kernels.size() < static_cast<size_t>(out.launches)) {
      kernels.push_back({{"kernel", p.kernel},
                         {"grid", {p.grid[0], p.grid[1], p.grid[2]}},
                         {"block", {p.block[0], p.block[1], p.block[2]}},
                         {"registers", p.registers},
                         {"shared_bytes", p.static_shared + p.dynamic_shared},
                         {"blocks_per_sm", p.occupancy.blocks_per_sm},
                         {"occupancy_limiter", p.occupancy.limiter},
                         {"waves", p.waves},
                         {"flops", p.flops},
                         {"global_load_requests", p.global_load_requests},
                         {"global_load_sectors", p.global_load_sectors},
                         {"global_store_requests", p.global_store_requests},
                         {"global_store_sectors", p.global_store_sectors},
                         {"global_footprint_bytes", p.global_footprint_bytes},
                         {"shared_load_requests", p.shared_load_requests},
                         {"shared_store_requests", p.shared_store_requests},
                         {"shared_load_conflicts", p.shared_load_conflicts},
                         {"shared_store_conflicts", p.shared_store_conflicts},
                         {"predicted_h200_ms", p.predicted_h200_ms}});
    }
  }
  out.counters = {{"launches", out.launches},     {"global_requests", global_requests},
                  {"global_sectors", sectors},     {"global_footprint_bytes", footprint},
                  {"shared_requests", shared_requests}, {"shared_conflicts", conflicts},
                  {"kernels", kernels}};
  return out;
}
#else
void discard_launch_profiles() {}
RowProfile row_profile(const Row&, int) { return {}; }
#endif

// Measured H200 times of the rows (docs/perf/h200-*.tsv, the calibration's data): our kernels and
// the cuDNN and cuBLAS baselines, by op and shape; empty where the file or the row is missing.
struct Measured {
  double ours_ms = 0, cudnn_ms = 0, cublas_ms = 0;
};
std::map<std::pair<std::string, std::string>, Measured> measured_h200() {
  std::map<std::pair<std::string, std::string>, Measured> out;
  std::ifstream in(std::string(ENGINE_PERF_DIR) + "/h200-2026-12-04-bench.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, '\t');) cells.push_back(cell);
    if (cells.size() != 5) continue;
    auto number = [](const std::string& t) { return t == "-" ? 0.0 : std::stod(t); };
    out[{cells[0], cells[1]}] = {number(cells[2]), number(cells[3]), number(cells[4])};
  }
  return out;
}

Result measure(const Row& row, Device device, double ceiling, const DevicePeaks& peaks, int warmup, int repeats) {
  std::vector<Tensor> inputs = make_inputs(row.input_shapes, 11);
  Result result;
  Tensor cpu_output;
  // Grad mode off (no graph is kept alive between calls) unless the row times a backward.
  const auto call = [&row](const std::vector<Tensor>& v) {
    std::optional<engine::NoGradGuard> no_grad;
    if (!row.records_graph) no_grad.emplace();
    return row.run(v);
  };
  if (device.is_cuda()) {
    cpu_output = call(inputs);
    for (Tensor& t : inputs) t = t.to(device);
  }
  Tensor output;
  // A one-float copy to the host waits for the device's queued work.
  const auto sync = [&] {
    if (device.is_cuda() && output.defined() && output.numel() > 0) {
      float first;
      engine::device_copy(Device::cpu(), &first, device, output.data(), sizeof(float));
    }
  };
  const std::function<void()> timed = [&] { output = call(inputs); };
  bool event_timed = false;
#if ENGINE_WITH_CUDA_BASELINES
  if (device.is_cuda()) {
    result.median_s = gpu_median_s(timed, warmup, repeats);
    event_timed = true;
    if (is_conv(row)) result.baselines = time_baselines([&] { return call(inputs); }, cpu_output, warmup, repeats);
  }
#endif
  if (!event_timed) {
    discard_launch_profiles();
    result.median_s = time_median(timed, sync, warmup, repeats);
    result.profile = row_profile(row, warmup + repeats);
  }
  result.gflops = row.flops / result.median_s * 1e-9;
  result.gbytes = row.bytes / result.median_s * 1e-9;
  if (device.is_cpu() && row.flops > 0) result.percent_of_sgemm = 100.0 * result.gflops / ceiling;
  if (row.flops > 0 && peaks.gflops > 0) result.percent_of_peak = 100.0 * result.gflops / peaks.gflops;
  if (row.flops == 0 && row.bytes > 0 && peaks.gbytes > 0)
    result.percent_of_peak = 100.0 * result.gbytes / peaks.gbytes;
  if (device.is_cuda()) {
    result.checked = true;
    result.error = difference(output, cpu_output);
    result.mismatch = !agrees(result.error);
    std::ostringstream note;
    note << (result.mismatch ? "MISMATCH vs cpu" : "matches cpu");
    for (const BaselineResult& b : result.baselines) {
      if (agrees(b.error)) continue;
      result.mismatch = true;
      note << "; " << b.impl << " MISMATCH vs cpu: " << b.error.relative;
    }
    if (cuda_emulated) note << "; emulated, not a speed";
    result.note = note.str();
  }
  return result;
}

// The cuda-only cells of a row: max abs and relative error against the CPU op, and the baselines.
std::string cuda_cells(const Row& row, const Result& r) {
  char text[160];
  std::snprintf(text, sizeof text, "%9.2e %9.2e  ", r.error.max_abs, r.error.relative);
  std::string baselines;
  if (cuda_emulated) baselines = is_conv(row) ? "n/a (no GPU)" : "-";
  for (const BaselineResult& b : r.baselines) {
    char one[64];
    std::snprintf(one, sizeof one, "%s%s %.3f ms", baselines.empty() ? "" : ", ", b.impl.c_str(), b.median_s * 1e3);
    baselines += one;
  }
  if (baselines.empty()) baselines = "-";
  char cell[64];
  std::snprintf(cell, sizeof cell, "%-36s ", baselines.c_str());
  return text + std::string(cell);
}

nlohmann::json cuda_json(const Row& row, const Result& r) {
  nlohmann::json entry = {{"max_abs_error", r.error.max_abs}, {"max_rel_error", r.error.relative}};
  if (r.percent_of_peak > 0) entry["percent_of_peak"] = r.percent_of_peak;
  if (cuda_emulated && is_conv(row)) entry["baselines"] = "n/a (no GPU)";
  for (const BaselineResult& b : r.baselines)
    entry["baselines"][b.impl] = {{"median_ms", b.median_s * 1e3},
                                  {"gflops", row.flops / b.median_s * 1e-9},
                                  {"max_abs_error", b.error.max_abs},
                                  {"max_rel_error", b.error.relative}};
  return entry;
}

void write_json_atomically(const std::string& path, const nlohmann::json& document) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) ENGINE_FAIL("cannot write ", temporary, " (does its folder exist?)");
    out << document.dump(2) << "\n";
    if (!out.good()) ENGINE_FAIL("writing ", temporary, " failed");
  }
  std::filesystem::rename(temporary, path);
}

int run(const std::string& device_name, bool quick, int repeats, const std::string& json_path,
        const std::vector<ConvSpec>& extra_convs, bool profile) {
  if (!json_path.empty()) {
    const std::filesystem::path folder = std::filesystem::path(json_path).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder))
      ENGINE_FAIL("--json ", json_path, ": the folder ", folder.string(), " does not exist");
  }
  const Device device = device_name == "cuda" ? Device::cuda() : Device::cpu();
  if (device.is_cuda() && !engine::cuda_available())
    ENGINE_FAIL("--device cuda needs a CUDA device; this build or machine has none "
                "(configure with -DENGINE_CUDA=ON, or EMU for the emulator)");
  // The emulator runs every CUDA thread on the CPU: the small set only, one call, no warm-up;
  // --profile runs every row, for the H200 model's predictions.
  if (profile) {
    ENGINE_CHECK(device.is_cuda() && cuda_emulated, "--profile needs --device cuda on the emulator (-DENGINE_CUDA=EMU)");
#if ENGINE_CUDA_EMULATED
    ENGINE_CHECK(kernels::emu::profile_available(),
                 "--profile: this build has no profiling instrumentation (sanitizer builds have none)");
    kernels::emu::set_profiling(true);
#endif
  }
  const bool small_set = quick || (device.is_cuda() && cuda_emulated && !profile);
  const auto measured = measured_h200();
  const int warmup = device.is_cuda() && cuda_emulated ? 0 : 1;
  if (repeats <= 0) repeats = device.is_cuda() && cuda_emulated ? 1 : quick ? 3 : 7;

  const double ceiling = sgemm_gflops(1024, 1, quick ? 3 : 7);
  std::printf("bench: device %s, %d OpenMP threads, %d BLAS threads, median of %d after %d warm-up\n",
              device.str().c_str(), omp_get_max_threads(), openblas_get_num_threads(), repeats, warmup);
  std::printf("sgemm ceiling: 1024^3 cblas_sgemm at %.1f GFLOP/s\n", ceiling);

  nlohmann::json document;
  const DevicePeaks peaks = device.is_cuda() ? cuda_peaks(warmup, repeats, document) : DevicePeaks{};
  std::printf("\n%-32s %-62s %9s %8s %7s %7s  %s", "op", "shape", "ms", "GFLOP/s", "GB/s",
              device.is_cuda() ? "% peak" : "% sgemm", device.is_cuda() ? "" : "note\n");
  if (device.is_cuda()) std::printf("%9s %9s  %-36s %s\n", "max abs", "max rel", "baselines", "note");
  document["device"] = device.str();
  document["emulated"] = device.is_cuda() && cuda_emulated;
  document["sgemm_gflops"] = ceiling;
  document["sgemm_size"] = 1024;
  document["threads"] = {{"openmp", omp_get_max_threads()}, {"blas", openblas_get_num_threads()}};
  document["repeats"] = repeats;
  document["warmup"] = warmup;
  document["rows"] = nlohmann::json::array();
  bool any_mismatch = false;
  std::vector<Row> rows = sargan_rows();
  add_lsrf_rows(rows);
  for (const ConvSpec& c : extra_convs) add_conv_rows(c, rows);
  for (const Row& row : rows) {
    if (small_set && !row.quick) continue;
    const Result r = measure(row, device, ceiling, peaks, warmup, repeats);
    any_mismatch = any_mismatch || r.mismatch;
    const auto cell = [](double value, bool shown) {
      char text[32];
      std::snprintf(text, sizeof text, shown ? "%.1f" : "-", value);
      return std::string(text);
    };
    const double percent = device.is_cuda() ? r.percent_of_peak : r.percent_of_sgemm;
    const auto known = measured.find({row.op, row.shape});
    const Measured* h200 = known == measured.end() ? nullptr : &known->second;
    std::printf("%-32s %-62s %9.3f %8s %7s %7s  %s%s\n", row.op.c_str(), row.shape.c_str(), r.median_s * 1e3,
                cell(r.gflops, row.flops > 0).c_str(), cell(r.gbytes, row.bytes > 0).c_str(),
                cell(percent, percent > 0).c_str(), r.checked ? cuda_cells(row, r).c_str() : "", r.note.c_str());
    if (r.profile.present) {
      // Modelled, beside what the H200 measured on 2026-12-04 (docs/perf.md).
      std::printf("    predicted H200: %.3f ms (model, %d launches)", r.profile.predicted_ms, r.profile.launches);
      if (h200 != nullptr) {
        std::printf("; measured H200: ours %.3f ms", h200->ours_ms);
        if (h200->cudnn_ms > 0) std::printf(", cuDNN %.3f ms", h200->cudnn_ms);
        if (h200->cublas_ms > 0) std::printf(", cuBLAS %.3f ms", h200->cublas_ms);
      }
      std::printf("\n");
    }
    std::fflush(stdout);
    nlohmann::json entry = {{"op", row.op}, {"shape", row.shape}, {"device", device.str()},
                            {"median_ms", r.median_s * 1e3}};
    if (row.flops > 0) entry["gflops"] = r.gflops;
    if (row.bytes > 0) entry["gbytes_per_s"] = r.gbytes;
    if (r.percent_of_sgemm > 0) entry["percent_of_sgemm"] = r.percent_of_sgemm;
    if (!r.note.empty()) entry["note"] = r.note;
    if (r.checked) entry.update(cuda_json(row, r));
    if (r.profile.present) {
      entry["predicted_h200_ms"] = r.profile.predicted_ms;
      entry["profile"] = r.profile.counters;
      if (h200 != nullptr) {
        entry["measured_h200"] = {{"ours_ms", h200->ours_ms}};
        if (h200->cudnn_ms > 0) entry["measured_h200"]["cudnn_ms"] = h200->cudnn_ms;
        if (h200->cublas_ms > 0) entry["measured_h200"]["cublas_ms"] = h200->cublas_ms;
      }
    }
    document["rows"].push_back(entry);
  }
  if (!json_path.empty()) write_json_atomically(json_path, document);
  if (any_mismatch) {
    std::fprintf(stderr, "bench: error: a cuda result differs from the cpu op (see the MISMATCH rows)\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Op benchmark on the SARGAN shapes, against the machine's sgemm ceiling"};
  std::string device = "cpu", json_path;
  std::vector<std::string> conv_shapes;
  bool quick = false;
  int repeats = 0;
  bool profile = false;
  app.add_option("--device", device, "cpu, or cuda (rows checked against the cpu op)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_flag("--quick", quick, "a few repeats of a small subset, for CI");
  app.add_option("--repeats", repeats, "timed calls per row (default 7, --quick 3)");
  app.add_option("--json", json_path, "also write the results to this JSON file");
  app.add_flag("--profile", profile,
               "emulator only: every row, with the profiler's counters and the modelled H200 time (docs/perf.md)");
  app.add_option("--conv", conv_shapes, "also time a conv2d of this shape: N,C,H,W,Co,K,stride,pad (repeatable)");
  add_precision_option(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    std::vector<ConvSpec> extra_convs;
    for (const std::string& text : conv_shapes) extra_convs.push_back(parse_conv(text));
    return run(device, quick, repeats, json_path, extra_convs, profile);
  } catch (const std::exception& e) {
    std::cerr << "bench: error: " << e.what() << "\n";
  }
  return 1;
}
