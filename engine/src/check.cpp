#include "engine/check.h"

namespace engine::detail {

void fail(const char* condition, const std::string& message, const char* file, int line,
          const char* function) {
  throw Error(concat(message, " [check '", condition, "' failed in ", function, " at ", file, ":",
                     line, "]"));
}

}  // namespace engine::detail
