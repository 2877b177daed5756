#include "comsec/base/log.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "comsec/base/log_escape.h"

namespace comsec {
namespace {

std::string InterfaceVersion(const LogInterface& i) {
  return std::to_string(i.major) + "." + std::to_string(i.minor);
}

void AppendField(std::string& line, std::string_view key, std::string_view value) {
  line += ' ';
  line += EscapeForLog(key);
  line += '=';
  line += LogTextValue(value);
}

std::string HresultText(HResult hr) {
  if (hr.Name().empty()) return hr.Hex();
  return std::string(hr.Name()) + "(" + hr.Hex() + ")";
}

// The digits of text[pos, pos + n) as a number; nullopt unless all are
// ASCII digits.
std::optional<int> Digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::string LogTextValue(std::string_view value) {
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

std::string FormatLogTime(LogClock::time_point time) {
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

std::optional<LogClock::time_point> ParseLogTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then [.F{1,9}], then Z.
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  const auto year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2),
             hour = Digits(text, 11, 2), minute = Digits(text, 14, 2),
             second = Digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  long nanos = 0;
  if (text.size() > 20) {
    const size_t digits = text.size() - 21;  // between '.' and 'Z'
    if (text[19] != '.' || digits < 1 || digits > 9) return std::nullopt;
    const auto fraction = Digits(text, 20, digits);
    if (!fraction) return std::nullopt;
    nanos = *fraction;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  const std::time_t t = timegm(&tm);
  // timegm normalizes (February 30th becomes March 2nd): a date that does
  // not exist comes back different.
  if (tm.tm_year != *year - 1900 || tm.tm_mon != *month - 1 || tm.tm_mday != *day ||
      tm.tm_hour != *hour || tm.tm_min != *minute || tm.tm_sec != *second) {
    return std::nullopt;
  }
  return LogClock::time_point(std::chrono::duration_cast<LogClock::duration>(
      std::chrono::seconds(t) + std::chrono::nanoseconds(nanos)));
}

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
  std::string line = FormatLogTime(time);
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
  j["time"] = FormatLogTime(time);
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
  LogAt(event, LogClock::now());
}

void Logger::LogAt(const LogEvent& event, LogClock::time_point time) const {
  if (!Enabled(event.severity)) return;
  for (const auto& sink : sinks_) sink->Write(event, time);
}

}  // namespace comsec
