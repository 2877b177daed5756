// A Logger whose one sink keeps every event (debug and up), for tests
// that assert the exact events a component logs (base/log.h).
#pragma once

#include <memory>
#include <ostream>
#include <string_view>
#include <utility>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/base/log_sinks.h"

namespace comsec {

// gtest prints a LogEvent as its text line (at the epoch), so that a
// failed EXPECT_EQ shows every field.
inline void PrintTo(const LogEvent& event, std::ostream* out) {
  *out << FormatLogText(event, LogClock::time_point());
}

// Thread-safe like the CapturingLogSink inside it.
class CapturedLog {
 public:
  CapturedLog() : CapturedLog(std::make_unique<CapturingLogSink>()) {}

  // The logger to hand to the component under test.
  const Logger* logger() const { return &logger_; }
  std::vector<LogEvent> events() const { return sink_->events(); }
  // The events named `name`, in order.
  std::vector<LogEvent> Named(std::string_view name) const {
    std::vector<LogEvent> named;
    for (LogEvent& e : sink_->events()) {
      if (e.name == name) named.push_back(std::move(e));
    }
    return named;
  }
  // Each event's text line, as the text sink writes it (without the time).
  std::vector<std::string> TextLines() const {
    std::vector<std::string> lines;
    for (const LogEvent& e : sink_->events()) {
      lines.push_back(FormatLogText(e, LogClock::time_point()));
    }
    return lines;
  }
  void Clear() { sink_->Clear(); }

 private:
  static std::vector<std::unique_ptr<LogSink>> Sinks(std::unique_ptr<CapturingLogSink> sink) {
    std::vector<std::unique_ptr<LogSink>> sinks;
    sinks.push_back(std::move(sink));
    return sinks;
  }
  explicit CapturedLog(std::unique_ptr<CapturingLogSink> sink)
      : sink_(sink.get()), logger_(Sinks(std::move(sink)), LogSeverity::kDebug) {}

  CapturingLogSink* sink_;  // owned by logger_
  Logger logger_;
};

}  // namespace comsec
