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
