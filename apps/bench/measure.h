#pragma once
// The benchmark's harness (apps/bench.cpp): times one row on a device (median of repeated calls;
// CUDA events on a real GPU, with the cuDNN and cuBLAS baselines of the conv rows), checks a
// cuda result against the CPU op, reads the emulator profiler's counters and the H200 model's
// time, and prints a row and its JSON entry beside the measured H200 times.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "engine/device.h"
#include "rows.h"

namespace bench {

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

// What "% peak" of a cuda row is measured against; zero when unknown (the emulator).
struct DevicePeaks {
  double gflops = 0, gbytes = 0;
};

// Measured H200 times of the rows (docs/perf/h200-*.tsv, the calibration's data): our kernels and
// the cuDNN and cuBLAS baselines, by op and shape; empty where the file or the row is missing.
struct Measured {
  double ours_ms = 0, cudnn_ms = 0, cublas_ms = 0;
};
std::map<std::pair<std::string, std::string>, Measured> measured_h200();

// The ceiling: a square single-precision GEMM on the BLAS, large enough to run at its peak.
double sgemm_gflops(int64_t size, int warmup, int repeats);
// Prints the device's peaks (and, on a real GPU, the cuBLAS sgemm it reaches) and records them.
// The rows' own times are of our kernels whatever ENGINE_CONV_IMPL says.
DevicePeaks cuda_peaks(int warmup, int repeats, nlohmann::json& document);
// `row` on `device`, its inputs made once; a cuda row is checked against the CPU op.
Result measure(const Row& row, engine::Device device, double ceiling, const DevicePeaks& peaks, int warmup,
               int repeats);
// Prints the row's line (and the modelled and measured H200 times) and returns its JSON entry.
nlohmann::json report_row(const Row& row, const Result& r, engine::Device device, const Measured* h200);

}  // namespace bench
