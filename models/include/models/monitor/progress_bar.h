#pragma once
// The progress bar of every long command (SARGAN training and translation):
//   [####................] 1234/200000 0.6% 12.3 it/s ETA 4:31:02 D/loss_real -1.234 ...
// counts done/total in a unit ("it", "images"), the rate since the bar was made and the ETA at
// that rate, then an optional trailing text (the latest losses). On a terminal it is redrawn in
// place with '\r' (cut to the terminal's width so it never wraps, at most every redraw_interval
// seconds); elsewhere (a log file, CI, a string stream) it prints one line every line_interval
// seconds, at the first update and at the last, so logs stay short but always show the end.
// Not thread-safe: a caller with several writers serialises update / print / finish itself.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace models::monitor {

// Python's str(datetime.timedelta(seconds=s)) without the microseconds: "0:01:05", "1 day, 2:03:04".
std::string format_elapsed(double seconds);

struct ProgressOptions {
  std::string unit = "it";        // the rate reads "<r> <unit>/s"
  int64_t initial = 0;            // done when the bar is made (a resumed run's step): not in the rate
  enum class Mode { automatic, redraw, lines };
  Mode mode = Mode::automatic;    // automatic: redraw when writing to std::cerr and stderr is a terminal
  double redraw_interval = 0.1;   // seconds between redraws on a terminal
  double line_interval = 30.0;    // seconds between lines otherwise
  std::function<double()> clock;  // seconds; a steady clock when empty (tests pass their own)
};

class ProgressBar {
 public:
  // total >= 1. The rate's clock starts here.
  ProgressBar(std::ostream& out, int64_t total, ProgressOptions options = {});
  // Draws when due: the first update, the last (done >= total) and then by the interval.
  void update(int64_t done);
  // The same with a new trailing text, kept for later updates.
  void update(int64_t done, std::string trailing);
  // Prints a line (a log line, a warning) without mangling the bar: cleared first, redrawn after.
  void print(const std::string& line);
  // Ends the bar's line on a terminal (with the bar as it stands); nothing to do otherwise.
  void finish();

  // The bar's text for `done` at time `now` (seconds on the options' clock); no rate before any
  // progress.
  std::string render(int64_t done, double now) const;
  bool redraws() const { return redraw_; }

 private:
  double now() const;
  void draw(const std::string& text);

  std::ostream& out_;
  int64_t total_;
  ProgressOptions options_;
  bool redraw_;
  double start_time_;
  double last_output_ = 0;
  bool drawn_ = false;  // drawn at least once: later draws wait for the interval
  int64_t done_;
  std::string trailing_;
  bool bar_visible_ = false;  // on a terminal, the cursor stands at the end of the bar
};

}  // namespace models::monitor
