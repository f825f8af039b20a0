#include "engine/autograd.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "engine/check.h"
#include "engine/ops.h"

namespace engine {
namespace {

thread_local bool grad_enabled = true;
thread_local const Node* running_backward = nullptr;  // for anomaly messages
bool anomaly_enabled = false;

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

// The node whose gradient is the gradient of `t`: its producer, or its leaf accumulator.
std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  TensorImpl* impl = t.impl();
  if (!impl->grad_accumulator) {
    auto node = std::make_shared<Node>();
    node->name = "AccumulateGrad";
    node->output_shape = impl->shape;
    node->output_device = t.device();
    node->leaf = t.impl_ptr();
    node->accumulates_leaf = true;
    impl->grad_accumulator = node;
  }
  return impl->grad_accumulator;
}

void accumulate_into_leaf(Node& node, const Tensor& grad, bool create_graph) {
  auto leaf = node.leaf.lock();
  if (!leaf) return;
  // Never in place: a gradient tensor may be shared (add's backward hands one to both inputs).
  Tensor previous(leaf->grad);
  Tensor updated = previous.defined() ? previous + grad : grad;
  leaf->grad = (create_graph ? updated : updated.detach()).impl_ptr();
}

// Runs the graph above `roots`. With `captures` (grad()), gradients reaching those nodes are
// returned instead of being accumulated into leaves, and only nodes that lead to them are run.
std::unordered_map<Node*, Tensor> execute(const std::vector<std::shared_ptr<Node>>& roots,
                                          const std::vector<Tensor>& root_grads,
                                          const std::unordered_set<Node*>* captures,
                                          bool retain_graph, bool create_graph) {
  // Which nodes to run: all reachable ones for backward(), those leading to a capture for grad().
  std::unordered_map<Node*, bool> needed;
  std::vector<std::pair<Node*, size_t>> stack;
  std::vector<Node*> postorder;
  for (const auto& root : roots) {
    if (!root || needed.count(root.get())) continue;
    needed[root.get()] = false;
    stack.push_back({root.get(), 0});
    while (!stack.empty()) {
      auto& [node, child] = stack.back();
      if (child < node->next.size()) {
        Node* next = node->next[child++].get();
        if (next && !needed.count(next)) {
          needed[next] = false;
          stack.push_back({next, 0});
        }
        continue;
      }
      postorder.push_back(node);
      stack.pop_back();
    }
  }
  for (Node* node : postorder) {  // children before parents
    bool need = captures ? captures->count(node) > 0 : true;
    for (const auto& next : node->next)
      if (next && needed[next.get()]) need = true;
    needed[node] = need;
  }
  std::unordered_map<Node*, int> pending;  // number of needed parents still to run
  for (Node* node : postorder)
    if (needed[node])
      for (const auto& next : node->next)
        if (next && needed[next.get()]) ++pending[next.get()];

  std::unordered_map<Node*, Tensor> buffers, captured;
  auto add_to_buffer = [&](Node* node, const Tensor& g) {
    auto it = buffers.find(node);
    if (it == buffers.end() || !it->second.defined())
      buffers[node] = g;
    else
      it->second = it->second + g;
  };
  std::vector<Node*> ready;
  for (size_t i = 0; i < roots.size(); ++i) {
    if (!roots[i] || !needed[roots[i].get()]) continue;
    add_to_buffer(roots[i].get(), root_grads[i]);
  }
  for (const auto& root : roots)
    if (root && needed[root.get()] && pending[root.get()] == 0 &&
        std::find(ready.begin(), ready.end(), root.get()) == ready.end())
      ready.push_back(root.get());

  const bool previous_mode = grad_enabled;
  grad_enabled = create_graph;
  try {
    while (!ready.empty()) {
      Node* node = ready.back();
      ready.pop_back();
      Tensor grad_output = buffers[node];
      buffers.erase(node);
      if (captures && captures->count(node)) captured[node] = grad_output;
      if (node->accumulates_leaf) {
        if (!captures && grad_output.defined()) accumulate_into_leaf(*node, grad_output, create_graph);
        continue;
      }
      ENGINE_CHECK(!node->released, "autograd: the graph of '", node->name,
                   "' was already freed by a backward pass; pass retain_graph = true to the first "
                   "backward or grad call to run it twice");
      std::vector<Tensor> input_grads;
      running_backward = node;
      if (grad_output.defined()) input_grads = node->backward(grad_output);
      running_backward = nullptr;
      if (!retain_graph) node->release();
      for (size_t i = 0; i < node->next.size(); ++i) {
        Node* next = node->next[i].get();
        if (!next || !needed[next]) continue;
        if (i < input_grads.size() && input_grads[i].defined()) {
          const Tensor& g = input_grads[i];
          ENGINE_CHECK(g.shape() == next->output_shape, "autograd: backward of '", node->name,
                       "' returned a gradient of shape ", shape_str(g.shape()), " for input ", i,
                       " of shape ", shape_str(next->output_shape));
          if (anomaly_enabled && !all_finite(g))
            ENGINE_FAIL("anomaly: the backward of '", node->name, "' produced NaN or Inf in the ",
                        "gradient of its input ", i);
          add_to_buffer(next, g);
        }
        if (--pending[next] == 0) ready.push_back(next);
      }
    }
  } catch (...) {
    running_backward = nullptr;
    grad_enabled = previous_mode;
    throw;
  }
  grad_enabled = previous_mode;
  return captured;
}

Tensor default_grad_output(const Tensor& output) {
  ENGINE_CHECK(output.numel() == 1, "autograd: a gradient can be implicitly created only for a "
               "one-element output; got shape ", shape_str(output.shape()),
               " (pass grad_outputs)");
  return Tensor::ones(output.shape(), output.device());
}

std::vector<Tensor> resolve_grad_outputs(const std::vector<Tensor>& outputs,
                                         const std::vector<Tensor>& grad_outputs) {
  ENGINE_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
               "autograd: ", outputs.size(), " outputs but ", grad_outputs.size(), " grad_outputs");
  std::vector<Tensor> resolved;
  for (size_t i = 0; i < outputs.size(); ++i) {
    ENGINE_CHECK(outputs[i].defined() && outputs[i].requires_grad(), "autograd: output ", i,
                 " does not require grad and has no grad_fn");
    Tensor g = grad_outputs.empty() || !grad_outputs[i].defined() ? default_grad_output(outputs[i])
                                                                  : grad_outputs[i];
    ENGINE_CHECK(g.shape() == outputs[i].shape(), "autograd: grad_output ", i, " has shape ",
                 shape_str(g.shape()), ", output has ", shape_str(outputs[i].shape()));
    resolved.push_back(g);
  }
  return resolved;
}

}  // namespace

Tensor record(const char* name, const std::vector<Tensor>& inputs, Tensor output, BackwardFn backward) {
  if (anomaly_enabled && !all_finite(output))
    ENGINE_FAIL("anomaly: op '", name, "' produced NaN or Inf in its output of shape ",
                shape_str(output.shape()),
                running_backward ? " while computing the backward of '" + running_backward->name + "'"
                                 : std::string());
  if (!grad_enabled) return output;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return output;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->output_shape = output.shape();
  node->output_device = output.device();
  for (const Tensor& t : inputs) node->next.push_back(gradient_edge(t));
  node->backward = std::move(backward);
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

Tensor once_differentiable(const char* name, const std::vector<Tensor>& inputs, Tensor output) {
  std::string op = name;
  return record(name, inputs, std::move(output), [op](const Tensor&) -> std::vector<Tensor> {
    ENGINE_FAIL("autograd: '", op, "' is computed by a fused kernel and cannot be differentiated "
                "twice; only the ops on the gradient-penalty path support second order");
  });
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  std::vector<Tensor> root_grads = resolve_grad_outputs(outputs, grad_outputs);
  std::vector<std::shared_ptr<Node>> roots;
  for (const Tensor& t : outputs) roots.push_back(gradient_edge(t));
  std::unordered_set<Node*> captures;
  std::vector<std::shared_ptr<Node>> input_nodes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ENGINE_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "autograd.grad: input ", i,
                 " does not require grad");
    input_nodes.push_back(gradient_edge(inputs[i]));
    captures.insert(input_nodes.back().get());
  }
  auto captured = execute(roots, root_grads, &captures, retain_graph || create_graph, create_graph);
  std::vector<Tensor> result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = captured.find(input_nodes[i].get());
    if (it == captured.end() || !it->second.defined()) {
      ENGINE_CHECK(allow_unused, "autograd.grad: input ", i, " of shape ",
                   shape_str(inputs[i].shape()),
                   " was not used to compute the outputs (pass allow_unused = true)");
      result.emplace_back();
    } else {
      result.push_back(create_graph ? it->second : it->second.detach());
    }
  }
  return result;
}

namespace detail {
void run_backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                  bool retain_graph, bool create_graph) {
  std::vector<Tensor> root_grads = resolve_grad_outputs(outputs, grad_outputs);
  std::vector<std::shared_ptr<Node>> roots;
  for (const Tensor& t : outputs) roots.push_back(gradient_edge(t));
  execute(roots, root_grads, nullptr, retain_graph || create_graph, create_graph);
}
}  // namespace detail

bool grad_mode_enabled() { return grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(grad_enabled) { grad_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_enabled = previous_; }
void set_anomaly_mode(bool enabled) { anomaly_enabled = enabled; }
bool anomaly_mode_enabled() { return anomaly_enabled; }

}  // namespace engine
