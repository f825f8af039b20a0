// The loss-curve plot (see monitor.h), drawn without any plotting library: a 5x8 bitmap font for
// the labels, anti-aliased lines from the distance of each pixel to the segment, "nice" ticks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "engine/check.h"
#include "models/monitor/monitor.h"

namespace models::monitor {

namespace {

// ASCII 32..126, five columns per glyph, bit 0 the top row, bit 7 the descender row: the classic
// public-domain 5x7 LCD font (descenders moved down one row for g, j, p, q, y and the comma).
// clang-format off
const uint8_t font5x8[95][5] = {
    {0x00, 0x00, 0x00, 0x00, 0x00}, {0x00, 0x00, 0x5F, 0x00, 0x00}, {0x00, 0x07, 0x00, 0x07, 0x00},
    {0x14, 0x7F, 0x14, 0x7F, 0x14}, {0x24, 0x2A, 0x7F, 0x2A, 0x12}, {0x23, 0x13, 0x08, 0x64, 0x62},
    {0x36, 0x49, 0x55, 0x22, 0x50}, {0x00, 0x05, 0x03, 0x00, 0x00}, {0x00, 0x1C, 0x22, 0x41, 0x00},
    {0x00, 0x41, 0x22, 0x1C, 0x00}, {0x14, 0x08, 0x3E, 0x08, 0x14}, {0x08, 0x08, 0x3E, 0x08, 0x08},
    {0x00, 0xA0, 0x60, 0x00, 0x00}, {0x08, 0x08, 0x08, 0x08, 0x08}, {0x00, 0x60, 0x60, 0x00, 0x00},
    {0x20, 0x10, 0x08, 0x04, 0x02}, {0x3E, 0x51, 0x49, 0x45, 0x3E}, {0x00, 0x42, 0x7F, 0x40, 0x00},
    {0x42, 0x61, 0x51, 0x49, 0x46}, {0x21, 0x41, 0x45, 0x4B, 0x31}, {0x18, 0x14, 0x12, 0x7F, 0x10},
    {0x27, 0x45, 0x45, 0x45, 0x39}, {0x3C, 0x4A, 0x49, 0x49, 0x30}, {0x01, 0x71, 0x09, 0x05, 0x03},
    {0x36, 0x49, 0x49, 0x49, 0x36}, {0x06, 0x49, 0x49, 0x29, 0x1E}, {0x00, 0x36, 0x36, 0x00, 0x00},
    {0x00, 0x56, 0x36, 0x00, 0x00}, {0x08, 0x14, 0x22, 0x41, 0x00}, {0x14, 0x14, 0x14, 0x14, 0x14},
    {0x00, 0x41, 0x22, 0x14, 0x08}, {0x02, 0x01, 0x51, 0x09, 0x06}, {0x32, 0x49, 0x79, 0x41, 0x3E},
    {0x7E, 0x11, 0x11, 0x11, 0x7E}, {0x7F, 0x49, 0x49, 0x49, 0x36}, {0x3E, 0x41, 0x41, 0x41, 0x22},
    {0x7F, 0x41, 0x41, 0x22, 0x1C}, {0x7F, 0x49, 0x49, 0x49, 0x41}, {0x7F, 0x09, 0x09, 0x09, 0x01},
    {0x3E, 0x41, 0x49, 0x49, 0x7A}, {0x7F, 0x08, 0x08, 0x08, 0x7F}, {0x00, 0x41, 0x7F, 0x41, 0x00},
    {0x20, 0x40, 0x41, 0x3F, 0x01}, {0x7F, 0x08, 0x14, 0x22, 0x41}, {0x7F, 0x40, 0x40, 0x40, 0x40},
    {0x7F, 0x02, 0x0C, 0x02, 0x7F}, {0x7F, 0x04, 0x08, 0x10, 0x7F}, {0x3E, 0x41, 0x41, 0x41, 0x3E},
    {0x7F, 0x09, 0x09, 0x09, 0x06}, {0x3E, 0x41, 0x51, 0x21, 0x5E}, {0x7F, 0x09, 0x19, 0x29, 0x46},
    {0x46, 0x49, 0x49, 0x49, 0x31}, {0x01, 0x01, 0x7F, 0x01, 0x01}, {0x3F, 0x40, 0x40, 0x40, 0x3F},
    {0x1F, 0x20, 0x40, 0x20, 0x1F}, {0x3F, 0x40, 0x38, 0x40, 0x3F}, {0x63, 0x14, 0x08, 0x14, 0x63},
    {0x07, 0x08, 0x70, 0x08, 0x07}, {0x61, 0x51, 0x49, 0x45, 0x43}, {0x00, 0x7F, 0x41, 0x41, 0x00},
    {0x02, 0x04, 0x08, 0x10, 0x20}, {0x00, 0x41, 0x41, 0x7F, 0x00}, {0x04, 0x02, 0x01, 0x02, 0x04},
    {0x40, 0x40, 0x40, 0x40, 0x40}, {0x00, 0x01, 0x02, 0x04, 0x00}, {0x20, 0x54, 0x54, 0x54, 0x78},
    {0x7F, 0x48, 0x44, 0x44, 0x38}, {0x38, 0x44, 0x44, 0x44, 0x20}, {0x38, 0x44, 0x44, 0x48, 0x7F},
    {0x38, 0x54, 0x54, 0x54, 0x18}, {0x08, 0x7E, 0x09, 0x01, 0x02}, {0x18, 0xA4, 0xA4, 0xA4, 0x7C},
    {0x7F, 0x08, 0x04, 0x04, 0x78}, {0x00, 0x44, 0x7D, 0x40, 0x00}, {0x40, 0x80, 0x84, 0x7D, 0x00},
    {0x7F, 0x10, 0x28, 0x44, 0x00}, {0x00, 0x41, 0x7F, 0x40, 0x00}, {0x7C, 0x04, 0x18, 0x04, 0x78},
    {0x7C, 0x08, 0x04, 0x04, 0x78}, {0x38, 0x44, 0x44, 0x44, 0x38}, {0xFC, 0x24, 0x24, 0x24, 0x18},
    {0x18, 0x24, 0x24, 0x24, 0xFC}, {0x7C, 0x08, 0x04, 0x04, 0x08}, {0x48, 0x54, 0x54, 0x54, 0x20},
    {0x04, 0x3F, 0x44, 0x40, 0x20}, {0x3C, 0x40, 0x40, 0x20, 0x7C}, {0x1C, 0x20, 0x40, 0x20, 0x1C},
    {0x3C, 0x40, 0x30, 0x40, 0x3C}, {0x44, 0x28, 0x10, 0x28, 0x44}, {0x1C, 0xA0, 0xA0, 0xA0, 0x7C},
    {0x44, 0x64, 0x54, 0x4C, 0x44}, {0x00, 0x08, 0x36, 0x41, 0x00}, {0x00, 0x00, 0x7F, 0x00, 0x00},
    {0x00, 0x41, 0x36, 0x08, 0x00}, {0x08, 0x04, 0x08, 0x10, 0x08},
};
// clang-format on

struct Colour {
  uint8_t rgb[3];
};
// Tableau's ten categorical colours: distinguishable, also in grey print.
const Colour palette[] = {{{31, 119, 180}},  {{255, 127, 14}}, {{44, 160, 44}},   {{214, 39, 40}},
                          {{148, 103, 189}}, {{140, 86, 75}},  {{227, 119, 194}}, {{127, 127, 127}},
                          {{188, 189, 34}},  {{23, 190, 207}}};
const Colour black{{0, 0, 0}}, grid_grey{{225, 225, 225}}, white{{255, 255, 255}};

void blend(engine::Image& im, int x, int y, const uint8_t rgb[3], float a) {
  if (x < 0 || y < 0 || x >= im.width || y >= im.height || a <= 0.f) return;
  for (int c = 0; c < 3; ++c)
    im.at(y, x, c) = uint8_t(std::lrint(im.at(y, x, c) + (rgb[c] - im.at(y, x, c)) * a));
}

void fill_rect(engine::Image& im, int x0, int y0, int x1, int y1, const Colour& colour) {
  for (int y = std::max(0, y0); y < std::min(im.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(im.width, x1); ++x) blend(im, x, y, colour.rgb, 1.f);
}

struct Rect {
  int x0, y0, x1, y1;  // [x0, x1) x [y0, y1)
};

// A 1.6-pixel-wide line with coverage from the distance to the segment, clipped to `clip`.
void draw_segment(engine::Image& im, double ax, double ay, double bx, double by, const Colour& colour,
                  const Rect& clip) {
  constexpr double half_width = 0.8;
  const int x0 = std::max(clip.x0, int(std::floor(std::min(ax, bx) - 2))),
            x1 = std::min(clip.x1 - 1, int(std::ceil(std::max(ax, bx) + 2)));
  const int y0 = std::max(clip.y0, int(std::floor(std::min(ay, by) - 2))),
            y1 = std::min(clip.y1 - 1, int(std::ceil(std::max(ay, by) + 2)));
  const double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double px = x + 0.5 - ax, py = y + 0.5 - ay;
      const double h = len2 > 0 ? std::clamp((px * dx + py * dy) / len2, 0.0, 1.0) : 0.0;
      const double d = std::hypot(px - h * dx, py - h * dy);
      const float coverage = float(std::clamp(half_width + 0.5 - d, 0.0, 1.0));
      if (coverage > 0.f) blend(im, x, y, colour.rgb, coverage);
    }
}

// Ticks at multiples of 1, 2 or 5 x 10^k, about `target` of them over [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target) {
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string tick_label(double v) {
  char text[32];
  if (std::fabs(v) >= 1e6 || (v != 0 && std::fabs(v) < 1e-3))
    std::snprintf(text, sizeof(text), "%.2g", v);
  else
    std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

// The y range: 1st..99th percentile of the finite values, padded by 5%.
std::pair<double, double> value_range(const LossPanel& panel) {
  std::vector<double> all;
  for (const auto& s : panel.series)
    for (double v : s.values)
      if (std::isfinite(v)) all.push_back(v);
  if (all.empty()) return {-1.0, 1.0};
  std::sort(all.begin(), all.end());
  const size_t cut = all.size() >= 100 ? all.size() / 100 : 0;
  double lo = all[cut], hi = all[all.size() - 1 - cut];
  if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) lo -= 1.0, hi += 1.0;
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

std::pair<double, double> step_range(const std::vector<LossPanel>& panels) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& p : panels)
    for (const auto& s : p.series)
      for (double x : s.steps) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!std::isfinite(lo)) return {0.0, 1.0};
  if (hi <= lo) hi = lo + 1.0;
  return {lo, hi};
}

void draw_panel(engine::Image& im, const LossPanel& panel, const Rect& area, std::pair<double, double> xr) {
  const Rect plot{area.x0 + 70, area.y0 + 28, area.x1 - 170, area.y1 - 30};
  const std::pair<double, double> y_range = value_range(panel);
  const double y_lo = y_range.first, y_hi = y_range.second;  // not a structured binding: clang 14's lambdas cannot capture one
  auto px = [&](double x) {
    return plot.x0 + (x - xr.first) / (xr.second - xr.first) * (plot.x1 - 1 - plot.x0);
  };
  auto py = [&](double y) { return plot.y1 - 1 - (y - y_lo) / (y_hi - y_lo) * (plot.y1 - 1 - plot.y0); };
  fill_rect(im, plot.x0, plot.y0, plot.x1, plot.y1, white);
  draw_text(im, plot.x0, area.y0 + 6, panel.title, black.rgb, 2);
  for (double t : nice_ticks(y_lo, y_hi, 6)) {
    const int y = int(std::lrint(py(t)));
    fill_rect(im, plot.x0, y, plot.x1, y + 1, grid_grey);
    fill_rect(im, plot.x0 - 4, y, plot.x0, y + 1, black);
    const std::string label = tick_label(t);
    draw_text(im, plot.x0 - 7 - 6 * int(label.size()), y - 4, label, black.rgb);
  }
  for (double t : nice_ticks(xr.first, xr.second, 8)) {
    const int x = int(std::lrint(px(t)));
    fill_rect(im, x, plot.y0, x + 1, plot.y1, grid_grey);
    fill_rect(im, x, plot.y1, x + 1, plot.y1 + 4, black);
    const std::string label = tick_label(t);
    draw_text(im, x - 3 * int(label.size()), plot.y1 + 7, label, black.rgb);
  }
  draw_text(im, plot.x1 - 24, plot.y1 + 18, "step", black.rgb);
  fill_rect(im, plot.x0, plot.y0, plot.x0 + 1, plot.y1, black);
  fill_rect(im, plot.x0, plot.y1 - 1, plot.x1, plot.y1, black);
  for (size_t s = 0; s < panel.series.size(); ++s) {
    const LossSeries& series = panel.series[s];
    const Colour& colour = palette[s % std::size(palette)];
    ENGINE_CHECK(series.steps.size() == series.values.size(), "render_loss_plot: series '", series.name,
                 "' has ", series.steps.size(), " steps and ", series.values.size(), " values");
    for (size_t i = 1; i < series.values.size(); ++i)
      if (std::isfinite(series.values[i - 1]) && std::isfinite(series.values[i]))
        draw_segment(im, px(series.steps[i - 1]), py(series.values[i - 1]), px(series.steps[i]),
                     py(series.values[i]), colour, plot);
    const int ly = plot.y0 + 6 + 14 * int(s);
    fill_rect(im, plot.x1 + 10, ly + 3, plot.x1 + 26, ly + 5, colour);
    draw_text(im, plot.x1 + 30, ly, series.name, black.rgb);
  }
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.push_back("");
  return fields;
}

}  // namespace

int draw_text(engine::Image& image, int x, int y, const std::string& text, const uint8_t rgb[3], int scale) {
  int advance = 0;
  for (unsigned char ch : text) {
    const uint8_t* glyph = font5x8[(ch >= 32 && ch <= 126 ? ch : '?') - 32];
    for (int col = 0; col < 5; ++col)
      for (int row = 0; row < 8; ++row)
        if (glyph[col] >> row & 1)
          for (int sy = 0; sy < scale; ++sy)
            for (int sx = 0; sx < scale; ++sx)
              blend(image, x + advance + col * scale + sx, y + row * scale + sy, rgb, 1.f);
    advance += 6 * scale;
  }
  return advance;
}

engine::Image render_loss_plot(const std::vector<LossPanel>& panels, int width, int panel_height) {
  ENGINE_CHECK(width >= 320 && panel_height >= 120,
               "render_loss_plot: the image must be at least 320 x 120, got ", width, " x ", panel_height);
  const int count = std::max<int>(1, int(panels.size()));
  engine::Image im(width, panel_height * count, 3);
  std::fill(im.pixels.begin(), im.pixels.end(), uint8_t(246));
  const auto xr = step_range(panels);
  for (size_t p = 0; p < panels.size(); ++p)
    draw_panel(im, panels[p], {0, int(p) * panel_height, width, int(p + 1) * panel_height}, xr);
  return im;
}

std::vector<LossPanel> read_loss_csv(const std::string& csv_path) {
  std::ifstream in(csv_path);
  if (!in) ENGINE_FAIL("cannot read metrics file '", csv_path, "'");
  std::string line;
  if (!std::getline(in, line)) ENGINE_FAIL("metrics file '", csv_path, "' is empty");
  const std::vector<std::string> header = split_csv_line(line);
  std::vector<LossPanel> panels;
  std::map<std::string, size_t> panel_of;
  std::vector<std::pair<size_t, size_t>> where(header.size(), {SIZE_MAX, 0});  // column -> (panel, series)
  for (size_t c = 1; c < header.size(); ++c) {
    if (header[c].find("loss") == std::string::npos) continue;
    const size_t slash = header[c].find('/');
    const std::string title = slash == std::string::npos ? "loss" : header[c].substr(0, slash);
    if (!panel_of.count(title)) panel_of[title] = panels.size(), panels.push_back({title, {}});
    LossPanel& panel = panels[panel_of[title]];
    where[c] = {panel_of[title], panel.series.size()};
    panel.series.push_back({header[c], {}, {}});
  }
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = split_csv_line(line);
    if (fields.size() != header.size()) continue;
    const double step = std::strtod(fields[0].c_str(), nullptr);
    for (size_t c = 1; c < fields.size(); ++c) {
      if (where[c].first == SIZE_MAX) continue;
      LossSeries& s = panels[where[c].first].series[where[c].second];
      s.steps.push_back(step);
      s.values.push_back(std::strtod(fields[c].c_str(), nullptr));
    }
  }
  return panels;
}

void plot_loss_csv(const std::string& csv_path, const std::string& png_path, int width, int panel_height) {
  engine::save_png(png_path, render_loss_plot(read_loss_csv(csv_path), width, panel_height));
}

}  // namespace models::monitor
