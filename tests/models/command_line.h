#pragma once
// The `sargan` command line as the model tests build it: the flags both families read and one
// family's own, run as apps/sargan.cpp runs the command it chose.
#include <ostream>

#include "models/cli.h"
#include "models/lsrf/commands.h"
#include "models/sargan/commands.h"

namespace test {

struct SarganCommand {  // sargan --model SARGAN ...
  models::CommonOptions common;
  models::sargan::Options sargan;
};

inline int run(const SarganCommand& c, std::ostream& log, std::ostream& out) {
  return models::sargan::run(c.common, c.sargan, log, out);
}

struct LsrfCommand {  // sargan --model LSRF|OMP ...
  models::CommonOptions common;
  models::lsrf::Options lsrf;
};

inline int run(const LsrfCommand& c, std::ostream& log) { return models::lsrf::run(c.common, c.lsrf, log); }

}  // namespace test
