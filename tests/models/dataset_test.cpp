// The SARGAN data pipeline: preparation against PIL-made fixtures, folder scanning rules, the
// shuffling loader (epochs, flips, state save/restore) and its error handling.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>

#include "engine/check.h"
#include "engine/image.h"
#include "models/data/faces.h"
#include "models/sargan/dataset.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace models::data;
using namespace models::sargan;

namespace {

using test::TempDir;

// Three small faces per expression, as the trainer would see them.
void make_face_folder(const fs::path& dir, int per_class = 3) {
  MakeFacesOptions o;
  o.out = dir.string();
  o.per_class = per_class;
  o.image_size = 20;
  o.seed = 9;
  make_faces(o);
}

struct Warnings {
  std::vector<std::string> messages;
  WarnFn fn() {
    return [this](const std::string& m) { messages.push_back(m); };
  }
};

bool same_batch(const Batch& a, const Batch& b) {
  return a.labels == b.labels && a.indices == b.indices && a.flipped == b.flipped &&
         a.images.to_vector() == b.images.to_vector();
}

}  // namespace

TEST_CASE("dataset: an image is prepared as the authors' PIL pipeline prepares it", "[dataset]") {
  // Fixtures by tools/fixtures/make_dataset_fixtures.py: flip, CenterCrop (half-to-even offsets), PIL resize.
  const std::string dir = test::source_dir("tests/fixtures/dataset/");
  for (const std::string name : {"wide_67x50", "tall_41x60"})
    for (int size : {32, 17})
      for (bool flip : {false, true}) {
        const std::string expected_path =
            dir + name + "_s" + std::to_string(size) + (flip ? "_flip" : "") + ".png";
        const engine::Image expected = engine::load_image(expected_path, 3);
        std::vector<float> reference(size_t(3) * size * size), actual(reference.size());
        for (int c = 0; c < 3; ++c)
          for (int p = 0; p < size * size; ++p)
            reference[c * size * size + p] = (float(expected.pixels[p * 3 + c]) / 255.f - 0.5f) / 0.5f;
        load_example(dir + name + ".png", size, flip, actual.data());
        // Exact: the resize reproduces PIL's integer arithmetic and the scaling is the same float ops.
        test::expect_close(actual, reference, 0.0, 0.0, expected_path);
      }
}

TEST_CASE("dataset: folder scan follows ImageFolder's sorted order and the extension rules", "[dataset]") {
  const TempDir temp("scan");
  const fs::path& dir = temp.path;
  fs::create_directories(dir / "b_class" / "sub");
  fs::create_directories(dir / "a_class");
  fs::create_directories(dir / ".hidden");
  const engine::Image image(6, 4, 3);
  engine::save_png((dir / "b_class" / "z.PNG").string(), image);
  engine::save_png((dir / "b_class" / "sub" / "a.png").string(), image);
  engine::save_jpeg((dir / "a_class" / "y.JpG").string(), image);
  engine::save_png((dir / "a_class" / ".x.png").string(), image);
  engine::save_png((dir / ".hidden" / "x.png").string(), image);
  std::ofstream(dir / "a_class" / "notes.txt") << "not an image";
  Warnings warnings;
  const ImageFolder folder = scan_image_folder(dir.string(), warnings.fn());
  CHECK(folder.classes == std::vector<std::string>{"a_class", "b_class"});
  REQUIRE(folder.paths.size() == 3);
  CHECK(fs::path(folder.paths[0]).filename() == "y.JpG");
  CHECK(fs::path(folder.paths[1]).filename() == "z.PNG");  // "b_class" sorts before "b_class/sub"
  CHECK(fs::path(folder.paths[2]).filename() == "a.png");
  CHECK(folder.labels == std::vector<int64_t>{0, 1, 1});
  CHECK(warnings.messages.empty());
}

TEST_CASE("dataset: every epoch visits each image once, reshuffled, flipped about half the time",
          "[dataset]") {
  const TempDir temp("epochs");
  const fs::path& dir = temp.path;
  make_face_folder(dir);
  const ImageFolder folder = scan_image_folder(dir.string());
  REQUIRE(folder.paths.size() == 21);
  LoaderOptions o;
  o.image_size = 16;
  o.batch_size = 4;
  o.seed = 3;
  DataLoader loader(folder, o);
  std::vector<std::vector<int64_t>> orders(3);
  int flips = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int64_t> sizes;
    while (int64_t(orders[epoch].size()) < loader.size()) {
      const Batch b = loader.next();
      sizes.push_back(int64_t(b.labels.size()));
      REQUIRE(b.images.shape() == engine::Shape{int64_t(b.labels.size()), 3, 16, 16});
      for (size_t i = 0; i < b.labels.size(); ++i) {
        CHECK(b.labels[i] == folder.labels[b.indices[i]]);
        orders[epoch].push_back(b.indices[i]);
        flips += b.flipped[i];
      }
      // Each image is the file prepared with its flip, bit for bit.
      std::vector<float> one(3 * 16 * 16);
      load_example(folder.paths[b.indices[0]], 16, b.flipped[0], one.data());
      const std::vector<float> all = b.images.to_vector();
      CHECK(std::vector<float>(all.begin(), all.begin() + one.size()) == one);
    }
    CHECK(sizes == std::vector<int64_t>{4, 4, 4, 4, 4, 1});  // the short last batch is kept
    CHECK(loader.state().epoch == epoch);
    std::set<int64_t> seen(orders[epoch].begin(), orders[epoch].end());
    CHECK(seen.size() == 21);
  }
  CHECK(orders[0] != orders[1]);
  CHECK(orders[1] != orders[2]);
  // 63 fair coin flips: 15..48 holds with probability > 1 - 1e-4.
  CHECK(flips > 15);
  CHECK(flips < 48);
}

TEST_CASE("dataset: state()/set_state() resume the exact batches, across an epoch boundary", "[dataset]") {
  const TempDir temp("resume");
  const fs::path& dir = temp.path;
  make_face_folder(dir);
  const ImageFolder folder = scan_image_folder(dir.string());
  LoaderOptions o;
  o.image_size = 12;
  o.batch_size = 5;
  o.seed = 77;
  o.drop_last = true;
  std::vector<Batch> reference;
  LoaderState saved;
  {
    DataLoader loader(folder, o);
    for (int i = 0; i < 3; ++i) loader.next();
    saved = loader.state();
    for (int i = 0; i < 6; ++i) reference.push_back(loader.next());  // 21 / 5: epoch ends after 4 batches
    CHECK(loader.state().epoch == 2);
  }
  CHECK(saved.epoch == 0);
  CHECK(saved.cursor == 15);
  for (const Batch& b : reference) CHECK(b.labels.size() == 5);  // drop_last
  DataLoader resumed(folder, o);
  resumed.next();  // read-ahead already under way from the start: set_state must discard it
  resumed.set_state(saved);
  for (size_t i = 0; i < reference.size(); ++i) {
    INFO("batch " << i << " after the restore");
    CHECK(same_batch(resumed.next(), reference[i]));
  }
  LoaderState changed = saved;
  changed.num_files = 20;
  CHECK_THROWS_WITH(resumed.set_state(changed), Catch::Contains("holds 21 images") && Catch::Contains("20"));
}

TEST_CASE("dataset: a corrupt file is skipped with one warning naming it, and counted", "[dataset]") {
  const TempDir temp("corrupt");
  const fs::path& dir = temp.path;
  make_face_folder(dir, 2);
  std::ofstream(dir / "NES" / "broken.png", std::ios::binary) << "\x89PNG\r\n\x1a\n not really";
  Warnings warnings;
  LoaderOptions o;
  o.image_size = 8;
  o.batch_size = 3;
  o.warn = warnings.fn();
  const ImageFolder folder = scan_image_folder(dir.string(), o.warn);
  REQUIRE(folder.paths.size() == 15);
  DataLoader loader(folder, o);
  int64_t images = 0;
  auto epochs_done = [&] { return loader.state().epoch + (loader.state().cursor == loader.size()); };
  while (epochs_done() < 2) images += int64_t(loader.next().labels.size());
  CHECK(images == 2 * 14);
  REQUIRE(warnings.messages.size() == 1);
  CHECK_THAT(warnings.messages[0], Catch::Contains("broken.png"));
  CHECK(loader.skipped_files() == 1);
}

TEST_CASE("dataset: an empty class warns, no images or a missing folder is an error", "[dataset]") {
  const TempDir temp("empty");
  const fs::path& dir = temp.path;
  make_face_folder(dir, 1);
  fs::remove_all(dir / "SAS");
  fs::create_directories(dir / "SAS");
  Warnings warnings;
  const ImageFolder folder = scan_image_folder(dir.string(), warnings.fn());
  REQUIRE(warnings.messages.size() == 1);
  CHECK_THAT(warnings.messages[0], Catch::Contains("SAS") && Catch::Contains("no images"));
  CHECK(folder.classes.size() == 7);  // SUS keeps class index 6
  CHECK(folder.labels.back() == 6);

  const fs::path missing = dir / "nowhere";
  CHECK_THROWS_WITH(scan_image_folder(missing.string()),
                    Catch::Contains(missing.string()) && Catch::Contains("does not exist"));
  const TempDir hollow_dir("hollow"), no_classes("no_classes"), bad_dir("all_bad");
  const fs::path& hollow = hollow_dir.path;
  fs::create_directories(hollow / "AFS");
  CHECK_THROWS_WITH(scan_image_folder(hollow.string(), warnings.fn()),
                    Catch::Contains(hollow.string()) && Catch::Contains("holds no images"));
  CHECK_THROWS_WITH(scan_image_folder(no_classes.path.string()), Catch::Contains("no class sub-folders"));

  // Only unreadable files: the loader's thread fails and next() reports it, every time.
  const fs::path& bad = bad_dir.path;
  fs::create_directories(bad / "NES");
  std::ofstream(bad / "NES" / "a.jpg") << "garbage";
  LoaderOptions o;
  o.image_size = 8;
  o.warn = warnings.fn();
  DataLoader loader(scan_image_folder(bad.string(), o.warn), o);
  CHECK_THROWS_WITH(loader.next(), Catch::Contains("no readable images"));
  CHECK_THROWS_WITH(loader.next(), Catch::Contains("no readable images"));
}
