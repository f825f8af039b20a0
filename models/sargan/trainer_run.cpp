// A whole SARGAN training run: data, resume, the loop, monitoring and checkpoints (contract in
// trainer.h).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>

#include "engine/check.h"
#include "models/sargan/trainer.h"

namespace models::sargan {

namespace fs = std::filesystem;
using monitor::CsvWriter;
using monitor::format_log_line;
using monitor::NamedValues;
using monitor::plot_loss_csv;
using monitor::progress_losses;
using monitor::ProgressBar;
using monitor::ProgressOptions;
using monitor::save_sample_grid;

namespace {

// The loader warns from its own thread: every write to the log, the progress bar's included, goes
// through one lock. With a bar, lines are printed above it.
class Log {
 public:
  explicit Log(std::ostream& out) : out_(out) {}
  void line(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bar_) bar_->print(text);
    else out_ << text << "\n" << std::flush;
  }
  void start_bar(int64_t total, int64_t initial) {
    std::lock_guard<std::mutex> lock(mutex_);
    ProgressOptions options;
    options.initial = initial;
    bar_.emplace(out_, total, options);
  }
  void progress(int64_t step, const NamedValues& losses) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bar_) bar_->update(step, progress_losses(losses));
  }
  void finish_bar() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bar_) bar_->finish();
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
  std::optional<ProgressBar> bar_;
};

void make_dir(const std::string& dir, const char* flag) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) ENGINE_FAIL("cannot create ", flag, " '", dir, "': ", ec.message());
}

// The fixed batch of the sample grids: one image of each class, the k-th image of class k (the
// authors take the first batch of their shuffled loader; one face per expression, of different
// people when the classes hold the same identities in order as make-faces writes them, shows more).
std::vector<int64_t> sample_indices(const ImageFolder& folder) {
  std::vector<int64_t> indices;
  size_t first = 0;
  for (size_t i = 0; i <= folder.labels.size(); ++i) {
    if (i < folder.labels.size() && folder.labels[i] == folder.labels[first]) continue;
    const size_t count = i - first, k = indices.size();
    indices.push_back(int64_t(first + k % count));
    first = i;
  }
  return indices;
}

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = {"D/loss_real", "D/loss_fake", "D/loss_cls", "D/loss_gp",
                                                   "G/loss_fake", "G/loss_rec",  "G/loss_cls"};
  return columns;
}

}  // namespace

TrainReport train(const TrainConfig& config, std::ostream& log_stream) {
  validate(config);
  if (config.image_dir.empty()) ENGINE_FAIL("--mode train needs --image_dir (or --train_dataset_dir)");
  const engine::Device device = engine::Device::parse(config.device);
  // Before the trainer allocates anything: NCCL picks this rank's GPU.
  const std::unique_ptr<engine::Communicator> comm = engine::make_communicator(device, config.dist_timeout);
  const bool writer = !comm || comm->rank() == 0;  // rank 0 alone logs and writes files
  std::ostream null_stream(nullptr);
  std::ostream& out = writer ? log_stream : null_stream;
  Log log(out);
  if (comm)
    log.line("distributed: " + std::to_string(comm->size()) + " ranks (" + comm->backend() + "), global batch " +
             std::to_string(config.batch_size) + " = " + std::to_string(comm->size()) + " x " +
             std::to_string(config.batch_size / comm->size()));
  if (config.batch_size == 1)
    log.line("warning: --batch_size 1 (the authors' default): the target labels are a permutation of the batch's "
             "own labels, so with one image per batch the target always equals the source and G never learns to "
             "change an expression; use --batch_size 8 or more");
  const WarnFn warn = [&log](const std::string& message) { log.line("warning: " + message); };
  ImageFolder folder = scan_image_folder(config.image_dir, warn);
  if (int64_t(folder.classes.size()) != config.c_dim)
    ENGINE_FAIL("'", config.image_dir, "' has ", folder.classes.size(), " class folders but --c_dim is ", config.c_dim);
  const std::vector<int64_t> fixed_indices = sample_indices(folder);

  Trainer trainer(config, device, comm.get());
  std::ofstream batch_log;
  if (!config.batch_log.empty()) {
    const std::string path = config.batch_log + (comm ? ".rank" + std::to_string(comm->rank()) : "");
    batch_log.open(path);
    if (!batch_log) ENGINE_FAIL("cannot write --batch_log '", path, "'");
    trainer.set_batch_log(&batch_log);
  }
  LoaderOptions loader_options;
  loader_options.image_size = config.image_size;
  loader_options.batch_size = config.batch_size;
  loader_options.seed = config.seed + 1;  // another Philox key than the trainer's draws
  loader_options.warn = warn;
  DataLoader loader(std::move(folder), loader_options);
  if (!config.resume_iters.empty()) {
    std::ostringstream resume_log;
    if (const std::optional<LoaderState> state = load_checkpoint(trainer, config.model_save_dir, config.resume_iters, resume_log))
      loader.set_state(*state);
    if (!resume_log.str().empty()) log.line(resume_log.str().substr(0, resume_log.str().size() - 1));
    log.line("resumed from step " + std::to_string(trainer.step()) + " in " + config.model_save_dir);
  }
  const std::string csv_path = (fs::path(config.log_dir) / "metrics.csv").string();
  std::optional<CsvWriter> csv;
  Batch fixed;
  if (writer) {
    make_dir(config.model_save_dir, "--model_save_dir");
    make_dir(config.sample_dir, "--sample_dir");
    make_dir(config.log_dir, "--log_dir");
    write_config_json(config, device.str(), (fs::path(config.model_save_dir) / "config.json").string());
    fixed = loader.load(fixed_indices);
    csv.emplace(csv_path, csv_columns(), config.resume_iters.empty() ? -1 : trainer.step());
    if (config.progress_bar) log.start_bar(config.num_iters, trainer.step());
  }

  TrainReport report;
  report.first_step = trainer.step();
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double g_fake = nan, g_rec = nan, g_cls = nan;  // the latest G terms, for the CSV rows
  bool csv_has_rows = !config.resume_iters.empty();
  int64_t last_saved = config.resume_iters.empty() ? -1 : trainer.step();
  try {
    while (trainer.step() < config.num_iters) {
      const Batch batch = loader.next();
      const IterationLosses losses = trainer.iteration(batch);
      const int64_t s = trainer.step();
      if (losses.has_g) {
        g_fake = losses.g_fake;
        g_rec = losses.g_rec;
        g_cls = losses.g_cls;
      }
      log.progress(s, losses.named());
      if (!writer) continue;
      if (s % config.log_step == 0) {
        log.line(format_log_line(elapsed(), s, config.num_iters, losses.named()));
        csv->write_row(s, {losses.d_real, losses.d_fake, losses.d_cls, losses.d_gp, g_fake, g_rec, g_cls});
        csv_has_rows = true;
      }
      if (s % config.sample_step == 0) {
        save_sample_grid((fs::path(config.sample_dir) / (std::to_string(s) + "-images.jpg")).string(),
                         trainer.translate_all(fixed.images));
        if (csv_has_rows) plot_loss_csv(csv_path, (fs::path(config.log_dir) / "loss.png").string());
      }
      if (s % config.model_save_step == 0) {
        save_checkpoint(trainer, loader.state(), config.model_save_dir, config.keep_last);
        last_saved = s;
      }
    }
  } catch (const engine::Error& e) {
    log.finish_bar();
    ENGINE_FAIL(e.what(), last_saved >= 0 ? " (last checkpoint: step " + std::to_string(last_saved) + " in " +
                                                config.model_save_dir + ")"
                                          : std::string(" (no checkpoint was written)"));
  }
  log.finish_bar();
  report.last_step = trainer.step();
  report.seconds = elapsed();
  report.skipped_files = loader.skipped_files();
  if (comm) {
    report.rank = comm->rank();
    report.ranks = comm->size();
    report.seconds_averaging = comm->seconds_averaging();
  }
  return report;
}

}  // namespace models::sargan
