// The benchmark's harness (contract in measure.h).
#include "measure.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "engine/autograd.h"
#include "engine/perf.h"
#include "profile_json.h"

namespace bench {

using engine::Device;
using engine::Shape;
using engine::Tensor;
namespace perf = engine::perf;

namespace {

const bool cuda_emulated = engine::cuda_emulated();

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
// cuBLAS baselines of the conv rows (engine/perf.h) ----
double gpu_median_s(const std::function<void()>& call, int warmup, int repeats) {
  return median(perf::time_cuda_calls_ms(call, warmup, repeats)) * 1e-3;
}

// The conv row again on each vendor baseline the build has, timed and checked like ours.
std::vector<BaselineResult> time_baselines(const std::function<Tensor()>& call, const Tensor& cpu_output,
                                           int warmup, int repeats) {
  std::vector<perf::ConvImpl> impls;
  if (perf::cudnn_in_build()) impls.push_back(perf::ConvImpl::cudnn);
  impls.push_back(perf::ConvImpl::cublas);
  const perf::ConvImpl previous = perf::conv_impl();
  std::vector<BaselineResult> results;
  for (const perf::ConvImpl impl : impls) {
    BaselineResult r;
    r.impl = perf::conv_impl_name(impl);
    Tensor output;
    perf::set_conv_impl(impl);
    try {
      r.median_s = gpu_median_s([&] { output = call(); }, warmup, repeats);
      r.error = difference(output, cpu_output);
    } catch (...) {
      perf::set_conv_impl(previous);
      throw;
    }
    perf::set_conv_impl(previous);
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
      [&] { perf::cublas_sgemm(size, size, size, m[0].data(), m[1].data(), c.data()); }, warmup, repeats);
  return 2.0 * size * size * size / seconds * 1e-9;
}

void discard_launch_profiles() { perf::take_launch_profiles(); }

// The launches of `calls` calls of `row`: counters per call and the modelled H200 time per call.
// FLOPs come from the op's kernels::FlopScope (conv2d has one); otherwise the row's FLOPs are
// shared among its launches in proportion to their memory requests. Empty unless profiling.
RowProfile row_profile(const Row& row, int calls) {
  RowProfile out;
  std::vector<perf::LaunchProfile> launches = perf::take_launch_profiles();
  if (launches.empty()) return out;
  const auto requests = [](const perf::LaunchProfile& p) {
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
      p.predicted_h200_ms = perf::predict_h200_ms(p);
    }
    out.predicted_ms += p.predicted_h200_ms / calls;
    sectors += (p.global_load_sectors + p.global_store_sectors) / calls;
    footprint += p.global_footprint_bytes / calls;
    global_requests += (p.global_load_requests + p.global_store_requests) / calls;
    shared_requests += (p.shared_load_requests + p.shared_store_requests) / calls;
    conflicts += (p.shared_load_conflicts + p.shared_store_conflicts) / calls;
    if (kernels.size() < static_cast<size_t>(out.launches)) kernels.push_back(launch_json(p));
  }
  out.counters = {{"launches", out.launches},     {"global_requests", global_requests},
                  {"global_sectors", sectors},     {"global_footprint_bytes", footprint},
                  {"shared_requests", shared_requests}, {"shared_conflicts", conflicts},
                  {"kernels", kernels}};
  return out;
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

}  // namespace

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

DevicePeaks cuda_peaks(int warmup, int repeats, nlohmann::json& document) {
  DevicePeaks peaks;
  if (!perf::gpu_baselines_in_build()) {
    std::printf("device: emulated on the CPU: times are not speeds, no peak, baselines n/a (no GPU)\n");
    document["device_peak"] = nullptr;
    return peaks;
  }
  perf::set_conv_impl(perf::ConvImpl::ours);
  const perf::DevicePeak p = perf::device_peak();
  peaks = {p.fp32_gflops, p.bandwidth_gbs};
  const double sgemm = cublas_sgemm_gflops(4096, warmup, repeats);
  std::printf("device: %s (sm_%d%d), %d SMs x %d fp32 lanes x %.2f GHz = %.0f GFLOP/s fp32 peak; "
              "%d-bit bus x %.2f GHz x 2 = %.0f GB/s\n",
              p.name.c_str(), p.major, p.minor, p.sm_count, p.fp32_lanes_per_sm, p.clock_ghz, p.fp32_gflops,
              p.bus_width_bits, p.memory_clock_ghz, p.bandwidth_gbs);
  std::printf("cuBLAS sgemm 4096^3: %.0f GFLOP/s (%.0f%% of peak); baselines: %s\n", sgemm,
              100.0 * sgemm / p.fp32_gflops,
              perf::cudnn_in_build() ? "cudnn, cublas" : "cublas (no cuDNN in build)");
  document["device_peak"] = {{"name", p.name},
                             {"compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor)},
                             {"sm_count", p.sm_count}, {"fp32_lanes_per_sm", p.fp32_lanes_per_sm},
                             {"clock_ghz", p.clock_ghz}, {"fp32_gflops", p.fp32_gflops},
                             {"memory_clock_ghz", p.memory_clock_ghz}, {"bus_width_bits", p.bus_width_bits},
                             {"bandwidth_gbs", p.bandwidth_gbs}};
  document["cublas_sgemm_gflops"] = sgemm;
  return peaks;
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
  const bool event_timed = device.is_cuda() && perf::gpu_baselines_in_build();
  if (event_timed) {
    result.median_s = gpu_median_s(timed, warmup, repeats);
    if (is_conv(row)) result.baselines = time_baselines([&] { return call(inputs); }, cpu_output, warmup, repeats);
  } else {
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

nlohmann::json report_row(const Row& row, const Result& r, Device device, const Measured* h200) {
  const auto cell = [](double value, bool shown) {
    char text[32];
    std::snprintf(text, sizeof text, shown ? "%.1f" : "-", value);
    return std::string(text);
  };
  const double percent = device.is_cuda() ? r.percent_of_peak : r.percent_of_sgemm;
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
  return entry;
}

}  // namespace bench
