// Unix identities as access tokens (DESIGN.md "Identities on Linux", R188).
//
// A Unix user becomes S-1-22-1-uid and each of its groups S-1-22-2-gid, as
// Samba maps them. root is also LocalSystem and BUILTIN\Administrators;
// members of the configured administrator groups are also
// BUILTIN\Administrators. The authenticated-logon groups (Everyone,
// Authenticated Users, BUILTIN\Users, INTERACTIVE/LOCAL or NETWORK) come
// from Token::ForAuthenticatedUser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/token.h"

namespace comsec::security {

struct UnixIdentity {
  uint32_t uid = 0;
  std::string user_name;  // "" when the uid has no passwd entry
  // Primary group first, then supplementary groups, without duplicates.
  std::vector<uint32_t> gids;
  // Names of `gids` where the system knows them (same order; "" if unknown).
  std::vector<std::string> group_names;

  bool operator==(const UnixIdentity&) const = default;
};

struct UnixTokenOptions {
  LogonKind logon = LogonKind::kLocal;
  // Members of these groups are BUILTIN\Administrators.
  std::vector<std::string> admin_groups = {"sudo", "wheel", "admin"};
};

// Looks the user up in the system's user and group databases (NSS).
// ERROR_NO_SUCH_USER when it has no entry.
Result<UnixIdentity> LookupUnixUser(uint32_t uid);
Result<UnixIdentity> LookupUnixUserByName(std::string_view name);
// The gid of a named group; ERROR_NO_SUCH_GROUP when unknown.
Result<uint32_t> LookupUnixGroupByName(std::string_view name);

// The Unix identity a server's thread takes on when it impersonates a
// caller with `token` at IMPERSONATE or DELEGATE: the one the logon carries
// (Token::unix_identity: a store account mapped to a Unix user), else the
// Unix user its SID names (S-1-22-1-uid), looked up now; nullopt for any
// other caller, and for a uid the system no longer knows (the thread then
// only identifies).
std::optional<UnixIdentity> ImpersonationIdentityOf(const Token& token);

// Builds the token; pure (no system lookups).
Token TokenForUnixIdentity(const UnixIdentity& identity,
                           const UnixTokenOptions& options);

}  // namespace comsec::security
