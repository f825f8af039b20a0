// The shared progress bar (models/monitor/progress_bar.h) on an injected clock: the text (count, percent,
// rate, ETA, trailing text), the sparse lines off a terminal with the last one always shown, and
// on a terminal the in-place redraws, their throttling, lines printed above the bar and the
// finish line. Expected strings are worked out by hand from the clock values.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "models/monitor/progress_bar.h"

using models::monitor::ProgressBar;
using models::monitor::ProgressOptions;

namespace {

size_t count_of(const std::string& text, char c) { return size_t(std::count(text.begin(), text.end(), c)); }

// Options whose clock reads `clock`, in the given output mode.
ProgressOptions clocked(const double& clock, ProgressOptions::Mode mode) {
  ProgressOptions o;
  o.clock = [&clock] { return clock; };
  o.mode = mode;
  return o;
}

}  // namespace

TEST_CASE("progress bar: count, percent, rate, ETA and the trailing text", "[progress]") {
  const double clock = 1000.0;
  ProgressOptions o = clocked(clock, ProgressOptions::Mode::lines);
  o.unit = "images";
  std::ostringstream out;
  ProgressBar bar(out, 40, o);
  // No progress yet: no rate, no ETA.
  CHECK(bar.render(0, 1000.0) == "[....................] 0/40 0.0%");
  // 10 images in 4 s: 2.5 images/s, 30 left take 12 s; 10/40 fills 5 of 20 cells.
  CHECK(bar.render(10, 1004.0) == "[#####...............] 10/40 25.0% 2.5 images/s ETA 0:00:12");
  bar.update(10, "D/loss 0.5");
  CHECK(bar.render(40, 1008.0) == "[####################] 40/40 100.0% 5 images/s ETA 0:00:00 D/loss 0.5");
  // A long ETA reads as Python's timedelta: 1 it in 64 s, 1999 left = 127936 s = 1 day, 11:32:16.
  ProgressOptions slow = o;
  slow.unit = "it";
  ProgressBar long_run(out, 2000, slow);
  CHECK_THAT(long_run.render(1, 1064.0), Catch::EndsWith(" 0.0156 it/s ETA 1 day, 11:32:16"));
  // Rates of 1000 and more without an exponent: 499 in 0.25 s.
  CHECK_THAT(long_run.render(499, 1000.25), Catch::Contains(" 1996 it/s "));
}

TEST_CASE("progress bar: a resumed run's rate counts from its initial step", "[progress]") {
  const double clock = 0.0;
  ProgressOptions o = clocked(clock, ProgressOptions::Mode::lines);
  o.initial = 50;
  std::ostringstream out;
  ProgressBar bar(out, 150, o);
  // 50 iterations after the resume in 10 s is 5 it/s; 50 left is 10 s.
  CHECK_THAT(bar.render(100, 10.0), Catch::Contains("100/150 66.7% 5 it/s ETA 0:00:10"));
  CHECK_THAT(bar.render(50, 10.0), Catch::EndsWith("50/150 33.3%"));
}

TEST_CASE("progress bar: off a terminal, sparse lines and always the last", "[progress]") {
  double clock = 100.0;
  ProgressOptions o = clocked(clock, ProgressOptions::Mode::automatic);
  o.line_interval = 30.0;
  std::ostringstream out;  // a string stream is not a terminal
  {
    ProgressBar bar(out, 100, o);
    CHECK_FALSE(bar.redraws());
    for (int i = 1; i <= 100; ++i, clock += 1.0) bar.update(i, "D/loss 1");
    bar.print("a log line");
    bar.finish();
  }
  const std::string lines = out.str();
  // Update i at t = 99 + i: lines at 100, 130, 160, 190, then the last iteration and the log line.
  // The first has no rate (no time has passed); the last: 100 in 99 s.
  CHECK(count_of(lines, '\n') == 6);
  CHECK(lines.find('\r') == std::string::npos);
  CHECK(lines.find('\x1b') == std::string::npos);
  CHECK_THAT(lines, Catch::StartsWith("[....................] 1/100 1.0% D/loss 1\n"));
  CHECK_THAT(lines, Catch::Contains("\n[######..............] 31/100 31.0% 1.03 it/s ETA 0:01:06 D/loss 1\n"));
  CHECK_THAT(lines, Catch::EndsWith("\n[####################] 100/100 100.0% 1.01 it/s ETA 0:00:00 D/loss 1\n"
                                    "a log line\n"));
}

TEST_CASE("progress bar: on a terminal, throttled redraws, lines above the bar, a finish line", "[progress]") {
  double clock = 0.0;
  ProgressOptions o = clocked(clock, ProgressOptions::Mode::redraw);
  o.redraw_interval = 0.1;
  std::ostringstream out;
  ProgressBar bar(out, 4, o);
  CHECK(bar.redraws());
  clock = 1.0;
  bar.update(1);  // drawn: the first
  clock = 1.05;
  bar.update(2);  // not drawn: within 0.1 s of the last
  bar.print("warning: skipping x.png");
  clock = 2.0;
  bar.update(4);  // drawn: the last
  bar.finish();
  const std::string expected =
      "\r[#####...............] 1/4 25.0% 1 it/s ETA 0:00:03\x1b[K"
      // The line clears the bar; the bar comes back below it as it stands (2 done at t = 1.05).
      "\r\x1b[Kwarning: skipping x.png\n"
      "\r[##########..........] 2/4 50.0% 1.9 it/s ETA 0:00:01\x1b[K"
      "\r[####################] 4/4 100.0% 2 it/s ETA 0:00:00\x1b[K"
      // finish: the bar once more, then the end of its line.
      "\r[####################] 4/4 100.0% 2 it/s ETA 0:00:00\x1b[K\n";
  CHECK(out.str() == expected);
}
