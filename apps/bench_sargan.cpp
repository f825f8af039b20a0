// bench_sargan: the SARGAN test-mode workload, timed: N images x c_dim expressions through the
// default-size generator (random weights: the time does not depend on their values), as
// Translator::translate runs it (tensor in, forward without autograd, 8-bit images out). Decoding
// and PNG encoding are left out; they are the same work in any framework.
//   bench_sargan [--images 8] [--image_size 128] [--batch_size 1] [--repeats 5] [--device cpu] [--cuda_graph]
//                [--precision fp32|tf32] [--profile_json PATH]
// Compare with tools/reference/bench_sargan_torch.py (PyTorch CPU, same work, same machine). Besides wall
// time it reports the process CPU time per run, which a busy machine disturbs much less: with one
// thread (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1) it is the wall time of a quiet machine.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <iostream>
#include <vector>

#include "engine/check.h"
#include "engine/perf.h"
#include "engine/random.h"
#include "models/sargan/networks.h"
#include "models/sargan/translator.h"
#include "precision_option.h"
#include "profile_json.h"

int main(int argc, char** argv) {
  CLI::App app{"Times the SARGAN generator on the test-mode workload"};
  int images = 8, image_size = 128, batch_size = 1, repeats = 5;
  std::string device_name = "cpu", profile_json;
  bool cuda_graph = false;
  app.add_option("--images", images, "images translated per run")->capture_default_str();
  app.add_option("--image_size", image_size, "square image side")->capture_default_str();
  app.add_option("--batch_size", batch_size, "images per forward (each gives 7 samples)")->capture_default_str();
  app.add_option("--repeats", repeats, "timed runs after one warm-up run")->capture_default_str();
  app.add_option("--device", device_name, "cpu or cuda")->capture_default_str();
  add_precision_option(app);
  app.add_flag("--cuda_graph", cuda_graph,
               "cuda: capture the generator's forward in a CUDA graph (in the warm-up run) and replay it");
  app.add_option("--profile_json", profile_json,
                 "emulator, ENGINE_EMU_PROFILE=1 or sampled: write one run's launches and their modelled H200 times "
                 "here (docs/perf.md)");
  CLI11_PARSE(app, argc, argv);
  try {
    using namespace models::sargan;
    engine::Philox rng(0);
    Generator g(GeneratorConfig{}, rng);
    Translator translator(g, engine::Device::parse(device_name), cuda_graph);
    std::vector<engine::Image> inputs;
    for (int i = 0; i < images; ++i) {
      engine::Image image(image_size, image_size, 3);
      for (auto& p : image.pixels) p = uint8_t(rng.next_u32() & 0xFF);
      inputs.push_back(image);
    }
    auto cpu_seconds = [] { return double(std::clock()) / CLOCKS_PER_SEC; };
    std::vector<double> times, cpu_times;
    auto run_once = [&] {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = cpu_seconds();
      for (int first = 0; first < images; first += batch_size) {
        std::vector<engine::Image> batch(inputs.begin() + first, inputs.begin() + std::min(images, first + batch_size));
        translator.translate(batch);
      }
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      cpu_times.push_back(cpu_seconds() - cpu_start);
    };
    run_once();  // warm-up: allocator caches, OpenBLAS threads, the first layer's target responses
    times.clear();
    cpu_times.clear();
    engine::perf::take_h200_workload();  // drops the warm-up's launches
    for (int r = 0; r < repeats; ++r) run_once();
    std::sort(times.begin(), times.end());
    std::sort(cpu_times.begin(), cpu_times.end());
    std::printf("sargan G (3,203,394 parameters), %d images x 7 expressions at %dx%d, batch %d image(s), %s%s: "
                "wall median %.3f s, best %.3f s; CPU median %.3f s, best %.3f s; over %d runs\n",
                images, image_size, image_size, batch_size, device_name.c_str(),
                translator.graph_captured() ? " (CUDA graph)" : "", times[times.size() / 2], times[0],
                cpu_times[cpu_times.size() / 2], cpu_times[0], repeats);
    // Under the emulator with ENGINE_EMU_PROFILE=1: the H200 model's time (docs/perf.md).
    const engine::perf::H200Workload workload = engine::perf::take_h200_workload();
    engine::perf::print_h200_workload(workload, repeats, "run");
    char shape[160];
    std::snprintf(shape, sizeof shape, "%d images x 7 expressions at %dx%d, batch %d, %s%s", images, image_size,
                  image_size, batch_size, kernels::precision_name(engine::precision()),
                  translator.graph_captured() ? ", CUDA graph" : "");
    write_workload_json(profile_json, "sargan translate", shape, workload, repeats);
  } catch (const engine::Error& e) {
    std::cerr << "bench_sargan: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
