// Who a Kerberos caller is on this machine: the token and name a server
// gives the client principal its ticket names. The rule, first match wins:
//   1. the PAC's logon info (KERB_VALIDATION_INFO, [MS-PAC] 2.5, decoded by
//      auth/gssapi/pac.h): the SIDs and groups the client's KDC vouched
//      for, named "DOMAIN\account" (IdentityFromPac). Only a PAC whose
//      server checksum MIT verified counts (gss_get_name_attribute's
//      `authenticated`; MIT also checks that the PAC's client info names
//      the ticket's client). A verified PAC whose logon info is malformed
//      refuses the logon rather than falling through: the client's domain
//      signed something we cannot read. MIT's own KDC (1.20) issues PACs
//      without a logon info (reference/kerberos/NOTES.md §4.2), so with it
//      the rules below decide. What "verified" proves: whoever made the PAC
//      had this service's key — the KDC, or anyone who stole the keytab (a
//      forged "silver ticket"). The KDC's own checksum can only be checked
//      by a domain controller; Windows services skip that too by default.
//   2. the store's principal map (config/kerberos_config.h): the mapped
//      account of the account database (config/accounts.h), its SID and
//      local groups, named "DOMAIN\account". An administrator named this
//      principal explicitly, so a mapping that cannot be honoured (the
//      account is missing or disabled, the secrets file is unreadable)
//      refuses the logon instead of falling through to a weaker rule.
//   3. krb5.conf's auth_to_local rules (krb5_aname_to_localname; by default
//      a one-component principal of the default realm names itself): a Unix
//      account that exists and is not uid 0 gives its token (S-1-22-1-uid
//      and its groups, R188), named "unix:NAME". uid 0 is never a target: a
//      principal named root must not become LocalSystem.
//   4. otherwise: a token of its own, user SID PrincipalSid(principal) with
//      the groups of any authenticated network logon (Everyone,
//      Authenticated Users, BUILTIN\Users, NETWORK), named as the principal.
// The PAC comes first because it is the client's own domain speaking, with
// a signature this server checks; the map before auth_to_local because it
// is comsec's own, per-principal decision, where auth_to_local rules are
// coarse and shared with every Kerberos service of the machine. comcfg
// explain applies the same function (ResolvePrincipal), so its answer is
// the server's.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/store.h"
#include "comsec/security/sid.h"
#include "comsec/security/token.h"

namespace comsec::auth::gssapi {

struct MappedIdentity {
  // What the server reports as the caller (PeerName): "COMSEC\bob",
  // "unix:alice", "alice@REALM".
  std::string name;
  std::shared_ptr<const security::Token> token;
  // Which rule gave it, for logs and comcfg explain: "PAC logon info",
  // "store principal map", "auth_to_local", "principal SID".
  std::string source;
};

// The store's principal → account table (rule 2).
//
// Thread-safety: implementations are called from many connection threads
// at once and must be safe for that.
class PrincipalMap {
 public:
  virtual ~PrincipalMap() = default;
  // The identity `principal` ("alice@REALM") maps to; nullopt when it has
  // no mapping; an error refuses the logon.
  virtual Result<std::optional<MappedIdentity>> Find(const std::string& principal) = 0;
};

// The table of the policy store at a path, over the account database of
// that store's secrets file. Every lookup reads the store, so `comcfg
// kerberos map` applies to the next logon without a restart. Thread-safe:
// lookups are serialised on its own SQLite connections (one indexed read
// each).
class StorePrincipalMap : public PrincipalMap {
 public:
  // Opens the policy store read-only (it must exist). The secrets file is
  // opened at the first lookup of a mapped principal: a process that may
  // not read it refuses those principals (E_ACCESSDENIED) and serves the
  // others.
  static Result<std::unique_ptr<StorePrincipalMap>> Open(const std::string& store_path);
  Result<std::optional<MappedIdentity>> Find(const std::string& principal) override;

 private:
  StorePrincipalMap(std::string path, std::unique_ptr<config::Store> policy)
      : path_(std::move(path)), policy_(std::move(policy)) {}

  const std::string path_;
  std::mutex mu_;
  std::unique_ptr<config::Store> policy_;   // guarded by mu_
  std::unique_ptr<config::Store> secrets_;  // guarded by mu_; opened lazily
};

// Rule 1: the identity a ticket's PAC gives (the whole PAC, MIT's
// "urn:mspac:" attribute), or nullopt when it has no logon info. Fails
// (SEC_E_INVALID_TOKEN, RPC_X_BAD_STUB_DATA; pac.h) when the PAC or its
// logon info is malformed. The caller has checked that the PAC is verified.
Result<std::optional<MappedIdentity>> IdentityFromPac(std::span<const uint8_t> pac);

// Rules 2 to 4: the identity of `principal`; `map` may be null (no store).
// Fails only when rule 2 refuses. comcfg explain has no ticket, so it
// answers with these rules (and says so).
Result<MappedIdentity> ResolvePrincipal(const std::string& principal, PrincipalMap* map);

// A ticket's PAC as the acceptor read it (MIT's "urn:mspac:" name
// attribute): whether there was one, whether MIT verified its server
// checksum (the attribute's `authenticated`), and its bytes.
struct TicketPac {
  bool present = false;
  bool verified = false;
  std::vector<uint8_t> bytes;
};

// What the PAC contributed, for the acceptor's log: "absent", "unverified,
// ignored", "no logon info", "logon info".
struct CallerResolution {
  MappedIdentity identity;
  std::string pac_state;
};

// The whole rule for an authenticated Kerberos caller: rule 1 when `pac` is
// present and verified and has a logon info, else rules 2 to 4. An
// unverified PAC is ignored (its SIDs would be the client's word, not its
// KDC's). Fails when a verified PAC is malformed (IdentityFromPac's
// statuses, the message naming `principal`) or rule 2 refuses.
Result<CallerResolution> ResolveCaller(const std::string& principal, const TicketPac& pac,
                                       PrincipalMap* map);

// The SID of a principal with no account: S-1-5-21-a-b-c-r, a b c from a
// SHA-256 of the realm and r (≥ 1000) from one of the whole principal, the
// way Samba's idmap_hash derives ids. Stable across restarts and machines;
// two principals may collide (1 in 2^31), which the store's mapping
// removes.
security::Sid PrincipalSid(const std::string& principal);

}  // namespace comsec::auth::gssapi
