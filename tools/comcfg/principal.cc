#include "comcfg/principal.h"

#include <charconv>
#include <string>

#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::comcfg {

namespace {

Result<uint32_t> ParseId(std::string_view digits, std::string_view whole) {
  uint32_t value = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() ||
      end != digits.data() + digits.size()) {
    return Status(E_INVALIDARG, "principal \"" + std::string(whole) +
                                    "\": expected a decimal id after ':'");
  }
  return value;
}

}  // namespace

Result<Principal> ParsePrincipal(std::string_view text, bool as_group) {
  if (text.starts_with("uid:")) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t uid, ParseId(text.substr(4), text));
    Principal p{security::UnixUserSid(uid), std::nullopt};
    auto id = security::LookupUnixUser(uid);
    p.unix_user = id.ok() ? *id : security::UnixIdentity{uid, "", {}, {}};
    return p;
  }
  if (text.starts_with("gid:")) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t gid, ParseId(text.substr(4), text));
    return Principal{security::UnixGroupSid(gid), std::nullopt};
  }
  if (text.starts_with("unix:")) {
    std::string_view name = text.substr(5);
    if (as_group) {
      COMSEC_ASSIGN_OR_RETURN(uint32_t gid,
                              security::LookupUnixGroupByName(name));
      return Principal{security::UnixGroupSid(gid), std::nullopt};
    }
    COMSEC_ASSIGN_OR_RETURN(security::UnixIdentity id,
                            security::LookupUnixUserByName(name));
    return Principal{security::UnixUserSid(id.uid), id};
  }
  auto sid = security::ParseSddlSid(text);
  if (!sid.ok()) {
    return Status(E_INVALIDARG,
                  "principal \"" + std::string(text) +
                      "\" is not a SID, an SDDL alias, unix:NAME, uid:N or "
                      "gid:N (" + std::string(sid.status().message()) + ")");
  }
  return Principal{*sid, std::nullopt};
}

}  // namespace comsec::comcfg
