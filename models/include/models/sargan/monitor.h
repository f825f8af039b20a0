#pragma once
// What a training run shows and leaves behind: a CSV of the logged losses, a loss-curve plot drawn
// by the project itself (PNG), sample grids like the authors' `<step>-images.jpg`, the authors'
// log line, and a progress bar for stderr. Each piece is independent of the trainer so that it
// can be tested (and reused) alone.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/image.h"
#include "engine/tensor.h"

namespace models::sargan {

using NamedValues = std::vector<std::pair<std::string, double>>;

// ---- CSV metrics ----

// One row per logged step: `step,<column>,...` with the values printed exactly enough to read
// back as the same float ("%.9g"), each row flushed so a killed run keeps every logged row.
class CsvWriter {
 public:
  // columns: the value columns (the leading "step" column is added). Starts a new file, or with
  // resume_step >= 0 and an existing file with the same header, keeps its rows up to resume_step
  // (rewritten through a temporary file and a rename) and appends after them, so a resumed run
  // has one row per step.
  CsvWriter(const std::string& path, std::vector<std::string> columns, int64_t resume_step = -1);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // values.size() must equal the number of columns.
  void write_row(int64_t step, const std::vector<double>& values);
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_ = nullptr;
};

// ---- loss curves ----

struct LossSeries {
  std::string name;
  std::vector<double> steps, values;  // same length; non-finite values are left out of the line
};
struct LossPanel {
  std::string title;
  std::vector<LossSeries> series;
};

// The panels stacked vertically, each with axes, "nice" ticks labelled in a built-in 5x8 bitmap
// font, one coloured line per series and a legend. The y range covers the 1st..99th percentile of
// the values (so one early spike does not flatten the rest); lines are clipped to the plot area.
// width >= 320, panel_height >= 120.
engine::Image render_loss_plot(const std::vector<LossPanel>& panels, int width = 960, int panel_height = 300);

// The loss columns of a CsvWriter file (names containing "loss"), one panel per prefix before '/'
// ("D/loss_real" -> panel "D"; no prefix -> panel "loss"). Rows with the wrong field count (a
// line cut by a kill) are skipped. Throws engine::Error when the file cannot be read.
std::vector<LossPanel> read_loss_csv(const std::string& csv_path);

// read_loss_csv + render_loss_plot + engine::save_png (atomic).
void plot_loss_csv(const std::string& csv_path, const std::string& png_path, int width = 960,
                   int panel_height = 300);

// Draws ASCII text (other bytes show as '?') with its top-left corner at (x, y), each font pixel
// a scale x scale block; clipped at the image border. Returns the advance: 6 * scale per character.
int draw_text(engine::Image& image, int x, int y, const std::string& text, const uint8_t rgb[3],
              int scale = 1);

// ---- sample grids ----

// columns: tensors [N, 3, S, S] of the same shape, values in [-1, 1] (the input batch, then the
// translation to each target). Row n holds sample n of every column side by side, no padding,
// converted as the authors' denorm + torchvision save_image: clamp((x + 1) / 2, 0, 1) * 255 + 0.5,
// truncated.
engine::Image sample_grid(const std::vector<engine::Tensor>& columns);
// sample_grid written atomically as JPEG (.jpg/.jpeg, quality 95) or PNG (.png) by extension.
void save_sample_grid(const std::string& path, const std::vector<engine::Tensor>& columns);

// ---- log line ----

// Python's str(datetime.timedelta(seconds=s)) without the microseconds: "0:01:05", "1 day, 2:03:04".
std::string format_elapsed(double seconds);
// The authors' line: "Elapsed [0:01:05], Iteration [10/200000], D/loss_real: -1.2345, ..." (4 decimals).
std::string format_log_line(double elapsed_seconds, int64_t iteration, int64_t total,
                            const NamedValues& losses);

// ---- progress bar ----

struct ProgressOptions {
  std::FILE* out = stderr;
  enum class Mode { automatic, redraw, lines };
  Mode mode = Mode::automatic;    // automatic: redraw when `out` is a terminal, else lines
  double redraw_interval = 0.1;   // seconds between redraws on a terminal
  double line_interval = 30.0;    // seconds between lines otherwise
  int max_losses = 4;             // how many of the latest losses to show
  std::function<double()> clock;  // seconds; a steady clock when empty (tests pass their own)
};

// "[#####.....] 1234/200000 0.6% 12.3 it/s ETA 4:31:02 D/loss_real -1.234 ...". The rate counts
// iterations since the first update (a resumed run starts at its resume step). On a terminal the
// bar is redrawn in place with '\r' (cut to the terminal's width so it never wraps); otherwise one
// line is printed every line_interval seconds and at the last iteration, so logs stay short.
class ProgressBar {
 public:
  ProgressBar(int64_t total, ProgressOptions options = {});
  void update(int64_t iteration, const NamedValues& losses = {});
  // Prints a line (e.g. the log line) without mangling the bar: cleared first, redrawn after.
  void print(const std::string& line);
  // Ends the bar's line on a terminal.
  void finish();
  std::string render(int64_t iteration, double now) const;
  bool redraws() const { return redraw_; }

 private:
  double now() const;
  void draw(const std::string& text);

  int64_t total_;
  ProgressOptions options_;
  bool redraw_;
  bool started_ = false;
  int64_t first_iteration_ = 0;
  double start_time_ = 0, last_output_ = 0;
  int64_t last_iteration_ = 0;
  NamedValues losses_;
  bool bar_visible_ = false;
};

}  // namespace models::sargan
