// The evidence for a trained generator on synthetic faces (contract in expression_eval.h).
#include "models/eval/expression_eval.h"

#include <algorithm>
#include <cmath>
#include <ostream>

#include "engine/adam.h"
#include "engine/autograd.h"
#include "engine/check.h"
#include "engine/ops.h"
#include "models/data/faces.h"
#include "models/sargan/translator.h"

namespace models::eval {

using data::draw_face;
using data::expression_mask;
using data::face_identity;
using data::FaceIdentity;
using data::num_expressions;
using engine::Image;
using engine::Tensor;
using sargan::Generator;
using sargan::images_to_tensor;
using sargan::Translator;

ExpressionClassifier::ExpressionClassifier(int image_size, engine::Philox& rng) : image_size_(image_size) {
  ENGINE_CHECK(image_size >= 8 && image_size % 8 == 0, "ExpressionClassifier: image_size must be a multiple of 8, got ",
               image_size);
  const int64_t channels[] = {3, 16, 32, 64};
  for (int i = 0; i < 3; ++i)
    convs_.push_back(register_module(std::to_string(i), std::make_shared<engine::nn::Conv2d>(
                                                            channels[i], channels[i + 1], 4, 2, 1, true, rng)));
  convs_.push_back(register_module(
      "3", std::make_shared<engine::nn::Conv2d>(64, num_expressions, image_size / 8, 1, 0, true, rng)));
}

Tensor ExpressionClassifier::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i + 1 < convs_.size(); ++i) h = engine::leaky_relu(convs_[i]->forward(h), 0.2f);
  return convs_.back()->forward(h).reshape({x.size(0), num_expressions});
}

namespace {

// Faces of identities [first, first + count) under the 7 expressions, in that order.
std::vector<Image> draw_faces(uint64_t seed, int first, int count, int image_size, std::vector<int64_t>& labels) {
  std::vector<Image> faces;
  for (int i = first; i < first + count; ++i) {
    const FaceIdentity identity = face_identity(seed, i);
    for (int e = 0; e < num_expressions; ++e) {
      faces.push_back(draw_face(identity, e, image_size));
      labels.push_back(e);
    }
  }
  return faces;
}

std::vector<int64_t> argmax_rows(const Tensor& logits) {
  const std::vector<float> v = logits.to_vector();
  const int64_t k = logits.size(1);
  std::vector<int64_t> out;
  for (int64_t n = 0; n < logits.size(0); ++n) {
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j)
      if (v[size_t(n * k + j)] > v[size_t(n * k + best)]) best = j;
    out.push_back(best);
  }
  return out;
}

std::vector<int64_t> classify(ExpressionClassifier& classifier, const std::vector<Image>& images) {
  engine::NoGradGuard no_grad;
  std::vector<int64_t> out;
  for (size_t first = 0; first < images.size(); first += 256) {
    const std::vector<Image> chunk(images.begin() + first, images.begin() + std::min(images.size(), first + 256));
    for (int64_t p : argmax_rows(classifier.forward(images_to_tensor(chunk, 1, engine::Device::cpu()))))
      out.push_back(p);
  }
  return out;
}

}  // namespace

double mean_distance(const Image& a, const Image& b, const std::vector<uint8_t>& mask) {
  ENGINE_CHECK(a.width == b.width && a.height == b.height && a.channels == 3 && b.channels == 3,
               "mean_distance: images of different sizes or not RGB");
  double sum = 0;
  int64_t count = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x) {
      if (!mask.empty() && mask[size_t(y) * a.width + x]) continue;
      for (int c = 0; c < 3; ++c) sum += std::abs(int(a.at(y, x, c)) - int(b.at(y, x, c)));
      count += 3;
    }
  return count ? sum / double(count) : 0.0;
}

LaplacianSum abs_laplacian(const Image& a, const std::vector<uint8_t>& mask) {
  LaplacianSum r;
  for (int y = 1; y + 1 < a.height; ++y)
    for (int x = 1; x + 1 < a.width; ++x) {
      if (!mask.empty() && mask[size_t(y) * a.width + x]) continue;
      for (int c = 0; c < a.channels; ++c)
        r.sum += std::abs(4 * int(a.at(y, x, c)) - int(a.at(y - 1, x, c)) - int(a.at(y + 1, x, c)) -
                          int(a.at(y, x - 1, c)) - int(a.at(y, x + 1, c)));
      r.count += a.channels;
    }
  return r;
}

Image move_features(const Image& face, const std::vector<uint8_t>& mask, int dy, int dx) {
  ENGINE_CHECK(mask.size() == size_t(face.width) * size_t(face.height), "move_features: the mask has ", mask.size(),
               " entries for a ", face.width, "x", face.height, " image");
  Image moved = face;
  for (int y = 0; y < face.height; ++y)
    for (int x = 0; x < face.width; ++x) {
      if (!mask[size_t(y) * face.width + x]) continue;
      const int from_y = std::clamp(y - dy, 0, face.height - 1), from_x = std::clamp(x - dx, 0, face.width - 1);
      for (int c = 0; c < face.channels; ++c) moved.at(y, x, c) = face.at(from_y, from_x, c);
    }
  return moved;
}

void PairSums::add(int source, int target, double value) {
  sum[size_t(source) * num_expressions + target] += value;
  ++count[size_t(source) * num_expressions + target];
}

double PairSums::mean() const {
  double s = 0;
  int64_t n = 0;
  for (size_t i = 0; i < sum.size(); ++i) s += sum[i], n += count[i];
  return n ? s / double(n) : 0.0;
}

double PairSums::mean(int source, int target) const {
  const size_t i = size_t(source) * num_expressions + target;
  return count[i] ? sum[i] / double(count[i]) : 0.0;
}

double TranslationReport::worst_pair_ratio() const {
  double worst = 0;
  for (int s = 0; s < num_expressions; ++s)
    for (int t = 0; t < num_expressions; ++t)
      if (s != t) worst = std::max(worst, pair_ratio(s, t));
  return worst;
}

void train_classifier(ExpressionClassifier& classifier, const ClassifierTraining& o, std::ostream& log) {
  std::vector<int64_t> labels;
  const std::vector<Image> faces = draw_faces(o.faces_seed, 0, o.identities, o.image_size, labels);
  const Tensor all = images_to_tensor(faces, 1, engine::Device::cpu());
  const std::vector<float> values = all.to_vector();
  const size_t sample = size_t(3) * o.image_size * o.image_size;
  engine::Philox rng(o.seed);
  engine::Adam adam(classifier.named_parameters(), {o.lr, 0.9, 0.999, 1e-8});
  std::vector<int64_t> order;
  size_t cursor = faces.size();
  for (int it = 1; it <= o.iterations; ++it) {
    std::vector<float> batch;
    std::vector<int64_t> batch_labels;
    for (int n = 0; n < o.batch_size; ++n) {
      if (cursor == faces.size()) {
        order = rng.permutation(int64_t(faces.size()));
        cursor = 0;
      }
      const int64_t i = order[cursor++];
      batch.insert(batch.end(), values.begin() + i * sample, values.begin() + (i + 1) * sample);
      batch_labels.push_back(labels[size_t(i)]);
    }
    const std::vector<float> noise = rng.normal(int64_t(batch.size()));
    for (size_t j = 0; j < batch.size(); ++j) batch[j] += o.noise * noise[j];
    const Tensor x = Tensor::from_vector(batch, {int64_t(batch_labels.size()), 3, o.image_size, o.image_size});
    const Tensor loss = engine::cross_entropy(classifier.forward(x), batch_labels);
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (it % 100 == 0 || it == o.iterations) log << "classifier iteration " << it << "/" << o.iterations << ", loss " << loss.item() << "\n";
  }
}

double classifier_accuracy(ExpressionClassifier& classifier, uint64_t faces_seed, int first, int count) {
  std::vector<int64_t> labels;
  const std::vector<Image> faces = draw_faces(faces_seed, first, count, classifier.image_size(), labels);
  const std::vector<int64_t> predicted = classify(classifier, faces);
  int64_t right = 0;
  for (size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i];
  return double(right) / double(labels.size());
}

TranslationReport evaluate_translations(Generator& g, ExpressionClassifier& classifier, int image_size,
                                        uint64_t faces_seed, int count, int mask_grow) {
  ENGINE_CHECK(g.config().c_dim == num_expressions, "evaluate_translations: the generator must have c_dim 7");
  Translator translator(g, engine::Device::cpu());
  TranslationReport report;
  std::vector<int64_t> per_target_total(num_expressions, 0), per_target_right(num_expressions, 0);
  double kept = 0, other = 0, target_inside = 0, source_inside = 0, share = 0, one_pixel_off = 0;
  int64_t others = 0;
  const auto add = [](LaplacianSum& total, const LaplacianSum& part) {
    total.sum += part.sum;
    total.count += part.count;
  };
  for (int i = 0; i < count; ++i) {
    const FaceIdentity identity = face_identity(faces_seed, i), next = face_identity(faces_seed, i + 1);
    const std::vector<uint8_t> mask = expression_mask(identity, image_size, mask_grow);
    std::vector<uint8_t> inside(mask.size());
    for (size_t p = 0; p < mask.size(); ++p) inside[p] = !mask[p];
    const double identity_share = double(std::count(mask.begin(), mask.end(), 1)) / double(mask.size());
    std::vector<Image> drawn;
    std::vector<double> drawn_one_pixel_off;
    for (int e = 0; e < num_expressions; ++e) {
      drawn.push_back(draw_face(identity, e, image_size));
      constexpr int moves[4][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}};
      double off = 0;
      for (const auto& move : moves)
        off += mean_distance(drawn.back(), move_features(drawn.back(), mask, move[0], move[1]), {});
      drawn_one_pixel_off.push_back(off / 4);
    }
    const std::vector<std::vector<Image>> outputs = translator.translate(drawn);
    std::vector<Image> translated;
    std::vector<int64_t> targets;
    for (int s = 0; s < num_expressions; ++s) {
      other += mean_distance(drawn[size_t(s)], draw_face(next, s, image_size), mask);
      ++others;
      for (int t = 0; t < num_expressions; ++t) {
        if (t == s) continue;
        const Image& y = outputs[size_t(s)][size_t(t)];
        kept += mean_distance(drawn[size_t(s)], y, mask);
        report.output_to_target.add(s, t, mean_distance(drawn[size_t(t)], y, {}));
        report.source_to_target.add(s, t, mean_distance(drawn[size_t(t)], drawn[size_t(s)], {}));
        target_inside += mean_distance(drawn[size_t(t)], y, inside);
        source_inside += mean_distance(drawn[size_t(t)], drawn[size_t(s)], inside);
        one_pixel_off += drawn_one_pixel_off[size_t(t)];
        share += identity_share;
        add(report.output_laplacian_outside, abs_laplacian(y, mask));
        add(report.target_laplacian_outside, abs_laplacian(drawn[size_t(t)], mask));
        add(report.output_laplacian_inside, abs_laplacian(y, inside));
        add(report.target_laplacian_inside, abs_laplacian(drawn[size_t(t)], inside));
        translated.push_back(y);
        targets.push_back(t);
      }
    }
    const std::vector<int64_t> predicted = classify(classifier, translated);
    for (size_t j = 0; j < targets.size(); ++j) {
      ++per_target_total[size_t(targets[j])];
      per_target_right[size_t(targets[j])] += predicted[j] == targets[j];
    }
  }
  int64_t right = 0;
  for (int t = 0; t < num_expressions; ++t) {
    report.translations += per_target_total[size_t(t)];
    right += per_target_right[size_t(t)];
    report.per_target.push_back(per_target_total[size_t(t)] ? double(per_target_right[size_t(t)]) / double(per_target_total[size_t(t)]) : 0.0);
  }
  report.accuracy = report.translations ? double(right) / double(report.translations) : 0.0;
  report.kept_distance = report.translations ? kept / double(report.translations) : 0.0;
  report.target_distance_inside = report.translations ? target_inside / double(report.translations) : 0.0;
  report.source_target_distance_inside = report.translations ? source_inside / double(report.translations) : 0.0;
  report.mask_share = report.translations ? share / double(report.translations) : 0.0;
  report.one_pixel_off_distance = report.translations ? one_pixel_off / double(report.translations) : 0.0;
  report.target_distance = report.output_to_target.mean();
  report.source_target_distance = report.source_to_target.mean();
  report.other_person_distance = others ? other / double(others) : 0.0;
  return report;
}

Image translation_grid(Generator& g, int image_size, uint64_t faces_seed, int count, int zoom) {
  ENGINE_CHECK(count >= 1 && zoom >= 1, "translation_grid: count and zoom must be at least 1");
  Translator translator(g, engine::Device::cpu());
  const int cell = image_size * zoom;
  Image grid((1 + num_expressions) * cell, count * cell, 3);
  for (int i = 0; i < count; ++i) {
    const Image source = draw_face(face_identity(faces_seed, i), i % num_expressions, image_size);
    std::vector<Image> row = {source};
    const std::vector<std::vector<Image>> outputs = translator.translate({source});
    row.insert(row.end(), outputs[0].begin(), outputs[0].end());
    for (size_t k = 0; k < row.size(); ++k)
      for (int y = 0; y < cell; ++y)
        for (int x = 0; x < cell; ++x)
          for (int c = 0; c < 3; ++c)
            grid.at(i * cell + y, int(k) * cell + x, c) = row[k].at(y / zoom, x / zoom, c);
  }
  return grid;
}

}  // namespace models::eval
