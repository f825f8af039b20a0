// The LSRF/OMP flags on the `sargan` command line (contract in options.h).
#include "models/lsrf/options.h"

#include <CLI/CLI.hpp>

namespace models::lsrf {

void add_options(CLI::App& app, Options& o) {
  app.add_option("--f", o.f, "LSRF/OMP: nonzero weights per output pixel")->capture_default_str();
  app.add_option("--beta", o.beta, "LSRF: locality weight")->capture_default_str();
  app.add_option("--lamda", o.lamda, "LSRF/OMP: ridge penalty")->capture_default_str();
}

}  // namespace models::lsrf
