#pragma once
// Synthetic labelled faces: the project's stand-in for a facial-expression dataset, which cannot
// be shipped. A face is an identity (face shape, skin, hair, eyes, clothes, background, a small
// pose and scale jitter) drawn under one of the seven expressions of the authors' layout, as a
// configuration of brows (height, slant, arch), eyes (opening, lid shape) and mouth (flat, smile,
// frown, open O, stretched, grimace).
//
// Identity and expression are independent: an identity is a pure function of (seed, index), and
// an expression only moves the brows, eyes, mouth and nose wrinkles, so the same index under two
// expressions gives two pictures that differ only there (background, hair, ears, neck and clothes
// are equal pixel for pixel). A translation can then be judged against the drawn target.
//
// Shapes are signed-distance functions; each pixel takes the analytic coverage of every shape
// (clamp(0.5 - distance / pixel_size)), so edges are anti-aliased without supersampling and the
// result is the same at every thread count.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/image.h"

namespace CLI {
class App;
}

namespace models::data {

// The authors' expression folders in sorted order, which is the class index order:
// afraid, angry, disgusted, happy, neutral, sad, surprised.
constexpr int num_expressions = 7;
const std::array<std::string, num_expressions>& expression_codes();
constexpr int expression_neutral = 4;  // NES
constexpr int expression_happy = 3;    // HAS

struct Rgb {
  float r = 0, g = 0, b = 0;  // [0, 1]
};

// Everything that makes one person. Lengths are in face units: the image spans [-1, 1] on both
// axes before the pose; y grows downward.
struct FaceIdentity {
  float face_rx = 0.55f, face_ry = 0.68f;  // face ellipse radii
  float jaw = 0.85f;                       // chin width relative to the cheeks (< 1: narrower)
  Rgb skin, hair, iris, shirt, background_top, background_bottom;
  int hair_style = 0;                   // 0 short, 1 long, 2 fringe, 3 receding, 4 side part
  float hairline = -0.5f;               // hair edge above the brows, relative to the face centre
  float eye_spacing = 0.23f;            // half distance between the eye centres
  float eye_y = -0.08f;                 // eye centre height
  float eye_w = 0.10f, eye_h = 0.055f;  // eye half-width and half-height when neutral
  float brow_gap = 0.15f;               // neutral brow height above the eye centre
  float brow_thickness = 0.04f;
  float nose_length = 0.16f;
  float mouth_y = 0.36f, mouth_w = 0.21f;  // mouth centre height and half-width
  float expressiveness = 1.f;              // scales every expression offset (0.85..1.15)
  float rotation = 0.f;                    // radians, about the image centre
  float scale = 1.f;
  float offset_x = 0.f, offset_y = 0.f;  // face centre, image units
};

// The identity of person `index` in the set made with `seed`: a pure function of both (Philox
// counter range of the index), so any subset is drawn without drawing the others.
FaceIdentity face_identity(uint64_t seed, int64_t index);

// The face of `identity` with expression `expression` (0..6, see expression_codes) as an
// image_size x image_size RGB image. image_size >= 8.
engine::Image draw_face(const FaceIdentity& identity, int expression, int image_size);

// Where expressions can change this identity's picture: 1 for every pixel that differs between
// the neutral face and any other expression, grown by `grow` pixels (8-neighbourhood), else 0.
// image_size^2 bytes, row-major. Its complement is where a translation must keep the input
// (background, hair, ears, clothes, cheeks, forehead): the identity-preservation measure.
std::vector<uint8_t> expression_mask(const FaceIdentity& identity, int image_size, int grow = 1);

struct MakeFacesOptions {
  std::string out;      // created if absent
  int per_class = 100;  // identities 0..per_class-1, each drawn under every expression
  int image_size = 128;
  uint64_t seed = 0;
  // Instead of the seven folders, the paired layout of the LSRF/OMP trainers: trainA/ (neutral)
  // and trainB/ (happy) of the same identities under the same names.
  bool pairs = false;
};

// Writes <out>/<EXP>/<id>.png for EXP in expression_codes() (or trainA/ and trainB/ with
// `pairs`), <id> the identity index zero-padded to at least 4 digits so that lexical and natural
// orders agree. Files are written atomically (engine::save_png), in parallel over identities.
// Returns the number of images written.
int64_t make_faces(const MakeFacesOptions& options);

// `sargan make-faces --out DIR --per_class N --image_size S --seed K [--pairs]`: registers the
// subcommand on the app (filling `options`) and returns it, so the app can test ->parsed().
CLI::App* add_make_faces_command(CLI::App& app, MakeFacesOptions& options);
// Runs make_faces and reports what it wrote on stdout; returns the exit code.
int run_make_faces(const MakeFacesOptions& options);

}  // namespace models::data
