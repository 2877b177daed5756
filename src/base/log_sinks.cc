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
