// The sinks a Logger (base/log.h) writes to: text or JSON lines on a file
// descriptor, and a capturing sink that keeps the events for tests.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "comsec/base/log.h"

namespace comsec {

// Writes each event as one line (FormatLogText or FormatLogJson) to a file
// descriptor, with one write(2) per line (retried on EINTR and partial
// writes) under the sink's mutex, so lines from concurrent threads never
// interleave. Write errors are dropped: logging never fails a caller.
// The descriptor is not owned; it must outlive the sink. Open files with
// O_APPEND when several processes share them.
class FdLogSink : public LogSink {
 public:
  enum class Format { kText, kJson };
  FdLogSink(int fd, Format format) : fd_(fd), format_(format) {}

  void Write(const LogEvent& event, LogClock::time_point time) override;

 private:
  const int fd_;
  const Format format_;
  std::mutex mu_;  // held for the write(2) calls of one line
};

// "text" or "json" (a --log-format flag's values); nullopt for anything else.
std::optional<FdLogSink::Format> ParseLogFormat(std::string_view name);

// The Logger a program's main builds from its command line: one FdLogSink
// writing `format` lines to `fd` (STDERR_FILENO for comsecd and the example
// servers), delivering events at or above `min_severity`. The descriptor is
// not owned and must outlive the logger.
std::unique_ptr<Logger> MakeFdLogger(int fd, FdLogSink::Format format,
                                     LogSeverity min_severity = LogSeverity::kInfo);

// Hands each event on to another Logger, with the time it was stamped
// with, through LogAt; that Logger applies its own minimum severity. The
// target is not owned and must outlive the sink.
class ForwardingLogSink : public LogSink {
 public:
  explicit ForwardingLogSink(const Logger* target) : target_(target) {}

  void Write(const LogEvent& event, LogClock::time_point time) override;

 private:
  const Logger* const target_;
};

// A Logger that gives every event to `a` and then to `b`, stamped once, so
// that both record the same time (comsecd's activation decisions go to its
// standard-error log and to the audit trail, config/audit_trail.h). Either
// may be null. Each applies its own minimum severity; the tee's own
// minimum is the lowest severity either accepts when the tee is made, so
// Enabled() is true when at least one of them would record the event
// (a later SetMinSeverity on `a` or `b` is not seen by it). Neither is
// owned; both must outlive the tee.
std::unique_ptr<Logger> TeeLogger(const Logger* a, const Logger* b);

// Keeps every event it is given, in order, for tests to assert exact
// events. Thread-safe.
class CapturingLogSink : public LogSink {
 public:
  void Write(const LogEvent& event, LogClock::time_point time) override;

  // A copy of the events so far.
  std::vector<LogEvent> events() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::vector<LogEvent> events_;  // guarded by mu_
};

}  // namespace comsec
