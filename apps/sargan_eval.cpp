// sargan_eval: the evidence for a SARGAN generator trained on synthetic faces (docs/training.md).
// Trains an independent expression classifier on faces of another seed (or loads one), checks it
// on held-out faces, then translates faces of a third seed into every other expression and
// reports the share classified as their target, the identity-kept distances, the distance to the
// ideal answer (the same identity drawn with the target expression) against the unchanged input's,
// overall and by expression pair, beside the score of the ideal features one pixel off (a
// yardstick), and the speckle (|Laplacian|) against the drawn target's.
//   sargan_eval --weights G.safetensors [--g_conv_dim 16] [--image_size 32] [--identities 50]
//               [--faces_seed 3] [--classifier_faces_seed 2] [--classifier_iterations 600]
//               [--classifier classifier.safetensors] [--save_classifier PATH] [--threshold 0.25]
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "engine/check.h"
#include "engine/image.h"
#include "engine/safetensors.h"
#include "models/data/faces.h"
#include "models/eval/expression_eval.h"
#include "models/sargan/weights.h"

int main(int argc, char** argv) {
  CLI::App app{"Classifies SARGAN translations of synthetic faces and measures the identity kept"};
  std::string weights, classifier_path, save_classifier;
  int64_t g_conv_dim = 64;
  int identities = 50, mask_grow = 2;
  uint64_t faces_seed = 3;
  double threshold = 0.25;
  std::string grid_path;
  int grid_identities = 7, grid_zoom = 2;
  models::eval::ClassifierTraining training;
  app.add_option("--weights", weights, "generator weights (.safetensors or .ckpt)")->required();
  app.add_option("--g_conv_dim", g_conv_dim, "generator width")->capture_default_str();
  app.add_option("--image_size", training.image_size, "face size")->capture_default_str();
  app.add_option("--identities", identities, "evaluation identities (each x 7 sources x 6 targets; 0: only --grid)")->capture_default_str();
  app.add_option("--faces_seed", faces_seed, "make-faces seed of the evaluation faces")->capture_default_str();
  app.add_option("--mask_grow", mask_grow, "pixels the expression mask is grown by")->capture_default_str();
  app.add_option("--classifier_faces_seed", training.faces_seed, "make-faces seed of the classifier's training faces")
      ->capture_default_str();
  app.add_option("--classifier_identities", training.identities, "classifier training identities")->capture_default_str();
  app.add_option("--classifier_iterations", training.iterations, "classifier training iterations")->capture_default_str();
  app.add_option("--classifier", classifier_path, "load this classifier instead of training one");
  app.add_option("--save_classifier", save_classifier, "write the trained classifier here (.safetensors)");
  app.add_option("--threshold", threshold, "identity kept when kept distance < threshold x other-person distance")
      ->capture_default_str();
  app.add_option("--grid", grid_path, "also write a PNG of translations (rows: identities of --faces_seed)");
  app.add_option("--grid_identities", grid_identities, "rows of the --grid picture")->capture_default_str();
  app.add_option("--grid_zoom", grid_zoom, "pixel repetition of the --grid picture")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    using namespace models::data;
    using namespace models::eval;
    using namespace models::sargan;
    engine::Philox rng(training.seed);
    ExpressionClassifier classifier(training.image_size, rng);
    if (!classifier_path.empty()) {
      classifier.load_state_dict(engine::load_safetensors(classifier_path).tensors);
    } else {
      train_classifier(classifier, training, std::cerr);
      if (!save_classifier.empty()) engine::save_safetensors(save_classifier, classifier.state_dict());
    }
    engine::Philox g_rng(0);
    GeneratorConfig config;
    config.conv_dim = g_conv_dim;
    Generator g(config, g_rng);
    load_generator(g, weights);
    if (!grid_path.empty())
      engine::save_png(grid_path, translation_grid(g, training.image_size, faces_seed, grid_identities, grid_zoom));
    if (identities == 0) return 0;  // the picture only
    // Held-out check of the classifier: identities it never saw (the same seed, beyond its range).
    const double held_out = classifier_accuracy(classifier, training.faces_seed, training.identities, 100);
    const TranslationReport r = evaluate_translations(g, classifier, training.image_size, faces_seed, identities, mask_grow);
    std::printf("classifier accuracy on 700 held-out drawn faces (seed %llu, identities %d..%d): %.2f%%\n",
                (unsigned long long)training.faces_seed, training.identities, training.identities + 99, 100 * held_out);
    std::printf("translations: %lld (identities 0..%d of seed %llu, 7 sources x 6 other targets)\n",
                (long long)r.translations, identities - 1, (unsigned long long)faces_seed);
    std::printf("classified as their target: %.2f%%  (", 100 * r.accuracy);
    for (int t = 0; t < num_expressions; ++t)
      std::printf("%s%s %.1f%%", t ? ", " : "", expression_codes()[size_t(t)].c_str(), 100 * r.per_target[size_t(t)]);
    std::printf(")\n");
    std::printf("identity: mean |input - output| outside the expression mask %.2f / 255; between two different "
                "people %.2f / 255; ratio %.3f (kept when < %.2f: %s)\n",
                r.kept_distance, r.other_person_distance, r.kept_distance / r.other_person_distance, threshold,
                r.kept_distance < threshold * r.other_person_distance ? "yes" : "no");
    std::printf("mean |output - drawn target face| over the whole image: %.2f / 255\n", r.target_distance);
    std::printf("mean |drawn source face - drawn target face| over the whole image: %.2f / 255\n",
                r.source_target_distance);
    std::printf("output-to-target / source-to-target: %.3f\n", r.target_ratio());
    std::printf("for scale: the drawn targets with their features one pixel off (inside the expression mask, moved "
                "up, down, left or right) are %.2f / 255 from them: %.3f of source-to-target\n",
                r.one_pixel_off_distance, r.one_pixel_off_ratio());
    std::printf("inside the expression mask (%.1f%% of the image): mean |output - drawn target| %.2f / 255, "
                "|drawn source - drawn target| %.2f / 255 (%.3f); outside it the drawings are equal and the "
                "output is the identity line's %.2f / 255 from them\n",
                100 * r.mask_share, r.target_distance_inside, r.source_target_distance_inside,
                r.target_distance_inside / r.source_target_distance_inside, r.kept_distance);
    std::printf("by expression pair (row source, column target; output-to-target / source-to-target):\n    ");
    for (int t = 0; t < num_expressions; ++t) std::printf("%7s", expression_codes()[size_t(t)].c_str());
    for (int s = 0; s < num_expressions; ++s) {
      std::printf("\n%s ", expression_codes()[size_t(s)].c_str());
      for (int t = 0; t < num_expressions; ++t)
        s == t ? std::printf("%7s", "-") : std::printf("%7.3f", r.pair_ratio(s, t));
    }
    std::printf("\nworst expression pair: %.3f\n", r.worst_pair_ratio());
    std::printf("speckle: mean |Laplacian| outside the expression mask, output %.2f / drawn target %.2f: %.3f\n",
                r.output_laplacian_outside.mean(), r.target_laplacian_outside.mean(), r.speckle_outside());
    std::printf("speckle inside the expression mask: output %.2f / drawn target %.2f: %.3f\n",
                r.output_laplacian_inside.mean(), r.target_laplacian_inside.mean(), r.speckle_inside());
  } catch (const engine::Error& e) {
    std::cerr << "sargan_eval: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
