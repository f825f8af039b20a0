// The pickle writer of save_torch_checkpoint: a protocol-2 pickle of a state_dict laid out as
// torch.save lays it out, which torch.load (also with weights_only=True) accepts.
#include <climits>
#include <cstdint>
#include <map>

#include "pickle.h"

namespace engine::io {
namespace {

class PickleWriter {
 public:
  std::vector<uint8_t> out{0x80, 2};  // PROTO 2
  void op(char c) { out.push_back(static_cast<uint8_t>(c)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void string(const std::string& s) {
    op('X');
    u32(static_cast<uint32_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      out.push_back(static_cast<uint8_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      u32(static_cast<uint32_t>(v));
    } else {
      out.push_back(0x8a);  // LONG1, 8 bytes
      out.push_back(8);
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
    }
  }
  void tuple(const std::vector<int64_t>& values) {
    op('(');
    for (int64_t v : values) integer(v);
    op('t');
  }
  // GLOBAL the first time, memo lookups after: keeps the pickle small.
  void global(const std::string& module, const std::string& name) {
    auto found = memo_.find(module + "." + name);
    if (found != memo_.end()) {
      op('h');
      out.push_back(found->second);
      return;
    }
    op('c');
    out.insert(out.end(), module.begin(), module.end());
    out.push_back('\n');
    out.insert(out.end(), name.begin(), name.end());
    out.push_back('\n');
    uint8_t index = static_cast<uint8_t>(memo_.size());
    memo_[module + "." + name] = index;
    op('q');
    out.push_back(index);
  }

 private:
  std::map<std::string, uint8_t> memo_;  // a handful of globals: one-byte indexes suffice
};

}  // namespace

std::vector<uint8_t> pickle_state_dict(const std::vector<PickledTensor>& tensors) {
  PickleWriter w;
  w.global("collections", "OrderedDict");
  w.op(')');
  w.op('R');
  w.op('(');
  for (const PickledTensor& t : tensors) {
    w.string(t.name);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.op('(');
    w.op('(');  // persistent id: ('storage', torch.<T>Storage, key, 'cpu', numel)
    w.string("storage");
    std::string storage_global = storage_type_global(t.type);
    w.global("torch", storage_global.substr(storage_global.find('.') + 1));
    w.string(t.storage_key);
    w.string("cpu");
    int64_t numel = 1;
    for (int64_t s : t.shape) numel *= s;
    w.integer(numel);
    w.op('t');
    w.op('Q');
    w.integer(0);  // storage offset
    w.tuple(t.shape);
    std::vector<int64_t> stride(t.shape.size());
    int64_t running = 1;
    for (size_t d = t.shape.size(); d-- > 0;) {
      stride[d] = running;
      running *= t.shape[d];
    }
    w.tuple(stride);
    w.out.push_back(0x89);  // requires_grad = False
    w.global("collections", "OrderedDict");  // backward_hooks = OrderedDict()
    w.op(')');
    w.op('R');
    w.op('t');
    w.op('R');
  }
  w.op('u');
  w.op('.');
  return std::move(w.out);
}

}  // namespace engine::io
