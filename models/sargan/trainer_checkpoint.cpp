// Training checkpoints: weights, optimiser and RNG state, the "latest complete step" marker,
// keep-last pruning, the authors' .ckpt resume and config.json (contract in trainer.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>
#include <set>

#include "engine/check.h"
#include "engine/safetensors.h"
#include "models/sargan/trainer.h"
#include "models/sargan/weights.h"

namespace models::sargan {

namespace fs = std::filesystem;

namespace {

constexpr const char* marker_name = "checkpoint";
constexpr const char* state_format = "sargan-train-state 1";

// Temporary file, fsync, rename: the marker and config.json are never seen half-written.
void write_text_atomic(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (!file) ENGINE_FAIL("cannot write '", temp, "': ", std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size() && std::fflush(file) == 0 &&
                       ::fsync(::fileno(file)) == 0;
  std::fclose(file);
  if (!written || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    ENGINE_FAIL("cannot write '", path, "': ", std::strerror(errno));
  }
}

std::string step_file(const std::string& dir, int64_t step, const char* suffix) {
  return (fs::path(dir) / (std::to_string(step) + suffix)).string();
}

bool exists(const std::string& path) { return fs::is_regular_file(path); }

std::string to_text(double v) {
  char text[40];
  std::snprintf(text, sizeof(text), "%.17g", v);
  return text;
}

const std::string& meta(const std::map<std::string, std::string>& m, const std::string& key, const std::string& file) {
  const auto it = m.find(key);
  if (it == m.end()) ENGINE_FAIL("training state '", file, "' has no '", key, "' entry");
  return it->second;
}

uint64_t meta_u64(const std::map<std::string, std::string>& m, const std::string& key, const std::string& file) {
  const std::string& text = meta(m, key, file);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || text[0] == '-')
    ENGINE_FAIL("training state '", file, "': '", key, "' is not an integer: '", text, "'");
  return v;
}

// The steps with at least one of our checkpoint files in `dir`.
std::set<int64_t> checkpoint_steps(const std::string& dir) {
  static const std::regex name(R"(([0-9]+)-(G|D|state)\.safetensors)");
  std::set<int64_t> steps;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (std::regex_match(file, m, name)) steps.insert(std::stoll(m[1].str()));
  }
  return steps;
}

engine::NamedTensors prefixed(const engine::NamedTensors& tensors, const std::string& prefix) {
  engine::NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t.to(engine::Device::cpu()));
  return out;
}

engine::NamedTensors unprefixed(const engine::NamedTensors& tensors, const std::string& prefix) {
  engine::NamedTensors out;
  for (const auto& [name, t] : tensors)
    if (name.compare(0, prefix.size(), prefix) == 0) out.emplace_back(name.substr(prefix.size()), t);
  return out;
}

}  // namespace

void save_checkpoint(Trainer& trainer, const LoaderState& loader, const std::string& dir, int keep_last) {
  trainer.check_parameters_finite();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) ENGINE_FAIL("cannot create the checkpoint folder '", dir, "': ", ec.message());
  const int64_t step = trainer.step();
  write_weights(step_file(dir, step, "-G.safetensors"), prefixed(trainer.generator().state_dict(), ""));
  write_weights(step_file(dir, step, "-D.safetensors"), prefixed(trainer.discriminator().state_dict(), ""));

  engine::NamedTensors state = prefixed(trainer.g_optimizer().state(), "G.");
  for (auto& entry : prefixed(trainer.d_optimizer().state(), "D.")) state.push_back(std::move(entry));
  const std::map<std::string, std::string> metadata = {
      {"format", state_format},
      {"step", std::to_string(step)},
      {"rng_seed", std::to_string(trainer.rng().seed())},
      {"rng_offset", std::to_string(trainer.rng().offset())},
      {"loader_seed", std::to_string(loader.seed)},
      {"loader_offset", std::to_string(loader.offset)},
      {"loader_epoch", std::to_string(loader.epoch)},
      {"loader_cursor", std::to_string(loader.cursor)},
      {"loader_num_files", std::to_string(loader.num_files)},
      {"g_lr", to_text(trainer.g_optimizer().lr())},
      {"d_lr", to_text(trainer.d_optimizer().lr())},
  };
  engine::save_safetensors(step_file(dir, step, "-state.safetensors"), state, metadata);
  // Last: only now is the step complete.
  write_text_atomic((fs::path(dir) / marker_name).string(), "step " + std::to_string(step) + "\n");

  if (keep_last <= 0) return;
  std::vector<int64_t> older;  // steps beyond the current one belong to an abandoned run: left alone
  for (int64_t s : checkpoint_steps(dir))
    if (s <= step) older.push_back(s);
  std::sort(older.rbegin(), older.rend());
  for (size_t i = size_t(keep_last); i < older.size(); ++i)
    for (const char* suffix : {"-state.safetensors", "-G.safetensors", "-D.safetensors"})
      fs::remove(step_file(dir, older[i], suffix), ec);
}

int64_t latest_checkpoint_step(const std::string& dir) {
  const fs::path path = fs::path(dir) / marker_name;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) return -1;
  long long step = -1;
  const int read = std::fscanf(file, "step %lld", &step);
  std::fclose(file);
  if (read != 1 || step < 0) ENGINE_FAIL("the checkpoint marker '", path.string(), "' is unreadable");
  return step;
}

std::optional<LoaderState> load_checkpoint(Trainer& trainer, const std::string& dir, const std::string& spec,
                                           std::ostream& log) {
  int64_t step = -1;
  if (spec == "latest") {
    step = latest_checkpoint_step(dir);
    if (step < 0) {  // the authors' checkpoints have no marker: their newest pair
      static const std::regex name(R"(([0-9]+)-G\.ckpt)");
      std::error_code ec;
      for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        std::smatch m;
        const std::string file = entry.path().filename().string();
        if (std::regex_match(file, m, name) && exists(step_file(dir, std::stoll(m[1].str()), "-D.ckpt")))
          step = std::max<int64_t>(step, std::stoll(m[1].str()));
      }
      if (step < 0) ENGINE_FAIL("--resume_iters latest: no checkpoint in '", dir, "'");
    }
  } else {
    char* end = nullptr;
    const long long v = std::strtoll(spec.c_str(), &end, 10);
    if (spec.empty() || *end != '\0' || v < 0) ENGINE_FAIL("--resume_iters must be a step or 'latest', got '", spec, "'");
    step = v;
  }
  const std::string g_st = step_file(dir, step, "-G.safetensors"), d_st = step_file(dir, step, "-D.safetensors"),
                    state_path = step_file(dir, step, "-state.safetensors");
  if (!exists(g_st) && exists(step_file(dir, step, "-G.ckpt")) && exists(step_file(dir, step, "-D.ckpt"))) {
    load_generator(trainer.generator(), step_file(dir, step, "-G.ckpt"));
    load_discriminator(trainer.discriminator(), step_file(dir, step, "-D.ckpt"));
    trainer.set_step(step);
    log << "warning: resuming from the authors' checkpoint " << step << "-G.ckpt / " << step
        << "-D.ckpt: weights only, so Adam starts cold and the data order and random draws start afresh\n";
    return std::nullopt;
  }
  for (const std::string& path : {g_st, d_st, state_path})
    if (!exists(path))
      ENGINE_FAIL("cannot resume from step ", step, ": '", path, "' is missing (",
                  latest_checkpoint_step(dir) < 0 ? std::string("there is no complete checkpoint in '" + dir + "'")
                                                  : "the newest complete checkpoint is " +
                                                        std::to_string(latest_checkpoint_step(dir)),
                  ")");
  load_generator(trainer.generator(), g_st);
  load_discriminator(trainer.discriminator(), d_st);
  const engine::SafetensorsContents state = engine::load_safetensors(state_path);
  const auto& m = state.metadata;
  if (meta(m, "format", state_path) != state_format)
    ENGINE_FAIL("'", state_path, "' is not a SARGAN training state (format '", meta(m, "format", state_path), "')");
  if (int64_t(meta_u64(m, "step", state_path)) != step)
    ENGINE_FAIL("'", state_path, "' holds step ", meta(m, "step", state_path), ", not ", step);
  trainer.g_optimizer().load_state(unprefixed(state.tensors, "G."));
  trainer.d_optimizer().load_state(unprefixed(state.tensors, "D."));
  trainer.rng().set_state(meta_u64(m, "rng_seed", state_path), meta_u64(m, "rng_offset", state_path));
  trainer.set_step(step);
  const double saved_g_lr = std::stod(meta(m, "g_lr", state_path)), saved_d_lr = std::stod(meta(m, "d_lr", state_path));
  if (saved_g_lr != trainer.g_optimizer().lr() || saved_d_lr != trainer.d_optimizer().lr())
    log << "warning: the checkpoint's learning rates (G " << saved_g_lr << ", D " << saved_d_lr
        << ") differ from this configuration's schedule at step " << step << " (G " << trainer.g_optimizer().lr()
        << ", D " << trainer.d_optimizer().lr() << "): using the configuration's\n";
  LoaderState loader;
  loader.seed = meta_u64(m, "loader_seed", state_path);
  loader.offset = meta_u64(m, "loader_offset", state_path);
  loader.epoch = int64_t(meta_u64(m, "loader_epoch", state_path));
  loader.cursor = int64_t(meta_u64(m, "loader_cursor", state_path));
  loader.num_files = int64_t(meta_u64(m, "loader_num_files", state_path));
  return loader;
}

void write_config_json(const TrainConfig& c, const std::string& device, const std::string& path) {
  nlohmann::ordered_json j;
  j["image_dir"] = c.image_dir;
  j["model_save_dir"] = c.model_save_dir;
  j["sample_dir"] = c.sample_dir;
  j["log_dir"] = c.log_dir;
  j["result_dir"] = c.result_dir;
  j["image_size"] = c.image_size;
  j["c_dim"] = c.c_dim;
  j["g_conv_dim"] = c.g_conv_dim;
  j["d_conv_dim"] = c.d_conv_dim;
  j["d_repeat_num"] = c.d_repeat_num;
  j["hourglass_dim"] = c.hourglass_dim;
  j["lambda_cls"] = c.lambda_cls;
  j["lambda_rec"] = c.lambda_rec;
  j["lambda_gp"] = c.lambda_gp;
  j["batch_size"] = c.batch_size;
  j["num_iters"] = c.num_iters;
  j["num_iters_decay"] = c.num_iters_decay;
  j["g_lr"] = c.g_lr;
  j["d_lr"] = c.d_lr;
  j["n_critic"] = c.n_critic;
  j["beta1"] = c.beta1;
  j["beta2"] = c.beta2;
  j["resume_iters"] = c.resume_iters;
  j["lr_decay"] = c.lr_decay;
  j["log_step"] = c.log_step;
  j["sample_step"] = c.sample_step;
  j["model_save_step"] = c.model_save_step;
  j["lr_update_step"] = c.lr_update_step;
  j["keep_last"] = c.keep_last;
  j["device"] = device;
  j["seed"] = c.seed;
  j["cuda_graph"] = c.cuda_graph;
  write_text_atomic(path, j.dump(1) + "\n");
}

}  // namespace models::sargan
