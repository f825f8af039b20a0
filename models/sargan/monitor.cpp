// Training monitoring (see monitor.h): the CSV writer, sample grids, the authors' log line and the
// progress bar. The loss-curve plot and its bitmap font are in loss_plot.cpp.
#include "models/sargan/monitor.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "engine/check.h"

namespace models::sargan {

// ---- CSV ----

namespace {

std::string csv_header(const std::vector<std::string>& columns) {
  std::string header = "step";
  for (const auto& c : columns) header += "," + c;
  return header;
}

// The rows of an earlier run up to `last_step`, when its header is `header`; else none.
std::vector<std::string> rows_to_keep(const std::string& path, const std::string& header, int64_t last_step,
                                      size_t fields) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != header) return {};
  std::vector<std::string> rows;
  while (std::getline(in, line)) {
    if (size_t(std::count(line.begin(), line.end(), ',')) + 1 != fields) continue;  // cut by a kill
    char* end = nullptr;
    const long long step = std::strtoll(line.c_str(), &end, 10);
    if (end != line.c_str() && *end == ',' && step <= last_step) rows.push_back(line);
  }
  return rows;
}

}  // namespace

CsvWriter::CsvWriter(const std::string& path, std::vector<std::string> columns, int64_t resume_step)
    : path_(path), columns_(std::move(columns)) {
  for (const auto& c : columns_)
    ENGINE_CHECK(c.find_first_of(",\"\n") == std::string::npos && !c.empty(), "CsvWriter: bad column name '",
                 c, "'");
  const std::string header = csv_header(columns_);
  const std::vector<std::string> kept = resume_step >= 0
                                            ? rows_to_keep(path, header, resume_step, columns_.size() + 1)
                                            : std::vector<std::string>{};
  // The new start goes through a temporary file, so the old rows are never lost half-way.
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    if (!out) ENGINE_FAIL("cannot write metrics file '", temp, "' (is the folder writable?)");
    out << header << "\n";
    for (const auto& row : kept) out << row << "\n";
    out.flush();
    if (!out) ENGINE_FAIL("cannot write metrics file '", temp, "'");
  }
  std::error_code error;
  std::filesystem::rename(temp, path, error);
  if (error) ENGINE_FAIL("cannot rename '", temp, "' to '", path, "': ", error.message());
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) ENGINE_FAIL("cannot open metrics file '", path, "' for appending");
}

CsvWriter::~CsvWriter() {
  if (file_) std::fclose(file_);
}

void CsvWriter::write_row(int64_t step, const std::vector<double>& values) {
  ENGINE_CHECK(values.size() == columns_.size(), "CsvWriter: ", values.size(), " values for ",
               columns_.size(), " columns");
  std::string row = std::to_string(step);
  char number[40];
  for (double v : values) {
    std::snprintf(number, sizeof(number), ",%.9g", v);
    row += number;
  }
  row += "\n";
  if (std::fputs(row.c_str(), file_) < 0 || std::fflush(file_) != 0)
    ENGINE_FAIL("cannot append to metrics file '", path_, "' (disk full?)");
}

// ---- sample grids ----

engine::Image sample_grid(const std::vector<engine::Tensor>& columns) {
  ENGINE_CHECK(!columns.empty(), "sample_grid: no columns");
  const engine::Shape shape = columns[0].shape();
  ENGINE_CHECK(shape.size() == 4 && shape[1] == 3 && shape[0] >= 1,
               "sample_grid: need [N,3,S,S] tensors, got ", engine::shape_str(shape));
  const int64_t n = shape[0], h = shape[2], w = shape[3];
  engine::Image grid(int(w * int64_t(columns.size())), int(n * h), 3);
  for (size_t col = 0; col < columns.size(); ++col) {
    ENGINE_CHECK(columns[col].shape() == shape, "sample_grid: column ", col, " has shape ",
                 engine::shape_str(columns[col].shape()), ", column 0 ", engine::shape_str(shape));
    const std::vector<float> v = columns[col].to_vector();
    for (int64_t s = 0; s < n; ++s)
      for (int c = 0; c < 3; ++c)
        for (int64_t y = 0; y < h; ++y)
          for (int64_t x = 0; x < w; ++x) {
            const float x01 = std::clamp((v[((s * 3 + c) * h + y) * w + x] + 1.f) / 2.f, 0.f, 1.f);
            grid.at(int(s * h + y), int(col * w + x), c) =
                uint8_t(std::clamp(x01 * 255.f + 0.5f, 0.f, 255.f));
          }
  }
  return grid;
}

void save_sample_grid(const std::string& path, const std::vector<engine::Tensor>& columns) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".jpg" || ext == ".jpeg")
    engine::save_jpeg(path, sample_grid(columns), 95);
  else if (ext == ".png")
    engine::save_png(path, sample_grid(columns));
  else
    ENGINE_FAIL("sample grid '", path, "': the name must end in .jpg, .jpeg or .png");
}

// ---- log line ----

std::string format_elapsed(double seconds) {
  const int64_t s = int64_t(std::floor(std::max(0.0, seconds)));
  const int64_t days = s / 86400, rest = s % 86400;
  char hms[32];
  std::snprintf(hms, sizeof(hms), "%d:%02d:%02d", int(rest / 3600), int(rest / 60 % 60), int(rest % 60));
  if (days == 0) return hms;
  return std::to_string(days) + (days == 1 ? " day, " : " days, ") + hms;
}

std::string format_log_line(double elapsed_seconds, int64_t iteration, int64_t total,
                            const NamedValues& losses) {
  std::string line = "Elapsed [" + format_elapsed(elapsed_seconds) + "], Iteration [" +
                     std::to_string(iteration) + "/" + std::to_string(total) + "]";
  char value[48];
  for (const auto& [name, v] : losses) {
    std::snprintf(value, sizeof(value), "%.4f", v);
    line += ", " + name + ": " + value;
  }
  return line;
}

// ---- progress bar ----

ProgressBar::ProgressBar(int64_t total, ProgressOptions options)
    : total_(total), options_(std::move(options)) {
  ENGINE_CHECK(total_ >= 1, "ProgressBar: total must be >= 1, got ", total_);
  ENGINE_CHECK(options_.out != nullptr, "ProgressBar: no output stream");
  if (options_.mode == ProgressOptions::Mode::automatic)
    redraw_ = isatty(fileno(options_.out)) == 1;
  else
    redraw_ = options_.mode == ProgressOptions::Mode::redraw;
}

double ProgressBar::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string ProgressBar::render(int64_t iteration, double t) const {
  const double fraction = std::clamp(double(iteration) / double(total_), 0.0, 1.0);
  constexpr int bar_width = 20;
  const int filled = int(fraction * bar_width);
  std::string text = "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
  char part[96];
  std::snprintf(part, sizeof(part), "%lld/%lld %.1f%%", (long long)iteration, (long long)total_,
                100.0 * fraction);
  text += part;
  const double elapsed = t - start_time_;
  const int64_t done = iteration - first_iteration_;
  if (started_ && done > 0 && elapsed > 0) {
    const double rate = double(done) / elapsed;
    std::snprintf(part, sizeof(part), " %.3g it/s ETA %s", rate,
                  format_elapsed(double(std::max<int64_t>(0, total_ - iteration)) / rate).c_str());
    text += part;
  }
  const size_t shown = std::min(losses_.size(), size_t(std::max(0, options_.max_losses)));
  for (size_t i = 0; i < shown; ++i) {
    std::snprintf(part, sizeof(part), " %s %.4g", losses_[i].first.c_str(), losses_[i].second);
    text += part;
  }
  return text;
}

namespace {

// Columns of the terminal behind `out`; 0 when unknown.
int terminal_columns(std::FILE* out) {
  winsize size{};
  if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

}  // namespace

void ProgressBar::draw(const std::string& text) {
  if (redraw_) {
    // A bar wider than the terminal would wrap, and '\r' would then rewrite only its last row.
    const int columns = terminal_columns(options_.out);
    const std::string shown = columns > 1 ? text.substr(0, size_t(columns - 1)) : text;
    std::fprintf(options_.out, "\r%s\x1b[K", shown.c_str());  // \x1b[K clears the rest of the old bar
    bar_visible_ = true;
  } else {
    std::fprintf(options_.out, "%s\n", text.c_str());
  }
  std::fflush(options_.out);
}

void ProgressBar::update(int64_t iteration, const NamedValues& losses) {
  const double t = now();
  if (!started_) {
    started_ = true;
    first_iteration_ = iteration;
    start_time_ = t;
    last_output_ = t - std::max(options_.redraw_interval, options_.line_interval);  // draw the first update
  }
  last_iteration_ = iteration;
  if (!losses.empty()) losses_ = losses;
  const double interval = redraw_ ? options_.redraw_interval : options_.line_interval;
  if (t - last_output_ < interval && iteration < total_) return;
  last_output_ = t;
  draw(render(iteration, t));
}

void ProgressBar::print(const std::string& line) {
  if (redraw_ && bar_visible_) {
    std::fprintf(options_.out, "\r\x1b[K%s\n", line.c_str());
    bar_visible_ = false;
    if (started_) draw(render(last_iteration_, now()));
  } else {
    std::fprintf(options_.out, "%s\n", line.c_str());
    std::fflush(options_.out);
  }
}

void ProgressBar::finish() {
  if (redraw_ && bar_visible_) {
    draw(render(last_iteration_, now()));
    std::fprintf(options_.out, "\n");
    std::fflush(options_.out);
    bar_visible_ = false;
  }
}

}  // namespace models::sargan
