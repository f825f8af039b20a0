// The LSRF/OMP commands of the `sargan` executable (contract in commands.h).
#include "models/lsrf/commands.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "engine/check.h"
#include "engine/image.h"
#include "models/lsrf/pipeline.h"
#include "models/lsrf/train.h"
#include "models/lsrf/weights.h"

namespace models::lsrf {

namespace fs = std::filesystem;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  return s;
}

void require_dir_flag(const std::string& value, const char* flag, const std::string& mode) {
  if (value.empty()) ENGINE_FAIL("--mode ", mode, " needs ", flag);
}

void make_dir(const std::string& dir, const char* flag) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) ENGINE_FAIL("cannot create ", flag, " folder '", dir, "': ", ec.message());
}

// On --device: the products run there (the same bits on cpu and cuda, engine/sparse.h).
LinearMap load_map(const CommonOptions& c, const Options& o, std::string* path_out) {
  const engine::Device device = resolve_device(c.device);
  const std::string path = find_weights_file(c.weights_dir, c.model, o.f, c.image_size);
  const CsrWeights weights = load_csr_npz(path);
  check_weights_shape(weights, c.image_size, path);
  if (path_out) *path_out = path;
  return LinearMap(weights, device);
}

std::string output_path(const std::string& results_dir, const std::string& input) {
  return (fs::path(results_dir) / (fs::path(input).stem().string() + "_y_1_test.png")).string();
}

int run_test_inthewild(const CommonOptions& c, const Options& o, std::ostream& log) {
  require_dir_flag(c.test_dataset_dir, "--test_dataset_dir", c.mode);
  require_dir_flag(c.weights_dir, "--weights_dir", c.mode);
  std::string weights_path;
  const LinearMap map = load_map(c, o, &weights_path);
  const std::vector<std::string> images = list_images(c.test_dataset_dir, {".jpg", ".jpeg"});
  if (images.empty()) ENGINE_FAIL("no .jpg images in '", c.test_dataset_dir, "'");
  make_dir(c.results_dir, "--results_dir");
  const auto start = clock_type::now();
  int written = 0;
  for (const std::string& input : images) {
    Planes x;
    try {
      x = load_planes(input, c.image_size);
    } catch (const engine::Error& e) {
      log << "warning: skipped " << e.what() << "\n";
      continue;
    }
    engine::save_png(output_path(c.results_dir, input), planes_to_image(map.apply(x)));
    ++written;
  }
  const double seconds = seconds_since(start);
  log << upper(c.model) << " f=" << o.f << " " << c.image_size << "x" << c.image_size << " (" << weights_path
      << "): " << written << " of " << images.size() << " images written to " << c.results_dir << " in "
      << seconds * 1e3 << " ms (" << (written ? seconds * 1e3 / written : 0.0) << " ms per image)\n";
  return written > 0 ? 0 : 1;
}

int run_train(const CommonOptions& c, const Options& o, std::ostream& log) {
  require_dir_flag(c.train_dataset_dir, "--train_dataset_dir", c.mode);
  require_dir_flag(c.weights_dir, "--weights_dir", c.mode);
  if (c.image_size < 1) ENGINE_FAIL("--image_size must be positive");
  const engine::Device device = resolve_device(c.device);  // before any work: a refusal is quick
  const auto start = clock_type::now();
  const TrainingSet set = load_training_set(c.train_dataset_dir, c.image_size);
  log << "loaded " << set.count << " training pairs at " << c.image_size << "x" << c.image_size << " in "
      << seconds_since(start) << " s\n";
  TrainOptions options;
  options.method = upper(c.model) == "LSRF" ? Method::lsrf : Method::omp;
  options.f = o.f;
  options.lamda = o.lamda;
  options.beta = o.beta;
  options.progress = true;
  options.device = device;
  log << upper(c.model) << " f=" << o.f << ": correlations on " << device.str() << "\n";
  const CsrWeights weights = train(set, options);
  make_dir(c.weights_dir, "--weights_dir");
  const std::string path = (fs::path(c.weights_dir) / weights_file_name(c.model, o.f, c.image_size)).string();
  save_csr_npz(path, weights);
  log << "wrote " << path << " (" << weights.data.size() << " weights) after " << seconds_since(start) << " s\n";
  return 0;
}

int run_test_pairs(const CommonOptions& c, const Options& o, std::ostream& log) {
  require_dir_flag(c.test_dataset_dir, "--test_dataset_dir", c.mode);
  require_dir_flag(c.weights_dir, "--weights_dir", c.mode);
  std::string weights_path;
  const LinearMap map = load_map(c, o, &weights_path);
  const std::vector<std::string> inputs = list_images((fs::path(c.test_dataset_dir) / "testA").string(), {".png"});
  const PairedScore score = score_pairs(weights_path, c.test_dataset_dir, c.image_size);
  make_dir(c.results_dir, "--results_dir");
  for (const std::string& input : inputs)
    engine::save_png(output_path(c.results_dir, input), planes_to_image(map.apply(load_planes(input, c.image_size))));
  log << upper(c.model) << " f=" << o.f << " on " << score.pairs << " test pairs: mean absolute error to the target "
      << score.model_mae << " grey levels (identity: " << score.identity_mae << "); outputs in " << c.results_dir << "\n";
  return 0;
}

}  // namespace

PairedScore score_pairs(const std::string& weights_path, const std::string& dataset_dir, int image_size) {
  const CsrWeights weights = load_csr_npz(weights_path);
  check_weights_shape(weights, image_size, weights_path);
  const LinearMap map(weights);
  const TrainingSet set = load_training_set(dataset_dir, image_size, "test");
  const size_t plane = size_t(image_size) * image_size;
  PairedScore score;
  score.pairs = set.count;
  double model_sum = 0.0, identity_sum = 0.0;
  for (int n = 0; n < set.count; ++n) {
    Planes x;
    x.size = image_size;
    x.values.resize(3 * plane);
    for (int c = 0; c < 3; ++c)
      std::copy_n(set.inputs.begin() + (size_t(c) * set.count + n) * plane, plane, x.values.begin() + c * plane);
    const Planes y = map.apply(x);
    for (int c = 0; c < 3; ++c)
      for (size_t p = 0; p < plane; ++p) {
        const double target = set.targets[(size_t(c) * set.count + n) * plane + p];
        model_sum += std::abs(y.values[c * plane + p] - target);
        identity_sum += std::abs(x.values[c * plane + p] - target);
      }
  }
  const double count = double(set.count) * 3 * plane;
  score.model_mae = model_sum / count * 255.0;
  score.identity_mae = identity_sum / count * 255.0;
  return score;
}

int run(const CommonOptions& c, const Options& o, std::ostream& log) {
  const std::string model = upper(c.model);
  if (model != "LSRF" && model != "OMP") ENGINE_FAIL("lsrf: unknown --model '", c.model, "' (expected LSRF or OMP)");
  if (o.f < 1) ENGINE_FAIL("--f must be at least 1, got ", o.f);
  if (c.image_size < 1 || c.image_size > 4096) ENGINE_FAIL("--image_size must be in 1..4096, got ", c.image_size);
  if (c.mode == "test_inthewild") return run_test_inthewild(c, o, log);
  if (c.mode == "train") return run_train(c, o, log);
  if (c.mode == "test") return run_test_pairs(c, o, log);
  ENGINE_FAIL("unknown --mode '", c.mode, "' (expected train, test_inthewild or test)");
}

}  // namespace models::lsrf
