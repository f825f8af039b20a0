// Synthetic faces: determinism, identity kept across expressions, expressions told apart, the
// folder layouts of make_faces.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/image.h"
#include "models/data/faces.h"

namespace fs = std::filesystem;
using namespace models::data;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("faces_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  return dir;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Pixel (x, y) of an S x S image in the identity's face coordinates (faces.h: the image spans
// [-1, 1], the face is rotated, scaled and offset about the centre).
void face_coords(const FaceIdentity& id, int size, int x, int y, float& fx, float& fy) {
  const float u = (x + 0.5f) * 2.f / size - 1.f - id.offset_x,
              v = (y + 0.5f) * 2.f / size - 1.f - id.offset_y;
  const float c = std::cos(id.rotation), s = std::sin(id.rotation);
  fx = (c * u + s * v) / id.scale;
  fy = (-s * u + c * v) / id.scale;
}

}  // namespace

TEST_CASE("faces: expression codes are the authors' folders in sorted order", "[faces]") {
  const auto& codes = expression_codes();
  REQUIRE(codes.size() == 7);
  CHECK(std::is_sorted(codes.begin(), codes.end()));
  CHECK(codes[expression_neutral] == "NES");
  CHECK(codes[expression_happy] == "HAS");
}

TEST_CASE("faces: same seed gives the same bytes, another seed other faces", "[faces]") {
  const fs::path a = fresh_dir("det_a"), b = fresh_dir("det_b"), c = fresh_dir("det_c");
  MakeFacesOptions o;
  o.per_class = 3;
  o.image_size = 32;
  o.seed = 11;
  o.out = a.string();
  CHECK(make_faces(o) == 21);
  o.out = b.string();
  make_faces(o);
  o.out = c.string();
  o.seed = 12;
  make_faces(o);
  int files = 0, differing_seed = 0;
  for (const auto& code : expression_codes())
    for (const char* name : {"0000.png", "0001.png", "0002.png"}) {
      const std::string bytes = file_bytes(a / code / name);
      REQUIRE(!bytes.empty());
      CHECK(bytes == file_bytes(b / code / name));
      differing_seed += bytes != file_bytes(c / code / name);
      ++files;
    }
  CHECK(files == 21);
  CHECK(differing_seed == 21);
  // Identities are a pure function of (seed, index): drawing one alone gives the same picture.
  const engine::Image alone = draw_face(face_identity(11, 2), 5, 32);
  CHECK(alone.pixels == engine::load_image((a / "SAS" / "0002.png").string(), 3).pixels);
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST_CASE("faces: an identity differs between expressions only inside the face", "[faces]") {
  const int size = 64;
  int changed_total = 0;
  for (int i = 0; i < 12; ++i) {
    const FaceIdentity id = face_identity(3, i);
    const engine::Image neutral = draw_face(id, expression_neutral, size);
    for (int e = 0; e < num_expressions; ++e) {
      if (e == expression_neutral) continue;
      const engine::Image other = draw_face(id, e, size);
      int changed = 0, outside = 0, in_hair = 0;
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          bool differs = false;
          for (int c = 0; c < 3; ++c) differs |= neutral.at(y, x, c) != other.at(y, x, c);
          if (!differs) continue;
          ++changed;
          float fx, fy;
          face_coords(id, size, x, y, fx, fy);
          // Background, ears, neck and clothes lie outside the face ellipse; the hair in front
          // lies above the hairline. One pixel of slack (in face units) for anti-aliased edges.
          const float pixel = 2.f / (size * id.scale);
          const float r = std::hypot(fx / (id.face_rx + pixel), fy / (id.face_ry + pixel));
          outside += r > 1.f;
          in_hair += fy < id.hairline - pixel;
        }
      INFO("identity " << i << ", expression " << expression_codes()[e]);
      CHECK(changed > 20);
      CHECK(outside == 0);
      CHECK(in_hair == 0);
      changed_total += changed;
    }
  }
  CHECK(changed_total > 0);
}

TEST_CASE("faces: the seven expressions differ in the brow and mouth bands of the class means", "[faces]") {
  // Per-class mean images over the same identities, so that identity (pose, colours, hair)
  // cancels in the difference of two means and what remains is the expression alone, averaged
  // over 40 poses and face shapes. Every pair of classes must differ by more than 2 grey levels
  // (of 255, averaged over the band) in the brow/eye band or the mouth band.
  const int size = 48, identities = 40;
  auto class_mean = [&](int expression) {
    std::vector<double> mean(size_t(size) * size * 3, 0.0);
    for (int i = 0; i < identities; ++i) {
      const engine::Image im = draw_face(face_identity(5, i), expression, size);
      for (size_t p = 0; p < mean.size(); ++p) mean[p] += im.pixels[p] / double(identities);
    }
    return mean;
  };
  // Rows of the image: the eyes and brows lie in 22%..50% of the height, the mouth in 55%..85%.
  auto band_difference = [&](const std::vector<double>& a, const std::vector<double>& b, double top,
                             double bottom) {
    double sum = 0;
    int count = 0;
    for (int y = int(top * size); y < int(bottom * size); ++y)
      for (int x = size / 4; x < 3 * size / 4; ++x)
        for (int c = 0; c < 3; ++c, ++count)
          sum += std::fabs(a[(y * size + x) * 3 + c] - b[(y * size + x) * 3 + c]);
    return sum / count;
  };
  std::vector<std::vector<double>> means;
  for (int e = 0; e < num_expressions; ++e) means.push_back(class_mean(e));
  for (int a = 0; a < num_expressions; ++a)
    for (int b = a + 1; b < num_expressions; ++b) {
      const double brow = band_difference(means[a], means[b], 0.22, 0.50);
      const double mouth = band_difference(means[a], means[b], 0.55, 0.85);
      INFO(expression_codes()[a] << " vs " << expression_codes()[b] << ": brow band " << brow
                                 << ", mouth band " << mouth);
      CHECK(std::max(brow, mouth) > 2.0);
      // Outside the face (the image's left and right quarters) the means are equal.
      CHECK(band_difference(means[a], means[b], 0.0, 0.2) == 0.0);
    }
}

TEST_CASE("faces: the expression mask covers every change between expressions and little else", "[faces]") {
  const int size = 40;
  for (int i = 0; i < 6; ++i) {
    const FaceIdentity id = face_identity(8, i);
    const std::vector<uint8_t> tight = expression_mask(id, size, 0), grown = expression_mask(id, size, 2);
    std::vector<engine::Image> faces;
    for (int e = 0; e < num_expressions; ++e) faces.push_back(draw_face(id, e, size));
    int masked = 0, grown_extra = 0;
    for (int p = 0; p < size * size; ++p) {
      masked += tight[p];
      grown_extra += grown[p] && !tight[p];
      CHECK(grown[p] >= tight[p]);
      // Any two expressions (not only against neutral) differ only under the mask.
      for (int a = 0; a < num_expressions; ++a)
        for (int b = a + 1; b < num_expressions; ++b)
          for (int c = 0; c < 3; ++c)
            if (faces[a].pixels[p * 3 + c] != faces[b].pixels[p * 3 + c] && !tight[p])
              FAIL("pixel " << p << " unmasked");
    }
    INFO("identity " << i << ": " << masked << " masked pixels");
    CHECK(masked > size * size / 50);
    CHECK(masked < size * size / 4);  // the features, not the face
    CHECK(grown_extra > 0);
  }
}

TEST_CASE("faces: paired layout has neutral in trainA and happy in trainB under the same names", "[faces]") {
  const fs::path dir = fresh_dir("pairs"), classes = fresh_dir("pairs_classes");
  MakeFacesOptions o;
  o.per_class = 2;
  o.image_size = 24;
  o.seed = 4;
  o.pairs = true;
  o.out = dir.string();
  CHECK(make_faces(o) == 4);
  o.pairs = false;
  o.out = classes.string();
  make_faces(o);
  for (const char* name : {"0000.png", "0001.png"}) {
    CHECK(file_bytes(dir / "trainA" / name) == file_bytes(classes / "NES" / name));
    CHECK(file_bytes(dir / "trainB" / name) == file_bytes(classes / "HAS" / name));
  }
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 2);
  fs::remove_all(dir);
  fs::remove_all(classes);
}

TEST_CASE("faces: bad arguments are one-line errors", "[faces]") {
  MakeFacesOptions o;
  o.out = fresh_dir("bad").string();
  o.per_class = 0;
  CHECK_THROWS_WITH(make_faces(o), Catch::Contains("--per_class"));
  o.per_class = 1;
  o.image_size = 4;
  CHECK_THROWS_WITH(make_faces(o), Catch::Contains("--image_size"));
  CHECK_THROWS_WITH(draw_face(face_identity(0, 0), 7, 32), Catch::Contains("expression"));
}
