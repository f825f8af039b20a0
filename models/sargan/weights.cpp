// SARGAN weights: format sniffing, strict loading with errors that say which flags would fit, and
// the ckpt <-> safetensors conversion.
#include "models/sargan/weights.h"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "engine/check.h"
#include "engine/safetensors.h"
#include "engine/torch_checkpoint.h"

namespace models::sargan {

using engine::NamedTensors;
using engine::Shape;

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A safetensors file opens with its header length (8 bytes, little-endian) and the header's '{';
// a zip with "PK". Anything else goes to the checkpoint reader, whose error explains legacy files.
bool looks_like_safetensors(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) ENGINE_FAIL("cannot open weights file '", path, "'");
  unsigned char head[9] = {};
  const size_t got = std::fread(head, 1, sizeof(head), file);
  std::fclose(file);
  return got == sizeof(head) && head[8] == '{' && !(head[0] == 'P' && head[1] == 'K');
}

const Shape* find_shape(const NamedTensors& state, const std::string& key) {
  for (const auto& [name, t] : state)
    if (name == key) return &t.shape();
  return nullptr;
}

}  // namespace

NamedTensors read_weights(const std::string& path) {
  if (looks_like_safetensors(path)) return engine::load_safetensors(path).tensors;
  return engine::load_torch_checkpoint(path);
}

void write_weights(const std::string& path, const NamedTensors& tensors) {
  if (ends_with(path, ".safetensors")) {
    engine::save_safetensors(path, tensors, {{"format", "pt"}});
    return;
  }
  std::set<std::string> int64_names;
  for (const auto& [name, t] : tensors)
    if (ends_with(name, "num_batches_tracked")) int64_names.insert(name);
  engine::save_torch_checkpoint(path, tensors, int64_names);
}

void load_weights_strict(engine::Module& net, const NamedTensors& state, const std::string& what,
                         const std::string& flags_hint) {
  const NamedTensors own = net.state_dict();
  std::map<std::string, const Shape*> given, expected;
  for (const auto& [name, t] : state) given[name] = &t.shape();
  for (const auto& [name, t] : own) expected[name] = &t.shape();
  std::vector<std::string> problems;
  for (const auto& [name, t] : own) {
    auto it = given.find(name);
    if (it == given.end())
      problems.push_back("missing " + name + " " + engine::shape_str(t.shape()));
    else if (*it->second != t.shape())
      problems.push_back(name + " is " + engine::shape_str(*it->second) + " in the file, " +
                         engine::shape_str(t.shape()) + " in the model");
  }
  for (const auto& [name, t] : state)
    if (!expected.count(name)) problems.push_back("unexpected " + name + " " + engine::shape_str(t.shape()));
  if (!problems.empty()) {
    std::ostringstream message;
    message << what << ": does not fit the network built from the flags";
    if (!flags_hint.empty()) message << "; its shapes fit " << flags_hint;
    message << " (" << problems.size() << " difference" << (problems.size() > 1 ? "s" : "") << ": ";
    const size_t shown = std::min<size_t>(problems.size(), 3);
    for (size_t i = 0; i < shown; ++i) message << (i ? "; " : "") << problems[i];
    if (shown < problems.size()) message << "; and " << problems.size() - shown << " more";
    message << ")";
    ENGINE_FAIL(message.str());
  }
  net.load_state_dict(state, /*strict=*/true);
}

std::string generator_flags_of(const NamedTensors& state) {
  const Shape* first = find_shape(state, "main.0.weight");
  const Shape* hourglass = find_shape(state, "main.9.att_func.b1_2.conv2d.weight");
  if (!first || first->size() != 4 || (*first)[1] <= 3 || !hourglass || hourglass->empty()) return "";
  std::string flags = "--g_conv_dim " + std::to_string((*first)[0]) + " --c_dim " + std::to_string((*first)[1] - 3);
  if ((*hourglass)[0] != 64) flags += " with an Hourglass width of " + std::to_string((*hourglass)[0]) + " (64 in SARGAN)";
  return flags;
}

std::string discriminator_flags_of(const NamedTensors& state) {
  const Shape* first = find_shape(state, "main.0.weight");
  const Shape* cls = find_shape(state, "conv2.weight");
  if (!first || first->size() != 4 || !cls || cls->size() != 4) return "";
  int64_t repeat_num = 0;
  while (find_shape(state, "main." + std::to_string(2 * repeat_num) + ".weight")) ++repeat_num;
  return "--d_conv_dim " + std::to_string((*first)[0]) + " --d_repeat_num " + std::to_string(repeat_num) +
         " --c_dim " + std::to_string((*cls)[0]) + " --image_size " +
         std::to_string((*cls)[2] << repeat_num);
}

void load_generator(Generator& g, const std::string& path) {
  const NamedTensors state = read_weights(path);
  std::string hint = generator_flags_of(state);
  if (hint.empty() && !discriminator_flags_of(state).empty())
    hint = "a discriminator (" + discriminator_flags_of(state) + "), not a generator";
  load_weights_strict(g, state, path, hint);
}

void load_discriminator(Discriminator& d, const std::string& path) {
  const NamedTensors state = read_weights(path);
  std::string hint = discriminator_flags_of(state);
  if (hint.empty() && !generator_flags_of(state).empty())
    hint = "a generator (" + generator_flags_of(state) + "), not a discriminator";
  load_weights_strict(d, state, path, hint);
}

void convert_weights(const std::string& in_path, const std::string& out_path) {
  const NamedTensors state = read_weights(in_path);
  ENGINE_CHECK(!state.empty(), in_path, ": holds no tensors");
  write_weights(out_path, state);
}

}  // namespace models::sargan
