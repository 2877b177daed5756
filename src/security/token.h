// Token: who a caller is, as an access check sees it — a user SID and group
// SIDs with attributes ([MS-DTYP] 2.5.2, the Token/Authorization Context),
// plus how the caller logged on (locally or over the network).
//
// Tokens are immutable once built and safe to share between threads. The
// group table keeps each SID's fingerprint in a dense array so that the
// access check's SID matching is a scan of integers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "comsec/security/sid.h"

namespace comsec::security {

struct UnixIdentity;  // security/unix_identity.h

// [MS-DTYP] 2.5.2 / winnt.h SE_GROUP_* attributes.
inline constexpr uint32_t SE_GROUP_MANDATORY = 0x00000001;
inline constexpr uint32_t SE_GROUP_ENABLED_BY_DEFAULT = 0x00000002;
inline constexpr uint32_t SE_GROUP_ENABLED = 0x00000004;
inline constexpr uint32_t SE_GROUP_OWNER = 0x00000008;
inline constexpr uint32_t SE_GROUP_USE_FOR_DENY_ONLY = 0x00000010;
inline constexpr uint32_t SE_GROUP_INTEGRITY = 0x00000020;
inline constexpr uint32_t SE_GROUP_INTEGRITY_ENABLED = 0x00000040;
inline constexpr uint32_t SE_GROUP_RESOURCE = 0x20000000;
inline constexpr uint32_t SE_GROUP_LOGON_ID = 0xC0000000;
// What an ordinary group membership carries.
inline constexpr uint32_t kGroupEnabled =
    SE_GROUP_MANDATORY | SE_GROUP_ENABLED_BY_DEFAULT | SE_GROUP_ENABLED;

struct SidAndAttributes {
  Sid sid;
  uint32_t attributes = kGroupEnabled;
};

// Local = the caller reached us over the local transport (ncalrpc, LRPC);
// network = over TCP. COM's local/remote rights follow this (R117).
enum class LogonKind : uint8_t { kLocal, kNetwork };

// How a SID in an ACE relates to a token.
enum class SidMatch : uint8_t {
  kNone,      // not in the token
  kDenyOnly,  // present but only for deny ACEs (SE_GROUP_USE_FOR_DENY_ONLY)
  kEnabled,   // present and enabled: allow and deny ACEs both apply
};

class Token {
 public:
  // A token with just a user SID; groups are added with AddGroup.
  Token(Sid user, LogonKind logon);

  // The token of an authenticated caller, with the groups Windows gives
  // every such logon: Everyone, Authenticated Users, BUILTIN\Users, and
  // INTERACTIVE + LOCAL when local or NETWORK when remote, after `groups`.
  static Token ForAuthenticatedUser(Sid user, std::span<const Sid> groups,
                                    LogonKind logon);
  // ANONYMOUS LOGON (S-1-5-7) and nothing else, unless
  // `everyone_includes_anonymous` (Windows's EveryoneIncludesAnonymous
  // policy), which adds Everyone.
  static Token Anonymous(LogonKind logon, bool everyone_includes_anonymous);

  // Adds or updates a group. Adding a SID twice keeps one entry whose
  // attributes are the union.
  void AddGroup(const Sid& sid, uint32_t attributes = kGroupEnabled);

  // The Unix identity this logon acts as when a server impersonates it at
  // IMPERSONATE or DELEGATE (a store account mapped to a Unix user,
  // config/accounts.h), where its user SID does not say it (S-1-22-1-uid
  // does). Not part of what the access check matches.
  void SetUnixIdentity(const UnixIdentity& identity);
  // Null when the logon names none.
  const UnixIdentity* unix_identity() const { return unix_identity_.get(); }

  const Sid& user() const { return user_; }
  const std::vector<SidAndAttributes>& groups() const { return groups_; }
  LogonKind logon() const { return logon_; }
  bool IsAnonymous() const;
  // True when `sid` is the user or an enabled group.
  bool IsMember(const Sid& sid) const {
    return Match(sid) == SidMatch::kEnabled;
  }

  // The hot path of the access check.
  SidMatch Match(const Sid& sid) const {
    const uint64_t f = sid.fingerprint();
    const size_t n = fingerprints_.size();
    for (size_t i = 0; i < n; ++i) {
      if (fingerprints_[i] == f) return MatchSlow(sid, i);
    }
    return SidMatch::kNone;
  }

  // "S-1-22-1-1000 (groups: WD AU ...)" for logs and explanations; a
  // token with a Unix identity ends "...; acts as uid 65534 gids 65534)".
  std::string Describe() const;

 private:
  SidMatch MatchSlow(const Sid& sid, size_t from) const;

  Sid user_;
  LogonKind logon_;
  std::vector<SidAndAttributes> groups_;
  // fingerprints_[0] is the user; fingerprints_[i + 1] is groups_[i].
  std::vector<uint64_t> fingerprints_;
  // Immutable once set; shared by copies of the token.
  std::shared_ptr<const UnixIdentity> unix_identity_;
};

}  // namespace comsec::security
