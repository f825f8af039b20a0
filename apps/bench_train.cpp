// bench_train: one SARGAN training iteration (a D step and a G step: n_critic 1) timed on random
// data, with the process's peak resident memory. The default sizes are the authors' (128x128,
// g/d_conv_dim 64, d_repeat_num 6); --demo uses the demo model's (docs/training.md).
//   bench_train [--batch_size 8] [--image_size 128] [--g_conv_dim 64] [--d_conv_dim 64]
//               [--d_repeat_num 6] [--demo] [--repeats 3] [--device cpu] [--precision fp32|tf32]
//               [--cuda_graph] [--profile_json PATH]
// Compare with tools/reference/bench_train_torch.py (PyTorch CPU, same work, same machine). Besides wall
// time it reports the process CPU time per iteration, which a busy machine disturbs much less.
// Under mpirun (docs/distributed.md) the batch is the global one, split over the ranks, and rank 0
// alone prints, adding the time per iteration spent averaging gradients and losses:
//   mpirun -np 2 -x OMP_NUM_THREADS=1 bench_train --demo   against   OMP_NUM_THREADS=2 bench_train --demo
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>
#include <vector>

#include "engine/check.h"
#include "engine/perf.h"
#include "models/sargan/trainer.h"
#include "precision_option.h"
#include "profile_json.h"

namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times one SARGAN training iteration (D step + G step)"};
  models::sargan::TrainConfig c;
  c.batch_size = 8;
  c.n_critic = 1;
  int repeats = 3;
  bool demo = false;
  std::string profile_json;
  app.add_option("--batch_size", c.batch_size, "images per batch")->capture_default_str();
  app.add_option("--image_size", c.image_size, "square image side")->capture_default_str();
  app.add_option("--g_conv_dim", c.g_conv_dim, "generator width")->capture_default_str();
  app.add_option("--d_conv_dim", c.d_conv_dim, "discriminator width")->capture_default_str();
  app.add_option("--d_repeat_num", c.d_repeat_num, "discriminator depth")->capture_default_str();
  app.add_flag("--demo", demo, "the demo model's sizes: 32x32, g 16, d 32, d_repeat_num 3");
  app.add_option("--repeats", repeats, "timed iterations after one warm-up")->capture_default_str();
  app.add_option("--device", c.device, "cpu or cuda")->capture_default_str();
  add_precision_option(app);
  app.add_flag("--cuda_graph", c.cuda_graph,
               "cuda: the warm-up runs op by op, the first timed iteration captures a CUDA graph, all replay it");
  app.add_option("--profile_json", profile_json,
                 "emulator, ENGINE_EMU_PROFILE=1 or sampled: write one iteration's launches and their modelled H200 "
                 "times here (docs/perf.md)");
  CLI11_PARSE(app, argc, argv);
  if (demo) {
    c.image_size = 32;
    c.g_conv_dim = 16;
    c.d_conv_dim = 32;
    c.d_repeat_num = 3;
  }
  try {
    using namespace models::sargan;
    const engine::Device device = engine::Device::parse(c.device);
    const std::unique_ptr<engine::Communicator> comm = engine::make_communicator(device, 600);
    Trainer trainer(c, device, comm.get());
    const double model_mb = peak_rss_mb();
    Batch batch;
    batch.images = trainer.rng().uniform({c.batch_size, 3, c.image_size, c.image_size}, -1.f, 1.f);
    for (int n = 0; n < c.batch_size; ++n) batch.labels.push_back(n % c.c_dim);
    auto cpu_seconds = [] { return double(std::clock()) / CLOCKS_PER_SEC; };
    std::vector<double> times, cpu_times, averaging;
    for (int r = 0; r <= repeats; ++r) {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = cpu_seconds();
      const double averaging_start = comm ? comm->seconds_averaging() : 0;
      trainer.iteration(batch);
      if (comm) averaging.push_back(comm->seconds_averaging() - averaging_start);
      if (r == 0) {  // warm-up
        engine::perf::take_h200_workload();
        continue;
      }
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      cpu_times.push_back(cpu_seconds() - cpu_start);
    }
    std::sort(times.begin(), times.end());
    std::sort(cpu_times.begin(), cpu_times.end());
    std::sort(averaging.begin(), averaging.end());
    if (comm && comm->rank() != 0) return 0;
    if (comm)
      std::printf("%d ranks (%s), global batch %d: gradient and loss averaging median %.4f s per iteration "
                  "(included below)\n", comm->size(), comm->backend().c_str(), c.batch_size,
                  averaging[averaging.size() / 2]);
    std::printf("sargan training iteration (D step + G step), batch %d at %dx%d, g_conv_dim %lld, d_conv_dim %lld, "
                "d_repeat_num %lld, G %lld + D %lld parameters, %s%s: wall median %.3f s, best %.3f s; "
                "CPU median %.3f s, best %.3f s; over %d iterations; peak RSS %.0f MB (%.0f MB after building the "
                "networks)\n",
                c.batch_size, c.image_size, c.image_size, (long long)c.g_conv_dim, (long long)c.d_conv_dim,
                (long long)c.d_repeat_num, (long long)trainer.generator().parameter_count(),
                (long long)trainer.discriminator().parameter_count(), device.str().c_str(),
                c.cuda_graph ? " (CUDA graph)" : "", times[times.size() / 2],
                times[0], cpu_times[cpu_times.size() / 2], cpu_times[0], repeats, peak_rss_mb(), model_mb);
    // Under the emulator with ENGINE_EMU_PROFILE=1: the H200 model's time (docs/perf.md).
    const engine::perf::H200Workload workload = engine::perf::take_h200_workload();
    engine::perf::print_h200_workload(workload, repeats, "iteration");
    char shape[160];
    std::snprintf(shape, sizeof shape, "batch %d at %dx%d, g_conv_dim %lld, d_conv_dim %lld, d_repeat_num %lld, %s%s",
                  c.batch_size, c.image_size, c.image_size, (long long)c.g_conv_dim, (long long)c.d_conv_dim,
                  (long long)c.d_repeat_num, kernels::precision_name(engine::precision()),
                  c.cuda_graph ? ", CUDA graph" : "");
    write_workload_json(profile_json, "sargan training iteration", shape, workload, repeats);
  } catch (const engine::Error& e) {
    std::cerr << "bench_train: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
