// comcfg log [--json] [--since WHEN] [--audit-log PATH] — the audit trail
// comsecd appends its activation decisions to (config/audit_trail.h), read
// back: the Event Viewer of DCOM's 10016 and 10036, one line per event.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/base/log.h"
#include "comsec/base/log_escape.h"
#include "comsec/config/audit_trail.h"

namespace comsec::comcfg {
namespace {

// The fields a reader of a denial wants first, in this order: who asked
// and from where, what was asked for, what decided and with which code.
// Keys not listed follow in alphabetical order, then kTrailingKeys.
constexpr std::array<std::string_view, 17> kLeadingKeys = {
    "user",   "principal", "sid",       "peer",    "distance",     "authn_level",
    "clsid",  "appid",     "interface", "opnum",   "check",        "rule",
    "reason", "ace",       "detail",    "hresult", "windows_event"};
// Long, and the answer to "what now": last.
constexpr std::array<std::string_view, 2> kTrailingKeys = {"remedy", "explain"};
// In the line's head, or folded into another key's value.
constexpr std::array<std::string_view, 7> kShownElsewhere = {
    "time",        "severity", "event", "message", "authn_level_name", "interface_version",
    "hresult_name"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

std::string Scalar(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A key's value as printed: the level and the HRESULT with their names,
// as the text log form writes them (base/log.h).
std::string FieldText(const nlohmann::json& event, std::string_view key) {
  const nlohmann::json& v = event.at(std::string(key));
  const auto companion = [&](const char* name) -> std::string {
    const auto it = event.find(name);
    return it == event.end() ? "" : Scalar(*it);
  };
  if (key == "authn_level") {
    std::string name = companion("authn_level_name");
    return name.empty() ? Scalar(v) : name + "(" + Scalar(v) + ")";
  }
  if (key == "hresult") {
    std::string name = companion("hresult_name");
    return name.empty() ? Scalar(v) : name + "(" + Scalar(v) + ")";
  }
  if (key == "interface") {
    std::string version = companion("interface_version");
    return version.empty() ? Scalar(v) : Scalar(v) + "/" + version;
  }
  return Scalar(v);
}

// "TIME SEVERITY EVENT: MESSAGE key=value ...", every string escaped as
// the text log form escapes it: the trail holds names peers chose.
std::string EventLine(const nlohmann::json& event) {
  const auto head = [&](const char* key) {
    const auto it = event.find(key);
    return EscapeForLog(it == event.end() ? std::string("-") : Scalar(*it));
  };
  std::string line =
      head("time") + " " + head("severity") + " " + head("event") + ": " + head("message");
  const auto append = [&](std::string_view key) {
    line += ' ';
    line += EscapeForLog(key);
    line += '=';
    line += LogTextValue(FieldText(event, key));
  };
  for (std::string_view key : kLeadingKeys) {
    if (event.contains(std::string(key))) append(key);
  }
  // nlohmann::json keeps an object's keys sorted: the others come in
  // alphabetical order.
  for (const auto& [key, value] : event.items()) {
    if (!Contains(kLeadingKeys, key) && !Contains(kTrailingKeys, key) &&
        !Contains(kShownElsewhere, key)) {
      append(key);
    }
  }
  for (std::string_view key : kTrailingKeys) {
    if (event.contains(std::string(key))) append(key);
  }
  return line;
}

// --since: a UTC time, or a duration back from `now` (digits and one unit
// of s, m, h, d, at most 100 years so that the subtraction cannot
// overflow).
Result<LogClock::time_point> ParseSince(std::string_view text, LogClock::time_point now) {
  if (auto time = ParseLogTime(text)) return *time;
  constexpr int64_t kMaxSeconds = int64_t{100} * 366 * 24 * 3600;
  if (text.size() >= 2 && text.size() <= 10 &&
      std::all_of(text.begin(), text.end() - 1, [](char c) { return c >= '0' && c <= '9'; })) {
    const int64_t count = std::stoll(std::string(text.substr(0, text.size() - 1)));
    const int64_t unit = text.back() == 's'   ? 1
                         : text.back() == 'm' ? 60
                         : text.back() == 'h' ? 3600
                         : text.back() == 'd' ? 24 * 3600
                                              : 0;
    if (unit != 0 && count <= kMaxSeconds / unit) return now - std::chrono::seconds(count * unit);
  }
  return Status(E_INVALIDARG,
                "--since \"" + EscapeForLog(text) +
                    "\" is neither a UTC time such as 2026-12-06T10:00:00Z nor a duration back "
                    "from now such as 30s, 10m, 2h or 1d (at most 100 years)");
}

}  // namespace

void AddLogCommand(CLI::App& app, const GlobalOptions& global, const Io& io, int* exit_code) {
  struct Args {
    bool json = false;
    std::string since;
    std::string path;
  };
  auto args = std::make_shared<Args>();
  CLI::App* log = app.add_subcommand(
      "log", "comsecd's audit trail of activation decisions (launches refused and made), one "
             "line per event with the caller, the check, the HRESULT and the remedy");
  log->add_flag("--json", args->json, "print a JSON array of the events as logged");
  log->add_option("--since", args->since,
                  "only events at or after WHEN: a UTC time (2026-12-06T10:00:00Z) or a "
                  "duration back from now (30s, 10m, 2h, 1d)")
      ->type_name("WHEN");
  log->add_option("--audit-log", args->path,
                  "the trail to read (default: beside the store, STORE without .db + "
                  ".audit.log, e.g. /var/lib/comsec/store.audit.log)")
      ->type_name("PATH");
  log->callback([args, &global, &io, exit_code] {
    std::optional<LogClock::time_point> since;
    if (!args->since.empty()) {
      auto parsed = ParseSince(args->since, LogClock::now());
      if (!parsed.ok()) {
        *exit_code = ReportBadInput(io, parsed.status());
        return;
      }
      since = *parsed;
    }
    const std::string path =
        args->path.empty() ? config::AuditTrailPathFor(StorePath(global)) : args->path;
    config::AuditTrailReadStats stats;
    auto events = config::ReadAuditTrail(path, since, &stats);
    if (!events.ok()) {
      *exit_code = ReportFailure(io, events.status());
      return;
    }
    if (args->json) {
      io.out << nlohmann::json(std::move(*events))
                    .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
             << "\n";
    } else {
      for (const nlohmann::json& event : *events) io.out << EventLine(event) << "\n";
    }
    if (stats.missing) {
      io.err << "comcfg: no audit trail at " << EscapeForLog(path)
             << " (comsecd has logged nothing there yet)\n";
    }
    if (stats.unparsable_lines > 0) {
      io.err << "comcfg: skipped " << stats.unparsable_lines << " unreadable line"
             << (stats.unparsable_lines == 1 ? "" : "s") << " of " << EscapeForLog(path) << "\n";
    }
    if (stats.torn_last_line) {
      io.err << "comcfg: skipped the incomplete last line of " << EscapeForLog(path)
             << " (being written, or cut short)\n";
    }
    *exit_code = kExitOk;
  });
}

}  // namespace comsec::comcfg
