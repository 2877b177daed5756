// Structured logging: one Logger, events with typed fields, sinks that write
// them as text lines or JSON lines (issue 10, item 7).
//
// An event has a stable name ("rpc.call_denied", "ntlm.logon_refused"), a
// severity, one sentence for a person, and optional typed fields: peer,
// principal, authentication level, interface (UUID and version), opnum,
// reason, HRESULT (value and Windows name), plus free key/value extras.
// Consumers filter on the name and the fields, never on the sentence.
//
// Every string may come from a peer (a user name, a workstation name, an
// address), so every sink escapes everything it writes: the text sink with
// EscapeForLog (base/log_escape.h) and quoting, the JSON sink through the
// JSON encoder. A peer cannot end a line, start a forged one, or send
// terminal escapes to the operator's screen.
//
// Why our own formatter over write(2) rather than spdlog or journald:
//  * The events are typed; each sink formats the fields itself (the text
//    escaping rules, the JSON encoding). spdlog would add a pattern
//    formatter and a second, string-based event model to bypass, and is
//    not a dependency today (only its runtime library is on the machine).
//  * A line is formatted outside any lock and written with one write(2)
//    under the sink's own mutex, so lines from many threads never
//    interleave; that is all the synchronization logging needs here.
//  * journald: comsecd under systemd already reaches the journal through
//    its stderr (the text sink), and the JSON sink feeds any collector.
//    A native sd_journal_send sink would need libsystemd-dev and a running
//    journald, which neither this machine nor CI has, so it could not be
//    tested; it can be added as one more LogSink when it can be.
//
// Thread safety: Logger and the sinks of log_sinks.h may be used from any
// number of threads at once. A Logger's sinks are fixed when it is made.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/hresult.h"

namespace comsec {

// In increasing order; a Logger delivers events at or above its minimum.
enum class LogSeverity : uint8_t { kDebug, kInfo, kNotice, kWarning, kError };
// "debug", "info", "notice", "warning", "error".
const char* LogSeverityName(LogSeverity severity);

// An RPC interface as a log field: its UUID and version.
struct LogInterface {
  Guid uuid;
  uint16_t major = 0;
  uint16_t minor = 0;
  friend bool operator==(const LogInterface&, const LogInterface&) = default;
};

// One event. A value type: copy it, compare it (tests do), fill it with
// the chained setters:
//
//   logger.Log(LogEvent("rpc.call_denied", LogSeverity::kWarning,
//                       "call refused below the interface's minimum level")
//                  .Peer(peer).Principal(user).Opnum(3)
//                  .Hresult(E_ACCESSDENIED).Reason("authn_level_too_low"));
//
// Build it only when logger.Enabled(severity) if that is costly.
struct LogEvent {
  LogEvent(std::string name, LogSeverity severity, std::string message)
      : name(std::move(name)), severity(severity), message(std::move(message)) {}

  LogEvent& Peer(std::string_view value);       // "10.0.0.5:49702", "uid 1000"
  LogEvent& Principal(std::string_view value);  // "DOMAIN\\user", a SID
  // The level's number (rpcdce.h) and, when the caller has it, its name
  // ("RPC_C_AUTHN_LEVEL_PKT_PRIVACY"; security/authn_level.h).
  LogEvent& AuthnLevel(uint32_t value, std::string_view level_name = {});
  LogEvent& Interface(const Guid& uuid, uint16_t major, uint16_t minor);
  LogEvent& Opnum(uint32_t value);
  // A short machine-readable cause ("unknown_user", "bad_signature").
  LogEvent& Reason(std::string_view value);
  LogEvent& Hresult(HResult value);
  // Any other field. `key` is chosen by the code ([a-z0-9_.]); it is still
  // escaped like a value.
  LogEvent& Extra(std::string_view key, std::string_view value);

  std::string name;
  LogSeverity severity;
  std::string message;
  std::optional<std::string> peer;
  std::optional<std::string> principal;
  std::optional<uint32_t> authn_level;
  std::string authn_level_name;  // "" when not given
  std::optional<LogInterface> interface;
  std::optional<uint32_t> opnum;
  std::optional<std::string> reason;
  std::optional<HResult> hresult;
  std::vector<std::pair<std::string, std::string>> extras;

  friend bool operator==(const LogEvent&, const LogEvent&) = default;
};

using LogClock = std::chrono::system_clock;

// The text form, one line ending in '\n':
//   2026-12-06T01:02:03.456Z warning rpc.call_denied: <message> peer=...
// Fields follow in a fixed order (peer principal authn_level interface
// opnum reason hresult, then the extras in the order given), each as
// key=value. Every string is passed through EscapeForLog; a value holding
// a space, '"' or '=' (or nothing) is written in double quotes, with '"'
// as \x22, so that the line splits back into its fields. The HRESULT is
// written "E_ACCESSDENIED(0x80070005)" (just the hex when unnamed).
std::string FormatLogText(const LogEvent& event, LogClock::time_point time);

// A value as the text form writes it: EscapeForLog, then in double quotes
// (with '"' as \x22) when it is empty or holds a space, '"' or '='. For
// programs that print events read back from a JSON trail (comcfg log) in
// the text form's manner.
std::string LogTextValue(std::string_view value);

// The time as every form writes it: RFC 3339 in UTC with milliseconds,
// "2026-12-06T01:02:03.456Z".
std::string FormatLogTime(LogClock::time_point time);

// The inverse, for times read back or typed by a person: UTC only,
// "YYYY-MM-DDTHH:MM:SS" with an optional fraction of 1 to 9 digits and a
// final 'Z' ("2026-12-06T10:00:00Z", "2026-12-06T01:02:03.456Z"). Anything
// else, an offset other than Z or a date that does not exist
// ("2026-02-30T00:00:00Z") included, is nullopt.
std::optional<LogClock::time_point> ParseLogTime(std::string_view text);

// The JSON form, one object on one line ending in '\n', with the keys
// "time", "severity", "event", "message", then those of the fields that are
// set: "peer", "principal", "authn_level" (number) and "authn_level_name",
// "interface" (UUID string) and "interface_version" ("1.0"), "opnum",
// "reason", "hresult" ("0x80070005") and "hresult_name", then each extra
// under its key (an extra never replaces a key above: it is written
// "extra.<key>" instead). Bytes that are not UTF-8 become U+FFFD.
std::string FormatLogJson(const LogEvent& event, LogClock::time_point time);

// Where events go. Implementations must be thread-safe: Write is called
// from any thread, concurrently.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void Write(const LogEvent& event, LogClock::time_point time) = 0;
};

class Logger {
 public:
  // No sinks: every event is dropped and Enabled() is always false.
  Logger() = default;
  Logger(std::vector<std::unique_ptr<LogSink>> sinks, LogSeverity min_severity);

  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // One relaxed atomic load: check it before building a costly event.
  bool Enabled(LogSeverity severity) const {
    return !sinks_.empty() &&
           static_cast<uint8_t>(severity) >= min_severity_.load(std::memory_order_relaxed);
  }
  void SetMinSeverity(LogSeverity severity) {
    min_severity_.store(static_cast<uint8_t>(severity), std::memory_order_relaxed);
  }

  // Stamps the event with the current time and hands it to every sink, in
  // the order given, when its severity is enabled.
  void Log(const LogEvent& event) const;
  // As Log, stamped `time` instead of now: for a sink that hands events on
  // to another Logger (TeeLogger, base/log_sinks.h) and for tests that need
  // events at chosen times.
  void LogAt(const LogEvent& event, LogClock::time_point time) const;

 private:
  std::vector<std::unique_ptr<LogSink>> sinks_;
  std::atomic<uint8_t> min_severity_{static_cast<uint8_t>(LogSeverity::kInfo)};
};

}  // namespace comsec
