// .npy/.npz reading and writing (contract in npy.h). The header is NumPy's repr() of a dict such as
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }, parsed here by a recursive-descent
// parser of exactly the literals that can appear in it.
#include "engine/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

#include "engine/check.h"
#include "engine/zip.h"
#include "file_io.h"

namespace engine {

namespace {

const char npy_magic[] = "\x93NUMPY";
constexpr size_t npy_magic_size = 6;

// ---- the header dict ----

struct HeaderValue {
  enum Kind { string, boolean, tuple } kind;
  std::string text;
  bool flag = false;
  std::vector<int64_t> items;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& what) : s_(text), what_(what) {}

  std::map<std::string, HeaderValue> parse_dict() {
    std::map<std::string, HeaderValue> dict;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      expect(':');
      if (dict.count(key)) fail("duplicate key '" + key + "'");
      dict[key] = parse_value();
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the dict");
    return dict;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    ENGINE_FAIL(what_, ": malformed .npy header (", why, " at character ", pos_, " of \"", s_, "\")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool take_word(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }
  std::string parse_string() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string text = s_.substr(pos_ + 1, end - pos_ - 1);
    if (text.find('\\') != std::string::npos) fail("escape sequences are not expected in a dtype");
    pos_ = end + 1;
    return text;
  }
  int64_t parse_int() {
    skip_space();
    if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a non-negative integer");
    int64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      if (value > (INT64_MAX - 9) / 10) fail("integer too large");
      value = value * 10 + (s_[pos_++] - '0');
    }
    if (peek() == 'L') ++pos_;  // Python 2 long, as old NumPy wrote shapes
    return value;
  }
  HeaderValue parse_value() {
    skip_space();
    HeaderValue v{};
    if (peek() == '\'' || peek() == '"') {
      v.kind = HeaderValue::string;
      v.text = parse_string();
    } else if (take_word("True")) {
      v.kind = HeaderValue::boolean;
      v.flag = true;
    } else if (take_word("False")) {
      v.kind = HeaderValue::boolean;
    } else if (peek() == '(') {
      ++pos_;
      v.kind = HeaderValue::tuple;
      skip_space();
      while (peek() != ')') {
        v.items.push_back(parse_int());
        skip_space();
        if (peek() == ',') {
          ++pos_;
          skip_space();
        } else if (peek() != ')') {
          fail("expected ',' or ')' in the shape");
        }
      }
      ++pos_;
    } else {
      fail("expected a string, True, False or a tuple");
    }
    return v;
  }

  const std::string& s_;
  const std::string& what_;
  size_t pos_ = 0;
};

struct Dtype {
  char kind;
  int item_size;
  bool big_endian;
};

Dtype parse_descr(const std::string& descr, const std::string& what) {
  auto refuse = [&]() -> Dtype {
    ENGINE_FAIL(what, ": unsupported dtype '", descr,
                "' (expected a float <f4/<f8, an integer <i1..<i8/<u1..<u8, bool |b1, or a string |S<n>/<U<n>)");
  };
  if (descr.size() < 3) return refuse();
  const char order = descr[0], kind = descr[1];
  if (order != '<' && order != '>' && order != '|' && order != '=') return refuse();
  const std::string digits = descr.substr(2);
  if (digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return refuse();
  const int n = std::stoi(digits);
  Dtype d{kind, n, order == '>'};
  switch (kind) {
    case 'f': if (n != 4 && n != 8) return refuse(); break;
    case 'i': case 'u': if (n != 1 && n != 2 && n != 4 && n != 8) return refuse(); break;
    case 'b': if (n != 1) return refuse(); break;
    case 'S': if (n < 1) return refuse(); break;
    case 'U': if (n < 1) return refuse(); d.item_size = 4 * n; break;
    default: return refuse();
  }
  return d;
}

// Big-endian arrays are converted on reading; 'S' items are bytes, 'U' items are 4-byte code points.
void swap_to_little_endian(std::vector<uint8_t>& data, int word) {
  if (word <= 1) return;
  for (size_t i = 0; i + word <= data.size(); i += word) std::reverse(data.begin() + i, data.begin() + i + word);
}

template <class T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the host is little-endian (x86-64, aarch64)
  return v;
}

template <class T>
NpyArray from_values(char kind, const std::vector<T>& values, std::vector<int64_t> shape) {
  NpyArray a;
  a.kind = kind;
  a.item_size = sizeof(T);
  a.shape = std::move(shape);
  ENGINE_CHECK(a.element_count() == int64_t(values.size()), "NpyArray: ", values.size(),
               " values for an element count of ", a.element_count());
  a.data.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

}  // namespace

int64_t NpyArray::element_count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NpyArray::descr() const {
  const char order = (kind == 'S' || kind == 'b' || item_size == 1) && kind != 'U' ? '|' : '<';
  return std::string(1, order) + kind + std::to_string(kind == 'U' ? item_size / 4 : item_size);
}

std::vector<double> NpyArray::to_f64() const {
  const int64_t n = element_count();
  std::vector<double> out(size_t(n), 0.0);
  if (kind == 'f') {
    for (int64_t i = 0; i < n; ++i)
      out[i] = item_size == 8 ? load_le<double>(&data[i * 8]) : load_le<float>(&data[i * 4]);
    return out;
  }
  const std::vector<int64_t> ints = to_i64();
  std::transform(ints.begin(), ints.end(), out.begin(), [](int64_t v) { return double(v); });
  return out;
}

std::vector<int64_t> NpyArray::to_i64() const {
  ENGINE_CHECK(kind == 'i' || kind == 'u' || kind == 'b', "npy: dtype ", descr(), " is not an integer type");
  const int64_t n = element_count();
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = &data[i * item_size];
    if (kind == 'b') out[i] = p[0] != 0;
    else if (kind == 'i' && item_size == 1) out[i] = int8_t(p[0]);
    else if (kind == 'i' && item_size == 2) out[i] = load_le<int16_t>(p);
    else if (kind == 'i' && item_size == 4) out[i] = load_le<int32_t>(p);
    else if (kind == 'i') out[i] = load_le<int64_t>(p);
    else if (item_size == 1) out[i] = p[0];
    else if (item_size == 2) out[i] = load_le<uint16_t>(p);
    else if (item_size == 4) out[i] = load_le<uint32_t>(p);
    else {
      const uint64_t u = load_le<uint64_t>(p);
      ENGINE_CHECK(u <= uint64_t(INT64_MAX), "npy: uint64 value ", u, " does not fit int64");
      out[i] = int64_t(u);
    }
  }
  return out;
}

std::string NpyArray::to_string() const {
  ENGINE_CHECK((kind == 'S' || kind == 'U') && element_count() == 1, "npy: expected a string scalar, got dtype ",
               descr(), " with ", element_count(), " elements");
  std::string out;
  if (kind == 'S') {
    out.assign(data.begin(), data.end());
  } else {
    for (size_t i = 0; i + 4 <= data.size(); i += 4) {
      const uint32_t c = load_le<uint32_t>(&data[i]);
      ENGINE_CHECK(c < 128, "npy: non-ASCII character in a string array");
      out.push_back(char(c));
    }
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

NpyArray NpyArray::from_f64(const std::vector<double>& v, std::vector<int64_t> s) { return from_values('f', v, std::move(s)); }
NpyArray NpyArray::from_f32(const std::vector<float>& v, std::vector<int64_t> s) { return from_values('f', v, std::move(s)); }
NpyArray NpyArray::from_i32(const std::vector<int32_t>& v, std::vector<int64_t> s) { return from_values('i', v, std::move(s)); }
NpyArray NpyArray::from_i64(const std::vector<int64_t>& v, std::vector<int64_t> s) { return from_values('i', v, std::move(s)); }

NpyArray NpyArray::from_bytes_scalar(const std::string& text) {
  ENGINE_CHECK(!text.empty(), "npy: an empty bytes scalar has no NumPy dtype");
  NpyArray a;
  a.kind = 'S';
  a.item_size = int(text.size());
  a.data.assign(text.begin(), text.end());
  return a;
}

NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& what) {
  if (bytes.size() < npy_magic_size + 4 || std::memcmp(bytes.data(), npy_magic, npy_magic_size) != 0)
    ENGINE_FAIL(what, ": not a .npy array (bad magic)");
  const int major = bytes[6], minor = bytes[7];
  if ((major != 1 && major != 2 && major != 3) || minor != 0)
    ENGINE_FAIL(what, ": unsupported .npy format version ", major, ".", minor, " (expected 1.0, 2.0 or 3.0)");
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = bytes[8] | (size_t(bytes[9]) << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) ENGINE_FAIL(what, ": truncated .npy header");
    header_len = bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    header_start = 12;
  }
  if (header_len > bytes.size() - header_start)
    ENGINE_FAIL(what, ": truncated .npy header (", header_len, " bytes announced, ", bytes.size() - header_start, " present)");
  const std::string header(bytes.begin() + header_start, bytes.begin() + header_start + header_len);
  if (std::any_of(header.begin(), header.end(), [](char c) { return c == '\0'; }))
    ENGINE_FAIL(what, ": malformed .npy header (NUL byte)");

  const std::map<std::string, HeaderValue> dict = HeaderParser(header, what).parse_dict();
  for (const char* key : {"descr", "fortran_order", "shape"})
    if (!dict.count(key)) ENGINE_FAIL(what, ": malformed .npy header (no '", key, "' key)");
  if (dict.size() != 3) ENGINE_FAIL(what, ": malformed .npy header (unexpected keys besides descr, fortran_order, shape)");
  const HeaderValue& descr = dict.at("descr");
  const HeaderValue& fortran = dict.at("fortran_order");
  const HeaderValue& shape = dict.at("shape");
  if (descr.kind != HeaderValue::string)
    ENGINE_FAIL(what, ": unsupported dtype (structured arrays are not supported; expected a plain dtype string)");
  if (fortran.kind != HeaderValue::boolean) ENGINE_FAIL(what, ": malformed .npy header (fortran_order must be True or False)");
  if (shape.kind != HeaderValue::tuple) ENGINE_FAIL(what, ": malformed .npy header (shape must be a tuple)");
  if (fortran.flag && shape.items.size() >= 2)
    ENGINE_FAIL(what, ": Fortran-ordered arrays are not supported (re-save with np.ascontiguousarray)");

  const Dtype dtype = parse_descr(descr.text, what);
  NpyArray array;
  array.kind = dtype.kind;
  array.item_size = dtype.item_size;
  array.shape = shape.items;
  // The element count is checked against the data before anything is allocated.
  const size_t available = bytes.size() - header_start - header_len;
  uint64_t count = 1;
  for (int64_t d : array.shape) {
    if (d != 0 && count > available / uint64_t(d))
      ENGINE_FAIL(what, ": shape (", header.substr(header.find("shape")), ") is larger than the data");
    count *= uint64_t(d);
  }
  if (count > available / uint64_t(array.item_size) || count * array.item_size != available)
    ENGINE_FAIL(what, ": data length ", available, " bytes does not match the shape (", count, " elements of ",
                array.item_size, " bytes)");
  array.data.assign(bytes.begin() + header_start + header_len, bytes.end());
  if (dtype.big_endian) swap_to_little_endian(array.data, dtype.kind == 'U' ? 4 : dtype.kind == 'S' ? 1 : dtype.item_size);
  return array;
}

std::vector<uint8_t> encode_npy(const NpyArray& array) {
  ENGINE_CHECK(int64_t(array.data.size()) == array.element_count() * array.item_size, "encode_npy: ",
               array.data.size(), " data bytes for ", array.element_count(), " elements of ", array.item_size);
  std::string shape = "(";
  for (size_t i = 0; i < array.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(array.shape[i]);
  shape += array.shape.size() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + array.descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // NumPy pads with spaces so the data starts on a 64-byte boundary, and ends the header with '\n'.
  const size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + '\n';
  ENGINE_CHECK(header.size() <= 0xFFFF, "encode_npy: header too long for format 1.0");
  std::vector<uint8_t> out(10 + header.size() + array.data.size());
  std::memcpy(out.data(), npy_magic, npy_magic_size);
  out[6] = 1;  // version 1.0
  out[7] = 0;
  out[8] = uint8_t(header.size() & 0xFF);
  out[9] = uint8_t(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (!array.data.empty()) std::memcpy(out.data() + 10 + header.size(), array.data.data(), array.data.size());
  return out;
}

NpyArray load_npy(const std::string& path) { return parse_npy(io::read_file_bytes(path, ".npy file"), path); }

void save_npy(const std::string& path, const NpyArray& array) {
  const std::vector<uint8_t> bytes = encode_npy(array);
  io::AtomicFile file(path);
  file.write(bytes.data(), bytes.size());
  file.commit();
}

std::map<std::string, NpyArray> load_npz(const std::string& path, const std::set<std::string>& wanted) {
  const ZipReader zip(path);
  std::vector<std::string> names;
  uint64_t total = 0;
  for (const std::string& name : zip.names()) {
    if (name.size() < 5 || name.compare(name.size() - 4, 4, ".npy") != 0)
      ENGINE_FAIL(printable(path, 4096), ": entry '", printable(name), "' is not a .npy array (not an .npz file?)");
    if (!wanted.empty() && !wanted.count(name.substr(0, name.size() - 4))) continue;
    names.push_back(name);
    total += std::min(zip.size(name), max_npz_bytes + 1);
  }
  if (total > max_npz_bytes)
    ENGINE_FAIL(printable(path, 4096), ": its arrays declare more than ", max_npz_bytes >> 30,
                " GiB once inflated; refusing to allocate that (a damaged or hostile file?)");
  std::map<std::string, NpyArray> arrays;
  for (const std::string& name : names)
    arrays[name.substr(0, name.size() - 4)] = parse_npy(zip.read(name), path + ": " + name);
  return arrays;
}

void save_npz(const std::string& path, const std::map<std::string, NpyArray>& arrays) {
  ZipWriter zip(path);
  for (const auto& [key, array] : arrays) zip.add(key + ".npy", encode_npy(array));
  zip.finish();
}

}  // namespace engine
