#include "engine/check.h"

namespace engine {

std::string printable(std::string_view bytes, size_t limit) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

}  // namespace engine

namespace engine::detail {

void fail(const char* condition, const std::string& message, const char* file, int line,
          const char* function) {
  throw Error(concat(message, " [check '", condition, "' failed in ", function, " at ", file, ":",
                     line, "]"));
}

}  // namespace engine::detail
