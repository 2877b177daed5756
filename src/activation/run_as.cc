#include "comsec/activation/run_as.h"

#include <dirent.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string_view>

#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comsec/security/unix_identity.h"

namespace comsec::activation {
namespace {

// A session file is a few hundred bytes; more is not logind's.
constexpr size_t kMaxSessionFileBytes = 64 * 1024;
// Enough for any real machine; bounds the directory scan.
constexpr size_t kMaxSessions = 4096;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct PasswdEntry {
  std::string name;
  uint32_t gid = 0;
  std::string home;
  std::string shell;
};

std::optional<PasswdEntry> PasswdOf(uint32_t uid) {
  std::vector<char> buf(4096);
  for (;;) {
    struct passwd pw;
    struct passwd* found = nullptr;
    const int rc = getpwuid_r(uid, &pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) return std::nullopt;
    return PasswdEntry{pw.pw_name, pw.pw_gid, pw.pw_dir ? pw.pw_dir : "",
                       pw.pw_shell ? pw.pw_shell : ""};
  }
}

// "unix:alice (uid 1001)", or "uid 1001" when the system has no name.
std::string DescribeUnix(uint32_t uid, const std::string& name) {
  if (name.empty()) return "uid " + std::to_string(uid);
  return "unix:" + name + " (uid " + std::to_string(uid) + ")";
}

// The RunAs value as RunAsFailure names it: as "CORP\bob".
std::string AsQuoted(std::string_view run_as) { return "as \"" + std::string(run_as) + "\""; }

Status RunAsFailure(const std::string& who, const std::string& why) {
  return Status(CO_E_RUNAS_LOGON_FAILURE, "cannot launch the server " + who + ": " + why);
}

// The launch identity for a Unix identity; `label`, when not empty,
// prefixes its description ("As Activator", "Interactive User", ...).
Result<LaunchIdentity> ToLaunchIdentity(const security::UnixIdentity& unix_id,
                                        const std::string& who, const std::string& label) {
  LaunchIdentity id;
  id.uid = unix_id.uid;
  id.user_name = unix_id.user_name;
  const std::optional<PasswdEntry> pw = PasswdOf(unix_id.uid);
  if (pw) {
    if (id.user_name.empty()) id.user_name = pw->name;
    if (!pw->home.empty()) id.home = pw->home;
    id.shell = pw->shell;
  }
  if (!unix_id.gids.empty()) {
    id.gid = unix_id.gids.front();
    id.groups = unix_id.gids;
  } else if (pw) {
    // An identity that lists no group: the user's own, as initgroups sets.
    auto looked_up = security::LookupUnixUser(unix_id.uid);
    if (!looked_up.ok() || looked_up->gids.empty()) {
      return RunAsFailure(
          who, DescribeUnix(unix_id.uid, id.user_name) + " has no groups the system can list");
    }
    id.gid = looked_up->gids.front();
    id.groups = looked_up->gids;
  } else {
    return RunAsFailure(who,
                        "uid " + std::to_string(unix_id.uid) +
                            " has neither a primary group nor a passwd entry to take one from");
  }
  id.description = DescribeUnix(id.uid, id.user_name);
  if (!label.empty()) id.description = label + ": " + id.description;
  return id;
}

Status RefuseRoot(const std::string& who, const std::string& what) {
  return RunAsFailure(who, what +
                               " is root (uid 0); comsec never launches a server as root "
                               "because of a RunAs value, as COM never launches one as "
                               "SYSTEM (R128)");
}

Result<LaunchIdentity> AsActivator(const RunAsContext& ctx) {
  const std::string who = "As Activator (RunAs absent)";
  if (ctx.activator == nullptr) {
    return InvalidArgument(
        "an As-Activator server needs the activator's token; "
        "RunAsContext::activator is null");
  }
  std::optional<security::UnixIdentity> unix_id = security::ImpersonationIdentityOf(*ctx.activator);
  if (!unix_id) {
    return RunAsFailure(who, "the activator " + ctx.activator->user().ToString() +
                                 " has no Unix account to run an As-Activator server as; "
                                 "map it with comcfg user set NAME --unix-user U, or give "
                                 "the AppID a RunAs value");
  }
  return ToLaunchIdentity(*unix_id, who, "As Activator");
}

bool IsUserClass(const std::string& session_class) {
  // logind's classes for a person's own session; greeters, lock screens
  // and background sessions are not someone logged on.
  return session_class.empty() || session_class == "user" || session_class == "user-early";
}

Result<LaunchIdentity> InteractiveUser(const std::string& run_as, const RunAsContext& ctx) {
  const std::string who = AsQuoted(run_as);
  COMSEC_ASSIGN_OR_RETURN(std::vector<LogindSession> sessions,
                          ReadLogindSessions(ctx.sessions_dir));
  // The best tier that has anyone: the active session of seat0 (the
  // console, Windows's session 1), else any other active session.
  std::vector<const LogindSession*> tiers[2];
  for (const LogindSession& s : sessions) {
    if (!s.active || !IsUserClass(s.session_class)) continue;
    tiers[s.seat == "seat0" ? 0 : 1].push_back(&s);
  }
  for (const auto& tier : tiers) {
    if (tier.empty()) continue;
    std::map<uint32_t, const LogindSession*> owners;
    for (const LogindSession* s : tier) owners.emplace(s->uid, s);
    if (owners.size() > 1) {
      std::string list;
      for (const auto& [uid, s] : owners) {
        if (!list.empty()) list += ", ";
        list += DescribeUnix(uid, s->user) + " in session " + s->id;
      }
      return RunAsFailure(who, "several users are logged on (" + list +
                                   ") and none is at seat0's console; comsec will not "
                                   "guess which one");
    }
    const LogindSession& s = *owners.begin()->second;
    if (s.uid == 0) return RefuseRoot(who, "the interactive user (session " + s.id + ")");
    auto unix_id = security::LookupUnixUser(s.uid);
    if (!unix_id.ok()) {
      return RunAsFailure(who, "the interactive user of session " + s.id + ", uid " +
                                   std::to_string(s.uid) + ", has no passwd entry");
    }
    COMSEC_ASSIGN_OR_RETURN(LaunchIdentity id, ToLaunchIdentity(*unix_id, who, "Interactive User"));
    id.description += ", session " + s.id + (s.seat.empty() ? "" : " on " + s.seat);
    return id;
  }
  return RunAsFailure(who, "no one is logged on (no active user session in " + ctx.sessions_dir +
                               "); an Interactive-User server starts only "
                               "while someone is (R127)");
}

Result<LaunchIdentity> ServiceUser(const std::string& run_as, const RunAsContext& ctx) {
  const std::string who = AsQuoted(run_as);
  auto unix_id = security::LookupUnixUserByName(ctx.service_user);
  if (!unix_id.ok()) {
    return RunAsFailure(who, "comsecd's service user \"" + ctx.service_user +
                                 "\" is not a Unix user on this system");
  }
  if (unix_id->uid == 0) {
    return RefuseRoot(who, "comsecd's service user \"" + ctx.service_user + "\"");
  }
  return ToLaunchIdentity(*unix_id, who, run_as);
}

Result<LaunchIdentity> UnixUser(const std::string& run_as, std::string_view name) {
  const std::string who = AsQuoted(run_as);
  auto unix_id = security::LookupUnixUserByName(name);
  if (!unix_id.ok()) {
    return RunAsFailure(who, "there is no Unix user named \"" + std::string(name) +
                                 "\" on this system (getent passwd)");
  }
  if (unix_id->uid == 0) return RefuseRoot(who, "unix:" + std::string(name));
  return ToLaunchIdentity(*unix_id, who, "");
}

Result<LaunchIdentity> StoreAccount(const std::string& run_as, const RunAsContext& ctx) {
  const std::string who = AsQuoted(run_as);
  std::string_view domain;
  std::string_view name = run_as;
  if (size_t slash = run_as.find('\\'); slash != std::string::npos) {
    domain = std::string_view(run_as).substr(0, slash);
    name = std::string_view(run_as).substr(slash + 1);
  }
  if (name.empty()) return RunAsFailure(who, "it names no account");
  if (ctx.store == nullptr) {
    return RunAsFailure(who, "no account store was given to look the account up in");
  }
  config::AccountDatabase db(ctx.store);
  if (!domain.empty() && domain != ".") {
    auto machine = db.Domain();
    const bool known = EqualsIgnoreCase(domain, config::NetbiosComputerName()) ||
                       (machine.ok() && EqualsIgnoreCase(domain, machine->name));
    if (!known) {
      return RunAsFailure(who, "domain \"" + std::string(domain) + "\" is not this machine's (" +
                                   (machine.ok() ? machine->name : config::NetbiosComputerName()) +
                                   "); comsec's store holds local accounts only; write .\\" +
                                   std::string(name));
    }
  }
  auto account = db.FindUser(name);
  if (!account.ok()) {
    return RunAsFailure(
        who, "cannot read the account store: " + std::string(account.status().message()));
  }
  if (!account->has_value()) {
    return RunAsFailure(who, "there is no account \"" + std::string(name) +
                                 "\" in comsec's store (comcfg user list); for a Unix user "
                                 "write unix:" +
                                 std::string(name));
  }
  const config::Account& a = **account;
  if (a.disabled) {
    return RunAsFailure(who, "account \"" + a.name + "\" is disabled");
  }
  if (!a.unix_mapping) {
    return RunAsFailure(who, "account \"" + a.name +
                                 "\" has no Unix account to run as; map it "
                                 "with comcfg user set " +
                                 a.name + " --unix-user U");
  }
  auto unix_id = config::ResolveUnixMapping(*a.unix_mapping);
  if (!unix_id.ok()) {
    return RunAsFailure(who, "account \"" + a.name +
                                 "\" is mapped to a Unix identity it "
                                 "cannot run as: " +
                                 std::string(unix_id.status().message()));
  }
  // ResolveUnixMapping refuses uid 0 already; kept so this function's
  // promise does not rest on another's.
  if (unix_id->uid == 0) return RefuseRoot(who, "account \"" + a.name + "\"'s mapping");
  return ToLaunchIdentity(*unix_id, who, run_as);
}

// Session file lines are KEY=VALUE (an environment file).
LogindSession ParseSession(const std::string& id, const std::string& text, bool* has_uid) {
  LogindSession s;
  s.id = id;
  bool active_flag = false;
  bool active_state = false;
  *has_uid = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) continue;
    const std::string_view key = line.substr(0, eq);
    const std::string_view value = line.substr(eq + 1);
    if (key == "UID") {
      uint64_t uid = 0;
      bool digits = !value.empty() && value.size() <= 10;
      for (char c : value) {
        if (c < '0' || c > '9')
          digits = false;
        else
          uid = uid * 10 + static_cast<uint64_t>(c - '0');
      }
      if (digits && uid < 0xFFFFFFFFu) {
        s.uid = static_cast<uint32_t>(uid);
        *has_uid = true;
      }
    } else if (key == "USER") {
      s.user = value;
    } else if (key == "SEAT") {
      s.seat = value;
    } else if (key == "ACTIVE") {
      active_flag = value == "1";
    } else if (key == "STATE") {
      active_state = value == "active";
    } else if (key == "CLASS") {
      s.session_class = value;
    }
  }
  s.active = active_flag || active_state;
  return s;
}

}  // namespace

Result<std::vector<LogindSession>> ReadLogindSessions(const std::string& sessions_dir) {
  std::vector<LogindSession> sessions;
  DIR* dir = ::opendir(sessions_dir.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return sessions;  // logind is not running: no sessions
    return Status(CO_E_RUNAS_LOGON_FAILURE,
                  "cannot read logind's sessions in " + sessions_dir + ": " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;  // ., .., and logind's temporary files
    names.emplace_back(e->d_name);
    if (names.size() > kMaxSessions) break;
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::ifstream in(sessions_dir + "/" + name, std::ios::binary);
    if (!in) continue;  // gone since the listing, or a subdirectory
    std::string text(kMaxSessionFileBytes, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<size_t>(in.gcount()));
    bool has_uid = false;
    LogindSession s = ParseSession(name, text, &has_uid);
    if (has_uid) sessions.push_back(std::move(s));
  }
  return sessions;
}

Result<LaunchIdentity> ResolveRunAs(const std::optional<std::string>& run_as,
                                    const RunAsContext& ctx) {
  if (!run_as) return AsActivator(ctx);
  const std::string& v = *run_as;
  if (v.empty() || v.find('\0') != std::string::npos) {
    return RunAsFailure(AsQuoted(""),
                        "the AppID's RunAs value is empty; remove it for As Activator "
                        "or name an account");
  }
  if (EqualsIgnoreCase(v, "Interactive User")) return InteractiveUser(v, ctx);
  if (EqualsIgnoreCase(v, "nt authority\\localservice") ||
      EqualsIgnoreCase(v, "nt authority\\networkservice")) {
    return ServiceUser(v, ctx);
  }
  if (EqualsIgnoreCase(v, "nt authority\\system")) {
    return RunAsFailure(AsQuoted(v),
                        "COM cannot launch a server as SYSTEM (R128); only a server "
                        "already running can serve it");
  }
  constexpr std::string_view kNtAuthority = "nt authority\\";
  if (v.size() >= kNtAuthority.size() &&
      EqualsIgnoreCase(std::string_view(v).substr(0, kNtAuthority.size()), kNtAuthority)) {
    return RunAsFailure(AsQuoted(v),
                        "it is not an account a server can run as; use "
                        "nt authority\\localservice or a user");
  }
  constexpr std::string_view kUnix = "unix:";
  if (v.size() >= kUnix.size() &&
      EqualsIgnoreCase(std::string_view(v).substr(0, kUnix.size()), kUnix)) {
    return UnixUser(v, std::string_view(v).substr(kUnix.size()));
  }
  return StoreAccount(v, ctx);
}

}  // namespace comsec::activation
