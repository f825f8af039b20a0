// sargan: the command line of the models, with the authors' main.py flags (see models/cli.h).
// Registers each command's flags once, parses, chooses the command (a subcommand, else the family
// of --model), and turns user errors into one line on stderr and exit code 1.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "engine/check.h"
#include "engine/version.h"
#include "models/cli.h"
#include "models/data/faces.h"
#include "models/lsrf/commands.h"
#include "models/sargan/commands.h"
#include "precision_option.h"

int main(int argc, char** argv) {
  CLI::App app{"SARGAN and the LSRF/OMP linear models: facial expression synthesis"};
  app.set_version_flag("--version", std::string("sargan ") + ENGINE_VERSION);
  models::CommonOptions common;
  models::lsrf::Options lsrf;
  models::sargan::Options sargan;
  models::add_common_options(app, common);
  models::lsrf::add_options(app, lsrf);
  models::sargan::add_options(app, sargan);
  add_precision_option(app);
  models::sargan::ConvertOptions convert;
  CLI::App* convert_command = models::sargan::add_convert_command(app, convert);
  models::data::MakeFacesOptions faces;
  CLI::App* make_faces = models::data::add_make_faces_command(app, faces);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (make_faces->parsed()) return models::data::run_make_faces(faces);
    if (convert_command->parsed()) return models::sargan::run_convert(convert, std::cout);
    switch (models::model_family(common.model)) {
      case models::ModelFamily::sargan:
        return models::sargan::run(common, sargan, std::cerr, std::cout);
      case models::ModelFamily::lsrf:
        return models::lsrf::run(common, lsrf, std::cerr);
    }
  } catch (const engine::Error& e) {
    std::cerr << "sargan: error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "sargan: error: " << e.what() << "\n";
  }
  return 1;
}
