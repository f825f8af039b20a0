// Short SARGAN training runs on tiny synthetic faces: finite losses, checkpoints and their
// pruning, bit-identical resume on the cpu, sample grids, the authors' .ckpt resume, a diverging
// run stopped with the last checkpoint intact, and the same run on the cuda device when one
// (real or emulated) is built.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/check.h"
#include "engine/image.h"
#include "engine/safetensors.h"
#include "models/data/faces.h"
#include "models/sargan/commands.h"
#include "models/sargan/trainer.h"
#include "models/sargan/weights.h"
#include "command_line.h"
#include "test_util.h"
#include "tiny_networks.h"

namespace fs = std::filesystem;
using namespace models::data;
using namespace models::sargan;

namespace {

using test::TempDir;

// Two identities per expression at 32 x 32, made once per test process.
const std::string& faces_dir() {
  static TempDir dir("faces");
  static bool made = false;
  if (!made) {
    MakeFacesOptions o;
    o.out = dir.path.string();
    o.per_class = 2;
    o.image_size = 32;
    o.seed = 11;
    make_faces(o);
    made = true;
  }
  static const std::string path = dir.path.string();
  return path;
}

TrainConfig tiny_config(const fs::path& root) {
  TrainConfig c = test::tiny_networks();
  c.image_dir = faces_dir();
  c.model_save_dir = (root / "models").string();
  c.sample_dir = (root / "samples").string();
  c.log_dir = (root / "logs").string();
  c.batch_size = 4;
  c.n_critic = 2;
  c.num_iters = 6;
  c.log_step = 1;
  c.sample_step = 3;
  c.model_save_step = 3;
  c.keep_last = 1;
  c.g_lr = c.d_lr = 1e-3;
  c.device = "cpu";
  c.seed = 5;
  c.progress_bar = false;
  return c;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::vector<double>> csv_rows(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream s(line);
    std::string field;
    while (std::getline(s, field, ',')) row.push_back(std::strtod(field.c_str(), nullptr));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("trainer: a short cpu run writes finite losses, checkpoints and sample grids", "[trainer]") {
  TempDir root("run");
  const TrainConfig c = tiny_config(root.path);
  std::ostringstream log;
  const TrainReport report = train(c, log);
  CHECK(report.first_step == 0);
  CHECK(report.last_step == 6);
  const fs::path models = c.model_save_dir;
  CHECK(latest_checkpoint_step(models.string()) == 6);
  for (const char* name : {"6-G.safetensors", "6-D.safetensors", "6-state.safetensors", "config.json"})
    CHECK(fs::is_regular_file(models / name));
  // keep_last 1: step 3's files are gone.
  CHECK_FALSE(fs::exists(models / "3-G.safetensors"));
  CHECK_FALSE(fs::exists(models / "3-state.safetensors"));

  const auto rows = csv_rows(fs::path(c.log_dir) / "metrics.csv");
  REQUIRE(rows.size() == 6);
  for (size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(rows[i].size() == 8);
    CHECK(rows[i][0] == double(i + 1));
    for (size_t j = 1; j <= 4; ++j) CHECK(std::isfinite(rows[i][j]));
    // G terms from the first G step on (iteration 2, n_critic 2); NaN before it.
    for (size_t j = 5; j <= 7; ++j) CHECK(std::isfinite(rows[i][j]) == (i >= 1));
  }
  CHECK(fs::is_regular_file(fs::path(c.log_dir) / "loss.png"));
  // The fixed batch: one face per expression (7 rows), input + 7 translations (8 columns).
  const engine::Image grid = engine::load_image((fs::path(c.sample_dir) / "6-images.jpg").string(), 3);
  CHECK(grid.width == 8 * 32);
  CHECK(grid.height == 7 * 32);
  CHECK(fs::is_regular_file(fs::path(c.sample_dir) / "3-images.jpg"));
  CHECK(log.str().find("Iteration [6/6], D/loss_real: ") != std::string::npos);
  CHECK(log.str().find("G/loss_cls: ") != std::string::npos);

  // The saved generator loads into a fresh network with the PyTorch key names.
  engine::Philox rng(0);
  Generator g(generator_config(c), rng);
  load_generator(g, (models / "6-G.safetensors").string());
}

TEST_CASE("trainer: N straight and N/2 + resume + N/2 give bit-identical checkpoints on the cpu", "[trainer]") {
  TempDir straight("straight"), split("split");
  TrainConfig a = tiny_config(straight.path);
  std::ostringstream log;
  train(a, log);

  TrainConfig b = tiny_config(split.path);
  b.num_iters = 3;  // no lr decay in these runs (lr_update_step 5000), so the schedules agree
  train(b, log);
  b.num_iters = 6;
  b.resume_iters = "latest";
  const TrainReport report = train(b, log);
  CHECK(report.first_step == 3);
  CHECK(report.last_step == 6);

  for (const char* name : {"6-G.safetensors", "6-D.safetensors", "6-state.safetensors"}) {
    INFO(name);
    CHECK(file_bytes(fs::path(a.model_save_dir) / name) == file_bytes(fs::path(b.model_save_dir) / name));
  }
  CHECK(file_bytes(fs::path(a.log_dir) / "metrics.csv") == file_bytes(fs::path(b.log_dir) / "metrics.csv"));
  CHECK(file_bytes(fs::path(a.sample_dir) / "6-images.jpg") == file_bytes(fs::path(b.sample_dir) / "6-images.jpg"));
}

TEST_CASE("trainer: the authors' .ckpt pair resumes weights only, with a warning", "[trainer]") {
  TempDir root("authors");
  const TrainConfig c = tiny_config(root.path);
  fs::create_directories(c.model_save_dir);
  Trainer source(c, engine::Device::cpu());
  write_weights((fs::path(c.model_save_dir) / "4-G.ckpt").string(), source.generator().state_dict());
  write_weights((fs::path(c.model_save_dir) / "4-D.ckpt").string(), source.discriminator().state_dict());

  TrainConfig other = c;
  other.seed = 99;  // different initial weights, overwritten by the checkpoint
  Trainer target(other, engine::Device::cpu());
  std::ostringstream log;
  CHECK_FALSE(load_checkpoint(target, c.model_save_dir, "latest", log).has_value());
  CHECK(log.str().find("Adam starts cold") != std::string::npos);
  CHECK(target.step() == 4);
  const auto expected = source.generator().state_dict(), actual = target.generator().state_dict();
  for (size_t i = 0; i < expected.size(); ++i) CHECK(actual[i].second.to_vector() == expected[i].second.to_vector());

  // No marker: "there is no complete checkpoint", not "the newest is -1" (issue 14 case 9).
  CHECK_THROWS_WITH(load_checkpoint(target, c.model_save_dir, "7", log),
                    Catch::Contains("7-G.safetensors' is missing (there is no complete checkpoint in '"));
}

TEST_CASE("trainer: a diverging run stops naming the term and keeps the last checkpoint", "[trainer]") {
  TempDir root("nan");
  TrainConfig c = tiny_config(root.path);
  c.num_iters = 3;
  std::ostringstream log;
  train(c, log);
  const fs::path models = c.model_save_dir;
  const std::string g_before = file_bytes(models / "3-G.safetensors"), d_before = file_bytes(models / "3-D.safetensors");

  c.num_iters = 12;
  c.resume_iters = "latest";
  c.g_lr = c.d_lr = 1e30;  // the first Adam steps move every weight by ~1e30: overflow follows
  try {
    train(c, log);
    FAIL("training with lr 1e30 did not stop");
  } catch (const engine::Error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(message.find("non-finite") != std::string::npos);
    CHECK(message.find("last checkpoint: step 3") != std::string::npos);
  }
  CHECK(latest_checkpoint_step(models.string()) == 3);
  CHECK(file_bytes(models / "3-G.safetensors") == g_before);
  CHECK(file_bytes(models / "3-D.safetensors") == d_before);
  CHECK_FALSE(fs::exists(models / "6-G.safetensors"));
}

TEST_CASE("trainer: a short run on the cuda device", "[trainer][cuda]") {
  if (!engine::cuda_available()) {
    WARN("no cuda device (real or emulated) in this build: the cuda training run is not tested here");
    return;
  }
  TempDir root("cuda");
  TrainConfig c = tiny_config(root.path);
  c.device = "cuda";
  c.num_iters = 3;
  std::ostringstream log;
  CHECK(train(c, log).last_step == 3);
  CHECK(latest_checkpoint_step(c.model_save_dir) == 3);
  CHECK(fs::is_regular_file(fs::path(c.sample_dir) / "3-images.jpg"));
  for (const auto& row : csv_rows(fs::path(c.log_dir) / "metrics.csv"))
    for (size_t j = 1; j <= 4; ++j) CHECK(std::isfinite(row[j]));

  // The same run on the cpu: the losses agree to float32 rounding (different kernels, same maths).
  TempDir cpu_root("cuda_vs_cpu");
  TrainConfig cpu = tiny_config(cpu_root.path);
  cpu.num_iters = 3;
  train(cpu, log);
  const auto on_cuda = csv_rows(fs::path(c.log_dir) / "metrics.csv"), on_cpu = csv_rows(fs::path(cpu.log_dir) / "metrics.csv");
  REQUIRE(on_cuda.size() == on_cpu.size());
  for (size_t i = 0; i < on_cpu.size(); ++i)
    for (size_t j = 1; j <= 4; ++j) CHECK(std::abs(on_cuda[i][j] - on_cpu[i][j]) <= 1e-3 + 1e-3 * std::abs(on_cpu[i][j]));
}

TEST_CASE("trainer: a cuda run with --cuda_graph writes the bytes of the run without, resumed or not",
          "[trainer][cuda]") {
  if (!engine::cuda_available()) {
    WARN("no cuda device (real or emulated) in this build: the cuda graph training run is not tested here");
    return;
  }
  // 14 faces in batches of 4: the fourth batch of each epoch has 2 images and runs op by op.
  TempDir plain_root("graph_plain"), graph_root("graph_on"), split_root("graph_split");
  TrainConfig plain = tiny_config(plain_root.path);
  plain.device = "cuda";
  std::ostringstream log;
  train(plain, log);
  TrainConfig graphed = tiny_config(graph_root.path);
  graphed.device = "cuda";
  graphed.cuda_graph = true;
  train(graphed, log);
  TrainConfig split = tiny_config(split_root.path);
  split.device = "cuda";
  split.cuda_graph = true;
  split.num_iters = 3;
  train(split, log);
  split.num_iters = 6;
  split.resume_iters = "latest";
  train(split, log);
  for (const TrainConfig* run : {&graphed, &split}) {
    INFO(run->model_save_dir);
    for (const char* name : {"6-G.safetensors", "6-D.safetensors", "6-state.safetensors"}) {
      INFO(name);
      CHECK(file_bytes(fs::path(run->model_save_dir) / name) == file_bytes(fs::path(plain.model_save_dir) / name));
    }
    CHECK(file_bytes(fs::path(run->log_dir) / "metrics.csv") == file_bytes(fs::path(plain.log_dir) / "metrics.csv"));
    CHECK(file_bytes(fs::path(run->sample_dir) / "6-images.jpg") ==
          file_bytes(fs::path(plain.sample_dir) / "6-images.jpg"));
  }
}

TEST_CASE("trainer: sargan --mode train takes the seed README's folder aliases", "[trainer]") {
  TempDir root("cli");
  test::SarganCommand o;
  o.common.model = "SARGAN";
  o.common.mode = "train";
  o.common.train_dataset_dir = faces_dir();                 // alias of --image_dir
  o.common.weights_dir = (root.path / "weights").string();  // alias of --model_save_dir
  o.common.results_dir = (root.path / "results").string();  // --results_dir, the same option as --result_dir
  o.common.image_size = 32;
  o.common.device = "cpu";
  TrainConfig& t = o.sargan.config;
  t.g_conv_dim = 4;
  t.d_conv_dim = 4;
  t.d_repeat_num = 3;
  t.batch_size = 2;
  t.sample_dir = (root.path / "samples").string();
  t.log_dir = (root.path / "logs").string();
  t.num_iters = 2;
  t.model_save_step = 2;
  t.progress_bar = false;
  std::ostringstream log, out;
  CHECK(run(o, log, out) == 0);
  CHECK(out.str().find("trained iterations 1..2") != std::string::npos);
  CHECK(latest_checkpoint_step(o.common.weights_dir) == 2);
  std::ifstream config_file(root.path / "weights" / "config.json");
  std::stringstream config;
  config << config_file.rdbuf();
  CHECK(config.str().find("\"result_dir\": \"" + o.common.results_dir + "\"") != std::string::npos);
  CHECK(config.str().find("\"batch_size\": 2") != std::string::npos);
  CHECK(config.str().find("\"g_conv_dim\": 4") != std::string::npos);
}
