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
// baselines, engine/perf.h) as the yardstick. Under the emulator the times are
// labelled "emulated, not a speed" and the baselines "n/a (no GPU)". Checking the CPU ops against
// references is the tests' job, not this. The rows and the harness are in apps/bench/.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <cblas.h>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "bench/measure.h"
#include "bench/rows.h"
#include "engine/check.h"
#include "engine/file.h"
#include "engine/perf.h"
#include "precision_option.h"

using engine::Device;
using namespace bench;

namespace {

int run(const std::string& device_name, bool quick, int repeats, const std::string& json_path,
        const std::vector<ConvSpec>& extra_convs, bool profile) {
  if (!json_path.empty()) {
    const std::filesystem::path folder = std::filesystem::path(json_path).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder))
      ENGINE_FAIL("--json ", json_path, ": the folder ", folder.string(), " does not exist");
  }
  const Device device = device_name == "cuda" ? Device::cuda() : Device::cpu();
  const bool emulated = device.is_cuda() && engine::cuda_emulated();
  if (device.is_cuda() && !engine::cuda_available())
    ENGINE_FAIL("--device cuda needs a CUDA device; this build or machine has none "
                "(configure with -DENGINE_CUDA=ON, or EMU for the emulator)");
  // The emulator runs every CUDA thread on the CPU: the small set only, one call, no warm-up;
  // --profile runs every row, for the H200 model's predictions.
  if (profile) {
    ENGINE_CHECK(emulated, "--profile needs --device cuda on the emulator (-DENGINE_CUDA=EMU)");
    ENGINE_CHECK(engine::perf::profile_available(),
                 "--profile: this build has no profiling instrumentation (sanitizer builds have none)");
    engine::perf::set_profiling(true);
  }
  const bool small_set = quick || (emulated && !profile);
  const auto measured = measured_h200();
  const int warmup = emulated ? 0 : 1;
  if (repeats <= 0) repeats = emulated ? 1 : quick ? 3 : 7;

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
  document["emulated"] = emulated;
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
    const auto known = measured.find({row.op, row.shape});
    document["rows"].push_back(report_row(row, r, device, known == measured.end() ? nullptr : &known->second));
  }
  if (!json_path.empty()) engine::write_file_atomically(json_path, document.dump(2) + "\n");
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
