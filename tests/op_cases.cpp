#include "op_cases.h"

#include <array>
#include <fstream>
#include <regex>
#include <set>

#include "engine/ops.h"

namespace test {

using engine::Tensor;
using Inputs = std::vector<Tensor>;

namespace {

std::vector<OpCase> build_cases() {
  std::vector<OpCase> cases;
  auto add_case = [&](OpCase c) { cases.push_back(std::move(c)); };
  const InputSpec positive{{2, 3, 2, 3}, 0.5f, 2.f};

  add_case({"add", "broadcast [N,1,H,W]", {{{2, 3, 2, 3}}, {{2, 1, 2, 3}}},
            [](const Inputs& x) { return engine::add(x[0], x[1]); }, true});
  add_case({"sub", "broadcast [C,1,1]", {{{2, 3, 2, 3}}, {{3, 1, 1}}},
            [](const Inputs& x) { return engine::sub(x[0], x[1]); }, true});
  add_case({"mul", "broadcast scalar-like", {{{1, 3, 5}}, {{1, 1, 5}}},
            [](const Inputs& x) { return engine::mul(x[0], x[1]); }, true});
  add_case({"div", "same shape", {{{2, 5}}, {{2, 5}, 0.5f, 2.f}},
            [](const Inputs& x) { return engine::div(x[0], x[1]); }, true});
  add_case({"affine_scalar", "alpha, beta", {{{3, 4}}},
            [](const Inputs& x) { return engine::affine_scalar(x[0], -1.5f, 0.25f); }, true});
  add_case({"relu", "", {{{2, 7}, -2.f, 2.f}}, [](const Inputs& x) { return engine::relu(x[0]); }});
  add_case({"leaky_relu", "slope 0.01", {{{2, 7}, -2.f, 2.f}},
            [](const Inputs& x) { return engine::leaky_relu(x[0], 0.01f) * x[0]; }, true});
  add_case({"sigmoid", "", {{{2, 7}, -3.f, 3.f}}, [](const Inputs& x) { return engine::sigmoid(x[0]); }});
  add_case({"tanh", "", {{{2, 7}, -2.f, 2.f}}, [](const Inputs& x) { return engine::tanh(x[0]); }});
  add_case({"sqrt", "", {positive}, [](const Inputs& x) { return engine::sqrt(x[0]); }, true});
  add_case({"pow", "cube", {{{2, 7}}}, [](const Inputs& x) { return engine::pow(x[0], 3.f); }, true});
  add_case({"abs", "", {{{2, 7}, -2.f, 2.f}}, [](const Inputs& x) { return engine::abs(x[0]); }});
  add_case({"clamp", "", {{{2, 7}, -2.f, 2.f}},
            [](const Inputs& x) { return engine::clamp(x[0], -0.7f, 0.9f); }});
  add_case({"sum", "over N,H,W", {{{2, 3, 2, 3}}},
            [](const Inputs& x) { return engine::sum(x[0] * x[0], {0, 2, 3}); }, true});
  add_case({"mean", "over H,W keepdim", {{{2, 3, 2, 3}}},
            [](const Inputs& x) { return engine::mean(x[0] * x[0], {2, 3}, true); }, true});
  add_case({"sum_to", "[2,3,4] to [3,1]", {{{2, 3, 4}}},
            [](const Inputs& x) { return engine::sum_to(x[0] * x[0], {3, 1}); }, true});
  add_case({"expand", "[1,3,1] to [2,3,4]", {{{1, 3, 1}}},
            [](const Inputs& x) { return engine::expand(x[0], {2, 3, 4}) * engine::expand(x[0], {2, 3, 4}); },
            true});
  add_case({"repeat", "", {{{2, 3}}}, [](const Inputs& x) { return engine::repeat(x[0], {2, 1, 2}); }, true});
  add_case({"cat", "channels", {{{1, 2, 3, 2}}, {{1, 1, 3, 2}}},
            [](const Inputs& x) { return engine::cat({x[0], x[1]}, 1); }, true});
  add_case({"narrow", "width", {{{2, 2, 3, 5}}},
            [](const Inputs& x) { return engine::narrow(x[0], 3, 1, 3); }, true});
  add_case({"flatten", "", {{{2, 3, 2}}}, [](const Inputs& x) { return engine::flatten(x[0]) * x[0].reshape({2, 6}); }, true});
  add_case({"unsqueeze", "", {{{2, 3}}}, [](const Inputs& x) { return engine::unsqueeze(x[0], 1); }, true});
  add_case({"gemm_tn", "odd M, N, K", {{{5, 3}}, {{5, 7}}},
            [](const Inputs& x) { return engine::gemm_tn(x[0], x[1]); }, true});
  struct ConvCase {
    int k, stride, pad, h, w, n, c_in, c_out;
    const char* label;
  };
  for (const ConvCase& c : std::vector<ConvCase>{
           {7, 1, 3, 7, 9, 1, 2, 3, "7x7 s1 p3 (generator in/out)"},
           {4, 2, 1, 8, 6, 2, 3, 2, "4x4 s2 p1 (generator down, critic)"},
           {3, 1, 1, 5, 4, 1, 1, 3, "3x3 s1 p1, C=1"},
           {3, 2, 1, 5, 7, 2, 2, 2, "3x3 s2 p1, odd sizes"},
           {3, 1, 0, 4, 5, 1, 2, 2, "3x3 s1 p0 (after reflection padding)"},
           {3, 1, 1, 2, 2, 1, 3, 1, "3x3 on a 2x2 map (PatchGAN head)"},
           {2, 1, 0, 2, 2, 2, 3, 4, "2x2 classification head"}}) {
    const engine::Conv2dOptions options{c.stride, c.pad};
    const int64_t h_out = (c.h + 2 * c.pad - c.k) / c.stride + 1, w_out = (c.w + 2 * c.pad - c.k) / c.stride + 1;
    add_case({"conv2d", c.label, {{{c.n, c.c_in, c.h, c.w}}, {{c.c_out, c.c_in, c.k, c.k}}, {{c.c_out}}},
              [options](const Inputs& x) { return engine::conv2d(x[0], x[1], x[2], options); }, true});
    // The critic's layer, on its shape only: finite differences must not step across the
    // activation's kink, and with these inputs (seeds 11 and 13) no step does (on the 2x2 head,
    // seed 11 puts a pre-activation within a step of it).
    if (c.k == 4 && c.stride == 2)
      add_case({"conv2d_leaky_relu", c.label, {{{c.n, c.c_in, c.h, c.w}}, {{c.c_out, c.c_in, c.k, c.k}}, {{c.c_out}}},
                [options](const Inputs& x) { return engine::conv2d_leaky_relu(x[0], x[1], x[2], 0.2f, options); },
                true});
    const engine::Shape weight_shape{c.c_out, c.c_in, c.k, c.k};
    add_case({"conv2d_weight_grad", c.label, {{{c.n, c.c_in, c.h, c.w}}, {{c.n, c.c_out, h_out, w_out}}},
              [options, weight_shape](const Inputs& x) {
                return engine::conv2d_weight_grad(x[0], x[1], weight_shape, options);
              },
              true});
    // The transpose of this convolution maps [N,Co,Ho,Wo] back to [N,Ci,H,W].
    const std::vector<int64_t> output_size{c.h, c.w};
    add_case({"conv_transpose2d", c.label, {{{c.n, c.c_out, h_out, w_out}}, {{c.c_out, c.c_in, c.k, c.k}}, {{c.c_in}}},
              [options, output_size](const Inputs& x) {
                return engine::conv_transpose2d(x[0], x[1], x[2], options, output_size);
              },
              true});
  }
  add_case({"reflection_pad2d", "p = H - 1", {{{1, 2, 2, 5}}},
            [](const Inputs& x) { return engine::reflection_pad2d(x[0], 1); }, true});
  add_case({"reflection_pad2d", "p = 3 (7x7 conv)", {{{2, 1, 4, 5}}},
            [](const Inputs& x) { return engine::reflection_pad2d(x[0], 3); }, true});
  add_case({"upsample_nearest2d", "x2", {{{1, 2, 3, 2}}},
            [](const Inputs& x) { return engine::upsample_nearest2d(x[0], 6, 4); }, true});
  add_case({"upsample_nearest2d", "3x5 to 5x3", {{{2, 1, 3, 5}}},
            [](const Inputs& x) { return engine::upsample_nearest2d(x[0], 5, 3); }, true});
  add_case({"instance_norm2d", "affine, H != W", {{{2, 3, 3, 4}}, {{3}, 0.5f, 1.5f}, {{3}}},
            [](const Inputs& x) { return engine::instance_norm2d(x[0], x[1], x[2]); }});
  add_case({"instance_norm2d", "C = 1, no affine", {{{1, 1, 5, 3}}},
            [](const Inputs& x) { return engine::instance_norm2d(x[0], Tensor(), Tensor()); }});
  add_case({"instance_norm2d_relu", "affine", {{{2, 2, 3, 3}}, {{2}, 0.5f, 1.5f}, {{2}}},
            [](const Inputs& x) { return engine::instance_norm2d_relu(x[0], x[1], x[2]); }});
  add_case({"attention_gate", "[N,1,H,W] map over [N,C,H,W]", {{{2, 3, 3, 4}}, {{2, 1, 3, 4}, -2.f, 2.f}},
            [](const Inputs& x) { return engine::attention_gate(x[0], x[1]); }});
  add_case({"cross_entropy", "7 classes", {{{3, 7}, -2.f, 2.f}},
            [](const Inputs& x) { return engine::cross_entropy(x[0], {1, 0, 6}); }});
  add_case({"l1_loss", "", {{{2, 3, 2, 2}}, {{2, 3, 2, 2}}},
            [](const Inputs& x) { return engine::l1_loss(x[0], x[1]); }});
  add_case({"gradient_penalty", "norms near and far from 1", {{{3, 2, 2, 2}, -0.8f, 0.8f}},
            [](const Inputs& x) { return engine::gradient_penalty(x[0]); }});
  return cases;
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = build_cases();
  return cases;
}

std::vector<Tensor> make_inputs(const OpCase& op_case, uint64_t seed, engine::Device device) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < op_case.inputs.size(); ++i) {
    const InputSpec& spec = op_case.inputs[i];
    inputs.push_back(random_tensor(spec.shape, seed + 7919 * i, spec.lo, spec.hi, device));
  }
  return inputs;
}

std::vector<std::string> declared_ops() {
  std::ifstream header(source_dir("engine/include/engine/ops.h"));
  const std::regex declaration(R"(^(?:inline )?Tensor (\w+)\()");
  std::set<std::string> names;
  std::string line;
  std::smatch match;
  while (std::getline(header, line))
    if (std::regex_search(line, match, declaration) && match[1] != "operator") names.insert(match[1]);
  return {names.begin(), names.end()};
}

}  // namespace test
