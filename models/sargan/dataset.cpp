// The SARGAN training data pipeline (see dataset.h): folder scan, per-image preparation, and the
// shuffling loader with its read-ahead thread.
#include "models/sargan/dataset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "engine/check.h"
#include "engine/dir_walk.h"
#include "engine/image.h"

namespace models::sargan {

namespace fs = std::filesystem;

void warn_stderr(const std::string& message) { std::cerr << "sargan: warning: " << message << "\n"; }

namespace {

bool is_image_name(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

bool is_hidden(const fs::path& path) { return path.filename().string().rfind('.', 0) == 0; }

// The images under one class folder, ordered as torchvision's make_dataset: by folder, then name.
std::vector<std::string> class_images(const fs::path& folder, const WarnFn& warn) {
  engine::DirWalkOptions options;
  options.want = [](const std::string& name) { return is_image_name(name); };
  std::vector<std::pair<std::string, std::string>> found;  // (parent folder, file name)
  for (const std::string& path : engine::list_regular_files(folder.string(), options, warn))
    found.push_back({fs::path(path).parent_path().string(), fs::path(path).filename().string()});
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (const auto& [parent, name] : found) paths.push_back((fs::path(parent) / name).string());
  return paths;
}

}  // namespace

ImageFolder scan_image_folder(const std::string& root, const WarnFn& warn) {
  const std::string layout =
      " (expected one sub-folder of images per expression: AFS ANS DIS HAS NES SAS SUS)";
  std::error_code error;
  if (!fs::is_directory(root, error)) ENGINE_FAIL("image folder '", root, "' does not exist", layout);
  ImageFolder folder;
  folder.root = root;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    std::error_code entry_error;  // a dangling or looping link is no class folder
    if (entry.is_directory(entry_error) && !is_hidden(entry.path()))
      folder.classes.push_back(entry.path().filename().string());
  }
  if (error) ENGINE_FAIL("cannot read the image folder '", engine::printable(root, 4096), "': ", error.message());
  std::sort(folder.classes.begin(), folder.classes.end());
  if (folder.classes.empty()) ENGINE_FAIL("image folder '", root, "' has no class sub-folders", layout);
  for (size_t c = 0; c < folder.classes.size(); ++c) {
    const fs::path class_dir = fs::path(root) / folder.classes[c];
    const std::vector<std::string> paths = class_images(class_dir, warn);
    if (paths.empty())
      warn("class folder '" + class_dir.string() + "' holds no images (.jpg .jpeg .png .bmp)");
    folder.paths.insert(folder.paths.end(), paths.begin(), paths.end());
    folder.labels.insert(folder.labels.end(), paths.size(), int64_t(c));
  }
  if (folder.paths.empty())
    ENGINE_FAIL("image folder '", root, "' holds no images (.jpg .jpeg .png .bmp) in any of its ",
                folder.classes.size(), " class folders");
  return folder;
}

void load_example(const std::string& path, int image_size, bool flip, float* out) {
  engine::Image image = engine::load_image(path, 3);
  const int w = image.width, h = image.height;
  if (flip)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w / 2; ++x)
        for (int c = 0; c < 3; ++c) std::swap(image.at(y, x, c), image.at(y, w - 1 - x, c));
  // torchvision CenterCrop: int(round((w - s) / 2)), Python's round is half to even (nearbyint).
  const int s = std::min(w, h);
  const int left = int(std::nearbyint((w - s) / 2.0)), top = int(std::nearbyint((h - s) / 2.0));
  engine::Image square(s, s, 3);
  for (int y = 0; y < s; ++y) std::copy_n(&image.at(top + y, left, 0), size_t(s) * 3, &square.at(y, 0, 0));
  const engine::Image resized = engine::resize_bilinear_pil(square, image_size, image_size);
  const size_t plane = size_t(image_size) * image_size;
  for (size_t p = 0; p < plane; ++p)
    for (int c = 0; c < 3; ++c) out[c * plane + p] = (float(resized.pixels[p * 3 + c]) / 255.f - 0.5f) / 0.5f;
}

// ---- DataLoader ----

DataLoader::DataLoader(ImageFolder folder, LoaderOptions options)
    : folder_(std::move(folder)), options_(std::move(options)) {
  ENGINE_CHECK(!folder_.paths.empty() && folder_.paths.size() == folder_.labels.size(),
               "DataLoader: empty or inconsistent image folder '", folder_.root, "'");
  ENGINE_CHECK(options_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", options_.batch_size);
  ENGINE_CHECK(options_.image_size >= 1, "DataLoader: image_size must be >= 1, got ", options_.image_size);
  ENGINE_CHECK(!options_.drop_last || size() >= options_.batch_size, "DataLoader: drop_last with ", size(),
               " images and batch_size ", options_.batch_size, " would never yield a batch");
  if (!options_.warn) options_.warn = warn_stderr;
  bad_.assign(folder_.paths.size(), false);
  state_.seed = options_.seed;
  state_.num_files = size();
  start(state_);
}

DataLoader::~DataLoader() { stop(); }

int64_t DataLoader::skipped_files() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return skipped_;
}

DataLoader::Plan DataLoader::make_plan(const LoaderState& at) const {
  engine::Philox rng(at.seed);
  rng.set_state(at.seed, at.offset);
  Plan plan;
  plan.order = rng.permutation(size());
  const std::vector<float> u = rng.uniform(size());
  plan.flips.resize(u.size());
  for (size_t i = 0; i < u.size(); ++i) plan.flips[i] = options_.flip && u[i] < 0.5f;
  plan.next_offset = rng.offset();
  return plan;
}

DataLoader::Item DataLoader::produce(LoaderState& position, Plan& plan) {
  const int64_t plane = 3 * int64_t(options_.image_size) * options_.image_size;
  std::vector<float> values;
  Item item;
  Batch& batch = item.batch;
  int64_t attempts_without_image = 0;
  while (int64_t(batch.labels.size()) < options_.batch_size) {
    if (position.cursor == size()) {
      // The epoch is over: hand out its short last batch (the next call starts the new epoch),
      // or with drop_last discard it and go on with the new epoch's order.
      if (!batch.labels.empty() && !options_.drop_last) break;
      position.offset = plan.next_offset;
      position.epoch += 1;
      position.cursor = 0;
      plan = make_plan(position);
      batch = Batch();
      values.clear();
    }
    const int64_t index = plan.order[position.cursor];
    const bool flip = plan.flips[position.cursor];
    position.cursor += 1;
    values.resize(values.size() + plane);
    try {
      load_example(folder_.paths[index], options_.image_size, flip, values.data() + values.size() - plane);
    } catch (const engine::Error& e) {
      values.resize(values.size() - plane);
      bool first_time = false;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!bad_[index]) bad_[index] = first_time = true, skipped_ += 1;
      }
      if (first_time) options_.warn(std::string("skipping unreadable image: ") + e.what());
      if (++attempts_without_image > size())
        ENGINE_FAIL("no readable images in '", folder_.root, "': all ", size(), " files failed to load");
      continue;
    }
    attempts_without_image = 0;
    batch.labels.push_back(folder_.labels[index]);
    batch.indices.push_back(index);
    batch.flipped.push_back(flip);
  }
  const int64_t b = int64_t(batch.labels.size());
  batch.images = engine::Tensor::from_vector(values, {b, 3, options_.image_size, options_.image_size});
  item.after = position;
  return item;
}

void DataLoader::run(LoaderState position) {
  Plan plan = make_plan(position);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || queue_.size() < 2; });
      if (stopping_) return;
    }
    Item item;
    try {
      item = produce(position, plan);
    } catch (...) {
      item.error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    const bool failed = item.error != nullptr;
    queue_.push_back(std::move(item));
    changed_.notify_all();
    if (failed) return;
  }
}

void DataLoader::start(const LoaderState& position) {
  worker_ = std::thread([this, position] { run(position); });
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.clear();
  stopping_ = false;
}

Batch DataLoader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !queue_.empty(); });
  // A failure stays at the head of the queue: every later call rethrows it too.
  if (queue_.front().error) std::rethrow_exception(queue_.front().error);
  Item item = std::move(queue_.front());
  queue_.pop_front();
  changed_.notify_all();
  state_ = item.after;
  return std::move(item.batch);
}

void DataLoader::set_state(const LoaderState& state) {
  if (state.num_files != size())
    ENGINE_FAIL("cannot resume the data order: '", folder_.root, "' now holds ", size(),
                " images, the checkpoint was made with ", state.num_files,
                " (restore the folder or start a new run)");
  ENGINE_CHECK(state.cursor >= 0 && state.cursor <= size() && state.epoch >= 0,
               "DataLoader::set_state: bad position (epoch ", state.epoch, ", cursor ", state.cursor, ")");
  stop();
  state_ = state;
  start(state_);
}

Batch DataLoader::load(const std::vector<int64_t>& indices) const {
  const int64_t plane = 3 * int64_t(options_.image_size) * options_.image_size;
  std::vector<float> values(indices.size() * plane);
  Batch batch;
  for (size_t i = 0; i < indices.size(); ++i) {
    ENGINE_CHECK(indices[i] >= 0 && indices[i] < size(), "DataLoader::load: index ", indices[i],
                 " out of 0..", size() - 1);
    load_example(folder_.paths[indices[i]], options_.image_size, false, values.data() + i * plane);
    batch.labels.push_back(folder_.labels[indices[i]]);
    batch.indices.push_back(indices[i]);
    batch.flipped.push_back(false);
  }
  batch.images = engine::Tensor::from_vector(
      values, {int64_t(indices.size()), 3, options_.image_size, options_.image_size});
  return batch;
}

}  // namespace models::sargan
