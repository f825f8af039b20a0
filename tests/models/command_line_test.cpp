// The `sargan` command line (models/cli.h): each flag registered once, --result_dir and
// --results_dir two spellings of one option, and every flag parsed into its command's struct.
// apps/sargan.cpp registers the same structs in the same way; tests/cli/sargan_flags.sh checks
// the executable's own --help.
#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "models/cli.h"
#include "models/data/faces.h"
#include "models/lsrf/options.h"
#include "models/sargan/options.h"

namespace {

// The executable's structs, their flags registered on one app as apps/sargan.cpp registers them.
// A name registered twice on an app makes CLI11 throw CLI::OptionAlreadyAdded here.
struct CommandLine {
  CLI::App app;
  models::CommonOptions common;
  models::lsrf::Options lsrf;
  models::sargan::Options sargan;
  models::sargan::ConvertOptions convert;
  models::data::MakeFacesOptions faces;

  CommandLine() {
    models::add_common_options(app, common);
    models::lsrf::add_options(app, lsrf);
    models::sargan::add_options(app, sargan);
    models::sargan::add_convert_command(app, convert);
    models::data::add_make_faces_command(app, faces);
  }
  void parse(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  }
};

}  // namespace

TEST_CASE("sargan command line: every flag is registered once", "[cli]") {
  REQUIRE_NOTHROW(CommandLine());
  // The mechanism the line above relies on: a second registration of a name is refused.
  CommandLine twice;
  models::CommonOptions other;
  CHECK_THROWS_AS(models::add_common_options(twice.app, other), CLI::OptionAlreadyAdded);

  CommandLine line;
  std::multiset<std::string> names;
  for (const CLI::Option* option : line.app.get_options())
    for (const std::string& name : option->get_lnames()) names.insert(name);
  for (const std::string& name : names) CHECK(names.count(name) == 1);
  // The authors' main.py flags and the seed README's, so their command lines run verbatim.
  for (const char* name : {"model", "mode", "train_dataset_dir", "test_dataset_dir", "weights_dir", "results_dir",
                           "result_dir", "image_size", "f", "beta", "lamda", "image_dir", "model_save_dir", "c_dim",
                           "g_conv_dim", "d_conv_dim", "d_repeat_num", "batch_size", "device", "num_iters",
                           "resume_iters", "sample_dir", "log_dir"})
    CHECK(names.count(name) == 1);
}

TEST_CASE("sargan command line: --result_dir and --results_dir are one option", "[cli]") {
  CommandLine line;
  CHECK(line.app.get_option("--result_dir") == line.app.get_option("--results_dir"));
  CommandLine authors, seed, neither;
  authors.parse({"--result_dir", "out/a"});
  seed.parse({"--results_dir", "out/a"});
  neither.parse({});
  CHECK(authors.common.results_dir == "out/a");
  CHECK(seed.common.results_dir == authors.common.results_dir);
  CHECK(neither.common.results_dir == "./results/");
  // Given under both names, it is one option given twice: refused as any flag given twice.
  CommandLine both;
  CHECK_THROWS_AS(both.parse({"--result_dir", "a", "--results_dir", "b"}), CLI::ArgumentMismatch);
  // An empty folder is refused under either name, with the same message.
  for (const char* spelling : {"--result_dir", "--results_dir"}) {
    CommandLine empty;
    CHECK_THROWS_WITH(empty.parse({spelling, ""}), "--result_dir: must not be empty");
  }
}

TEST_CASE("sargan command line: each flag lands in its command's struct", "[cli]") {
  CommandLine line;
  line.parse({"--model", "omp", "--mode", "train", "--image_size", "64", "--device", "cpu", "--f", "3",
              "--lamda", "0.5", "--g_conv_dim", "8", "--batch_size", "4", "--num_iters", "7", "--image_dir", "faces",
              "--model_save_dir", "ckpt", "--crop", "none", "--weights_dir", "w", "--cuda_graph"});
  CHECK(models::model_family(line.common.model) == models::ModelFamily::lsrf);
  CHECK(line.common.mode == "train");
  CHECK(line.common.image_size == 64);
  CHECK(line.common.device == "cpu");
  CHECK(line.common.weights_dir == "w");
  CHECK(line.lsrf.f == 3);
  CHECK(line.lsrf.lamda == 0.5);
  CHECK(line.sargan.config.g_conv_dim == 8);
  CHECK(line.sargan.config.batch_size == 4);
  CHECK(line.sargan.config.num_iters == 7);
  CHECK(line.sargan.config.cuda_graph);
  CommandLine defaults;
  defaults.parse({"--mode", "train"});
  CHECK_FALSE(defaults.sargan.config.cuda_graph);
  CHECK(line.sargan.image_dir == "faces");
  CHECK(line.sargan.model_save_dir == "ckpt");
  CHECK(line.sargan.crop == "none");
  CHECK(models::model_family("SARGAN") == models::ModelFamily::sargan);
  CHECK(models::model_family("Lsrf") == models::ModelFamily::lsrf);
  CHECK_THROWS_WITH(models::model_family("XYZ"), "unknown --model 'XYZ' (expected SARGAN, LSRF or OMP)");
  CommandLine convert;
  convert.parse({"convert", "in.ckpt", "out.safetensors"});
  CHECK(convert.convert.in == "in.ckpt");
  CHECK(convert.convert.out == "out.safetensors");
}
