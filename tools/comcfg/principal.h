// Principals as comcfg's users write them: a SID ("S-1-5-32-544"), an SDDL
// alias ("BA"), "unix:NAME", "uid:N" or "gid:N".
#pragma once

#include <optional>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/security/sid.h"
#include "comsec/security/unix_identity.h"

namespace comsec::comcfg {

struct Principal {
  security::Sid sid;
  // For unix:NAME and uid:N users: the identity, with its groups when the
  // system knows the user (otherwise just the uid).
  std::optional<security::UnixIdentity> unix_user;
};

// `as_group` decides what unix:NAME means: a group (S-1-22-2-gid) or a
// user (S-1-22-1-uid with its groups). uid:N always names a user and gid:N
// a group.
Result<Principal> ParsePrincipal(std::string_view text, bool as_group);

}  // namespace comsec::comcfg
