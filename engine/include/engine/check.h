#pragma once
// ENGINE_CHECK: validation that is always compiled in. On failure it throws engine::Error whose
// message holds the caller's text plus the failed condition, file, line and function, so a bad
// shape or a corrupt file is reported in one line instead of an abort.
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace engine {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes from a file, made safe to quote in a one-line message: control characters, NUL and
// every non-ASCII byte become \xNN (so no ESC/OSC sequence or invalid UTF-8 reaches the
// terminal and nothing cuts the line short), and anything past `limit` bytes becomes "...".
std::string printable(std::string_view bytes, size_t limit = 120);

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
[[noreturn]] void fail(const char* condition, const std::string& message, const char* file, int line,
                       const char* function);
}  // namespace detail

}  // namespace engine

// ENGINE_CHECK(shape.size() == 4, "conv2d: input must be 4-d, got ", shape)
#define ENGINE_CHECK(cond, ...)                                                                    \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      ::engine::detail::fail(#cond, ::engine::detail::concat(__VA_ARGS__), __FILE__, __LINE__,    \
                             __func__);                                                            \
  } while (0)

// A user-facing error (missing file, corrupt checkpoint): the message alone, no source location.
#define ENGINE_FAIL(...) throw ::engine::Error(::engine::detail::concat(__VA_ARGS__))
