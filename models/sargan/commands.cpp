// The SARGAN commands of the `sargan` executable (contract in commands.h).
#include "models/sargan/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>

#include "engine/check.h"
#include "engine/dir_walk.h"
#include "engine/image.h"
#include "engine/random.h"
#include "models/monitor/progress_bar.h"
#include "models/sargan/weights.h"

namespace models::sargan {

namespace fs = std::filesystem;
using engine::Image;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

bool has_image_extension(const fs::path& path) {
  static const std::set<std::string> extensions = {".jpg", ".jpeg", ".png", ".ppm", ".bmp",
                                                   ".pgm", ".tif",  ".tiff", ".webp"};
  return extensions.count(lower(path.extension().string())) > 0;
}

// The output name: the file name up to its first '.', as the authors' result files are named.
std::string output_stem(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return name.substr(0, name.find('.'));
}

// Creates the folder and proves it writable before any work, so a permission problem is one
// clear line at the start rather than a failure after the first batch.
void prepare_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) ENGINE_FAIL("cannot create the output folder '", dir, "': ", ec.message());
  const fs::path probe = fs::path(dir) / (".sargan-write-test-" + std::to_string(::getpid()));
  std::FILE* file = std::fopen(probe.c_str(), "wb");
  if (!file) ENGINE_FAIL("cannot write into the output folder '", dir, "': ", std::strerror(errno));
  std::fclose(file);
  fs::remove(probe, ec);
}

struct Pending {
  std::string stem;
  Image prepared;
};

void warn_duplicate_names(const std::vector<std::string>& images, std::ostream& log) {
  std::map<std::string, std::string> first;
  for (const std::string& path : images) {
    auto [it, inserted] = first.emplace(output_stem(path), path);
    if (!inserted)
      log << "warning: '" << path << "' and '" << it->second << "' give the same output name '" << it->first
          << "'; the later one's files replace the earlier's\n";
  }
}

}  // namespace

std::vector<std::string> list_images(const std::string& path, const engine::WarnFn& warn) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (ec || !fs::exists(status)) ENGINE_FAIL("input '", engine::printable(path, 4096), "' does not exist");
  if (!fs::is_directory(status)) return {path};
  engine::DirWalkOptions options;
  options.skip_hidden = false;
  options.want = [](const std::string& name) { return has_image_extension(name); };
  std::vector<std::string> images = engine::list_regular_files(path, options, warn);
  // ImageFolder order: the folder's own images first, then each class folder's, all sorted.
  const fs::path top(path);
  std::stable_partition(images.begin(), images.end(),
                        [&](const std::string& image) { return fs::path(image).parent_path() == top; });
  return images;
}

std::string find_generator_weights(const std::string& dir, std::ostream& log) {
  std::string skipped;
  for (const char* name : {"sargan_G.ckpt", "sargan_G.safetensors"}) {
    const fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (!fs::is_regular_file(candidate, ec)) continue;
    if (fs::file_size(candidate, ec) == 0) {  // an interrupted copy must not hide a good file beside it
      skipped = candidate.string();
      continue;
    }
    log << "sargan: weights '" << engine::printable(candidate.string(), 4096) << "'";
    if (!skipped.empty()) log << " ('" << engine::printable(skipped, 4096) << "' is empty)";
    log << "\n";
    return candidate.string();
  }
  if (!skipped.empty())
    ENGINE_FAIL("'", engine::printable(skipped, 4096), "' is empty (0 bytes) and there is no other sargan_G file in '",
                engine::printable(dir, 4096), "'");
  ENGINE_FAIL("no sargan_G.ckpt or sargan_G.safetensors in '", engine::printable(dir, 4096),
              "' (or name the file with --weights)");
}

namespace {

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read (no check then).
uint64_t available_memory() {
  std::FILE* file = std::fopen("/proc/meminfo", "r");
  if (!file) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof(line), file))
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
  std::fclose(file);
  return uint64_t(kib) * 1024;
}

}  // namespace

uint64_t translate_memory_bytes(const TranslateJob& job) {
  // Measured peak RSS of a CPU translation of one image with --g_conv_dim 16 (the demo model):
  // 83 MB at 128 px, 273 MB at 256 px, i.e. about 3.9 KB per pixel over a 20 MB base. Taken as
  // 4 KiB per pixel per image, scaled with the generator's width (never below the measured 16).
  const double width = std::max<double>(1.0, double(job.generator.conv_dim) / 16.0);
  const double pixels = double(job.image_size) * double(job.image_size) * double(job.batch_size);
  return uint64_t(pixels * 4096.0 * width) + (uint64_t(64) << 20);
}

TranslateReport translate_images(const TranslateJob& job, std::ostream& log) {
  if (job.batch_size < 1) ENGINE_FAIL("--batch_size must be at least 1, got ", job.batch_size);
  const std::vector<std::string> images =
      list_images(job.input, [&](const std::string& line) { log << "warning: " << line << "\n"; });
  if (images.empty())
    ENGINE_FAIL("no images (.jpg .jpeg .png .bmp ...) in '", engine::printable(job.input, 4096), "'");
  if (job.image_size < min_generator_size)
    ENGINE_FAIL("--image_size must be at least ", min_generator_size, " for the SARGAN generator, got ", job.image_size);
  const uint64_t need = translate_memory_bytes(job), have = available_memory();
  if (have > 0 && need > have)
    ENGINE_FAIL("--image_size ", job.image_size, " with --batch_size ", job.batch_size, " needs about ",
                (need + (uint64_t(1) << 29)) >> 30, " GB of memory and ", (have + (uint64_t(1) << 29)) >> 30,
                " GB is available; use a smaller --image_size or --batch_size");
  warn_duplicate_names(images, log);
  prepare_output_dir(job.output_dir);
  engine::Philox rng(0);  // the initial values are all overwritten by the checkpoint
  Generator g(job.generator, rng);
  load_generator(g, job.weights);
  Translator translator(g, job.device, job.cuda_graph);

  TranslateReport report;
  const auto start = clock_type::now();
  monitor::ProgressOptions progress_options;
  progress_options.unit = "images";
  progress_options.line_interval = 5.0;  // a translation is short: show it moving in a log too
  monitor::ProgressBar progress(log, int64_t(images.size()), progress_options);
  std::vector<Pending> pending;
  size_t done = 0;
  auto flush = [&] {
    if (pending.empty()) return;
    std::vector<Image> batch;
    for (const Pending& p : pending) batch.push_back(p.prepared);
    const std::vector<std::vector<Image>> outputs = translator.translate(batch);
    for (size_t n = 0; n < pending.size(); ++n) {
      const fs::path base = fs::path(job.output_dir) / pending[n].stem;
      try {  // one unwritable output (a name too long with its suffix) skips that image only
        for (size_t k = 0; k < outputs[n].size(); ++k)
          engine::save_png(base.string() + "_SARGAN_" + expression_name(int64_t(k)) + ".png", outputs[n][k]);
        engine::save_png(base.string() + "_grid.png", make_grid_row(pending[n].prepared, outputs[n]));
        ++report.translated;
      } catch (const engine::Error& e) {
        progress.print(std::string("warning: skipping ") + e.what());
        ++report.skipped;
      }
    }
    done += pending.size();
    pending.clear();
    progress.update(done);
  };
  for (const std::string& path : images) {
    Image prepared;
    try {
      prepared = prepare_image(engine::load_image(path, 3), job.image_size, job.crop);
    } catch (const engine::Error& e) {
      progress.print(std::string("warning: skipping ") + e.what());
      ++report.skipped;
      progress.update(++done);
      continue;
    }
    // One forward holds images of one size: with --crop none they may differ.
    if (!pending.empty() && (pending[0].prepared.width != prepared.width ||
                             pending[0].prepared.height != prepared.height))
      flush();
    pending.push_back({output_stem(path), std::move(prepared)});
    if (int(pending.size()) == job.batch_size) flush();
  }
  flush();
  progress.finish();
  report.seconds = seconds_since(start);
  report.cuda_graph = translator.graph_captured();
  return report;
}

namespace {

constexpr int64_t max_image_size = 4096;  // as LSRF: beyond it the generator needs > 100 GB

// Numbers a user types, refused in one plain line before any network is built (the deeper
// ENGINE_CHECKs guard programming errors and append their source location).
void validate_user_options(const CommonOptions& common, const Options& o) {
  const TrainConfig& c = o.config;
  if (c.batch_size < 1) ENGINE_FAIL("--batch_size must be at least 1, got ", c.batch_size);
  if (c.c_dim < 1) ENGINE_FAIL("--c_dim must be at least 1, got ", c.c_dim);
  if (c.g_conv_dim < 1) ENGINE_FAIL("--g_conv_dim must be at least 1, got ", c.g_conv_dim);
  if (common.image_size < min_generator_size || common.image_size > max_image_size)
    ENGINE_FAIL("--image_size must be ", min_generator_size, "..", max_image_size, ", got ", common.image_size);
}

}  // namespace

int run_convert(const ConvertOptions& options, std::ostream& out) {
  convert_weights(options.in, options.out);
  out << "sargan: wrote " << options.out << "\n";
  return 0;
}

int run(const CommonOptions& common, const Options& o, std::ostream& log, std::ostream& out) {
  validate_user_options(common, o);
  if (common.mode == "train") return run_train(common, o, log, out);
  if (common.mode != "test" && common.mode != "test_inthewild")
    ENGINE_FAIL("--model SARGAN: unknown --mode '", common.mode, "' (expected train, test or test_inthewild)");
  TranslateJob job;
  job.input = !o.image_dir.empty() ? o.image_dir : common.test_dataset_dir;
  if (job.input.empty()) ENGINE_FAIL("--mode ", common.mode, " needs --image_dir or --test_dataset_dir");
  if (!o.weights.empty()) {
    job.weights = o.weights;
  } else {
    const std::string dir = !o.model_save_dir.empty() ? o.model_save_dir : common.weights_dir;
    if (dir.empty()) ENGINE_FAIL("--mode ", common.mode, " needs --model_save_dir, --weights_dir or --weights");
    job.weights = find_generator_weights(dir, log);
  }
  job.output_dir = common.results_dir;
  job.image_size = common.image_size;
  if (o.crop != "centre" && o.crop != "center" && o.crop != "none")
    ENGINE_FAIL("--crop must be centre or none, got '", o.crop, "'");
  job.crop = o.crop == "none" ? Crop::none : Crop::centre;
  job.generator.conv_dim = o.config.g_conv_dim;
  job.generator.c_dim = o.config.c_dim;
  job.device = resolve_device(common.device);
  job.batch_size = o.config.batch_size;
  job.cuda_graph = o.config.cuda_graph;
  const TranslateReport report = translate_images(job, log);
  out << "sargan: translated " << report.translated << " image" << (report.translated == 1 ? "" : "s") << " into "
      << job.generator.c_dim << " expressions in " << std::fixed << std::setprecision(2) << report.seconds << " s on "
      << job.device.str() << (report.cuda_graph ? " (CUDA graph)" : "") << std::defaultfloat;
  if (report.skipped) out << " (" << report.skipped << " skipped)";
  out << " -> " << job.output_dir << "\n";
  return report.translated > 0 ? 0 : 1;
}

}  // namespace models::sargan
