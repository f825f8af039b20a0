#pragma once
// Evidence for a trained SARGAN generator on synthetic faces (faces.h): an independent expression
// classifier, trained with this engine on faces of another seed than the GAN's, judges whether
// each translation shows its target expression; and the identity is judged by the mean colour
// distance between input and output away from the expression features (outside
// expression_mask), next to the same distance between two different people.
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/module.h"
#include "engine/nn.h"
#include "engine/random.h"
#include "models/data/faces.h"
#include "models/sargan/networks.h"

namespace models::eval {

// A small CNN: three Conv2d(k4, s2, p1) + LeakyReLU(0.2) (16, 32, 64 channels), then a Conv2d
// with the remaining spatial size as kernel to num_expressions logits. image_size: multiple of 8.
class ExpressionClassifier : public engine::Module {
 public:
  ExpressionClassifier(int image_size, engine::Philox& rng);
  engine::Tensor forward(const engine::Tensor& x);  // [N,3,S,S] in [-1,1] -> logits [N,7]
  int image_size() const { return image_size_; }

 private:
  int image_size_;
  std::vector<std::shared_ptr<engine::nn::Conv2d>> convs_;
};

struct ClassifierTraining {
  int image_size = 32;
  uint64_t faces_seed = 2;  // make-faces seed of the training identities (not the GAN's)
  int identities = 400;     // each drawn under the 7 expressions
  int iterations = 600;
  int batch_size = 64;
  double lr = 1e-3;
  float noise = 0.1f;       // Gaussian pixel noise (in [-1,1] units) added while training
  uint64_t seed = 0;        // weights, batches, noise
};

// Trains the classifier on drawn faces (in memory, no files); progress on `log`.
void train_classifier(ExpressionClassifier& classifier, const ClassifierTraining& options, std::ostream& log);

// Accuracy of the classifier on the faces of identities [first, first + count) of `faces_seed`,
// under all 7 expressions.
double classifier_accuracy(ExpressionClassifier& classifier, uint64_t faces_seed, int first, int count);

// Mean |a - b| per channel (0..255) over the pixels where mask is 0 (every pixel when mask is
// empty). a and b: the same size, 3 channels.
double mean_distance(const engine::Image& a, const engine::Image& b, const std::vector<uint8_t>& mask);

// Sum and count of |4 p(y,x) - p(y-1,x) - p(y+1,x) - p(y,x-1) - p(y,x+1)| per channel (0..255
// units) over the interior pixels (not on the image border) where mask is 0 (all when empty): the
// speckle measure. High-frequency noise raises it; a smooth image scores 0.
struct LaplacianSum {
  double sum = 0;
  int64_t count = 0;
  double mean() const { return count ? sum / double(count) : 0.0; }
};
LaplacianSum abs_laplacian(const engine::Image& a, const std::vector<uint8_t>& mask);

// `face` with every pixel where mask is 1 taken from (dy, dx) pixels away, i.e. from (y - dy,
// x - dx) clamped to the image: the expression features drawn right but dy, dx pixels off, the
// rest of the face in place. The yardstick of the distance to the drawn target.
engine::Image move_features(const engine::Image& face, const std::vector<uint8_t>& mask, int dy, int dx);

// Sums of a per-translation measure, overall and by (source, target) expression pair.
struct PairSums {
  std::vector<double> sum = std::vector<double>(size_t(data::num_expressions) * data::num_expressions, 0.0);
  std::vector<int64_t> count = std::vector<int64_t>(size_t(data::num_expressions) * data::num_expressions, 0);
  void add(int source, int target, double value);
  double mean() const;                         // over all pairs
  double mean(int source, int target) const;   // over one pair
};

struct TranslationReport {
  int64_t translations = 0;       // source != target only
  double accuracy = 0;            // share classified as their target
  std::vector<double> per_target; // accuracy by target expression
  double kept_distance = 0;       // mean |input - output| outside the mask, 0..255 per channel
  double other_person_distance = 0;  // the same between identity i and i+1, same expression
  double target_distance = 0;     // mean |output - drawn target face| over the whole image
  double source_target_distance = 0;  // mean |drawn source - drawn target| (the unchanged input's score)
  // The same two inside the expression mask, where the drawings differ (outside it they are equal,
  // and |output - drawn target| there is kept_distance), and the mask's mean share of the image.
  double target_distance_inside = 0, source_target_distance_inside = 0, mask_share = 0;
  // A yardstick for target_distance: mean |move_features(drawn target) - drawn target| over the
  // four one-pixel moves (up, down, left, right), i.e. the score of the ideal features one pixel off.
  double one_pixel_off_distance = 0;
  PairSums output_to_target, source_to_target;  // the two distances by expression pair
  // Speckle: mean |Laplacian| of the outputs and of the drawn targets, outside the expression
  // mask (where the output should equal the input) and inside it (the redrawn features).
  LaplacianSum output_laplacian_outside, target_laplacian_outside;
  LaplacianSum output_laplacian_inside, target_laplacian_inside;

  double target_ratio() const { return target_distance / source_target_distance; }
  double one_pixel_off_ratio() const { return one_pixel_off_distance / source_target_distance; }
  double pair_ratio(int s, int t) const { return output_to_target.mean(s, t) / source_to_target.mean(s, t); }
  double worst_pair_ratio() const;  // the largest pair_ratio over source != target
  double speckle_outside() const { return output_laplacian_outside.mean() / target_laplacian_outside.mean(); }
  double speckle_inside() const { return output_laplacian_inside.mean() / target_laplacian_inside.mean(); }
};

// Translates each face (identities [0, count) of faces_seed, under each expression) into every
// other expression with `g` (8-bit outputs, as --mode test writes them) and measures them.
TranslationReport evaluate_translations(sargan::Generator& g, ExpressionClassifier& classifier, int image_size,
                                        uint64_t faces_seed, int count, int mask_grow = 2);

// A picture of the generator's work on identities [0, count) of faces_seed: row i is identity i
// drawn with expression i % 7, then its translations into the 7 expressions in folder order (the
// source's own column is G's answer for an unchanged expression), each face enlarged `zoom` times
// by pixel repetition. (1 + 7) * S * zoom wide, count * S * zoom high, RGB.
engine::Image translation_grid(sargan::Generator& g, int image_size, uint64_t faces_seed, int count, int zoom);

}  // namespace models::eval
