// The local account database (the SAM's role, issue 5): one machine domain
// per store with a SID S-1-5-21-a-b-c chosen at random when the store first
// needs it, user accounts with their NT hash (the only secret kept; never
// a password), and local groups. An NTLM server validates callers against
// it; their tokens carry the SIDs it assigns.
//
// Layout in the store (the SAM hive is not exported by `comcfg reg
// export`, and hashes are never printed):
//   HKLM\SAM\Domains\Account            Name, Sid, NextRid
//   HKLM\SAM\Domains\Account\Users\N    Rid, NtHash, Disabled
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

struct Account {
  std::string name;  // as created
  uint32_t rid = 0;
  security::Sid sid;
  NtHashBytes nt_hash{};
  bool disabled = false;
  // The local groups the account belongs to (name and SID).
  std::vector<std::pair<std::string, security::Sid>> groups;
};

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
  Status DeleteUser(std::string_view name);
  Result<std::optional<Account>> FindUser(std::string_view name);
  Result<std::vector<Account>> ListUsers();

  Status AddGroup(std::string_view name);
  Status DeleteGroup(std::string_view name);
  Status AddMember(std::string_view group, std::string_view user);
  Status RemoveMember(std::string_view group, std::string_view user);
  Result<std::vector<LocalGroup>> ListGroups();

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
