// OMP and LSRF training (contract and the algorithm in train.h).
// Layout legend: P = S² pixels, n samples, 3 channels; X, T, R are [3, n, P] row-major.
#include "models/lsrf/train.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>

#include "engine/check.h"
#include "models/lsrf/correlation.h"
#include "models/lsrf/pipeline.h"

namespace models::lsrf {

namespace {

constexpr int block_pixels = 256;  // output pixels per correlation GEMM: [P, 256] floats stay small

// Solves the small symmetric system G w = b in place by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<double> g, std::vector<double> b, int q) {
  for (int col = 0; col < q; ++col) {
    int pivot = col;
    for (int r = col + 1; r < q; ++r)
      if (std::abs(g[r * q + col]) > std::abs(g[pivot * q + col])) pivot = r;
    if (std::abs(g[pivot * q + col]) < 1e-12)
      ENGINE_FAIL("lsrf training: singular ridge system (constant input pixels and --lamda 0?); use --lamda > 0");
    if (pivot != col) {
      for (int c = 0; c < q; ++c) std::swap(g[col * q + c], g[pivot * q + c]);
      std::swap(b[col], b[pivot]);
    }
    for (int r = col + 1; r < q; ++r) {
      const double factor = g[r * q + col] / g[col * q + col];
      for (int c = col; c < q; ++c) g[r * q + c] -= factor * g[col * q + c];
      b[r] -= factor * b[col];
    }
  }
  std::vector<double> w(q);
  for (int r = q - 1; r >= 0; --r) {
    double s = b[r];
    for (int c = r + 1; c < q; ++c) s -= g[r * q + c] * w[c];
    w[r] = s / g[r * q + r];
  }
  return w;
}

class Trainer {
 public:
  Trainer(const TrainingSet& set, const TrainOptions& options)
      : set_(set), opt_(options), n_(set.count), p_(int64_t(set.size) * set.size) {
    normalise_features();
    residual_ = set.targets;
    chosen_.assign(size_t(p_), {});
    weights_.assign(size_t(p_), {});
  }

  CsrWeights run() {
    Correlation correlate(xnorm_, 3 * int64_t(n_), p_, opt_.device);
    for (int step = 0; step < opt_.f; ++step) {
      const auto start = std::chrono::steady_clock::now();
      previous_ = chosen_;  // LSRF measures distances to the previous steps' choices (Jacobi order)
      std::vector<float> corr;
      for (int64_t k0 = 0; k0 < p_; k0 += block_pixels) {
        const int kb = int(std::min<int64_t>(block_pixels, p_ - k0));
        correlate(residual_, k0, kb, corr);
        std::exception_ptr error;  // an exception must not leave an OpenMP region: carry it out
#pragma omp parallel for schedule(dynamic, 8)
        for (int kk = 0; kk < kb; ++kk) {
          try {
            update_pixel(k0 + kk, step, &corr[kk], kb);
          } catch (...) {
#pragma omp critical(lsrf_train_error)
            if (!error) error = std::current_exception();
          }
        }
        if (error) std::rethrow_exception(error);
      }
      if (opt_.progress) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "%s step %d/%d: %.1f s (correlations on %s)\n",
                     opt_.method == Method::lsrf ? "LSRF" : "OMP", step + 1, opt_.f, seconds,
                     opt_.device.str().c_str());
      }
    }
    return to_csr();
  }

 private:
  const float* x(int c) const { return &set_.inputs[size_t(c) * n_ * p_]; }
  const float* t(int c) const { return &set_.targets[size_t(c) * n_ * p_]; }

  void normalise_features() {
    xnorm_.assign(set_.inputs.size(), 0.f);
    for (int c = 0; c < 3; ++c)
#pragma omp parallel for schedule(static)
      for (int64_t j = 0; j < p_; ++j) {
        double mean = 0.0, norm2 = 0.0;
        for (int n = 0; n < n_; ++n) mean += x(c)[n * p_ + j];
        mean /= n_;
        for (int n = 0; n < n_; ++n) norm2 += (x(c)[n * p_ + j] - mean) * (x(c)[n * p_ + j] - mean);
        const double inv = norm2 > 0.0 ? 1.0 / std::sqrt(norm2) : 1.0;  // sklearn leaves zero columns
        for (int n = 0; n < n_; ++n) xnorm_[(size_t(c) * n_ + n) * p_ + j] = float((x(c)[n * p_ + j] - mean) * inv);
      }
  }

  int pick(int64_t k, const float* corr, int stride) const {
    const std::vector<int>& mine = chosen_[k];
    auto taken = [&](int64_t j) { return std::find(mine.begin(), mine.end(), int(j)) != mine.end(); };
    if (opt_.method == Method::omp) {
      int best = -1;
      float best_score = -1.f;
      for (int64_t j = 0; j < p_; ++j) {
        const float score = std::abs(corr[j * stride]);
        if (score > best_score && !taken(j)) best = int(j), best_score = score;
      }
      return best;
    }
    const std::vector<double> dist = window_distances(k);
    int best = -1;
    bool best_at_zero = false;
    double best_score = -1.0;
    for (int64_t j = 0; j < p_; ++j) {
      if (taken(j)) continue;
      const bool at_zero = dist[j] == 0.0;
      const double c = std::abs(double(corr[j * stride]));
      const double score = at_zero ? c : c + opt_.beta / dist[j];
      if ((at_zero && !best_at_zero) || (at_zero == best_at_zero && score > best_score))
        best = int(j), best_score = score, best_at_zero = at_zero;
    }
    return best;
  }

  // dist[j] = sum over m in the window around k of min over p chosen for m of |j - p| (Euclidean).
  std::vector<double> window_distances(int64_t k) const {
    const int s = set_.size, radius = int(std::floor(std::sqrt(double(opt_.f)) / 2));
    const int ky = int(k / s), kx = int(k % s);
    std::vector<double> dist(static_cast<size_t>(p_), 0.0);
    std::vector<float> nearest(static_cast<size_t>(p_));
    for (int my = std::max(ky - radius, 0); my <= std::min(ky + radius, s - 1); ++my)
      for (int mx = std::max(kx - radius, 0); mx <= std::min(kx + radius, s - 1); ++mx) {
        std::vector<int> anchors;
        for (int a : previous_[size_t(my) * s + mx])
          if (a < p_) anchors.push_back(a);  // not the bias
        if (anchors.empty()) anchors.push_back(my * s + mx);
        std::fill(nearest.begin(), nearest.end(), std::numeric_limits<float>::max());
        for (int a : anchors) {
          const int ay = a / s, ax = a % s;
          for (int y = 0; y < s; ++y)
            for (int xx = 0; xx < s; ++xx) {
              const float d2 = float((y - ay) * (y - ay) + (xx - ax) * (xx - ax));
              float& v = nearest[size_t(y) * s + xx];
              v = std::min(v, d2);
            }
        }
        for (int64_t j = 0; j < p_; ++j) dist[j] += std::sqrt(double(nearest[j]));
      }
    return dist;
  }

  void update_pixel(int64_t k, int step, const float* corr, int stride) {
    const int j = pick(k, corr, stride);
    ENGINE_CHECK(j >= 0, "lsrf training: no candidate left for pixel ", k, " (--f larger than the image?)");
    std::vector<int>& cols = chosen_[k];
    cols.push_back(j);
    if (step == 0) cols.push_back(int(p_));  // the bias column
    std::sort(cols.begin(), cols.end());
    const int q = int(cols.size());
    // A: the chosen columns for the 3 n stacked rows; the bias column is 1.
    std::vector<float> a(size_t(3) * n_ * q);
    for (int c = 0; c < 3; ++c)
      for (int n = 0; n < n_; ++n)
        for (int i = 0; i < q; ++i)
          a[(size_t(c) * n_ + n) * q + i] = cols[i] == p_ ? 1.f : x(c)[n * p_ + cols[i]];
    std::vector<double> g(size_t(q) * q, 0.0), b(q, 0.0);
    for (int c = 0; c < 3; ++c)
      for (int n = 0; n < n_; ++n) {
        const float* row = &a[(size_t(c) * n_ + n) * q];
        const double target = t(c)[n * p_ + k];
        for (int i = 0; i < q; ++i) {
          b[i] += row[i] * target;
          for (int l = 0; l < q; ++l) g[i * q + l] += double(row[i]) * row[l];
        }
      }
    for (int i = 0; i < q; ++i) g[i * q + i] += opt_.lamda;
    weights_[k] = solve(std::move(g), std::move(b), q);
    for (int c = 0; c < 3; ++c)
      for (int n = 0; n < n_; ++n) {
        const float* row = &a[(size_t(c) * n_ + n) * q];
        double fit = 0.0;
        for (int i = 0; i < q; ++i) fit += row[i] * weights_[k][i];
        residual_[(size_t(c) * n_ + n) * p_ + k] = float(t(c)[n * p_ + k] - fit);
      }
  }

  CsrWeights to_csr() const {
    CsrWeights w;
    w.rows = p_;
    w.cols = p_ + 1;
    w.indptr.push_back(0);
    for (int64_t k = 0; k < p_; ++k) {
      for (size_t i = 0; i < chosen_[k].size(); ++i) {
        w.indices.push_back(chosen_[k][i]);
        w.data.push_back(weights_[k][i]);
      }
      w.indptr.push_back(int32_t(w.indices.size()));
    }
    return w;
  }

  const TrainingSet& set_;
  const TrainOptions opt_;
  const int n_;
  const int64_t p_;
  std::vector<float> xnorm_;
  std::vector<float> residual_;
  std::vector<std::vector<int>> chosen_, previous_;
  std::vector<std::vector<double>> weights_;
};

}  // namespace

TrainingSet load_training_set(const std::string& dir, int size, const std::string& split) {
  namespace fs = std::filesystem;
  const std::string dir_a = (fs::path(dir) / (split + "A")).string(), dir_b = (fs::path(dir) / (split + "B")).string();
  const std::vector<std::string> a = list_images(dir_a, {".png"}), b = list_images(dir_b, {".png"});
  if (a.size() != b.size()) {
    const std::string& extra = a.size() > b.size() ? a[b.size()] : b[a.size()];
    ENGINE_FAIL("unpaired training folders: ", a.size(), " PNG images in ", dir_a, " but ", b.size(), " in ", dir_b,
                " (pairs are matched by natural-sort position; first unmatched: ", extra, ")");
  }
  if (a.size() < 2) ENGINE_FAIL("need at least 2 image pairs in ", dir_a, " and ", dir_b, ", found ", a.size());
  TrainingSet set;
  set.size = size;
  set.count = int(a.size());
  const size_t plane = size_t(size) * size;
  set.inputs.resize(3 * set.count * plane);
  set.targets.resize(3 * set.count * plane);
  auto put = [&](std::vector<float>& dst, int n, const Planes& planes) {
    for (int c = 0; c < 3; ++c)
      std::copy_n(planes.values.begin() + c * plane, plane, dst.begin() + (size_t(c) * set.count + n) * plane);
  };
  for (int n = 0; n < set.count; ++n) {
    put(set.inputs, n, load_planes(a[n], size));
    put(set.targets, n, load_planes(b[n], size));
  }
  return set;
}

CsrWeights train(const TrainingSet& set, const TrainOptions& options) {
  ENGINE_CHECK(set.size > 0 && set.count >= 2, "lsrf training: need at least 2 samples");
  const int64_t p = int64_t(set.size) * set.size;
  ENGINE_CHECK(set.inputs.size() == size_t(3 * set.count * p) && set.targets.size() == set.inputs.size(),
               "lsrf training: inputs/targets do not match ", set.count, " samples of ", set.size, "x", set.size);
  if (options.f < 1 || options.f > p) ENGINE_FAIL("--f must be between 1 and ", p, " for --image_size ", set.size);
  if (options.lamda < 0) ENGINE_FAIL("--lamda must be >= 0");
  if (options.beta < 0) ENGINE_FAIL("--beta must be >= 0");
  return Trainer(set, options).run();
}

}  // namespace models::lsrf
