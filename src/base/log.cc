#include "comsec/base/log.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "comsec/base/log_escape.h"

namespace comsec {
namespace {

// "2026-12-06T01:02:03.456Z": RFC 3339 in UTC with milliseconds.
std::string FormatTime(LogClock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int GCC can imagine in each field
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buf;
}

std::string InterfaceVersion(const LogInterface& i) {
  return std::to_string(i.major) + "." + std::to_string(i.minor);
}

// EscapeForLog, then quoted when the value would not survive splitting the
// line at spaces and at the first '='.
std::string TextValue(std::string_view value) {
  std::string escaped = EscapeForLog(value);
  if (!escaped.empty() && escaped.find_first_of(" \"=") == std::string::npos) return escaped;
  std::string quoted = "\"";
  for (char c : escaped) {
    if (c == '"') {
      quoted += "\\x22";
    } else {
      quoted += c;
    }
  }
  quoted += '"';
  return quoted;
}

void AppendField(std::string& line, std::string_view key, std::string_view value) {
  line += ' ';
  line += EscapeForLog(key);
  line += '=';
  line += TextValue(value);
}

std::string HresultText(HResult hr) {
  if (hr.Name().empty()) return hr.Hex();
  return std::string(hr.Name()) + "(" + hr.Hex() + ")";
}

}  // namespace

const char* LogSeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kDebug: return "debug";
    case LogSeverity::kInfo: return "info";
    case LogSeverity::kNotice: return "notice";
    case LogSeverity::kWarning: return "warning";
    case LogSeverity::kError: return "error";
  }
  return "error";
}

LogEvent& LogEvent::Peer(std::string_view value) {
  peer = std::string(value);
  return *this;
}

LogEvent& LogEvent::Principal(std::string_view value) {
  principal = std::string(value);
  return *this;
}

LogEvent& LogEvent::AuthnLevel(uint32_t value, std::string_view level_name) {
  authn_level = value;
  authn_level_name = std::string(level_name);
  return *this;
}

LogEvent& LogEvent::Interface(const Guid& uuid, uint16_t major, uint16_t minor) {
  interface = LogInterface{uuid, major, minor};
  return *this;
}

LogEvent& LogEvent::Opnum(uint32_t value) {
  opnum = value;
  return *this;
}

LogEvent& LogEvent::Reason(std::string_view value) {
  reason = std::string(value);
  return *this;
}

LogEvent& LogEvent::Hresult(HResult value) {
  hresult = value;
  return *this;
}

LogEvent& LogEvent::Extra(std::string_view key, std::string_view value) {
  extras.emplace_back(std::string(key), std::string(value));
  return *this;
}

std::string FormatLogText(const LogEvent& e, LogClock::time_point time) {
  std::string line = FormatTime(time);
  line += ' ';
  line += LogSeverityName(e.severity);
  line += ' ';
  line += EscapeForLog(e.name);
  line += ": ";
  line += EscapeForLog(e.message);
  if (e.peer) AppendField(line, "peer", *e.peer);
  if (e.principal) AppendField(line, "principal", *e.principal);
  if (e.authn_level) {
    AppendField(line, "authn_level",
                e.authn_level_name.empty() ? std::to_string(*e.authn_level)
                                           : e.authn_level_name + "(" +
                                                 std::to_string(*e.authn_level) + ")");
  }
  if (e.interface) {
    AppendField(line, "interface",
                e.interface->uuid.ToString() + "/" + InterfaceVersion(*e.interface));
  }
  if (e.opnum) AppendField(line, "opnum", std::to_string(*e.opnum));
  if (e.reason) AppendField(line, "reason", *e.reason);
  if (e.hresult) AppendField(line, "hresult", HresultText(*e.hresult));
  for (const auto& [key, value] : e.extras) AppendField(line, key, value);
  line += '\n';
  return line;
}

std::string FormatLogJson(const LogEvent& e, LogClock::time_point time) {
  nlohmann::ordered_json j;
  j["time"] = FormatTime(time);
  j["severity"] = LogSeverityName(e.severity);
  j["event"] = e.name;
  j["message"] = e.message;
  if (e.peer) j["peer"] = *e.peer;
  if (e.principal) j["principal"] = *e.principal;
  if (e.authn_level) {
    j["authn_level"] = *e.authn_level;
    if (!e.authn_level_name.empty()) j["authn_level_name"] = e.authn_level_name;
  }
  if (e.interface) {
    j["interface"] = e.interface->uuid.ToString();
    j["interface_version"] = InterfaceVersion(*e.interface);
  }
  if (e.opnum) j["opnum"] = *e.opnum;
  if (e.reason) j["reason"] = *e.reason;
  if (e.hresult) {
    j["hresult"] = e.hresult->Hex();
    if (!e.hresult->Name().empty()) j["hresult_name"] = std::string(e.hresult->Name());
  }
  for (const auto& [key, value] : e.extras) {
    j[j.contains(key) ? "extra." + key : key] = value;
  }
  // Bytes that are not UTF-8 become U+FFFD instead of throwing; control
  // characters are written as \n, \u001b, ... by the encoder.
  std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  line += '\n';
  return line;
}

Logger::Logger(std::vector<std::unique_ptr<LogSink>> sinks, LogSeverity min_severity)
    : sinks_(std::move(sinks)), min_severity_(static_cast<uint8_t>(min_severity)) {}

void Logger::Log(const LogEvent& event) const {
  if (!Enabled(event.severity)) return;
  const LogClock::time_point now = LogClock::now();
  for (const auto& sink : sinks_) sink->Write(event, now);
}

}  // namespace comsec
