// Synthetic faces (see faces.h): a painter that composites signed-distance shapes with analytic
// coverage, the identity sampler, the table of expressions, and the folder writer.
#include "models/data/faces.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <vector>

#include "engine/check.h"
#include "engine/random.h"

namespace models::data {

const std::array<std::string, num_expressions>& expression_codes() {
  static const std::array<std::string, num_expressions> codes = {"AFS", "ANS", "DIS", "HAS",
                                                                 "NES", "SAS", "SUS"};
  return codes;
}

namespace {

struct Vec {
  float x = 0, y = 0;
};

float length(float x, float y) { return std::sqrt(x * x + y * y); }
float lerp(float a, float b, float t) { return a + (b - a) * t; }
Rgb mix(Rgb a, Rgb b, float t) { return {lerp(a.r, b.r, t), lerp(a.g, b.g, t), lerp(a.b, b.b, t)}; }
Rgb times(Rgb c, float r, float g, float b) { return {c.r * r, c.g * g, c.b * b}; }
Rgb times(Rgb c, float k) { return times(c, k, k, k); }

// ---- signed distances (negative inside), in face units ----

// Ellipse by the first-order estimate f / |grad f| of f = |q| - 1, q = (p - c) / r: exact on
// circles and accurate near the boundary, which is all that coverage needs.
float ellipse(Vec p, Vec c, float rx, float ry) {
  const float qx = (p.x - c.x) / rx, qy = (p.y - c.y) / ry;
  const float k = length(qx, qy);
  if (k < 1e-6f) return -std::min(rx, ry);
  const float g = length(qx / rx, qy / ry) / k;
  return (k - 1.f) / g;
}

float circle(Vec p, Vec c, float r) { return length(p.x - c.x, p.y - c.y) - r; }

float segment(Vec p, Vec a, Vec b) {
  const float bx = b.x - a.x, by = b.y - a.y, px = p.x - a.x, py = p.y - a.y;
  const float h = std::clamp((px * bx + py * by) / (bx * bx + by * by), 0.f, 1.f);
  return length(px - h * bx, py - h * by);
}

// A cubic y(t) = a0 + a1 t + a2 t^2 + a3 t^3 over t = (x - cx) * mirror / half_width in [-1, 1].
struct Curve {
  float cx, half_width, mirror;  // mirror = -1 flips t, so that t = +1 is a face's outer side
  float a0, a1, a2, a3;
  float t_of(float x) const { return (x - cx) * mirror / half_width; }
  float y(float t) const { return a0 + t * (a1 + t * (a2 + t * a3)); }
  float slope(float t) const { return (a1 + t * (2 * a2 + t * 3 * a3)) * mirror / half_width; }
  Vec end(float t) const { return {cx + t * half_width * mirror, y(t)}; }
};

// Distance to the graph of a curve, with round ends (a stroke is this minus half its width).
float curve_distance(Vec p, const Curve& c) {
  const float t = c.t_of(p.x);
  if (t < -1.f || t > 1.f) {
    const Vec e = c.end(t < 0 ? -1.f : 1.f);
    return length(p.x - e.x, p.y - e.y);
  }
  const float s = c.slope(t);
  return std::fabs(p.y - c.y(t)) / std::sqrt(1.f + s * s);
}

// The region between two curves over the same x range (upper above lower on screen).
float band(Vec p, const Curve& upper, const Curve& lower) {
  const float t = upper.t_of(p.x);
  const float tc = std::clamp(t, -1.f, 1.f);
  const float su = upper.slope(tc), sl = lower.slope(tc);
  const float du = (upper.y(tc) - p.y) / std::sqrt(1.f + su * su);
  const float dl = (p.y - lower.y(tc)) / std::sqrt(1.f + sl * sl);
  const float dx = (std::fabs(t) - 1.f) * upper.half_width;
  return std::max({du, dl, dx});
}

// ---- the canvas: an RGB float image and the face-to-pixel transform of one identity ----

class Canvas {
 public:
  Canvas(const FaceIdentity& id, int size)
      : id_(id),
        size_(size),
        rgb_(size_t(size) * size * 3),
        cos_(std::cos(id.rotation)),
        sin_(std::sin(id.rotation)),
        pixel_(2.f / (float(size) * id.scale)) {}

  void background(Rgb top, Rgb bottom) {
    for (int y = 0; y < size_; ++y) {
      const Rgb c = mix(top, bottom, (y + 0.5f) / size_);
      for (int x = 0; x < size_; ++x) set(x, y, c, 1.f);
    }
  }

  // Composites a shape whose distance is `sdf(p)` and colour `colour(p)` over the pixels of its
  // bounding circle (centre, radius) in face units.
  template <class Sdf, class Colour>
  void paint(Vec centre, float radius, float alpha, Sdf sdf, Colour colour) {
    const float ix = id_.offset_x + id_.scale * (cos_ * centre.x - sin_ * centre.y);
    const float iy = id_.offset_y + id_.scale * (sin_ * centre.x + cos_ * centre.y);
    const float ir = id_.scale * radius + 4.f / size_;
    const int x0 = std::max(0, int(std::floor((ix - ir + 1.f) * size_ / 2.f)));
    const int x1 = std::min(size_ - 1, int(std::ceil((ix + ir + 1.f) * size_ / 2.f)));
    const int y0 = std::max(0, int(std::floor((iy - ir + 1.f) * size_ / 2.f)));
    const int y1 = std::min(size_ - 1, int(std::ceil((iy + ir + 1.f) * size_ / 2.f)));
    for (int y = y0; y <= y1; ++y)
      for (int x = x0; x <= x1; ++x) {
        const Vec p = to_face(x, y);
        const float coverage = std::clamp(0.5f - sdf(p) / pixel_, 0.f, 1.f) * alpha;
        if (coverage > 0.f) set(x, y, colour(p), coverage);
      }
  }
  template <class Sdf>
  void paint(Vec centre, float radius, Rgb colour, Sdf sdf, float alpha = 1.f) {
    paint(centre, radius, alpha, sdf, [colour](Vec) { return colour; });
  }

  engine::Image image() const {
    engine::Image out(size_, size_, 3);
    for (size_t i = 0; i < rgb_.size(); ++i)
      out.pixels[i] = uint8_t(std::lrint(std::clamp(rgb_[i], 0.f, 1.f) * 255.f));
    return out;
  }

 private:
  Vec to_face(int x, int y) const {
    const float u = (x + 0.5f) * 2.f / size_ - 1.f - id_.offset_x;
    const float v = (y + 0.5f) * 2.f / size_ - 1.f - id_.offset_y;
    return {(cos_ * u + sin_ * v) / id_.scale, (-sin_ * u + cos_ * v) / id_.scale};
  }
  void set(int x, int y, Rgb c, float a) {
    float* px = &rgb_[(size_t(y) * size_ + x) * 3];
    px[0] = lerp(px[0], c.r, a);
    px[1] = lerp(px[1], c.g, a);
    px[2] = lerp(px[2], c.b, a);
  }

  const FaceIdentity& id_;
  int size_;
  std::vector<float> rgb_;
  float cos_, sin_, pixel_;
};

// ---- the expressions: offsets from neutral, scaled by the identity's expressiveness ----

enum class MouthKind { closed, open, round };

struct Expression {
  float brow_inner, brow_outer, brow_arch;  // brow end heights (negative raises) and arch
  float eye_upper, eye_lower, eye_slant;    // lid openings in eye_h units; slant > 0 lowers the inner lid
  MouthKind mouth;
  float mouth_width, mouth_corner, mouth_skew;  // width factor; corners (negative up); tilt
  float mouth_open_up, mouth_open_down;         // opening above and below the lip line
  float lip_thickness;                          // factor
  bool teeth, nose_wrinkles;
};

// Rows in expression_codes() order. Each is a distinct configuration a person would name:
// afraid (brows raised and pulled together, eyes wide, mouth stretched open), angry (brows down
// in a V, narrowed eyes, clenched teeth), disgusted (brows down, squint, lip raised on one side with
// teeth, nose wrinkled), happy (open smile, eyes narrowed from below), neutral, sad (brows raised
// inside, drooping lids, frown), surprised (brows high and arched, eyes wide, mouth an open O).
// clang-format off
const Expression expressions[num_expressions] = {
    {-0.10f, -0.05f, 0.00f, 1.45f, 1.20f, -0.20f, MouthKind::open, 1.10f, 0.02f, 0.f, 0.025f, 0.07f, 1.f, true, false},
    {0.07f, -0.02f, -0.01f, 0.60f, 0.75f, 0.50f, MouthKind::open, 0.85f, 0.03f, 0.f, 0.012f, 0.018f, 1.3f, true, false},
    {0.04f, 0.02f, 0.01f, 0.45f, 0.50f, 0.20f, MouthKind::open, 0.95f, 0.01f, -0.05f, 0.02f, 0.03f, 1.f, true, true},
    {-0.02f, -0.02f, 0.025f, 0.90f, -0.25f, 0.00f, MouthKind::open, 1.20f, -0.08f, 0.f, 0.01f, 0.08f, 1.f, true, false},
    {0.f, 0.f, 0.015f, 1.00f, 0.90f, 0.00f, MouthKind::closed, 0.90f, 0.f, 0.f, 0.f, 0.f, 1.f, false, false},
    {-0.06f, 0.03f, -0.005f, 0.75f, 0.75f, -0.50f, MouthKind::closed, 0.85f, 0.09f, 0.f, 0.f, 0.f, 1.f, false, false},
    {-0.10f, -0.09f, 0.04f, 1.55f, 1.30f, 0.00f, MouthKind::round, 0.45f, 0.f, 0.f, 0.f, 0.11f, 1.f, false, false},
};
// clang-format on

const Rgb eye_white{0.95f, 0.95f, 0.93f};
const Rgb lash{0.12f, 0.09f, 0.08f};
const Rgb mouth_inside{0.28f, 0.06f, 0.08f};
const Rgb teeth{0.96f, 0.95f, 0.90f};

Rgb lip_colour(const FaceIdentity& id) { return times(id.skin, 0.82f, 0.52f, 0.55f); }

void draw_eye(Canvas& c, const FaceIdentity& id, const Expression& e, float side) {
  const float k = id.expressiveness;
  const float cx = side * id.eye_spacing, cy = id.eye_y;
  const float hu = id.eye_h * (1.f + (e.eye_upper - 1.f) * k);
  const float hl = id.eye_h * (0.9f + (e.eye_lower - 0.9f) * k);
  const float slant = id.eye_h * e.eye_slant * k;
  // Both lids meet at the corners (t = +-1): every term carries (1 - t^2).
  // upper(t) = cy - (1 - t^2)(hu + slant t), lower(t) = cy + (1 - t^2) hl.
  const Curve upper{cx, id.eye_w, side, cy - hu, -slant, hu, slant};
  const Curve lower{cx, id.eye_w, side, cy + hl, 0.f, -hl, 0.f};
  auto opening = [&](Vec p) { return band(p, upper, lower); };
  const float radius = id.eye_w + 2.f * id.eye_h;
  c.paint({cx, cy}, radius, eye_white, opening);
  const float iris_r = id.eye_h * 0.95f;
  c.paint({cx, cy}, radius, id.iris, [&](Vec p) {
    return std::max(circle(p, {cx, cy}, iris_r), opening(p));
  });
  c.paint({cx, cy}, radius, lash, [&](Vec p) {
    return std::max(circle(p, {cx, cy}, iris_r * 0.45f), opening(p));
  });
  c.paint({cx, cy}, radius, lash, [&](Vec p) { return curve_distance(p, upper) - 0.009f; });
  c.paint(
      {cx, cy}, radius, times(id.skin, 0.7f), [&](Vec p) { return curve_distance(p, lower) - 0.004f; }, 0.6f);
}

void draw_brow(Canvas& c, const FaceIdentity& id, const Expression& e, float side) {
  const float k = id.expressiveness;
  const float base = id.eye_y - id.brow_gap;
  const float inner = base + e.brow_inner * k, outer = base + e.brow_outer * k;
  const float arch = 0.02f + e.brow_arch * k;
  const float x_in = id.eye_spacing - id.eye_w * 0.95f, x_out = id.eye_spacing + id.eye_w * 1.25f;
  const float half = (x_out - x_in) / 2.f;
  // y(t) = mid + (outer - inner)/2 t - arch (1 - t^2), t = -1 inner end, +1 outer end.
  const Curve brow{side * (x_in + half),  half, side, (inner + outer) / 2.f - arch,
                   (outer - inner) / 2.f, arch, 0.f};
  const Rgb colour = mix(times(id.hair, 0.5f), lash, 0.35f);  // brows darker than the hair
  c.paint({side * (x_in + half), base}, half + 0.2f, colour, [&](Vec p) {
    const float t = std::clamp(brow.t_of(p.x), -1.f, 1.f);
    return curve_distance(p, brow) - id.brow_thickness * (0.5f - 0.12f * t);  // tapers outward
  });
}

void draw_mouth(Canvas& c, const FaceIdentity& id, const Expression& e) {
  const float k = id.expressiveness;
  const float w = id.mouth_w * (1.f + (e.mouth_width - 1.f) * k);
  const float my = id.mouth_y, corner = e.mouth_corner * k, skew = e.mouth_skew * k;
  const float lip = 0.022f * e.lip_thickness;
  const Rgb lips = lip_colour(id);
  const Vec centre{0.f, my};
  const float radius = w + 0.2f;
  if (e.mouth == MouthKind::round) {
    const float rx = w, ry = e.mouth_open_down * k;
    auto hole = [&](Vec p) { return ellipse(p, {0.f, my + 0.02f}, rx, ry); };
    c.paint(centre, radius, lips, [&](Vec p) { return hole(p) - lip; });
    c.paint(centre, radius, mouth_inside, hole);
    return;
  }
  // The lip line y = my + skew t + corner t^2; an open mouth adds (1 - t^2) above and below it.
  const Curve line{0.f, w, 1.f, my, skew, corner, 0.f};
  if (e.mouth == MouthKind::closed) {
    c.paint(centre, radius, lips, [&](Vec p) { return curve_distance(p, line) - lip * 0.75f; });
    return;
  }
  const float up = e.mouth_open_up * k, down = e.mouth_open_down * k;
  const Curve upper{0.f, w, 1.f, my - up, skew, corner + up, 0.f};
  const Curve lower{0.f, w, 1.f, my + down, skew, corner - down, 0.f};
  auto hole = [&](Vec p) { return band(p, upper, lower); };
  c.paint(centre, radius, lips, [&](Vec p) { return hole(p) - lip; });
  c.paint(centre, radius, mouth_inside, hole);
  if (e.teeth) {
    const float teeth_h = std::min(0.035f, 0.5f * (up + down));
    const Curve teeth_edge{0.f, w, 1.f, my - up + teeth_h, skew, corner + up, 0.f};
    c.paint(centre, radius, teeth, [&](Vec p) {
      const float t = std::clamp(teeth_edge.t_of(p.x), -1.f, 1.f);
      return std::max(hole(p), p.y - teeth_edge.y(t));
    });
  }
}

void draw_nose(Canvas& c, const FaceIdentity& id, bool wrinkles) {
  const float top = id.eye_y + 0.06f, bottom = id.eye_y + 0.06f + id.nose_length;
  const Rgb shadow = times(id.skin, 0.78f);
  c.paint(
      {0.03f, (top + bottom) / 2.f}, id.nose_length, shadow,
      [&](Vec p) {
        return segment(p, {0.03f, top}, {0.045f, bottom - 0.02f}) - 0.008f;
      },
      0.5f);
  for (float side : {-1.f, 1.f})
    c.paint({side * 0.04f, bottom}, 0.06f, times(id.skin, 0.55f), [&](Vec p) {
      return ellipse(p, {side * 0.04f, bottom}, 0.022f, 0.013f);
    });
  if (!wrinkles) return;
  for (float side : {-1.f, 1.f})
    for (int i = 0; i < 2; ++i) {
      const float y = top + 0.01f + 0.025f * i;
      const Vec a{side * 0.03f, y + 0.012f}, b{side * 0.09f, y - 0.012f};
      c.paint(a, 0.1f, shadow, [&](Vec p) { return segment(p, a, b) - 0.006f; });
    }
}

// The hair drawn over the face: the part of a cap (a slightly larger ellipse) above the hairline,
// which comes down at the temples (and over the sides for long hair).
float hair_cap(Vec p, const FaceIdentity& id) {
  const float side = std::max(0.f, std::fabs(p.x) / id.face_rx - 0.6f);
  float hairline = id.hairline + (id.hair_style == 1 ? 4.f : 2.5f) * side * side;
  if (id.hair_style == 2) hairline += 0.015f * std::sin(p.x * 40.f);  // a ragged fringe
  if (id.hair_style == 4) hairline += 0.12f * p.x;                    // a side part
  const float cap_ry = id.face_ry * (id.hair_style == 3 ? 1.02f : id.hair_style == 1 ? 1.25f : 1.08f);
  const float cap_cy = id.hair_style == 1 ? 0.12f : -0.05f;
  return std::max(ellipse(p, {0.f, cap_cy}, id.face_rx * 1.1f, cap_ry), p.y - hairline);
}

float face_shape(Vec p, const FaceIdentity& id) {
  // The lower half narrows towards the chin.
  const float below = std::max(0.f, p.y / id.face_ry);
  const float narrowing = 1.f - (1.f - id.jaw) * below * below;
  return ellipse({p.x / narrowing, p.y}, {0.f, 0.f}, id.face_rx, id.face_ry) * narrowing;
}

float uniform_in(const float*& u, float lo, float hi) { return lo + (hi - lo) * *u++; }
Rgb jitter(const float*& u, Rgb c, float amount) {
  const float r = uniform_in(u, -amount, amount), g = uniform_in(u, -amount, amount),
              b = uniform_in(u, -amount, amount);
  return {std::clamp(c.r + r, 0.f, 1.f), std::clamp(c.g + g, 0.f, 1.f), std::clamp(c.b + b, 0.f, 1.f)};
}

}  // namespace

FaceIdentity face_identity(uint64_t seed, int64_t index) {
  ENGINE_CHECK(index >= 0, "face_identity: negative index ", index);
  // 64 blocks (256 draws) per identity: far more than the 40 used, so identities never overlap.
  engine::Philox rng(seed);
  rng.set_state(seed, uint64_t(index) * 64u);
  const std::vector<float> draws = rng.uniform(64);
  const float* u = draws.data();

  static const Rgb hair_palette[] = {{0.08f, 0.07f, 0.07f}, {0.25f, 0.15f, 0.08f}, {0.45f, 0.30f, 0.16f},
                                     {0.85f, 0.72f, 0.45f}, {0.62f, 0.25f, 0.10f}, {0.62f, 0.62f, 0.62f}};
  static const Rgb iris_palette[] = {{0.35f, 0.20f, 0.10f},
                                     {0.15f, 0.10f, 0.07f},
                                     {0.25f, 0.45f, 0.70f},
                                     {0.30f, 0.50f, 0.30f},
                                     {0.50f, 0.40f, 0.20f}};
  FaceIdentity id;
  id.face_rx = uniform_in(u, 0.48f, 0.60f);
  id.face_ry = uniform_in(u, 0.62f, 0.72f);
  id.jaw = uniform_in(u, 0.70f, 0.95f);
  id.skin = jitter(u, mix({0.98f, 0.84f, 0.72f}, {0.42f, 0.27f, 0.18f}, *u++), 0.03f);
  id.hair = jitter(u, hair_palette[std::min(5, int(*u++ * 6))], 0.04f);
  id.iris = jitter(u, iris_palette[std::min(4, int(*u++ * 5))], 0.04f);
  id.shirt = {uniform_in(u, 0.1f, 0.9f), uniform_in(u, 0.1f, 0.9f), uniform_in(u, 0.1f, 0.9f)};
  id.background_top = {uniform_in(u, 0.15f, 0.95f), uniform_in(u, 0.15f, 0.95f), uniform_in(u, 0.15f, 0.95f)};
  id.background_bottom = times(id.background_top, uniform_in(u, 0.7f, 1.0f));
  id.hair_style = std::min(4, int(*u++ * 5));
  id.eye_spacing = uniform_in(u, 0.19f, 0.25f);
  id.eye_y = uniform_in(u, -0.10f, -0.04f);
  id.eye_w = uniform_in(u, 0.09f, 0.12f);
  id.eye_h = uniform_in(u, 0.05f, 0.065f);
  id.brow_gap = uniform_in(u, 0.13f, 0.16f);
  id.brow_thickness = uniform_in(u, 0.03f, 0.05f);
  id.nose_length = uniform_in(u, 0.13f, 0.19f);
  id.mouth_y = uniform_in(u, 0.32f, 0.40f);
  id.mouth_w = uniform_in(u, 0.20f, 0.26f);
  id.expressiveness = uniform_in(u, 0.85f, 1.15f);
  // Raised brows (at most 0.16 up, half a brow thick) must stay clear of the hair in front.
  const float clearance = uniform_in(u, 0.22f, 0.30f) + (id.hair_style == 4 ? 0.05f : 0.f);
  id.hairline = id.eye_y - id.brow_gap - clearance;
  id.rotation = uniform_in(u, -0.10f, 0.10f);
  id.scale = uniform_in(u, 1.0f, 1.15f);
  id.offset_x = uniform_in(u, -0.04f, 0.04f);
  id.offset_y = uniform_in(u, -0.04f, 0.04f);
  return id;
}

engine::Image draw_face(const FaceIdentity& id, int expression, int image_size) {
  ENGINE_CHECK(expression >= 0 && expression < num_expressions, "draw_face: expression must be 0..6, got ",
               expression);
  ENGINE_CHECK(image_size >= 8, "draw_face: image_size must be >= 8, got ", image_size);
  const Expression& e = expressions[expression];
  Canvas c(id, image_size);
  c.background(id.background_top, id.background_bottom);
  if (id.hair_style == 1)
    c.paint({0.f, 0.2f}, 1.2f, id.hair, [&](Vec p) {
      return ellipse(p, {0.f, 0.2f}, id.face_rx * 1.3f, 0.95f);
    });
  c.paint({0.f, 1.1f}, 1.1f, id.shirt, [&](Vec p) { return ellipse(p, {0.f, 1.25f}, 0.95f, 0.45f); });
  c.paint({0.f, 0.8f}, 0.5f, times(id.skin, 0.85f),
          [&](Vec p) { return std::max(std::fabs(p.x) - id.face_rx * 0.42f, std::fabs(p.y - 0.8f) - 0.3f); });
  for (float side : {-1.f, 1.f}) {
    const Vec ear{side * id.face_rx * 0.97f, id.eye_y + 0.06f};
    c.paint(ear, 0.15f, times(id.skin, 0.92f), [&](Vec p) { return ellipse(p, ear, 0.07f, 0.12f); });
  }
  // Skin darkens slightly towards the edge of the face, so it does not look like a flat disc.
  c.paint(
      {0.f, 0.f}, std::max(id.face_rx, id.face_ry), 1.f, [&](Vec p) { return face_shape(p, id); },
      [&](Vec p) {
        const float r2 = (p.x * p.x) / (id.face_rx * id.face_rx) + (p.y * p.y) / (id.face_ry * id.face_ry);
        return times(id.skin, 1.f - 0.12f * std::min(1.f, r2));
      });
  draw_nose(c, id, e.nose_wrinkles);
  for (float side : {-1.f, 1.f}) {
    draw_eye(c, id, e, side);
    draw_brow(c, id, e, side);
  }
  draw_mouth(c, id, e);
  c.paint({0.f, -0.2f}, 1.f, id.hair, [&](Vec p) { return hair_cap(p, id); });
  if (id.hair_style == 4)
    c.paint({0.15f, -0.6f}, 0.3f, times(id.hair, 0.6f),
            [&](Vec p) { return std::max(std::fabs(p.x - 0.15f) - 0.006f, hair_cap(p, id) + 0.01f); });
  return c.image();
}

std::vector<uint8_t> expression_mask(const FaceIdentity& identity, int image_size, int grow) {
  ENGINE_CHECK(grow >= 0, "expression_mask: grow must be >= 0, got ", grow);
  const engine::Image neutral = draw_face(identity, expression_neutral, image_size);
  std::vector<uint8_t> mask(size_t(image_size) * image_size, 0);
  for (int e = 0; e < num_expressions; ++e) {
    if (e == expression_neutral) continue;
    const engine::Image other = draw_face(identity, e, image_size);
    for (size_t p = 0; p < mask.size(); ++p)
      for (int c = 0; c < 3; ++c) mask[p] |= other.pixels[p * 3 + c] != neutral.pixels[p * 3 + c];
  }
  for (int step = 0; step < grow; ++step) {
    std::vector<uint8_t> grown = mask;
    for (int y = 0; y < image_size; ++y)
      for (int x = 0; x < image_size; ++x)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int yy = y + dy, xx = x + dx;
            if (yy >= 0 && yy < image_size && xx >= 0 && xx < image_size &&
                mask[size_t(yy) * image_size + xx])
              grown[size_t(y) * image_size + x] = 1;
          }
    mask.swap(grown);
  }
  return mask;
}

int64_t make_faces(const MakeFacesOptions& o) {
  ENGINE_CHECK(!o.out.empty(), "make-faces: --out is required");
  ENGINE_CHECK(o.per_class > 0, "make-faces: --per_class must be positive, got ", o.per_class);
  ENGINE_CHECK(o.image_size >= 8 && o.image_size <= 4096, "make-faces: --image_size must be 8..4096, got ",
               o.image_size);
  std::vector<std::pair<std::string, int>> folders;  // (folder, expression)
  if (o.pairs) {
    folders = {{"trainA", expression_neutral}, {"trainB", expression_happy}};
  } else {
    for (int e = 0; e < num_expressions; ++e) folders.push_back({expression_codes()[e], e});
  }
  for (const auto& f : folders) {
    std::error_code error;
    std::filesystem::create_directories(std::filesystem::path(o.out) / f.first, error);
    if (error) ENGINE_FAIL("make-faces: cannot create '", o.out, "/", f.first, "': ", error.message());
  }
  const int digits = std::max(4, int(std::to_string(o.per_class - 1).size()));
  // Exceptions cannot cross an OpenMP region: the first one is kept and rethrown after it.
  std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic, 4)
  for (int i = 0; i < o.per_class; ++i) {
    try {
      const FaceIdentity id = face_identity(o.seed, i);
      char name[32];
      std::snprintf(name, sizeof(name), "%0*d.png", digits, i);
      for (const auto& f : folders)
        engine::save_png((std::filesystem::path(o.out) / f.first / name).string(),
                         draw_face(id, f.second, o.image_size));
    } catch (...) {
#pragma omp critical(make_faces_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  return int64_t(o.per_class) * int64_t(folders.size());
}

}  // namespace models::data
