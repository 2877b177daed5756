#include "comsec/config/audit_trail.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "comsec/base/log_sinks.h"
#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

constexpr std::string_view kDbSuffix = ".db";

// Writes JSON lines to the trail's descriptor, which it owns.
class AuditTrailSink : public LogSink {
 public:
  explicit AuditTrailSink(int fd) : fd_(fd), lines_(fd, FdLogSink::Format::kJson) {}
  ~AuditTrailSink() override { close(fd_); }

  AuditTrailSink(const AuditTrailSink&) = delete;
  AuditTrailSink& operator=(const AuditTrailSink&) = delete;

  void Write(const LogEvent& event, LogClock::time_point time) override {
    lines_.Write(event, time);
  }

 private:
  const int fd_;
  FdLogSink lines_;  // one write(2) per line under its mutex
};

std::string ModeText(mode_t mode) {
  return std::to_string((mode >> 6) & 7) + std::to_string((mode >> 3) & 7) +
         std::to_string(mode & 7);
}

std::string OwnerText(const struct stat& st) {
  std::string owner = "uid " + std::to_string(st.st_uid);
  if (const passwd* pw = getpwuid(st.st_uid)) owner = std::string(pw->pw_name) + " (" + owner + ")";
  std::string group_name = "gid " + std::to_string(st.st_gid);
  if (const struct group* gr = getgrgid(st.st_gid)) {
    group_name = std::string(gr->gr_name) + " (" + group_name + ")";
  }
  return "its owner " + owner + " and the members of its group " + group_name;
}

Status NotRegular(const std::string& path) {
  return Status(E_ACCESSDENIED,
                path + " is not a regular file; refusing to append the audit trail to it");
}

Status OpenError(const std::string& path, int err) {
  const std::string what = "cannot open the audit trail " + path + ": " + std::strerror(err);
  switch (err) {
    case ELOOP:
      return Status(E_ACCESSDENIED, path + " is a symbolic link; the audit trail must be a "
                                           "regular file (give its real path)");
    case EISDIR:
    case ENXIO:  // a FIFO without a reader, or a socket
    case ENODEV:
      return NotRegular(path);
    case EACCES:
    case EPERM:
      return Status(E_ACCESSDENIED, what + "; run comsecd as the user that owns it");
    case ENOENT:
    case ENOTDIR:
      return Status(ERROR_NOT_FOUND, what + " (its directory must exist)");
    default:
      return Status(E_FAIL, what);
  }
}

// The descriptor of the trail, opened for appending: created with exactly
// kAuditTrailFileMode, or an existing regular file made no wider than it.
Result<int> OpenForAppend(const std::string& path) {
  // O_NOFOLLOW: comsecd runs as root, and a link planted where the trail
  // goes must not make it append to another file.
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  int fd = open(path.c_str(), kFlags | O_CREAT | O_EXCL, kAuditTrailFileMode);
  if (fd >= 0) {
    // The umask may only have narrowed the mode; set it exactly so that who
    // may read the trail is decided here.
    if (fchmod(fd, kAuditTrailFileMode) != 0) {
      const int err = errno;
      close(fd);
      return Status(E_FAIL,
                    "cannot set the mode of the audit trail " + path + ": " + std::strerror(err));
    }
    return fd;
  }
  if (errno != EEXIST) return OpenError(path, errno);
  // O_NONBLOCK: a FIFO planted there must not block the open; it is refused
  // below, and regular files ignore the flag.
  fd = open(path.c_str(), kFlags | O_NONBLOCK);
  if (fd < 0) return OpenError(path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return NotRegular(path);
  }
  const mode_t wider = st.st_mode & 0777 & ~static_cast<mode_t>(kAuditTrailFileMode);
  if (wider != 0) {
    if (st.st_uid != geteuid() || fchmod(fd, st.st_mode & kAuditTrailFileMode) != 0) {
      close(fd);
      return Status(E_ACCESSDENIED, "the audit trail " + path + " has mode " +
                                        ModeText(st.st_mode) +
                                        ", wider than 640, and cannot be tightened by this "
                                        "user; its owner must run: chmod 640 " + path);
    }
  }
  return fd;
}

// One complete line (without its '\n') of the trail.
void ReadLine(std::string_view line, std::optional<std::chrono::system_clock::time_point> since,
              std::vector<nlohmann::json>& events, AuditTrailReadStats& stats) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  std::optional<LogClock::time_point> time;
  if (!j.is_discarded() && j.is_object()) {
    const auto it = j.find("time");
    if (it != j.end() && it->is_string()) time = ParseLogTime(it->get_ref<const std::string&>());
  }
  if (!time) {
    ++stats.unparsable_lines;
    return;
  }
  if (since && *time < *since) return;
  events.push_back(std::move(j));
}

}  // namespace

std::string AuditTrailPathFor(const std::string& store_path) {
  if (store_path.size() > kDbSuffix.size() && store_path.ends_with(kDbSuffix)) {
    return store_path.substr(0, store_path.size() - kDbSuffix.size()) + ".audit.log";
  }
  return store_path + ".audit.log";
}

Result<std::unique_ptr<Logger>> OpenAuditTrail(const std::string& path, LogSeverity min_severity) {
  COMSEC_ASSIGN_OR_RETURN(int fd, OpenForAppend(path));
  std::vector<std::unique_ptr<LogSink>> sinks;
  sinks.push_back(std::make_unique<AuditTrailSink>(fd));
  return std::make_unique<Logger>(std::move(sinks), min_severity);
}

Result<std::vector<nlohmann::json>> ReadAuditTrail(
    const std::string& path, std::optional<std::chrono::system_clock::time_point> since,
    AuditTrailReadStats* stats_out) {
  AuditTrailReadStats stats;
  std::vector<nlohmann::json> events;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      stats.missing = true;
      if (stats_out != nullptr) *stats_out = stats;
      return events;
    }
    struct stat st;
    if ((err == EACCES || err == EPERM) && stat(path.c_str(), &st) == 0) {
      return Status(E_ACCESSDENIED, "the audit trail " + path + " may be read only by " +
                                        OwnerText(st) + " (mode " + ModeText(st.st_mode) +
                                        "); run the command as one of them");
    }
    return Status(err == EACCES || err == EPERM ? E_ACCESSDENIED : E_FAIL,
                  "cannot open the audit trail " + path + ": " + std::strerror(err));
  }
  // Lines are cut from fixed-size reads; `line` holds the start of one that
  // continues into the next read, unless it grew past kMaxAuditLineBytes
  // (then `overlong` and the rest of it is dropped up to its '\n').
  std::string line;
  bool overlong = false;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return Status(E_FAIL, "cannot read the audit trail " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    while (!chunk.empty()) {
      const size_t nl = chunk.find('\n');
      const std::string_view piece = chunk.substr(0, nl);
      if (!overlong) {
        if (line.size() + piece.size() > kMaxAuditLineBytes) {
          overlong = true;
          line.clear();
        } else {
          line.append(piece);
        }
      }
      if (nl == std::string_view::npos) break;
      if (overlong) {
        ++stats.unparsable_lines;
        overlong = false;
      } else {
        ReadLine(line, since, events, stats);
      }
      line.clear();
      chunk.remove_prefix(nl + 1);
    }
  }
  close(fd);
  // A last line without its '\n' is a write in progress or one a crash cut
  // short: never an event (a line is written whole, '\n' included).
  stats.torn_last_line = overlong || !line.empty();
  if (stats_out != nullptr) *stats_out = stats;
  return events;
}

}  // namespace comsec::config
