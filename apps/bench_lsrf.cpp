// bench_lsrf: time of the LSRF/OMP inference stages per image, for docs/lsrf.md.
//   bench_lsrf --weights W.npz --images DIR [--repeat 20]
// Prints milliseconds per image for decode + resize + scaling, the sparse product (3 channels) and
// the output scaling. Writing the PNG is left out: its fsync'd disk write would dominate.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <iostream>

#include "engine/check.h"
#include "models/lsrf/pipeline.h"
#include "models/lsrf/weights.h"

int main(int argc, char** argv) {
  CLI::App app{"time the LSRF/OMP inference stages"};
  std::string weights_path, images_dir;
  int repeat = 20;
  app.add_option("--weights", weights_path, "a weights .npz")->required();
  app.add_option("--images", images_dir, "a folder of .jpg images")->required();
  app.add_option("--repeat", repeat, "passes over the images")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    using clock = std::chrono::steady_clock;
    const models::lsrf::CsrWeights weights = models::lsrf::load_csr_npz(weights_path);
    const models::lsrf::LinearMap map(weights);
    const std::vector<std::string> images = models::lsrf::list_images(images_dir, {".jpg", ".jpeg"});
    ENGINE_CHECK(!images.empty(), "no .jpg images in ", images_dir);
    double load_s = 0, apply_s = 0, out_s = 0;
    uint64_t checksum = 0;
    for (int r = 0; r < repeat; ++r)
      for (const std::string& path : images) {
        const auto t0 = clock::now();
        const models::lsrf::Planes x = models::lsrf::load_planes(path, map.size());
        const auto t1 = clock::now();
        const models::lsrf::Planes y = map.apply(x);
        const auto t2 = clock::now();
        const engine::Image out = models::lsrf::planes_to_image(y);
        const auto t3 = clock::now();
        checksum += out.pixels[out.pixels.size() / 2];
        load_s += std::chrono::duration<double>(t1 - t0).count();
        apply_s += std::chrono::duration<double>(t2 - t1).count();
        out_s += std::chrono::duration<double>(t3 - t2).count();
      }
    const double n = double(repeat) * images.size();
    std::cout << weights_path << " (" << map.size() << "x" << map.size() << ", " << weights.data.size()
              << " weights), ms per image: decode+resize+scale " << load_s / n * 1e3 << ", sparse product "
              << apply_s / n * 1e3 << ", output scaling " << out_s / n * 1e3 << ", total "
              << (load_s + apply_s + out_s) / n * 1e3 << " (checksum " << checksum << ")\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_lsrf: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
