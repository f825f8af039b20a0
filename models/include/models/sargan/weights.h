#pragma once
// SARGAN weights on disk: the authors' PyTorch checkpoints (`torch.save(G.state_dict(), path)`,
// the zip format of PyTorch >= 1.6) and safetensors, both with the PyTorch key names
// (main.0.weight, main.9.att_func.b1_2.conv2d.weight, main.1.running_mean, ...).
#include <string>

#include "engine/module.h"
#include "models/sargan/networks.h"

namespace models::sargan {

// Reads every tensor of a PyTorch zip checkpoint or a safetensors file, told apart by their
// first bytes, not by the file name. Throws engine::Error naming the file.
engine::NamedTensors read_weights(const std::string& path);

// Writes a safetensors file when `path` ends in .safetensors, else a PyTorch checkpoint that
// torch.load + load_state_dict accept (num_batches_tracked stored as int64, as PyTorch keeps it).
// Atomic: a failure leaves no partial file.
void write_weights(const std::string& path, const engine::NamedTensors& tensors);

// Strict loading into `net` from `state` read from `what` (a path): every expected key present
// with its shape, no extra key. The error lists each missing key with the model's shape, each
// unexpected key with the checkpoint's shape, each mismatch with both, and `flags_hint`.
void load_weights_strict(engine::Module& net, const engine::NamedTensors& state, const std::string& what,
                         const std::string& flags_hint);

// The flags that would build a network matching this checkpoint, for error messages
// ("--g_conv_dim 16 --c_dim 7"), or "" when the checkpoint does not look like a SARGAN G / D.
std::string generator_flags_of(const engine::NamedTensors& state);
std::string discriminator_flags_of(const engine::NamedTensors& state);

// Reads `path` and loads it strictly into g / d.
void load_generator(Generator& g, const std::string& path);
void load_discriminator(Discriminator& d, const std::string& path);

// `sargan convert IN OUT`: rewrites any checkpoint the reader accepts in the format OUT's
// extension names, keys and order unchanged.
void convert_weights(const std::string& in_path, const std::string& out_path);

}  // namespace models::sargan
