#pragma once
// What a training run shows and leaves behind: a CSV of the logged losses, a loss-curve plot drawn
// by the project itself (PNG), sample grids like the authors' `<step>-images.jpg`, the authors'
// log line, and the losses shown on the progress bar (models/monitor/progress_bar.h draws it). Each piece
// is independent of the trainer so that it can be tested (and reused) alone.
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "engine/image.h"
#include "engine/tensor.h"
#include "models/monitor/progress_bar.h"

namespace models::monitor {

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

// The authors' line: "Elapsed [0:01:05], Iteration [10/200000], D/loss_real: -1.2345, ..." (4 decimals).
std::string format_log_line(double elapsed_seconds, int64_t iteration, int64_t total,
                            const NamedValues& losses);

// ---- progress bar ----

// The trailing text of the training bar (models/monitor/progress_bar.h): the first `count` losses as
// "D/loss_real -1.234 D/loss_fake 0.5" ("%.4g").
std::string progress_losses(const NamedValues& losses, size_t count = 4);

}  // namespace models::monitor
