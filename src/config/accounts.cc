#include "comsec/config/accounts.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

constexpr uint32_t kFirstRid = 1000;

KeyPath DomainKey() { return *KeyPath::Parse(kAccountDomainKey); }
KeyPath UsersKey() { return DomainKey().Child("Users"); }
KeyPath GroupsKey() { return DomainKey().Child("Groups"); }

Status NoSuchUser(std::string_view name) {
  return Status(ERROR_NO_SUCH_USER,
                "no account named '" + std::string(name) +
                    "'; `comcfg user list` shows the accounts");
}

Status NoSuchGroup(std::string_view name) {
  return Status(ERROR_NO_SUCH_GROUP,
                "no local group named '" + std::string(name) +
                    "'; `comcfg group list` shows the groups");
}

Status NoDomain() {
  return Status(ERROR_NOT_FOUND,
                "the store has no machine domain yet; `comcfg user add` "
                "creates it");
}

Result<MachineDomain> ReadDomain(ReadTransaction& tx) {
  COMSEC_ASSIGN_OR_RETURN(auto name, tx.GetValue(DomainKey(), "Name"));
  COMSEC_ASSIGN_OR_RETURN(auto sid, tx.GetValue(DomainKey(), "Sid"));
  if (!name || !sid) return NoDomain();
  MachineDomain d;
  COMSEC_ASSIGN_OR_RETURN(d.name, name->AsString());
  COMSEC_ASSIGN_OR_RETURN(std::string sid_text, sid->AsString());
  COMSEC_ASSIGN_OR_RETURN(d.sid, security::Sid::Parse(sid_text));
  return d;
}

// Value names compare as the store compares them.
bool SameValueName(std::string_view a, std::string_view b) { return FoldCase(a) == FoldCase(b); }

Result<std::vector<std::string>> Members(ReadTransaction& tx, const KeyPath& group) {
  COMSEC_ASSIGN_OR_RETURN(auto v, tx.GetValue(group, "Members"));
  if (!v) return std::vector<std::string>{};
  return v->AsMultiString();
}

}  // namespace

bool IsAccountKey(const KeyPath& key) {
  const std::string sam = FoldCase(kSamKey);
  const std::string k = FoldCase(key.ToString());
  return k == sam || k.rfind(sam + "\\", 0) == 0;
}

Status AccountKeyRefused(const KeyPath& key) {
  return Status(E_ACCESSDENIED,
                key.ToString() + " belongs to the account database, which holds "
                "password hashes; manage it with `comcfg user` and `comcfg group`");
}

Result<uint32_t> ReadLmCompatibilityLevel(Store* store, std::string* warning) {
  COMSEC_ASSIGN_OR_RETURN(auto v, store->GetValue(*KeyPath::Parse(kLsaKey),
                                                  "LmCompatibilityLevel"));
  if (!v) return 5u;
  auto level = v->AsDword();
  if (!level.ok() || *level > 5) {
    if (warning) {
      *warning = "LmCompatibilityLevel in " + std::string(kLsaKey) +
                 " is not a REG_DWORD 0-5; using 5 (NTLMv2 only)";
    }
    return 5u;
  }
  return *level;
}

std::string NetbiosComputerName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0 || host[0] == 0) {
    return "LOCALHOST";
  }
  std::string name(host);
  name = name.substr(0, name.find('.'));
  if (name.size() > 15) name.resize(15);
  return UpcaseUtf8(name);
}

Status AccountDatabase::CheckName(std::string_view name, const char* what) const {
  // Names compare by Windows's upper case of their characters, so they
  // must be characters (UTF-8).
  COMSEC_RETURN_IF_ERROR(UpcaseAccountName(name).status());
  // Windows refuses these characters in account names ("\"/\\[]:;|=,+*?<>@"),
  // and counts the 20 in UTF-16 characters.
  static constexpr std::string_view kBad = "\"/\\[]:;|=,+*?<>@";
  if (name.empty() || Utf8ToUtf16Lossy(name).size() > 20) {
    return InvalidArgument(std::string(what) + " names have 1 to 20 characters");
  }
  for (char c : name) {
    if (kBad.find(c) != std::string_view::npos ||
        static_cast<unsigned char>(c) < 0x20) {
      return InvalidArgument(std::string(what) + " name '" + std::string(name) +
                             "' contains '" + std::string(1, c) +
                             "', which Windows does not allow");
    }
  }
  if (name.find_first_not_of('.') == std::string_view::npos) {
    return InvalidArgument(std::string(what) + " names cannot be only periods");
  }
  return Status::Ok();
}

Result<MachineDomain> AccountDatabase::Domain() {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
  return ReadDomain(*tx);
}

Result<MachineDomain> AccountDatabase::EnsureDomain(std::string_view default_name) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  auto existing = ReadDomain(tx->reader());
  if (existing.ok()) return existing;
  if (existing.status().code() != ERROR_NOT_FOUND) return existing.status();
  COMSEC_ASSIGN_OR_RETURN(std::string name, UpcaseAccountName(default_name.substr(0, 15)));
  uint32_t sub[3];
  if (RAND_bytes(reinterpret_cast<unsigned char*>(sub), sizeof sub) != 1) {
    return Status(E_FAIL, "the random generator failed; no domain SID was made");
  }
  MachineDomain d{name, security::Sid(5, {21, sub[0], sub[1], sub[2]})};
  COMSEC_RETURN_IF_ERROR(tx->SetValue(DomainKey(), RegValue::String("Name", d.name)));
  COMSEC_RETURN_IF_ERROR(
      tx->SetValue(DomainKey(), RegValue::String("Sid", d.sid.ToString())));
  COMSEC_RETURN_IF_ERROR(tx->SetValue(DomainKey(), RegValue::Dword("NextRid", kFirstRid)));
  COMSEC_RETURN_IF_ERROR(tx->CreateKey(UsersKey()));
  COMSEC_RETURN_IF_ERROR(tx->CreateKey(GroupsKey()));
  COMSEC_RETURN_IF_ERROR(tx->Commit());
  return d;
}

Result<uint32_t> AccountDatabase::NextRid(WriteTransaction& tx) {
  COMSEC_ASSIGN_OR_RETURN(auto v, tx.reader().GetValue(DomainKey(), "NextRid"));
  uint32_t rid = kFirstRid;
  if (v) {
    COMSEC_ASSIGN_OR_RETURN(rid, v->AsDword());
  }
  COMSEC_RETURN_IF_ERROR(tx.SetValue(DomainKey(), RegValue::Dword("NextRid", rid + 1)));
  return rid;
}

namespace {

constexpr std::string_view kUnixValues[] = {"UnixUser", "UnixUid", "UnixGid", "UnixGroups"};

Status MalformedMapping(const std::string& account, const std::string& why) {
  return Status(E_INVALIDARG, "account '" + account + "' has a malformed Unix mapping (" + why +
                                  "); set it again with `comcfg user set " + account +
                                  "` --unix-user or --uid/--gid");
}

// The Unix mapping among an account key's values; nullopt when it has none.
Result<std::optional<UnixMapping>> ReadUnixMapping(const std::string& account,
                                                   const std::vector<RegValue>& values) {
  const RegValue* user = nullptr;
  const RegValue* uid = nullptr;
  const RegValue* gid = nullptr;
  const RegValue* groups = nullptr;
  for (const RegValue& v : values) {
    if (SameValueName(v.name, "UnixUser")) user = &v;
    if (SameValueName(v.name, "UnixUid")) uid = &v;
    if (SameValueName(v.name, "UnixGid")) gid = &v;
    if (SameValueName(v.name, "UnixGroups")) groups = &v;
  }
  if (!user && !uid && !gid && !groups) return std::optional<UnixMapping>();
  UnixMapping m;
  if (user) {
    if (uid || gid || groups) return MalformedMapping(account, "both a name and ids");
    auto name = user->AsString();
    if (!name.ok() || name->empty()) return MalformedMapping(account, "UnixUser is not a name");
    m.user_name = std::move(*name);
    return std::optional<UnixMapping>(std::move(m));
  }
  if (!uid || !gid) return MalformedMapping(account, "UnixUid and UnixGid go together");
  auto u = uid->AsDword();
  auto g = gid->AsDword();
  if (!u.ok() || !g.ok()) return MalformedMapping(account, "UnixUid and UnixGid are REG_DWORDs");
  m.uid = *u;
  m.gid = *g;
  if (groups) {
    auto list = groups->AsMultiString();
    if (!list.ok() || list->size() > kMaxUnixMappingGroups) {
      return MalformedMapping(account, "UnixGroups is not a list of gids");
    }
    for (const std::string& text : *list) {
      uint32_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return MalformedMapping(account, "UnixGroups holds '" + text + "', not a gid");
      }
      m.groups.push_back(n);
    }
  }
  return std::optional<UnixMapping>(std::move(m));
}

// Writes the NtHash value; the temporary copy the value needs is wiped.
Status SetHashValue(WriteTransaction& tx, const KeyPath& key, const NtHashBytes& nt_hash) {
  RegValue v = RegValue::Binary("NtHash", std::vector<uint8_t>(nt_hash.begin(), nt_hash.end()));
  Status s = tx.SetValue(key, v);
  WipeSecret(v.data.data(), v.data.size());
  return s;
}

}  // namespace

Status AccountDatabase::AddUser(std::string_view name, const NtHashBytes& nt_hash) {
  COMSEC_RETURN_IF_ERROR(CheckName(name, "user"));
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  COMSEC_RETURN_IF_ERROR(ReadDomain(tx->reader()).status());
  const KeyPath key = UsersKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  COMSEC_ASSIGN_OR_RETURN(bool group_exists,
                          tx->reader().KeyExists(GroupsKey().Child(name)));
  if (exists || group_exists) {
    return Status(ERROR_USER_EXISTS, "an account or group named '" +
                                           std::string(name) + "' already exists");
  }
  COMSEC_ASSIGN_OR_RETURN(uint32_t rid, NextRid(*tx));
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("Rid", rid)));
  COMSEC_RETURN_IF_ERROR(SetHashValue(*tx, key, nt_hash));
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("Disabled", 0)));
  return tx->Commit();
}

Status AccountDatabase::SetNtHash(std::string_view name, const NtHashBytes& nt_hash) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath key = UsersKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  if (!exists) return NoSuchUser(name);
  COMSEC_RETURN_IF_ERROR(SetHashValue(*tx, key, nt_hash));
  return tx->Commit();
}

Status AccountDatabase::SetDisabled(std::string_view name, bool disabled) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath key = UsersKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  if (!exists) return NoSuchUser(name);
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("Disabled", disabled ? 1 : 0)));
  return tx->Commit();
}

Status AccountDatabase::SetUnixMapping(std::string_view name,
                                       const std::optional<UnixMapping>& mapping) {
  if (mapping) {
    if (!mapping->user_name.empty()) {
      COMSEC_ASSIGN_OR_RETURN(security::UnixIdentity id,
                              security::LookupUnixUserByName(mapping->user_name));
      if (id.uid == 0) {
        return InvalidArgument("Unix user '" + mapping->user_name +
                               "' is uid 0: root is never a mapping target");
      }
    } else if (mapping->uid == 0) {
      return InvalidArgument("uid 0 is root, which is never a mapping target");
    }
    if (mapping->groups.size() > kMaxUnixMappingGroups) {
      return InvalidArgument("at most " + std::to_string(kMaxUnixMappingGroups) +
                             " supplementary groups");
    }
  }
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath key = UsersKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  if (!exists) return NoSuchUser(name);
  for (std::string_view v : kUnixValues) COMSEC_RETURN_IF_ERROR(tx->DeleteValue(key, v));
  if (mapping && !mapping->user_name.empty()) {
    COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::String("UnixUser", mapping->user_name)));
  } else if (mapping) {
    COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("UnixUid", mapping->uid)));
    COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("UnixGid", mapping->gid)));
    if (!mapping->groups.empty()) {
      std::vector<std::string> groups;
      for (uint32_t g : mapping->groups) groups.push_back(std::to_string(g));
      COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::MultiString("UnixGroups", groups)));
    }
  }
  return tx->Commit();
}

Status AccountDatabase::DeleteUser(std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath key = UsersKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  if (!exists) return NoSuchUser(name);
  // Remove the account from every group so that a later account of the
  // same name does not inherit its memberships.
  COMSEC_ASSIGN_OR_RETURN(auto groups, tx->reader().ReadKey(GroupsKey()));
  for (const std::string& g : groups.subkeys) {
    const KeyPath gk = GroupsKey().Child(g);
    COMSEC_ASSIGN_OR_RETURN(auto members, Members(tx->reader(), gk));
    auto end = std::remove_if(members.begin(), members.end(),
                              [&](const std::string& m) { return AccountNamesEqual(m, name); });
    if (end != members.end()) {
      members.erase(end, members.end());
      COMSEC_RETURN_IF_ERROR(tx->SetValue(gk, RegValue::MultiString("Members", members)));
    }
  }
  COMSEC_RETURN_IF_ERROR(tx->DeleteKey(key));
  return tx->Commit();
}

Result<std::optional<Account>> AccountDatabase::FindUser(std::string_view name) {
  if (!CheckName(name, "user").ok()) return std::optional<Account>();
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
  auto domain = ReadDomain(*tx);
  if (!domain.ok()) {
    if (domain.status().code() == ERROR_NOT_FOUND) return std::optional<Account>();
    return domain.status();
  }
  auto contents = tx->ReadKey(UsersKey().Child(name));
  if (!contents.ok()) {
    if (contents.status().code() == ERROR_NOT_FOUND) return std::optional<Account>();
    return contents.status();
  }
  Account a;
  a.name = contents->name;
  for (RegValue& v : contents->values) {
    if (SameValueName(v.name, "Rid")) {
      COMSEC_ASSIGN_OR_RETURN(a.rid, v.AsDword());
    } else if (SameValueName(v.name, "NtHash")) {
      if (v.type != RegType::kBinary || v.data.size() != 16) {
        return Status(E_INVALIDARG, "account '" + a.name +
                                        "' has a malformed NtHash; reset it with "
                                        "`comcfg user passwd`");
      }
      std::copy(v.data.begin(), v.data.end(), a.nt_hash.begin());
      WipeSecret(v.data.data(), v.data.size());  // the read copy of the hash
    } else if (SameValueName(v.name, "Disabled")) {
      COMSEC_ASSIGN_OR_RETURN(uint32_t d, v.AsDword());
      a.disabled = d != 0;
    }
  }
  COMSEC_ASSIGN_OR_RETURN(a.unix_mapping, ReadUnixMapping(a.name, contents->values));
  if (a.rid == 0) {
    return Status(E_INVALIDARG, "account '" + a.name + "' has no Rid");
  }
  a.sid = domain->sid.WithRid(a.rid);
  COMSEC_ASSIGN_OR_RETURN(auto groups, tx->ReadKey(GroupsKey()));
  for (const std::string& g : groups.subkeys) {
    const KeyPath gk = GroupsKey().Child(g);
    COMSEC_ASSIGN_OR_RETURN(auto members, Members(*tx, gk));
    if (std::none_of(members.begin(), members.end(),
                     [&](const std::string& m) { return AccountNamesEqual(m, name); })) {
      continue;
    }
    COMSEC_ASSIGN_OR_RETURN(auto rid, tx->GetValue(gk, "Rid"));
    if (!rid) continue;
    COMSEC_ASSIGN_OR_RETURN(uint32_t r, rid->AsDword());
    a.groups.emplace_back(g, domain->sid.WithRid(r));
  }
  return std::optional<Account>(std::move(a));
}

Result<std::vector<Account>> AccountDatabase::ListUsers() {
  std::vector<std::string> names;
  {
    COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
    COMSEC_ASSIGN_OR_RETURN(bool exists, tx->KeyExists(UsersKey()));
    if (!exists) return std::vector<Account>{};
    COMSEC_ASSIGN_OR_RETURN(auto users, tx->ReadKey(UsersKey()));
    names = users.subkeys;
  }
  std::vector<Account> out;
  for (const std::string& n : names) {
    COMSEC_ASSIGN_OR_RETURN(auto a, FindUser(n));
    if (a) out.push_back(std::move(*a));
  }
  return out;
}

Status AccountDatabase::AddGroup(std::string_view name) {
  COMSEC_RETURN_IF_ERROR(CheckName(name, "group"));
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  COMSEC_RETURN_IF_ERROR(ReadDomain(tx->reader()).status());
  const KeyPath key = GroupsKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  COMSEC_ASSIGN_OR_RETURN(bool user_exists, tx->reader().KeyExists(UsersKey().Child(name)));
  if (exists || user_exists) {
    return Status(ERROR_GROUP_EXISTS, "an account or group named '" +
                                            std::string(name) + "' already exists");
  }
  COMSEC_ASSIGN_OR_RETURN(uint32_t rid, NextRid(*tx));
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::Dword("Rid", rid)));
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::MultiString("Members", {})));
  return tx->Commit();
}

Status AccountDatabase::DeleteGroup(std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath key = GroupsKey().Child(name);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(key));
  if (!exists) return NoSuchGroup(name);
  COMSEC_RETURN_IF_ERROR(tx->DeleteKey(key));
  return tx->Commit();
}

Status AccountDatabase::AddMember(std::string_view group, std::string_view user) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath gk = GroupsKey().Child(group);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(gk));
  if (!exists) return NoSuchGroup(group);
  auto user_key = tx->reader().ReadKey(UsersKey().Child(user));
  if (!user_key.ok()) {
    if (user_key.status().code() == ERROR_NOT_FOUND) return NoSuchUser(user);
    return user_key.status();
  }
  COMSEC_ASSIGN_OR_RETURN(auto members, Members(tx->reader(), gk));
  if (std::any_of(members.begin(), members.end(),
                  [&](const std::string& m) { return AccountNamesEqual(m, user); })) {
    return Status::Ok();  // already a member: nothing to do
  }
  members.push_back(user_key->name);
  COMSEC_RETURN_IF_ERROR(tx->SetValue(gk, RegValue::MultiString("Members", members)));
  return tx->Commit();
}

Status AccountDatabase::RemoveMember(std::string_view group, std::string_view user) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginWrite());
  const KeyPath gk = GroupsKey().Child(group);
  COMSEC_ASSIGN_OR_RETURN(bool exists, tx->reader().KeyExists(gk));
  if (!exists) return NoSuchGroup(group);
  COMSEC_ASSIGN_OR_RETURN(auto members, Members(tx->reader(), gk));
  auto end = std::remove_if(members.begin(), members.end(),
                            [&](const std::string& m) { return AccountNamesEqual(m, user); });
  if (end == members.end()) {
    return Status(ERROR_NOT_FOUND, "'" + std::string(user) +
                                         "' is not a member of '" +
                                         std::string(group) + "'");
  }
  members.erase(end, members.end());
  COMSEC_RETURN_IF_ERROR(tx->SetValue(gk, RegValue::MultiString("Members", members)));
  return tx->Commit();
}

Result<std::vector<LocalGroup>> AccountDatabase::ListGroups() {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
  auto domain = ReadDomain(*tx);
  if (!domain.ok()) {
    if (domain.status().code() == ERROR_NOT_FOUND) return std::vector<LocalGroup>{};
    return domain.status();
  }
  COMSEC_ASSIGN_OR_RETURN(auto groups, tx->ReadKey(GroupsKey()));
  std::vector<LocalGroup> out;
  for (const std::string& g : groups.subkeys) {
    const KeyPath gk = GroupsKey().Child(g);
    LocalGroup lg;
    lg.name = g;
    COMSEC_ASSIGN_OR_RETURN(auto rid, tx->GetValue(gk, "Rid"));
    if (rid) {
      COMSEC_ASSIGN_OR_RETURN(lg.rid, rid->AsDword());
    }
    lg.sid = domain->sid.WithRid(lg.rid);
    COMSEC_ASSIGN_OR_RETURN(lg.members, Members(*tx, gk));
    out.push_back(std::move(lg));
  }
  return out;
}

Result<std::optional<LocalGroup>> AccountDatabase::FindGroup(std::string_view name) {
  if (!CheckName(name, "group").ok()) return std::optional<LocalGroup>();
  COMSEC_ASSIGN_OR_RETURN(auto groups, ListGroups());
  for (LocalGroup& g : groups) {
    if (AccountNamesEqual(g.name, name)) return std::optional<LocalGroup>(std::move(g));
  }
  return std::optional<LocalGroup>();
}

Result<security::UnixIdentity> ResolveUnixMapping(const UnixMapping& mapping) {
  security::UnixIdentity id;
  if (!mapping.user_name.empty()) {
    COMSEC_ASSIGN_OR_RETURN(id, security::LookupUnixUserByName(mapping.user_name));
  } else {
    id.uid = mapping.uid;
    id.gids.push_back(mapping.gid);
    for (uint32_t g : mapping.groups) {
      if (std::find(id.gids.begin(), id.gids.end(), g) == id.gids.end()) id.gids.push_back(g);
    }
    id.group_names.assign(id.gids.size(), "");
  }
  if (id.uid == 0) {
    return Status(E_ACCESSDENIED, "the mapping names uid 0: root is never a mapping target");
  }
  return id;
}

Result<AccountLogon> LogonOf(const Account& account) {
  AccountLogon logon;
  logon.user_sid = account.sid;
  for (const auto& g : account.groups) logon.group_sids.push_back(g.second);
  if (account.unix_mapping) {
    auto id = ResolveUnixMapping(*account.unix_mapping);
    if (!id.ok()) {
      return Status(id.status().code(), "account '" + account.name +
                                            "' is mapped to a Unix identity it cannot act as: " +
                                            std::string(id.status().message()));
    }
    logon.unix_identity = std::move(*id);
  }
  return logon;
}

security::Token AccountLogonToken(const AccountLogon& logon, security::LogonKind kind) {
  security::Token t = security::Token::ForAuthenticatedUser(logon.user_sid, logon.group_sids, kind);
  if (logon.unix_identity) t.SetUnixIdentity(*logon.unix_identity);
  return t;
}

}  // namespace comsec::config
