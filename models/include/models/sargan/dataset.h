#pragma once
// The SARGAN training data: the authors' layout (one sub-folder per expression, class index =
// sorted folder order, as torchvision's ImageFolder), each image prepared as the authors' test
// mode prepares it (centre crop to a square, PIL bilinear resize to image_size, [-1, 1]), plus a
// random horizontal flip, reshuffled every epoch and loaded by a background thread.
//
// Randomness comes from one Philox generator. An epoch's plan (its order and flips) is drawn at
// the start of the epoch, so the loader's position is four integers (LoaderState) that a
// checkpoint saves and set_state() restores: the batches after a restore are bit-identical to
// those an uninterrupted run would have produced.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/random.h"
#include "engine/tensor.h"

namespace models::sargan {

// Where warnings go (a skipped corrupt file, an empty class folder); by default stderr.
using WarnFn = std::function<void(const std::string&)>;
void warn_stderr(const std::string& message);

struct ImageFolder {
  std::string root;
  std::vector<std::string> classes;  // sub-folder names, sorted (byte order)
  std::vector<std::string> paths;    // every image, class by class, sorted within a class
  std::vector<int64_t> labels;       // class index of each path
};

// Scans root/<class>/** for .jpg .jpeg .png .bmp files (any letter case; sub-folders of a class
// folder included; names starting with '.' skipped). Throws engine::Error naming the folder when
// root is missing, has no class folders, or holds no images at all; warns once per empty class
// folder (its class index is kept, so labels still follow the sorted folder order).
ImageFolder scan_image_folder(const std::string& root, const WarnFn& warn = warn_stderr);

// One image as the authors' pipeline prepares it: decoded to RGB, mirrored left-right if `flip`
// (first, as torchvision's RandomHorizontalFlip precedes the crop), centre-cropped to a square
// (offsets rounded half to even, as torchvision's CenterCrop), resized with
// engine::resize_bilinear_pil to image_size, then (v / 255 - 0.5) / 0.5 in float.
// Writes 3 * image_size^2 floats, channel-major, to `out`. Throws engine::Error for unreadable files.
void load_example(const std::string& path, int image_size, bool flip, float* out);

struct Batch {
  engine::Tensor images;         // [B, 3, S, S] on the cpu, values in [-1, 1]
  std::vector<int64_t> labels;   // B class indices
  std::vector<int64_t> indices;  // B indices into ImageFolder::paths
  std::vector<bool> flipped;     // B: whether each image was mirrored
};

// The loader's position: the generator state at the start of the current epoch, the epoch number,
// and how many entries of the epoch's order have been consumed (skipped files included).
struct LoaderState {
  uint64_t seed = 0;
  uint64_t offset = 0;
  int64_t epoch = 0;
  int64_t cursor = 0;
  int64_t num_files = 0;  // checked on restore: the folder must not have changed
};

struct LoaderOptions {
  int image_size = 128;
  int batch_size = 1;
  bool flip = true;        // random horizontal flip with probability 1/2
  bool drop_last = false;  // the authors' loader keeps the short last batch of an epoch
  uint64_t seed = 0;
  WarnFn warn = warn_stderr;
};

// Batches in a reshuffled order every epoch: epoch e draws permutation(n) and then n uniforms
// (flip = u < 0.5) from the generator, in that order. A batch never spans two epochs. A file that
// cannot be read is skipped (one warning naming it, counted in skipped_files()) and the batch is
// filled from the next entries; if a whole epoch yields nothing, next() throws.
//
// Threading: a background thread prepares up to two batches ahead; next() blocks until one is
// ready and rethrows any exception the thread met. The destructor stops and joins the thread.
// next(), state() and set_state() are for one consumer thread; `warn` is called on the loader's
// thread, before the batch that skipped the file is handed out.
class DataLoader {
 public:
  DataLoader(ImageFolder folder, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  Batch next();
  // The position after the last batch next() returned (not the read-ahead position).
  LoaderState state() const { return state_; }
  // Continues from a saved state; throws engine::Error when the number of files differs.
  void set_state(const LoaderState& state);

  // The given images without flip, synchronously (e.g. the trainer's fixed sample batch).
  Batch load(const std::vector<int64_t>& indices) const;

  const ImageFolder& folder() const { return folder_; }
  int64_t size() const { return int64_t(folder_.paths.size()); }
  int64_t skipped_files() const;

 private:
  struct Plan {
    std::vector<int64_t> order;
    std::vector<bool> flips;
    uint64_t next_offset = 0;  // the generator state at the start of the next epoch
  };
  struct Item {
    Batch batch;
    LoaderState after;  // the position once this batch is consumed
    std::exception_ptr error;
  };
  Plan make_plan(const LoaderState& at_epoch_start) const;
  Item produce(LoaderState& position, Plan& plan);
  void run(LoaderState position);
  void start(const LoaderState& position);
  void stop();

  ImageFolder folder_;
  LoaderOptions options_;
  LoaderState state_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<bool> bad_;  // files found unreadable (warned once each)
  int64_t skipped_ = 0;
  std::thread worker_;
};

}  // namespace models::sargan
