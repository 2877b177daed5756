#include "comsec/base/log_sinks.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace comsec {

void FdLogSink::Write(const LogEvent& event, LogClock::time_point time) {
  // Formatted before the lock: only the write(2) calls are serialized.
  const std::string line =
      format_ == Format::kJson ? FormatLogJson(event, time) : FormatLogText(event, time);
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // logging never fails its caller
    }
    done += static_cast<size_t>(n);
  }
}

std::optional<FdLogSink::Format> ParseLogFormat(std::string_view name) {
  if (name == "text") return FdLogSink::Format::kText;
  if (name == "json") return FdLogSink::Format::kJson;
  return std::nullopt;
}

std::unique_ptr<Logger> MakeFdLogger(int fd, FdLogSink::Format format,
                                     LogSeverity min_severity) {
  std::vector<std::unique_ptr<LogSink>> sinks;
  sinks.push_back(std::make_unique<FdLogSink>(fd, format));
  return std::make_unique<Logger>(std::move(sinks), min_severity);
}

void ForwardingLogSink::Write(const LogEvent& event, LogClock::time_point time) {
  target_->LogAt(event, time);
}

std::unique_ptr<Logger> TeeLogger(const Logger* a, const Logger* b) {
  std::vector<std::unique_ptr<LogSink>> sinks;
  for (const Logger* target : {a, b}) {
    if (target != nullptr) sinks.push_back(std::make_unique<ForwardingLogSink>(target));
  }
  if (sinks.empty()) return std::make_unique<Logger>();
  // The lowest severity either accepts (Enabled is monotonic in it).
  LogSeverity min = LogSeverity::kError;
  for (LogSeverity s : {LogSeverity::kWarning, LogSeverity::kNotice, LogSeverity::kInfo,
                        LogSeverity::kDebug}) {
    if ((a != nullptr && a->Enabled(s)) || (b != nullptr && b->Enabled(s))) min = s;
  }
  return std::make_unique<Logger>(std::move(sinks), min);
}

void CapturingLogSink::Write(const LogEvent& event, LogClock::time_point) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(event);
}

std::vector<LogEvent> CapturingLogSink::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

void CapturingLogSink::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  events_.clear();
}

}  // namespace comsec
