// Training monitoring: CSV contents and resume, the loss plot PNG, sample grids, the authors' log
// line and the progress bar's losses (the bar itself: progress_bar_test.cpp).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/image.h"
#include "models/monitor/monitor.h"

namespace fs = std::filesystem;
using namespace models::monitor;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("monitor_test_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("monitor: CSV rows are flushed as written and a resume keeps the rows up to its step",
          "[monitor]") {
  const fs::path dir = fresh_dir("csv");
  const std::string path = (dir / "metrics.csv").string();
  {
    CsvWriter csv(path, {"D/loss_real", "G/loss_rec"});
    csv.write_row(10, {-1.5, 0.25});
    csv.write_row(20, {double(0.1f), 1e-10});  // a float loss reads back as the same float
    // Flushed: visible before the writer closes.
    CHECK(read_text(path) == "step,D/loss_real,G/loss_rec\n10,-1.5,0.25\n20,0.100000001,1e-10\n");
    csv.write_row(30, {NAN, 3.0});
    CHECK_THROWS_WITH(csv.write_row(40, {1.0}), Catch::Contains("1 values for 2 columns"));
  }
  CHECK(read_text(path) == "step,D/loss_real,G/loss_rec\n10,-1.5,0.25\n20,0.100000001,1e-10\n30,nan,3\n");
  {
    CsvWriter resumed(path, {"D/loss_real", "G/loss_rec"}, 20);
    resumed.write_row(30, {7.0, 8.0});
  }
  CHECK(read_text(path) == "step,D/loss_real,G/loss_rec\n10,-1.5,0.25\n20,0.100000001,1e-10\n30,7,8\n");
  {
    CsvWriter other(path, {"other"}, 20);  // a different header: a new file
  }
  CHECK(read_text(path) == "step,other\n");
  CHECK_THROWS_WITH(CsvWriter(path, {"a,b"}), Catch::Contains("bad column name"));
  fs::remove_all(dir);
}

TEST_CASE("monitor: the loss plot is a PNG of the expected size with every series drawn", "[monitor]") {
  const fs::path dir = fresh_dir("plot");
  const std::string csv_path = (dir / "metrics.csv").string(), png = (dir / "loss.png").string();
  {
    CsvWriter csv(csv_path, {"D/loss_real", "D/loss_gp", "G/loss_rec", "lr"});
    for (int step = 10; step <= 1000; step += 10)
      csv.write_row(step, {-5.0 + step / 200.0, std::sin(step / 50.0), 1.0 / step, 1e-4});
  }
  std::ofstream(csv_path, std::ios::app) << "1010,1.5";  // a row cut by a kill is skipped
  const std::vector<LossPanel> panels = read_loss_csv(csv_path);
  REQUIRE(panels.size() == 2);
  CHECK(panels[0].title == "D");
  REQUIRE(panels[0].series.size() == 2);
  CHECK(panels[0].series[1].name == "D/loss_gp");
  CHECK(panels[0].series[0].values.size() == 100);
  CHECK(panels[1].series.size() == 1);  // "lr" is not a loss

  plot_loss_csv(csv_path, png, 640, 200);
  const engine::Image image = engine::load_image(png, 3);
  CHECK(image.width == 640);
  CHECK(image.height == 400);
  // Series colours (tab10 blue, orange) and black text/axes are all present; the first panel's
  // two lines span the plot, so each colours more pixels than a legend swatch (16 x 2).
  auto count = [&](int r, int g, int b, int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = 0; x < image.width; ++x)
        n += std::abs(image.at(y, x, 0) - r) + std::abs(image.at(y, x, 1) - g) +
                 std::abs(image.at(y, x, 2) - b) <
             30;
    return n;
  };
  CHECK(count(31, 119, 180, 0, 200) > 200);
  CHECK(count(255, 127, 14, 0, 200) > 200);
  CHECK(count(31, 119, 180, 200, 400) > 200);
  CHECK(count(255, 127, 14, 200, 400) < 5);  // the G panel has one series
  CHECK(count(0, 0, 0, 0, 400) > 500);
  fs::remove_all(dir);
}

TEST_CASE("monitor: text is drawn from the bitmap font and clipped", "[monitor]") {
  engine::Image image(40, 12, 3);
  const uint8_t white[3] = {255, 255, 255};
  CHECK(draw_text(image, 1, 1, "1-", white) == 12);
  // '1': a vertical bar of 7 pixels, a foot of 2 and a flag of 1; '-': 5 pixels in row 3.
  int lit = 0;
  for (int y = 0; y < 12; ++y)
    for (int x = 0; x < 40; ++x) lit += image.at(y, x, 0) == 255;
  CHECK(lit == 10 + 5);
  for (int x = 7; x < 12; ++x) CHECK(image.at(1 + 3, x, 1) == 255);
  CHECK(draw_text(image, 35, 8, "WWWW", white, 2) == 48);  // mostly outside: clipped, no crash
}

TEST_CASE("monitor: sample grids convert as denorm + save_image and lay out rows and columns", "[monitor]") {
  // Column k holds the constant value v_k for sample 0 and -v_k for sample 1.
  const std::vector<float> values = {-1.f, 0.f, 0.2f, 1.5f};
  std::vector<engine::Tensor> columns;
  for (float v : values) {
    std::vector<float> data(2 * 3 * 4 * 4, v);
    std::fill(data.begin() + 48, data.end(), -v);
    columns.push_back(engine::Tensor::from_vector(data, {2, 3, 4, 4}));
  }
  const engine::Image grid = sample_grid(columns);
  CHECK(grid.width == 16);
  CHECK(grid.height == 8);
  // torchvision: clamp((x + 1) / 2) * 255 + 0.5, truncated: -1 -> 0, 0 -> 128, 0.2 -> 153, 1.5 -> 255.
  const int top[] = {0, 128, 153, 255}, bottom[] = {255, 128, 102, 0};
  for (int k = 0; k < 4; ++k) {
    CHECK(int(grid.at(1, 4 * k + 2, 0)) == top[k]);
    CHECK(int(grid.at(6, 4 * k + 1, 2)) == bottom[k]);
  }
  const fs::path dir = fresh_dir("grid");
  save_sample_grid((dir / "100-images.png").string(), columns);
  CHECK(engine::load_image((dir / "100-images.png").string(), 3).pixels == grid.pixels);
  save_sample_grid((dir / "100-images.jpg").string(), columns);
  const engine::Image jpeg = engine::load_image((dir / "100-images.jpg").string(), 3);
  CHECK(jpeg.width == 16);
  CHECK(jpeg.height == 8);
  CHECK_THROWS_WITH(save_sample_grid((dir / "x.gif").string(), columns), Catch::Contains(".jpg"));
  columns[1] = engine::Tensor::zeros({1, 3, 4, 4});
  CHECK_THROWS_WITH(sample_grid(columns), Catch::Contains("column 1"));
  fs::remove_all(dir);
}

TEST_CASE("monitor: elapsed time and the log line are formatted as the authors' Python", "[monitor]") {
  // str(datetime.timedelta(seconds=s))[:-7] for s with a fractional part.
  CHECK(format_elapsed(65.4) == "0:01:05");
  CHECK(format_elapsed(36000.9) == "10:00:00");
  CHECK(format_elapsed(86400 + 3723.5) == "1 day, 1:02:03");
  CHECK(format_elapsed(2 * 86400 + 0.2) == "2 days, 0:00:00");
  // "Elapsed [{}], Iteration [{}/{}]".format(...) + ", {}: {:.4f}".format(tag, value) per loss.
  CHECK(format_log_line(65.4, 10, 200000, {{"D/loss_real", -1.23456}, {"G/loss_rec", 0.5}}) ==
        "Elapsed [0:01:05], Iteration [10/200000], D/loss_real: -1.2346, G/loss_rec: 0.5000");
}

TEST_CASE("monitor: the progress bar shows the first four losses", "[monitor]") {
  const NamedValues losses = {{"D/loss_real", -1.23456}, {"D/loss_fake", 2.0}, {"D/loss_cls", 0.1},
                              {"D/loss_gp", 1e-5}, {"G/loss_fake", 7.0}};
  CHECK(progress_losses(losses) == "D/loss_real -1.235 D/loss_fake 2 D/loss_cls 0.1 D/loss_gp 1e-05");
  CHECK(progress_losses(losses, 1) == "D/loss_real -1.235");
  CHECK(progress_losses({}).empty());
}
