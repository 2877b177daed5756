// The audit trail: the file beside the store where comsecd appends each
// activation decision (a launch refused or made, with who asked, the check
// that decided and the remedy) as one JSON line, and which `comcfg log`
// reads back — the place an administrator looks after a failed
// activation, as Windows's System log holds DCOM events 10016 and 10036.
//
//   /var/lib/comsec/store.db            policy (config/store.h)
//   /var/lib/comsec/store.secrets.db    secrets (config/secrets.h)
//   /var/lib/comsec/store.audit.log     this trail (0640)
//
// Each line is FormatLogJson's object (base/log.h): "time" (UTC, RFC 3339
// with milliseconds), "severity", "event", "message", then the event's
// fields and extras. Lines are appended with one write(2) each to a file
// opened O_APPEND, so writers in several threads or processes never
// interleave, and a reader sees whole lines plus at most one torn last line
// (a write in progress, or cut off by a crash), which it skips.
//
// The trail names users, SIDs and addresses, so it is never readable by
// everyone: it is created 0640, and an existing file that others could read
// or that its group could write is tightened to 0640 by its owner and
// refused by anyone else. It is not rotated; logrotate's copytruncate works
// with O_APPEND writers.
//
// Thread safety: the Logger OpenAuditTrail returns may be used from any
// number of threads at once; ReadAuditTrail is a free function on a file.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/base/result.h"

namespace comsec::config {

inline constexpr unsigned kAuditTrailFileMode = 0640;

// A line longer than this is not one we wrote: it is skipped as unparsable
// without holding it in memory (a file of binary junk without newlines
// cannot make `comcfg log` read all of it into one string).
inline constexpr size_t kMaxAuditLineBytes = size_t{1} << 20;

// "<dir>/<name>.audit.log" for "<dir>/<name>.db", else "<path>.audit.log"
// (the secrets file's convention, config/secrets.h).
std::string AuditTrailPathFor(const std::string& store_path);

// Opens the trail at `path` for appending, creating it with exactly mode
// 0640 (whatever the umask) when missing; its directory must exist. The
// returned Logger writes every event at or above `min_severity` as one JSON
// line and owns the file descriptor (O_APPEND | O_CLOEXEC). A failed write
// is dropped, as every sink's: logging never fails its caller.
//
// Errors: E_ACCESSDENIED when `path` is a symbolic link or not a regular
// file, when others could read it (or its group write it) and the caller is
// not its owner, or when the caller may not open it; ERROR_NOT_FOUND when
// its directory does not exist; E_FAIL for any other failure to open it.
Result<std::unique_ptr<Logger>> OpenAuditTrail(const std::string& path,
                                               LogSeverity min_severity = LogSeverity::kInfo);

// What ReadAuditTrail skipped, for a reader to mention.
struct AuditTrailReadStats {
  // Whether there was no file at the path (read as an empty trail).
  bool missing = false;
  // Complete lines that are not a JSON object with a "time" ParseLogTime
  // accepts, and lines longer than kMaxAuditLineBytes.
  size_t unparsable_lines = 0;
  // Whether the file ended in a line without its '\n' (skipped).
  bool torn_last_line = false;
};

// The events of the trail at `path`, in file order, as the JSON objects
// written (nlohmann::json keeps an object's keys sorted); with `since`, only
// those whose "time" is at or after it. A missing file is an empty trail.
// Blank lines are ignored; unparsable lines and a torn last line are
// skipped and counted in `*stats` when given.
//
// Errors: E_ACCESSDENIED when the caller may not read the file (the message
// says who may); E_FAIL when reading it fails otherwise.
Result<std::vector<nlohmann::json>> ReadAuditTrail(
    const std::string& path, std::optional<std::chrono::system_clock::time_point> since,
    AuditTrailReadStats* stats = nullptr);

}  // namespace comsec::config
