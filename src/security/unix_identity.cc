#include "comsec/security/unix_identity.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "comsec/base/win32_error.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

std::string GroupName(gid_t gid) {
  std::vector<char> buf(4096);
  for (;;) {
    struct group gr;
    struct group* found = nullptr;
    int rc = getgrgid_r(gid, &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    return (rc == 0 && found) ? std::string(found->gr_name) : std::string();
  }
}

Result<UnixIdentity> FromPasswd(const struct passwd& pw) {
  UnixIdentity id;
  id.uid = pw.pw_uid;
  id.user_name = pw.pw_name;
  int count = 64;
  std::vector<gid_t> gids(static_cast<size_t>(count));
  while (getgrouplist(pw.pw_name, pw.pw_gid, gids.data(), &count) < 0) {
    if (count > 65536) {
      return Status(E_FAIL, "user " + id.user_name +
                                " has more groups than comsec accepts");
    }
    gids.resize(static_cast<size_t>(count));
  }
  gids.resize(static_cast<size_t>(count));
  id.gids.push_back(pw.pw_gid);
  for (gid_t g : gids) {
    if (std::find(id.gids.begin(), id.gids.end(), g) == id.gids.end()) {
      id.gids.push_back(g);
    }
  }
  for (uint32_t g : id.gids) id.group_names.push_back(GroupName(g));
  return id;
}

template <typename Lookup>
Result<UnixIdentity> LookupPasswd(Lookup lookup, const std::string& what) {
  std::vector<char> buf(4096);
  for (;;) {
    struct passwd pw;
    struct passwd* found = nullptr;
    int rc = lookup(&pw, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) {
      return Status(ERROR_NO_SUCH_USER,
                    "no Unix user " + what +
                        " exists on this system; check the name or uid "
                        "(getent passwd)");
    }
    return FromPasswd(pw);
  }
}

}  // namespace

Result<UnixIdentity> LookupUnixUser(uint32_t uid) {
  return LookupPasswd(
      [uid](struct passwd* pw, char* b, size_t n, struct passwd** f) {
        return getpwuid_r(uid, pw, b, n, f);
      },
      "with uid " + std::to_string(uid));
}

Result<UnixIdentity> LookupUnixUserByName(std::string_view name) {
  std::string n(name);
  return LookupPasswd(
      [&n](struct passwd* pw, char* b, size_t size, struct passwd** f) {
        return getpwnam_r(n.c_str(), pw, b, size, f);
      },
      "named \"" + n + "\"");
}

Result<uint32_t> LookupUnixGroupByName(std::string_view name) {
  std::string n(name);
  std::vector<char> buf(4096);
  for (;;) {
    struct group gr;
    struct group* found = nullptr;
    int rc = getgrnam_r(n.c_str(), &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) {
      return Status(ERROR_NO_SUCH_GROUP,
                    "no Unix group named \"" + n +
                        "\" exists on this system (getent group)");
    }
    return static_cast<uint32_t>(found->gr_gid);
  }
}

std::optional<UnixIdentity> ImpersonationIdentityOf(const Token& token) {
  if (const UnixIdentity* mapped = token.unix_identity()) return *mapped;
  if (std::optional<uint32_t> uid = UnixUidOf(token.user())) {
    if (auto identity = LookupUnixUser(*uid); identity.ok()) return std::move(*identity);
  }
  return std::nullopt;
}

Token TokenForUnixIdentity(const UnixIdentity& id,
                           const UnixTokenOptions& options) {
  std::vector<Sid> groups;
  groups.reserve(id.gids.size() + 2);
  bool admin = id.uid == 0;
  for (size_t i = 0; i < id.gids.size(); ++i) {
    groups.push_back(UnixGroupSid(id.gids[i]));
    if (i < id.group_names.size() && !id.group_names[i].empty() &&
        std::find(options.admin_groups.begin(), options.admin_groups.end(),
                  id.group_names[i]) != options.admin_groups.end()) {
      admin = true;
    }
  }
  if (id.uid == 0) groups.push_back(well_known::LocalSystem());
  if (admin) groups.push_back(well_known::BuiltinAdministrators());
  Token token = Token::ForAuthenticatedUser(UnixUserSid(id.uid), groups, options.logon);
  // The account it was made from: impersonating it switches to exactly
  // these credentials, with no second look-up (the groups as the logon saw
  // them).
  token.SetUnixIdentity(id);
  return token;
}

}  // namespace comsec::security
