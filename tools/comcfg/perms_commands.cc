// comcfg perms show|grant|deny|revoke — the permission dialogs of dcomcnfg
// ("Launch and Activation Permissions", "Access Permissions", their
// defaults, and "Edit Limits") as commands.
//
// Editing works the way the dialogs do: start from the descriptor in force
// for the target (the AppID's own, else the default, else the built-in),
// change the entries of one principal, and write the result where the
// target lives. Entries are kept in the new (XP SP2) format; an old-format
// ACL is upgraded first so the result is never a mix (R150). Deny entries
// stay before allow entries.
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/describe.h"
#include "comcfg/principal.h"
#include "comcfg/store_access.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/effective_policy.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::comcfg {

using namespace comsec::config;    // NOLINT: a tool file using its layers
using namespace comsec::security;  // NOLINT

namespace {

struct Target {
  const char* name;
  bool needs_appid;
  bool launch;  // launch rights (LL RL LA RA) or access rights (LC RC)
  SettingScope scope;
  const char* value;
  const char* builtin;
};

constexpr Target kTargets[] = {
    {"launch", true, true, SettingScope::kAppId, "LaunchPermission", nullptr},
    {"access", true, false, SettingScope::kAppId, "AccessPermission", nullptr},
    {"default-launch", false, true, SettingScope::kMachine,
     "DefaultLaunchPermission", kBuiltinLaunchPermission},
    {"default-access", false, false, SettingScope::kMachine,
     "DefaultAccessPermission", kBuiltinAccessPermission},
    {"machine-launch-limit", false, true, SettingScope::kMachine,
     "MachineLaunchRestriction", kDefaultMachineLaunchRestriction},
    {"machine-access-limit", false, false, SettingScope::kMachine,
     "MachineAccessRestriction", kDefaultMachineAccessRestriction},
};

struct PermsArgs {
  std::string target;
  std::string appid;
  std::string principal;
  std::string rights;
  bool json = false;
  bool only_allow = false;
  bool only_deny = false;
};

const Target* FindTarget(const std::string& name) {
  for (const Target& t : kTargets) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

// The descriptor in force for the target and where it came from.
struct Current {
  SecurityDescriptor sd;
  std::string origin;
  bool own = false;  // stored at the target itself
};

Result<Current> ReadCurrent(ReadTransaction& tx, const Target& t,
                            const Guid* appid) {
  const SettingSpec* spec = FindSetting(t.scope, t.value);
  KeyPath key = SettingKeyPath(*spec, appid);
  COMSEC_ASSIGN_OR_RETURN(std::optional<RegValue> raw,
                          tx.GetValue(key, t.value));
  if (raw) {
    SettingValue v = InterpretSetting(*spec, &*raw);
    if (!v.valid) {
      return Status(ERROR_INVALID_SECURITY_DESCR,
                    key.ToString() + "\\" + t.value + " is invalid (" +
                        v.problem + "); replace it with 'comcfg reg delete'");
    }
    return Current{*v.sd, key.ToString() + "\\" + t.value, true};
  }
  if (t.needs_appid) {
    // The AppID follows the machine default until it gets its own.
    const Target& def = *FindTarget(t.launch ? "default-launch"
                                             : "default-access");
    COMSEC_ASSIGN_OR_RETURN(Current c, ReadCurrent(tx, def, nullptr));
    c.own = false;
    return c;
  }
  return Current{*ParseSddl(t.builtin), std::string("built-in ") + t.builtin,
                 false};
}

// The old format (every ACE exactly EXECUTE) becomes the new one: EXECUTE
// meant every right (R118).
void UpgradeLegacy(Acl& acl, bool launch) {
  const uint32_t all = launch ? kComRightsAll
                              : COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL |
                                    COM_RIGHTS_EXECUTE_REMOTE;
  for (Ace& ace : acl.aces) {
    if ((ace.IsAllow() || ace.IsDeny()) &&
        kComGenericMapping.Map(ace.mask) == COM_RIGHTS_EXECUTE) {
      ace.mask = all;
    }
  }
}

// Removes `bits` from the principal's ACEs of one kind; an ACE left with
// nothing but EXECUTE would read as the legacy "everything", so it goes.
void RemoveBits(Acl& acl, const Sid& sid, bool deny, uint32_t bits) {
  std::vector<Ace> kept;
  for (Ace& ace : acl.aces) {
    if (ace.sid == sid && !(ace.flags & INHERIT_ONLY_ACE) &&
        (deny ? ace.IsDeny() : ace.IsAllow())) {
      ace.mask &= ~(bits & ~COM_RIGHTS_EXECUTE);
      if ((ace.mask & kComRightsAll & ~COM_RIGHTS_EXECUTE) == 0) continue;
    }
    kept.push_back(std::move(ace));
  }
  acl.aces = std::move(kept);
}

void AddBits(Acl& acl, const Sid& sid, bool deny, uint32_t bits) {
  for (Ace& ace : acl.aces) {
    if (ace.sid == sid && ace.flags == 0 && (deny ? ace.IsDeny() : ace.IsAllow())) {
      ace.mask |= bits | COM_RIGHTS_EXECUTE;
      return;
    }
  }
  Ace ace;
  ace.type = deny ? ACCESS_DENIED_ACE_TYPE : ACCESS_ALLOWED_ACE_TYPE;
  ace.mask = bits | COM_RIGHTS_EXECUTE;
  ace.sid = sid;
  // Deny entries go after the existing denies, allows at the end.
  auto pos = acl.aces.end();
  if (deny) {
    pos = acl.aces.begin();
    while (pos != acl.aces.end() && pos->IsDeny()) ++pos;
  }
  acl.aces.insert(pos, std::move(ace));
}

Result<Sid> PrincipalSid(const std::string& text, StoreAccounts& accounts) {
  COMSEC_ASSIGN_OR_RETURN(Principal p, ParsePrincipal(text, PrincipalUse::kAny, &accounts));
  return p.sid;
}

std::string RightsList(uint32_t mask, bool launch) {
  struct {
    uint32_t bit;
    const char* launch_name;
    const char* access_name;
  } names[] = {
      {COM_RIGHTS_EXECUTE_LOCAL, "local launch", "local access"},
      {COM_RIGHTS_EXECUTE_REMOTE, "remote launch", "remote access"},
      {COM_RIGHTS_ACTIVATE_LOCAL, "local activation", nullptr},
      {COM_RIGHTS_ACTIVATE_REMOTE, "remote activation", nullptr},
  };
  if ((mask & kComRightsAll) == COM_RIGHTS_EXECUTE) return "all (old format)";
  std::string out;
  for (const auto& n : names) {
    const char* name = launch ? n.launch_name : n.access_name;
    if (name && (mask & n.bit)) out += (out.empty() ? "" : ", ") + std::string(name);
  }
  return out.empty() ? "none" : out;
}

int Run(const std::string& verb, const PermsArgs& a,
        const GlobalOptions& global, const Io& io) {
  const Target* t = FindTarget(a.target);
  if (t == nullptr) {
    return ReportBadInput(
        io, Status(E_INVALIDARG,
                   "\"" + a.target +
                       "\" is not a permission; use launch, access, "
                       "default-launch, default-access, machine-launch-limit "
                       "or machine-access-limit"));
  }
  std::optional<Guid> appid;
  if (t->needs_appid) {
    auto g = Guid::Parse(a.appid);
    if (a.appid.empty() || !g.ok()) {
      return ReportBadInput(io, Status(E_INVALIDARG,
                                       std::string(t->name) +
                                           " needs --appid GUID"));
    }
    appid = *g;
  } else if (!a.appid.empty()) {
    return ReportBadInput(io, Status(E_INVALIDARG,
                                     std::string(t->name) +
                                         " is machine-wide; drop --appid"));
  }
  std::optional<Sid> sid;
  uint32_t rights = 0;
  if (verb != "show") {
    if (a.principal.empty()) {
      return ReportBadInput(io, Status(E_INVALIDARG, "--principal is required"));
    }
    StoreAccounts accounts(StorePath(global));
    auto s = PrincipalSid(a.principal, accounts);
    if (!s.ok()) return ReportBadInput(io, s.status());
    sid = *s;
  }
  if (verb == "grant" || verb == "deny") {
    auto r = ParseComRights(a.rights);
    if (!r.ok()) return ReportBadInput(io, r.status());
    rights = *r;
    const uint32_t allowed =
        t->launch ? kComRightsAll
                  : COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_LOCAL |
                        COM_RIGHTS_EXECUTE_REMOTE;
    if (rights & ~allowed) {
      return ReportBadInput(
          io, Status(E_INVALIDARG,
                     std::string(t->name) +
                         " takes execute, execute_local and execute_remote "
                         "only; activation rights belong to launch "
                         "permissions (R116)"));
    }
    if ((rights & ~COM_RIGHTS_EXECUTE) == 0) {
      return ReportBadInput(
          io, Status(E_INVALIDARG,
                     "name the local/remote rights to " + verb +
                         " (execute alone is the legacy 'everything')"));
    }
  }

  auto store = OpenStore(global, verb == "show" ? StoreAccess::kRead : StoreAccess::kWrite);
  if (!store.ok()) return ReportFailure(io, store.status());

  if (verb == "show") {
    auto tx = (*store)->BeginRead();
    if (!tx.ok()) return ReportFailure(io, tx.status());
    if (appid) {
      auto exists = (*tx)->KeyExists(AppIdKeyPath(*appid));
      if (!exists.ok() || !*exists) {
        return ReportFailure(io, Status(ERROR_NOT_FOUND,
                                        "AppID " + appid->ToRegistryString() +
                                            " is not registered"));
      }
    }
    auto cur = ReadCurrent(**tx, *t, appid ? &*appid : nullptr);
    if (!cur.ok()) return ReportFailure(io, cur.status());
    auto sddl = FormatSddl(cur->sd);
    if (a.json) {
      nlohmann::json j;
      j["target"] = t->name;
      j["origin"] = cur->origin;
      j["own"] = cur->own;
      j["sddl"] = sddl.ok() ? *sddl : "";
      j["entries"] = nlohmann::json::array();
      if (cur->sd.dacl) {
        for (const Ace& ace : cur->sd.dacl->aces) {
          j["entries"].push_back({{"principal", SidJson(ace.sid)},
                                  {"type", ace.IsDeny() ? "deny" : "allow"},
                                  {"rights", FormatComRights(ace.mask)},
                                  {"meaning", RightsList(ace.mask, t->launch)}});
        }
      }
      io.out << j.dump(2) << "\n";
    } else {
      io.out << t->name << " permission: " << cur->origin
             << (cur->own ? "" : " (inherited; not stored at this target)")
             << "\n";
      if (sddl.ok()) io.out << *sddl << "\n";
      if (cur->sd.HasNullDacl() || !cur->sd.DaclPresent()) {
        io.out << "  everyone: everything (NULL DACL)\n";
      } else if (cur->sd.dacl) {
        for (const Ace& ace : cur->sd.dacl->aces) {
          io.out << "  " << (ace.IsDeny() ? "deny  " : "allow ")
                 << DescribeSid(ace.sid) << ": "
                 << RightsList(ace.mask, t->launch) << "\n";
        }
      }
    }
    return kExitOk;
  }

  auto tx = (*store)->BeginWrite();
  if (!tx.ok()) return ReportFailure(io, tx.status());
  if (appid) {
    auto exists = (*tx)->reader().KeyExists(AppIdKeyPath(*appid));
    if (!exists.ok() || !*exists) {
      return ReportFailure(io, Status(ERROR_NOT_FOUND,
                                      "AppID " + appid->ToRegistryString() +
                                          " is not registered"));
    }
  }
  auto cur = ReadCurrent((*tx)->reader(), *t, appid ? &*appid : nullptr);
  if (!cur.ok()) return ReportFailure(io, cur.status());
  SecurityDescriptor sd = cur->sd;
  if (!sd.dacl) sd.SetDacl(Acl{});  // a NULL DACL becomes an explicit list
  if (!sd.owner) sd.owner = well_known::BuiltinAdministrators();
  if (!sd.group) sd.group = well_known::BuiltinAdministrators();
  UpgradeLegacy(*sd.dacl, t->launch);
  if (verb == "grant") {
    RemoveBits(*sd.dacl, *sid, /*deny=*/true, rights);
    AddBits(*sd.dacl, *sid, /*deny=*/false, rights);
  } else if (verb == "deny") {
    RemoveBits(*sd.dacl, *sid, /*deny=*/false, rights);
    AddBits(*sd.dacl, *sid, /*deny=*/true, rights);
  } else {  // revoke
    const bool both = !a.only_allow && !a.only_deny;
    if (both || a.only_allow) RemoveBits(*sd.dacl, *sid, false, kComRightsAll);
    if (both || a.only_deny) RemoveBits(*sd.dacl, *sid, true, kComRightsAll);
  }
  const SettingSpec* spec = FindSetting(t->scope, t->value);
  Status s = (*tx)->SetValue(SettingKeyPath(*spec, appid ? &*appid : nullptr),
                             RegValue::Binary(t->value, sd.Encode()));
  if (s.ok()) s = (*tx)->Commit();
  if (!s.ok()) return ReportFailure(io, s);
  io.out << *FormatSddl(sd) << "\n";
  return kExitOk;
}

}  // namespace

void AddPermsCommands(CLI::App& app, const GlobalOptions& global,
                      const Io& io, int* exit_code) {
  CLI::App* perms = app.add_subcommand(
      "perms", "launch/access permissions, their defaults and the machine "
               "limits (targets: launch, access, default-launch, "
               "default-access, machine-launch-limit, machine-access-limit)");
  perms->require_subcommand(1);
  for (const char* verb : {"show", "grant", "deny", "revoke"}) {
    auto a = std::make_shared<PermsArgs>();
    std::string help =
        std::string(verb) == "show"     ? "show a permission and where it comes from"
        : std::string(verb) == "grant"  ? "allow a principal rights"
        : std::string(verb) == "deny"   ? "deny a principal rights"
                                        : "remove a principal's entries";
    CLI::App* cmd = perms->add_subcommand(verb, help);
    cmd->add_option("TARGET", a->target, "which permission")->required();
    cmd->add_option("--appid", a->appid, "the AppID (launch, access)");
    if (std::string(verb) != "show") {
      cmd->add_option("--principal", a->principal,
                      "SID, SDDL alias, DOMAIN\\name or name (a store account or local "
                      "group), unix:NAME (a user, else a group), uid:N or gid:N")
          ->required();
    }
    if (std::string(verb) == "grant" || std::string(verb) == "deny") {
      cmd->add_option("--rights", a->rights,
                      "execute_local, execute_remote, activate_local, "
                      "activate_remote (execute is implied), or a hex mask")
          ->required();
    }
    if (std::string(verb) == "revoke") {
      cmd->add_flag("--allow", a->only_allow, "remove only allow entries");
      cmd->add_flag("--deny", a->only_deny, "remove only deny entries");
    }
    if (std::string(verb) == "show") cmd->add_flag("--json", a->json, "JSON");
    std::string v = verb;
    cmd->callback([v, a, &global, &io, exit_code] {
      *exit_code = Run(v, *a, global, io);
    });
  }
}

}  // namespace comsec::comcfg
