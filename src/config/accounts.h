// The local account database (the SAM's role, issue 5): one machine domain
// per store with a SID S-1-5-21-a-b-c chosen at random when the store first
// needs it, user accounts with their NT hash (the only secret kept; never
// a password), and local groups. An NTLM server validates callers against
// it; their tokens carry the SIDs it assigns.
//
// Layout in the store (the SAM hive is not exported by `comcfg reg
// export`, and hashes are never printed):
//   HKLM\SAM\Domains\Account            Name, Sid, NextRid
//   HKLM\SAM\Domains\Account\Users\N    Rid, NtHash, Disabled, and the
//                                      Unix mapping when set: UnixUser, or
//                                      UnixUid + UnixGid [+ UnixGroups]
//   HKLM\SAM\Domains\Account\Groups\N   Rid, Members (REG_MULTI_SZ)
// Names are case-insensitive like the store's keys. RIDs start at 1000 and
// are never reused.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/secret.h"
#include "comsec/config/key_path.h"
#include "comsec/config/store.h"
#include "comsec/security/sid.h"
#include "comsec/security/token.h"
#include "comsec/security/unix_identity.h"

namespace comsec::config {

inline constexpr std::string_view kAccountDomainKey =
    "HKEY_LOCAL_MACHINE\\SAM\\Domains\\Account";
inline constexpr std::string_view kSamKey = "HKEY_LOCAL_MACHINE\\SAM";

// Wiped when freed (base/secret.h).
using NtHashBytes = SecretArray<16>;

struct MachineDomain {
  std::string name;  // NetBIOS name, upper case
  security::Sid sid;
};

// The Unix identity a store account acts as when a server impersonates one
// of its logons at IMPERSONATE or DELEGATE (issue 14): the serving thread's
// uid, gid and groups switch to it (security/thread_impersonation.h). Its
// SIDs stay the account's: the mapping changes what the kernel sees, never
// what comsec's access checks match.
//   * By name (`user_name` set; value UnixUser): the Unix user's uid,
//     primary gid and supplementary groups as the system has them at each
//     logon (NSS), so a group change applies from the next logon.
//   * By number (value UnixUid, UnixGid, UnixGroups as decimal strings):
//     exactly these ids, whether or not the system names them.
// uid 0 is never a mapping target (SetUnixMapping refuses it and
// ResolveUnixMapping refuses a stored one), as for certificate and
// principal mappings.
struct UnixMapping {
  std::string user_name;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary

  bool operator==(const UnixMapping&) const = default;
};

// Supplementary groups a numeric mapping may list: Linux's NGROUPS_MAX.
inline constexpr size_t kMaxUnixMappingGroups = 65536;

struct Account {
  std::string name;  // as created
  uint32_t rid = 0;
  security::Sid sid;
  NtHashBytes nt_hash{};
  bool disabled = false;
  // The local groups the account belongs to (name and SID).
  std::vector<std::pair<std::string, security::Sid>> groups;
  std::optional<UnixMapping> unix_mapping;
};

// What a logon of a store account carries, from the database alone: the
// one description every package uses (NTLM's validator, Kerberos's and
// TLS's store mappings) and `comcfg explain` rebuilds, so that an offline
// explanation and a live decision see the same caller.
struct AccountLogon {
  security::Sid user_sid;
  // The SIDs of the account's local groups.
  std::vector<security::Sid> group_sids;
  // Its Unix identity, resolved at logon; none when unmapped.
  std::optional<security::UnixIdentity> unix_identity;
};

// The account's logon. A mapping by name to a Unix user the system does
// not know (ERROR_NO_SUCH_USER) or to uid 0 (E_ACCESSDENIED) fails: a
// package refuses the logon rather than let the caller in with an identity
// it cannot act as. Does not look at `disabled` (each package refuses
// disabled accounts in its own words).
Result<AccountLogon> LogonOf(const Account& account);
// Resolves a mapping as LogonOf does.
Result<security::UnixIdentity> ResolveUnixMapping(const UnixMapping& mapping);

// The token a logon gets (the one copy of the rule): the account's SID,
// its local groups, the groups every authenticated logon gets
// (Token::ForAuthenticatedUser: Everyone, Authenticated Users,
// BUILTIN\Users, NETWORK or INTERACTIVE + LOCAL) and the Unix identity.
security::Token AccountLogonToken(const AccountLogon& logon, security::LogonKind kind);

struct LocalGroup {
  std::string name;
  uint32_t rid = 0;
  security::Sid sid;
  std::vector<std::string> members;
};

// Thread-safety: as its Store, one thread at a time; a server shares it
// across connection threads only behind StoreAccountSource's lock.
class AccountDatabase {
 public:
  explicit AccountDatabase(Store* store) : store_(store) {}

  // The machine domain; ERROR_NOT_FOUND until EnsureDomain ran.
  Result<MachineDomain> Domain();
  // Creates the domain (random SID, `default_name` upper-cased and cut to
  // 15 characters) if the store has none; returns it either way.
  Result<MachineDomain> EnsureDomain(std::string_view default_name);

  // E_INVALIDARG for a bad name; HRESULT_FROM_WIN32(ERROR_USER_EXISTS)
  // when taken.
  Status AddUser(std::string_view name, const NtHashBytes& nt_hash);
  // ERROR_NO_SUCH_USER when absent.
  Status SetNtHash(std::string_view name, const NtHashBytes& nt_hash);
  Status SetDisabled(std::string_view name, bool disabled);
  // Sets the account's Unix mapping, or removes it (nullopt). E_INVALIDARG
  // for uid 0; by name, ERROR_NO_SUCH_USER for a name the system does not
  // know (checked now, and again at each logon).
  Status SetUnixMapping(std::string_view name, const std::optional<UnixMapping>& mapping);
  Status DeleteUser(std::string_view name);
  Result<std::optional<Account>> FindUser(std::string_view name);
  Result<std::vector<Account>> ListUsers();

  Status AddGroup(std::string_view name);
  Status DeleteGroup(std::string_view name);
  Status AddMember(std::string_view group, std::string_view user);
  Status RemoveMember(std::string_view group, std::string_view user);
  Result<std::vector<LocalGroup>> ListGroups();
  // The group, or nullopt when there is none of that name.
  Result<std::optional<LocalGroup>> FindGroup(std::string_view name);

 private:
  Result<uint32_t> NextRid(WriteTransaction& tx);
  Status CheckName(std::string_view name, const char* what) const;

  Store* store_;
};

// True for HKLM\SAM and everything under it: the account database, which
// `comcfg reg` neither shows nor edits (hashes are never printed).
bool IsAccountKey(const KeyPath& key);
// The refusal `comcfg reg` gives for such keys.
Status AccountKeyRefused(const KeyPath& key);

// HKLM\SYSTEM\CurrentControlSet\Control\Lsa LmCompatibilityLevel, as
// Windows reads it: 0-5, where a server accepts NTLMv1 below 5. Absent, comsec
// uses 5 (NTLMv2 only; Windows's default, 3, would accept NTLMv1); any other
// value or type also means 5 (fail closed), with `*warning` saying why.
inline constexpr std::string_view kLsaKey =
    "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa";
Result<uint32_t> ReadLmCompatibilityLevel(Store* store, std::string* warning);

// The machine's NetBIOS name: the host name before the first dot, upper
// case, at most 15 characters.
std::string NetbiosComputerName();

}  // namespace comsec::config
