// A restricted unpickler for PyTorch state_dicts (the writer is in pickle_writer.cpp).
//
// Python's pickle is a stack machine whose GLOBAL + REDUCE opcodes call arbitrary functions;
// loading an untrusted pickle with it runs code. Here nothing is called: GLOBAL resolves only
// names on an allow-list to tags, and REDUCE interprets those tags (OrderedDict() makes a dict,
// _rebuild_tensor_v2(...) records a view of a storage). Everything else is refused by name.
// Objects live in an arena owned by the unpickler, so reference cycles a hostile pickle can build
// with the memo cost nothing, and no traversal recurses.
#include "pickle.h"

#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "engine/check.h"

namespace engine::io {

namespace {

struct StorageTypeEntry {
  StorageType type;
  const char* global;
};
constexpr StorageTypeEntry kStorageTypes[] = {
    {StorageType::float32, "torch.FloatStorage"},   {StorageType::float64, "torch.DoubleStorage"},
    {StorageType::float16, "torch.HalfStorage"},    {StorageType::bfloat16, "torch.BFloat16Storage"},
    {StorageType::int64, "torch.LongStorage"},      {StorageType::int32, "torch.IntStorage"},
    {StorageType::int16, "torch.ShortStorage"},     {StorageType::int8, "torch.CharStorage"},
    {StorageType::uint8, "torch.ByteStorage"},      {StorageType::boolean, "torch.BoolStorage"},
};

// What an allowed global stands for; the unpickler interprets these, it never imports them.
enum class Global { ordered_dict, rebuild_tensor_v2, rebuild_parameter, rebuild_from_type_v2,
                    tensor_class, parameter_class, storage_class };

struct Value {
  enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor };
  Kind kind = Kind::none;
  int64_t integer = 0;  // boolean, integer; storage: index into the result's storages
  double floating = 0;
  std::string text;            // string, bytes; global: "module.name"
  Global global = Global::ordered_dict;
  StorageType storage_type = StorageType::float32;  // global storage_class
  std::vector<Value*> items;   // tuple, list; dict: key, value, key, value...
  std::unordered_set<std::string> keys;  // dict: its str keys, to refuse a repeated one
  int depth = 0;                         // containers: 1 + the deepest item
  TensorRef tensor;
};

// A state_dict nests a handful of levels (dict -> tensor args -> size tuple); anything far
// deeper is hostile. Each opcode makes at most one Value, but a Value costs ~150 bytes, so the
// count is capped too: a 15 MB pickle must not become gigabytes of objects.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxValues = size_t(1) << 22;

// "an int", "a tensor": for messages.
const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return "a bool";
    case Value::Kind::integer: return "an int";
    case Value::Kind::floating: return "a float";
    case Value::Kind::string: return "a str";
    case Value::Kind::tuple: return "a tuple";
    case Value::Kind::list: return "a list";
    case Value::Kind::dict: return "a dict";
    case Value::Kind::global: return "a global";
    case Value::Kind::storage: return "a storage";
    case Value::Kind::tensor: return "a tensor";
  }
  return "?";
}

class Unpickler {
 public:
  Unpickler(const std::vector<uint8_t>& bytes, const std::string& where) : bytes_(bytes), where_(where) {}
  UnpickledStateDict run();

 private:
  template <class... Args>
  [[noreturn]] void corrupt(const Args&... args) const {
    ENGINE_FAIL(where_, ": corrupt or unsupported pickle at byte ", opcode_pos_, ": ", args...);
  }
  const uint8_t* take(uint64_t n);
  uint64_t take_uint(int bytes);
  std::string take_line();
  Value* make(Value::Kind kind);
  Value* pop();
  Value* pop_expect(Value::Kind kind, const char* role);
  std::vector<Value*> pop_to_mark();
  Value* resolve_global(const std::string& module, const std::string& name);
  Value* persistent_load(Value* pid);
  Value* reduce(Value* callable, Value* args);
  Value* rebuild_tensor(const std::vector<Value*>& args);
  void set_item(Value* dict, Value* key, Value* value);
  void nest(Value* container, const std::vector<Value*>& items);
  Value* read_scalar(uint8_t op);
  bool build_container(uint8_t op);
  bool step(uint8_t op);

  const std::vector<uint8_t>& bytes_;
  const std::string& where_;
  uint64_t pos_ = 0;
  uint64_t opcode_pos_ = 0;
  std::vector<std::unique_ptr<Value>> arena_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
  UnpickledStateDict result_;
  std::map<std::string, size_t> storage_index_;
};

const uint8_t* Unpickler::take(uint64_t n) {
  if (n > bytes_.size() - pos_) corrupt("truncated (needs ", n, " more bytes)");
  const uint8_t* p = bytes_.data() + pos_;
  pos_ += n;
  return p;
}

uint64_t Unpickler::take_uint(int bytes) {
  const uint8_t* p = take(bytes);
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string Unpickler::take_line() {
  const uint8_t* begin = bytes_.data() + pos_;
  const void* newline = std::memchr(begin, '\n', bytes_.size() - pos_);
  if (!newline) corrupt("unterminated GLOBAL name");
  size_t length = static_cast<const uint8_t*>(newline) - begin;
  pos_ += length + 1;
  return std::string(reinterpret_cast<const char*>(begin), length);
}

Value* Unpickler::make(Value::Kind kind) {
  if (arena_.size() >= kMaxValues) corrupt("more than ", kMaxValues, " objects (a state_dict needs far fewer)");
  arena_.push_back(std::make_unique<Value>());
  arena_.back()->kind = kind;
  return arena_.back().get();
}

Value* Unpickler::pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() == marks_.back())) corrupt("stack underflow");
  Value* v = stack_.back();
  stack_.pop_back();
  return v;
}

Value* Unpickler::pop_expect(Value::Kind kind, const char* role) {
  Value* v = pop();
  if (v->kind != kind) corrupt(role, " must be ", kind_name(kind), ", got ", kind_name(v->kind));
  return v;
}

std::vector<Value*> Unpickler::pop_to_mark() {
  if (marks_.empty()) corrupt("no MARK on the stack");
  std::vector<Value*> items(stack_.begin() + marks_.back(), stack_.end());
  stack_.resize(marks_.back());
  marks_.pop_back();
  return items;
}

Value* Unpickler::resolve_global(const std::string& module, const std::string& name) {
  static const std::map<std::string, Global> allowed = {
      {"collections.OrderedDict", Global::ordered_dict},
      {"torch._utils._rebuild_tensor_v2", Global::rebuild_tensor_v2},
      {"torch._utils._rebuild_parameter", Global::rebuild_parameter},
      {"torch._tensor._rebuild_from_type_v2", Global::rebuild_from_type_v2},
      {"torch.Tensor", Global::tensor_class},
      {"torch.nn.parameter.Parameter", Global::parameter_class},
  };
  const std::string full = module + "." + name;
  Value* v = make(Value::Kind::global);
  v->text = full;
  auto it = allowed.find(full);
  if (it != allowed.end()) {
    v->global = it->second;
    return v;
  }
  for (const StorageTypeEntry& entry : kStorageTypes) {
    if (full == entry.global) {
      v->global = Global::storage_class;
      v->storage_type = entry.type;
      return v;
    }
  }
  ENGINE_FAIL(where_, ": refusing to load: checkpoint needs global '", printable(full),
              "'; only tensor state_dicts are supported (save model.state_dict(), not the model)");
}

// ('storage', torch.<T>Storage, key, location, numel): a storage whose bytes are <archive>/data/<key>.
Value* Unpickler::persistent_load(Value* pid) {
  const std::vector<Value*>& f = pid->items;
  if (pid->kind != Value::Kind::tuple || f.size() != 5 || f[0]->kind != Value::Kind::string ||
      f[0]->text != "storage")
    corrupt("persistent id is not ('storage', type, key, location, numel)");
  if (f[1]->kind != Value::Kind::global || f[1]->global != Global::storage_class)
    corrupt("persistent id names no storage type");
  if (f[2]->kind != Value::Kind::string || f[4]->kind != Value::Kind::integer || f[4]->integer < 0)
    corrupt("persistent id has a bad key or element count");
  Value* v = make(Value::Kind::storage);
  auto found = storage_index_.find(f[2]->text);
  if (found != storage_index_.end()) {
    const StorageRef& known = result_.storages[found->second];
    if (known.type != f[1]->storage_type || known.numel != f[4]->integer)
      corrupt("storage '", known.key, "' is described twice with different types or sizes");
    v->integer = static_cast<int64_t>(found->second);
    return v;
  }
  v->integer = static_cast<int64_t>(result_.storages.size());
  storage_index_[f[2]->text] = result_.storages.size();
  result_.storages.push_back({f[2]->text, f[1]->storage_type, f[4]->integer});
  return v;
}

// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
Value* Unpickler::rebuild_tensor(const std::vector<Value*>& args) {
  if (args.size() < 4 || args.size() > 7 || args[0]->kind != Value::Kind::storage ||
      args[1]->kind != Value::Kind::integer || args[2]->kind != Value::Kind::tuple ||
      args[3]->kind != Value::Kind::tuple || args[2]->items.size() != args[3]->items.size())
    corrupt("_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, ...)");
  Value* v = make(Value::Kind::tensor);
  TensorRef& t = v->tensor;
  t.storage = static_cast<size_t>(args[0]->integer);
  t.offset = args[1]->integer;
  const StorageRef& storage = result_.storages[t.storage];
  for (size_t d = 0; d < args[2]->items.size(); ++d) {
    const Value* size = args[2]->items[d];
    const Value* stride = args[3]->items[d];
    if (size->kind != Value::Kind::integer || stride->kind != Value::Kind::integer || size->integer < 0 ||
        stride->integer < 0)
      corrupt("tensor sizes and strides must be non-negative integers");
    t.size.push_back(size->integer);
    t.stride.push_back(stride->integer);
  }
  if (t.offset < 0) corrupt("negative storage offset ", t.offset);
  bool empty = false;
  for (int64_t s : t.size) empty = empty || s == 0;
  if (empty) return v;
  // The last element viewed must lie inside the storage; checked one dimension at a time in
  // 128 bits, where (size - 1) * stride < 2^126 plus a value < 2^63 cannot overflow.
  __int128 last = t.offset, count = 1;
  if (last >= storage.numel) corrupt("tensor offset ", t.offset, " is outside its ", storage.numel, "-element storage '", storage.key, "'");
  for (size_t d = 0; d < t.size.size(); ++d) {
    last += static_cast<__int128>(t.size[d] - 1) * t.stride[d];
    count *= t.size[d];
    if (last >= storage.numel)
      corrupt("tensor view (offset ", t.offset, ", size ", t.size[d], " stride ", t.stride[d], " in dim ", d,
              ") reaches past the end of its ", storage.numel, "-element storage '", storage.key, "'");
    // A view may not repeat storage elements into a larger tensor (stride 0 / expand): a few
    // bytes of pickle could otherwise ask for gigabytes. Save such tensors with .contiguous().
    if (count > storage.numel)
      corrupt("tensor view has more elements than its storage '", storage.key,
              "' (an expanded view? save it with .contiguous())");
  }
  return v;
}

Value* Unpickler::reduce(Value* callable, Value* args) {
  if (callable->kind != Value::Kind::global) corrupt("REDUCE of ", kind_name(callable->kind));
  if (args->kind != Value::Kind::tuple) corrupt("REDUCE arguments must be a tuple");
  const std::vector<Value*>& a = args->items;
  switch (callable->global) {
    case Global::ordered_dict:
      if (!a.empty()) corrupt("OrderedDict(...) with arguments is not supported");
      return make(Value::Kind::dict);
    case Global::rebuild_tensor_v2:
      return rebuild_tensor(a);
    case Global::rebuild_parameter:  // (tensor, requires_grad, backward_hooks)
      if (a.empty() || a[0]->kind != Value::Kind::tensor) corrupt("_rebuild_parameter of a non-tensor");
      return a[0];
    case Global::rebuild_from_type_v2:  // (func, new_type, args, state): a tensor subclass
      if (a.size() != 4 || a[0]->kind != Value::Kind::global || a[0]->global != Global::rebuild_tensor_v2 ||
          a[1]->kind != Value::Kind::global ||
          (a[1]->global != Global::tensor_class && a[1]->global != Global::parameter_class))
        corrupt("_rebuild_from_type_v2 is supported only for torch.Tensor and Parameter");
      return reduce(a[0], a[2]);
    default:
      break;
  }
  ENGINE_FAIL(where_, ": refusing to load: checkpoint calls '", printable(callable->text),
              "', which a tensor state_dict never does");
}

void Unpickler::set_item(Value* dict, Value* key, Value* value) {
  if (dict->kind != Value::Kind::dict) corrupt("SETITEM on ", kind_name(dict->kind));
  // Python would let the later value win silently; in a checkpoint a repeated key means a
  // damaged or doctored file, so it is refused (as the safetensors reader does).
  if (key->kind == Value::Kind::string && !dict->keys.insert(key->text).second)
    corrupt("the dict repeats the key '", printable(key->text), "'");
  nest(dict, {key, value});
  dict->items.push_back(key);
  dict->items.push_back(value);
}

void Unpickler::nest(Value* container, const std::vector<Value*>& items) {
  for (const Value* item : items) container->depth = std::max(container->depth, item->depth + 1);
  if (container->depth > kMaxDepth) corrupt("containers nested more than ", kMaxDepth, " deep");
}

// Opcodes that push one new scalar or string; nullptr for any other opcode.
Value* Unpickler::read_scalar(uint8_t op) {
  switch (op) {
    case 'N': return make(Value::Kind::none);
    case 0x88:
    case 0x89: {  // NEWTRUE, NEWFALSE
      Value* v = make(Value::Kind::boolean);
      v->integer = op == 0x88;
      return v;
    }
    case 'J': case 'K': case 'M': {  // BININT (signed 32), BININT1, BININT2
      Value* v = make(Value::Kind::integer);
      v->integer = op == 'J' ? static_cast<int32_t>(take_uint(4)) : static_cast<int64_t>(take_uint(op == 'K' ? 1 : 2));
      return v;
    }
    case 0x8a: {  // LONG1: n-byte little-endian two's complement
      const uint64_t n = take_uint(1);
      if (n > 8) corrupt("integer of ", n, " bytes does not fit in 64 bits");
      uint64_t raw = n ? take_uint(static_cast<int>(n)) : 0;
      if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) raw |= ~uint64_t(0) << (8 * n);  // sign-extend
      Value* v = make(Value::Kind::integer);
      v->integer = static_cast<int64_t>(raw);
      return v;
    }
    case 'G': {  // BINFLOAT: big-endian double
      const uint8_t* p = take(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
      Value* v = make(Value::Kind::floating);
      std::memcpy(&v->floating, &bits, 8);
      return v;
    }
    case 'X': case 0x8c: case 0x8d:            // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
    case 'T': case 'U': case 'B': case 'C': {  // BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES
      const int width = (op == 0x8c || op == 'U' || op == 'C') ? 1 : op == 0x8d ? 8 : 4;
      const uint64_t length = take_uint(width);
      const uint8_t* p = take(length);
      Value* v = make(Value::Kind::string);
      v->text.assign(reinterpret_cast<const char*>(p), length);
      return v;
    }
    default: return nullptr;
  }
}

// Opcodes that build or fill tuples, lists and dicts; false for any other opcode.
bool Unpickler::build_container(uint8_t op) {
  switch (op) {
    case '}': stack_.push_back(make(Value::Kind::dict)); return true;
    case ']': stack_.push_back(make(Value::Kind::list)); return true;
    case ')': stack_.push_back(make(Value::Kind::tuple)); return true;
    case '(': marks_.push_back(stack_.size()); return true;
    case 't': {
      Value* v = make(Value::Kind::tuple);
      v->items = pop_to_mark();
      nest(v, v->items);
      stack_.push_back(v);
      return true;
    }
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      Value* v = make(Value::Kind::tuple);
      v->items.resize(op - 0x84);
      for (size_t i = v->items.size(); i-- > 0;) v->items[i] = pop();
      nest(v, v->items);
      stack_.push_back(v);
      return true;
    }
    case 's': {
      Value* value = pop();
      Value* key = pop();
      if (stack_.empty()) corrupt("SETITEM without a dict");
      set_item(stack_.back(), key, value);
      return true;
    }
    case 'u': {
      const std::vector<Value*> items = pop_to_mark();
      if (items.size() % 2 != 0 || stack_.empty()) corrupt("SETITEMS needs a dict and key/value pairs");
      for (size_t i = 0; i < items.size(); i += 2) set_item(stack_.back(), items[i], items[i + 1]);
      return true;
    }
    case 'a': case 'e': {  // APPEND, APPENDS
      const std::vector<Value*> items = op == 'a' ? std::vector<Value*>{pop()} : pop_to_mark();
      if (stack_.empty() || stack_.back()->kind != Value::Kind::list) corrupt("APPEND to a non-list");
      nest(stack_.back(), items);
      stack_.back()->items.insert(stack_.back()->items.end(), items.begin(), items.end());
      return true;
    }
    case 'b':  // BUILD: OrderedDict attributes such as _metadata carry no tensors; ignored
      pop();
      if (stack_.empty() || stack_.back()->kind != Value::Kind::dict)
        corrupt("BUILD (setting attributes) is supported only on a dict");
      return true;
    default: return false;
  }
}

// Executes one opcode; returns false at STOP.
bool Unpickler::step(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      const uint64_t protocol = take_uint(1);
      if (protocol > 5) corrupt("pickle protocol ", protocol, " is newer than 5");
      return true;
    }
    case 0x95: take(8); return true;  // FRAME: a length hint only
    case 'q': case 'r': case 0x94: {  // BINPUT, LONG_BINPUT, MEMOIZE
      const uint64_t index = op == 'q' ? take_uint(1) : op == 'r' ? take_uint(4) : memo_.size();
      if (stack_.empty()) corrupt("memoize with an empty stack");
      memo_[index] = stack_.back();
      return true;
    }
    case 'h': case 'j': {  // BINGET, LONG_BINGET
      auto it = memo_.find(take_uint(op == 'h' ? 1 : 4));
      if (it == memo_.end()) corrupt("memo lookup of an unset index");
      stack_.push_back(it->second);
      return true;
    }
    case 'c': {  // GLOBAL
      const std::string module = take_line();
      const std::string name = take_line();
      stack_.push_back(resolve_global(module, name));
      return true;
    }
    case 0x93: {  // STACK_GLOBAL
      Value* name = pop_expect(Value::Kind::string, "STACK_GLOBAL name");
      Value* module = pop_expect(Value::Kind::string, "STACK_GLOBAL module");
      stack_.push_back(resolve_global(module->text, name->text));
      return true;
    }
    case 'Q': stack_.push_back(persistent_load(pop())); return true;  // BINPERSID
    case 'R': {
      Value* args = pop();
      Value* callable = pop();
      stack_.push_back(reduce(callable, args));
      return true;
    }
    case '.': return false;
    default: break;
  }
  if (Value* scalar = read_scalar(op)) {
    stack_.push_back(scalar);
    return true;
  }
  if (build_container(op)) return true;
  corrupt("opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
          " is not supported (a tensor state_dict does not need it)");
}

UnpickledStateDict Unpickler::run() {
  while (true) {
    opcode_pos_ = pos_;
    if (!step(*take(1))) break;
  }
  if (stack_.size() != 1 || !marks_.empty()) corrupt("STOP with ", stack_.size(), " values on the stack");
  Value* top = stack_.back();
  if (top->kind != Value::Kind::dict)
    ENGINE_FAIL(where_, ": the checkpoint holds ", kind_name(top->kind),
                ", not a state_dict (a dict of name -> tensor); save model.state_dict()");
  for (size_t i = 0; i < top->items.size(); i += 2) {
    const Value* key = top->items[i];
    const Value* value = top->items[i + 1];
    if (key->kind != Value::Kind::string)
      ENGINE_FAIL(where_, ": state_dict key ", i / 2, " is ", kind_name(key->kind), ", not a str");
    if (value->kind != Value::Kind::tensor)
      ENGINE_FAIL(where_, ": state_dict entry '", printable(key->text), "' is ", kind_name(value->kind),
                  ", not a tensor; only tensor state_dicts are supported");
    result_.tensors.emplace_back(key->text, value->tensor);
  }
  return std::move(result_);
}

}  // namespace

const char* storage_type_global(StorageType type) {
  for (const StorageTypeEntry& entry : kStorageTypes)
    if (entry.type == type) return entry.global;
  ENGINE_FAIL("storage_type_global: unknown storage type");
}

UnpickledStateDict unpickle_state_dict(const std::vector<uint8_t>& pickle, const std::string& where) {
  return Unpickler(pickle, where).run();
}

}  // namespace engine::io
