// Training monitoring (see monitor.h): the CSV writer, sample grids, the authors' log line and the
// progress bar's losses. The loss-curve plot and its bitmap font are in loss_plot.cpp.
#include "models/monitor/monitor.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "engine/check.h"

namespace models::monitor {

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

std::string progress_losses(const NamedValues& losses, size_t count) {
  std::string text;
  char part[96];
  for (size_t i = 0; i < std::min(count, losses.size()); ++i) {
    std::snprintf(part, sizeof(part), "%s%s %.4g", i ? " " : "", losses[i].first.c_str(), losses[i].second);
    text += part;
  }
  return text;
}

}  // namespace models::monitor
