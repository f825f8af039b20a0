// sargan: the command line of the models, with the authors' main.py flags (see models/cli.h).
// Parses, calls models::run, and turns user errors into one line on stderr and exit code 1.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "engine/check.h"
#include "engine/version.h"
#include "models/cli.h"
#include "models/data/faces.h"
#include "models/sargan/options.h"
#include "precision_option.h"

int main(int argc, char** argv) {
  CLI::App app{"SARGAN and the LSRF/OMP linear models: facial expression synthesis"};
  app.set_version_flag("--version", std::string("sargan ") + ENGINE_VERSION);
  models::CliOptions o;
  app.add_option("--model", o.model, "SARGAN, LSRF or OMP")->capture_default_str();
  app.add_option("--mode", o.mode, "train, test_inthewild or test")->capture_default_str();
  app.add_option("--train_dataset_dir", o.train_dataset_dir, "training pairs: trainA/*.png -> trainB/*.png");
  app.add_option("--test_dataset_dir", o.test_dataset_dir, "test images (*.jpg), or testA/testB pairs for --mode test");
  app.add_option("--weights_dir", o.weights_dir, "folder of the weights files (read, or written by train)");
  app.add_option("--results_dir", o.results_dir, "output folder (created if absent)")->capture_default_str();
  app.add_option("--image_size", o.image_size, "images are resized to image_size x image_size")->capture_default_str();
  app.add_option("--f", o.f, "LSRF/OMP: nonzero weights per output pixel")->capture_default_str();
  app.add_option("--beta", o.beta, "LSRF: locality weight")->capture_default_str();
  app.add_option("--lamda", o.lamda, "LSRF/OMP: ridge penalty")->capture_default_str();
  models::sargan::add_options(app, o.sargan);
  add_precision_option(app);
  models::data::MakeFacesOptions faces;
  CLI::App* make_faces = models::data::add_make_faces_command(app, faces);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (make_faces->parsed()) return models::data::run_make_faces(faces);
    return models::run(o);
  } catch (const engine::Error& e) {
    std::cerr << "sargan: error: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "sargan: error: " << e.what() << "\n";
  }
  return 1;
}
