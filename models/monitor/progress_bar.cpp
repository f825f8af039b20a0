// The progress bar (contract in progress_bar.h) and the timedelta-style durations it shows.
#include "models/monitor/progress_bar.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "engine/check.h"

namespace models::monitor {

namespace {

// The file descriptor behind one of the standard streams; -1 for any other stream.
int stream_fd(const std::ostream& out) {
  if (&out == &std::cerr || &out == &std::clog) return STDERR_FILENO;
  if (&out == &std::cout) return STDOUT_FILENO;
  return -1;
}

// Columns of the terminal behind `out`; 0 when unknown.
int terminal_columns(const std::ostream& out) {
  winsize size{};
  const int fd = stream_fd(out);
  if (fd >= 0 && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}

// Three significant digits without an exponent: "0.0123", "12.3", "456", "1234".
std::string format_rate(double rate) {
  char text[32];
  std::snprintf(text, sizeof(text), rate < 1000 ? "%.3g" : "%.0f", rate);
  return text;
}

}  // namespace

std::string format_elapsed(double seconds) {
  const int64_t s = int64_t(std::floor(std::max(0.0, seconds)));
  const int64_t days = s / 86400, rest = s % 86400;
  char hms[32];
  std::snprintf(hms, sizeof(hms), "%d:%02d:%02d", int(rest / 3600), int(rest / 60 % 60), int(rest % 60));
  if (days == 0) return hms;
  return std::to_string(days) + (days == 1 ? " day, " : " days, ") + hms;
}

ProgressBar::ProgressBar(std::ostream& out, int64_t total, ProgressOptions options)
    : out_(out), total_(total), options_(std::move(options)), done_(options_.initial) {
  ENGINE_CHECK(total_ >= 1, "ProgressBar: total must be >= 1, got ", total_);
  if (options_.mode == ProgressOptions::Mode::automatic) {
    const int fd = stream_fd(out_);
    redraw_ = fd == STDERR_FILENO && isatty(fd) == 1;  // stdout carries results, never a bar
  } else {
    redraw_ = options_.mode == ProgressOptions::Mode::redraw;
  }
  start_time_ = now();
}

double ProgressBar::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string ProgressBar::render(int64_t done, double now) const {
  const double fraction = std::clamp(double(done) / double(total_), 0.0, 1.0);
  constexpr int bar_width = 20;
  const int filled = int(fraction * bar_width);
  std::string text = "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] ";
  char part[64];
  std::snprintf(part, sizeof(part), "%lld/%lld %.1f%%", (long long)done, (long long)total_, 100.0 * fraction);
  text += part;
  const double elapsed = now - start_time_;
  const int64_t progress = done - options_.initial;
  if (progress > 0 && elapsed > 0) {
    const double rate = double(progress) / elapsed;
    text += " " + format_rate(rate) + " " + options_.unit + "/s ETA " +
            format_elapsed(double(std::max<int64_t>(0, total_ - done)) / rate);
  }
  if (!trailing_.empty()) text += " " + trailing_;
  return text;
}

void ProgressBar::draw(const std::string& text) {
  if (redraw_) {
    // A bar wider than the terminal would wrap, and '\r' would then rewrite only its last row.
    const int columns = terminal_columns(out_);
    const std::string shown = columns > 1 ? text.substr(0, size_t(columns - 1)) : text;
    out_ << "\r" << shown << "\x1b[K";  // \x1b[K clears the rest of a longer old bar
    bar_visible_ = true;
  } else {
    out_ << text << "\n";
  }
  out_.flush();
}

void ProgressBar::update(int64_t done) {
  const double t = now();
  done_ = done;
  const double interval = redraw_ ? options_.redraw_interval : options_.line_interval;
  if (drawn_ && t - last_output_ < interval && done < total_) return;
  drawn_ = true;
  last_output_ = t;
  draw(render(done, t));
}

void ProgressBar::update(int64_t done, std::string trailing) {
  trailing_ = std::move(trailing);
  update(done);
}

void ProgressBar::print(const std::string& line) {
  if (bar_visible_) {
    out_ << "\r\x1b[K" << line << "\n";
    bar_visible_ = false;
    draw(render(done_, now()));
  } else {
    out_ << line << "\n";
    out_.flush();
  }
}

void ProgressBar::finish() {
  if (!bar_visible_) return;
  draw(render(done_, now()));
  out_ << "\n";
  out_.flush();
  bar_visible_ = false;
}

}  // namespace models::monitor
