// The `make-faces` subcommand of the sargan app: its flags and its one-line report.
#include <CLI/CLI.hpp>

#include <iostream>

#include "models/data/faces.h"

namespace models::data {

CLI::App* add_make_faces_command(CLI::App& app, MakeFacesOptions& o) {
  CLI::App* command =
      app.add_subcommand("make-faces", "draw a labelled synthetic faces dataset (docs/training.md)");
  command->add_option("--out", o.out, "output folder: <out>/<EXP>/<id>.png for the seven expressions")
      ->required();
  command->add_option("--per_class", o.per_class, "identities, each drawn under every expression")
      ->capture_default_str();
  command->add_option("--image_size", o.image_size, "width and height of the images")->capture_default_str();
  command->add_option("--seed", o.seed, "the same seed draws the same faces, byte for byte")
      ->capture_default_str();
  command->add_flag("--pairs", o.pairs,
                    "write trainA/ (neutral) and trainB/ (happy) for the LSRF/OMP trainers");
  return command;
}

int run_make_faces(const MakeFacesOptions& o) {
  const int64_t written = make_faces(o);
  std::cout << "make-faces: wrote " << written << " " << o.image_size << "x" << o.image_size << " images ("
            << o.per_class << " identities, seed " << o.seed << ") to " << o.out << "\n";
  return 0;
}

}  // namespace models::data
