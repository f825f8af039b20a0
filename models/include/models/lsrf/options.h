#pragma once
// The flags of `sargan --model LSRF|OMP` that SARGAN does not read (commands.h runs the command;
// the flags both families read are models::CommonOptions, models/cli.h).
namespace CLI {
class App;
}

namespace models::lsrf {

struct Options {
  int f = 5;            // nonzero weights per output pixel
  double beta = 60.0;   // LSRF locality weight
  double lamda = 0.4;   // ridge penalty (the authors' spelling)
};

// Registers the flags above on the app.
void add_options(CLI::App& app, Options& options);

}  // namespace models::lsrf
