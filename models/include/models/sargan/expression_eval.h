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

#include "engine/module.h"
#include "engine/nn.h"
#include "engine/random.h"
#include "models/sargan/networks.h"

namespace models::sargan {

// A small CNN: three Conv2d(k4, s2, p1) + LeakyReLU(0.2) (16, 32, 64 channels), then a Conv2d
// with the remaining spatial size as kernel to num_expressions logits. image_size: multiple of 8.
class ExpressionClassifier : public engine::Module {
 public:
  ExpressionClassifier(int image_size, engine::Generator& rng);
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

struct TranslationReport {
  int64_t translations = 0;       // source != target only
  double accuracy = 0;            // share classified as their target
  std::vector<double> per_target; // accuracy by target expression
  double kept_distance = 0;       // mean |input - output| outside the mask, 0..255 per channel
  double other_person_distance = 0;  // the same between identity i and i+1, same expression
  double target_distance = 0;     // mean |output - drawn target face| over the whole image
};

// Translates each face (identities [0, count) of faces_seed, under each expression) into every
// other expression with `g` (8-bit outputs, as --mode test writes them) and measures them.
TranslationReport evaluate_translations(Generator& g, ExpressionClassifier& classifier, int image_size,
                                        uint64_t faces_seed, int count, int mask_grow = 2);

}  // namespace models::sargan
