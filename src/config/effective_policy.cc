#include "comsec/config/effective_policy.h"

#include "comsec/config/com_schema.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::config {
namespace {

constexpr HResult REGDB_E_INVALIDVALUE{0x80040153u};

using security::SecurityDescriptor;

// The values of the keys policy resolution reads, each fetched once from
// the snapshot; settings are then looked up in memory.
class KeyValues {
 public:
  static Result<KeyValues> Load(ReadTransaction& tx, const KeyPath& key) {
    KeyValues kv;
    kv.key_ = key;
    COMSEC_ASSIGN_OR_RETURN(kv.values_, tx.ReadValues(key));
    return kv;
  }
  bool exists() const { return values_.has_value(); }
  const KeyPath& key() const { return key_; }
  SettingValue Read(const SettingSpec& spec) const {
    const RegValue* found = nullptr;
    if (values_) {
      std::string folded = FoldCase(spec.name);
      for (const RegValue& v : *values_) {
        if (v.name.size() == folded.size() && FoldCase(v.name) == folded) {
          found = &v;
          break;
        }
      }
    }
    return InterpretSetting(spec, found);
  }

 private:
  KeyPath key_;
  std::optional<std::vector<RegValue>> values_;
};

const SettingSpec& Spec(SettingScope scope, const char* name) {
  const SettingSpec* s = FindSetting(scope, name);
  COMSEC_CHECK(s != nullptr, name);
  return *s;
}

std::string Origin(const KeyPath& key, const char* name) {
  return key.ToString() + "\\" + name;
}

// A descriptor setting from a registry value: fail closed when the value
// is malformed or COM would reject it (R149–R151).
DescriptorSetting FromRegistry(const SettingValue& v, PolicySource source,
                               std::string origin) {
  DescriptorSetting d;
  d.source = source;
  d.origin = std::move(origin);
  if (!v.valid) {
    d.invalid = true;
    d.problem = v.problem;
    return d;
  }
  auto problems = security::ValidateComSecurityDescriptor(*v.sd);
  if (!security::IsValidComSecurityDescriptor(problems)) {
    d.invalid = true;
    for (const auto& p : problems) {
      if (p.severity == security::ComSdProblem::Severity::kError) {
        d.problem += (d.problem.empty() ? "" : "; ") + p.message;
      }
    }
    return d;
  }
  d.sd = *v.sd;
  return d;
}

DescriptorSetting BuiltIn(const char* sddl, const char* what) {
  DescriptorSetting d;
  d.source = PolicySource::kBuiltIn;
  d.origin = std::string("built-in ") + what + " " + sddl;
  d.sd = *security::ParseSddl(sddl);
  return d;
}

// First configured value wins: `first` (AppID or policy), then `second`
// (machine), then the built-in descriptor.
DescriptorSetting ResolveDescriptor(EffectivePolicy& out,
                                    const KeyValues* first,
                                    const SettingSpec* first_spec,
                                    PolicySource first_source,
                                    const KeyValues& second,
                                    const SettingSpec& second_spec,
                                    PolicySource second_source,
                                    const char* builtin, const char* what) {
  struct Candidate {
    const KeyValues* key;
    const SettingSpec* spec;
    PolicySource source;
  } candidates[] = {{first, first_spec, first_source},
                    {&second, &second_spec, second_source}};
  for (const Candidate& c : candidates) {
    if (c.key == nullptr) continue;
    SettingValue v = c.key->Read(*c.spec);
    if (!v.present) continue;
    DescriptorSetting d =
        FromRegistry(v, c.source, Origin(c.key->key(), c.spec->name));
    if (d.invalid) {
      out.warnings.push_back(d.origin + " is invalid and grants nothing: " +
                             d.problem);
    }
    return d;
  }
  return BuiltIn(builtin, what);
}

}  // namespace

const char* PolicySourceName(PolicySource source) {
  switch (source) {
    case PolicySource::kProcess: return "process";
    case PolicySource::kAppId: return "AppID";
    case PolicySource::kMachineDefault: return "machine default";
    case PolicySource::kPolicy: return "policy";
    case PolicySource::kMachine: return "machine";
    case PolicySource::kBuiltIn: return "built-in";
  }
  return "";
}

Result<EffectivePolicy> ResolveEffectivePolicy(ReadTransaction& tx,
                                               const Guid& appid,
                                               const ProcessSecurity* process,
                                               const EffectivePolicy* running) {
  EffectivePolicy out;
  out.appid = appid;
  const KeyPath ole = OleKeyPath();
  const KeyPath app = AppIdKeyPath(appid);
  COMSEC_ASSIGN_OR_RETURN(KeyValues ole_kv, KeyValues::Load(tx, ole));
  COMSEC_ASSIGN_OR_RETURN(KeyValues app_kv, KeyValues::Load(tx, app));
  COMSEC_ASSIGN_OR_RETURN(KeyValues policy_kv,
                          KeyValues::Load(tx, PolicyKeyPath()));
  COMSEC_ASSIGN_OR_RETURN(KeyValues hardening_kv,
                          KeyValues::Load(tx, HardeningKeyPath()));
  out.appid_registered = app_kv.exists();

  // An explicit CIS other than the EOAC_APPID form replaces the registry's
  // process-wide settings (R68); EOAC_APPID reads them like a legacy
  // application (R67).
  const bool explicit_cis =
      process != nullptr && process->access != ProcessSecurity::Access::kAppId;

  // ---- Authentication level: CIS, AppID, Legacy, CONNECT (R8, R73, R163).
  if (explicit_cis) {
    out.authn_level = {process->authn_level == AuthnLevel::kDefault
                           ? AuthnLevel::kConnect
                           : process->authn_level,
                       PolicySource::kProcess,
                       "CoInitializeSecurity dwAuthnLevel"};
  } else {
    SettingValue v = app_kv.Read(Spec(SettingScope::kAppId, "AuthenticationLevel"));
    if (v.valid) {
      out.authn_level = {SettingAuthnLevel(v), PolicySource::kAppId,
                         Origin(app, "AuthenticationLevel")};
    } else {
      if (v.present) {
        // R163: the implicit CoInitializeSecurity fails.
        out.process_fails = true;
        out.process_failure = Origin(app, "AuthenticationLevel") + ": " +
                              v.problem +
                              "; COM cannot initialize the server's security, "
                              "so no call to or from it can work (R163)";
      }
      SettingValue legacy = ole_kv.Read(Spec(SettingScope::kMachine,
                             "LegacyAuthenticationLevel"));
      if (legacy.valid) {
        out.authn_level = {SettingAuthnLevel(legacy), PolicySource::kMachineDefault,
                           Origin(ole, "LegacyAuthenticationLevel")};
      } else {
        if (legacy.present) {
          out.warnings.push_back(Origin(ole, "LegacyAuthenticationLevel") +
                                 " ignored: " + legacy.problem);
        }
        out.authn_level = {AuthnLevel::kConnect, PolicySource::kBuiltIn,
                           "built-in (R8)"};
      }
    }
  }

  // ---- Impersonation level: CIS, Legacy, IDENTIFY (R19, R70, R73).
  if (explicit_cis) {
    // R68: an explicit CIS ignores the machine defaults. R18: DEFAULT is
    // not allowed there; it is read as IDENTIFY and reported.
    if (process->imp_level == ImpLevel::kDefault) {
      out.imp_level = {ImpLevel::kIdentify, PolicySource::kProcess,
                       "CoInitializeSecurity dwImpLevel DEFAULT, read as "
                       "IDENTIFY (R18)"};
      out.warnings.push_back(
          "CoInitializeSecurity dwImpLevel may not be DEFAULT (R18); "
          "IDENTIFY applies");
    } else {
      out.imp_level = {process->imp_level, PolicySource::kProcess,
                       "CoInitializeSecurity dwImpLevel"};
    }
  } else {
    SettingValue legacy = ole_kv.Read(Spec(SettingScope::kMachine, "LegacyImpersonationLevel"));
    if (legacy.valid) {
      out.imp_level = {SettingImpLevel(legacy), PolicySource::kMachineDefault,
                       Origin(ole, "LegacyImpersonationLevel")};
    } else {
      if (legacy.present) {
        out.warnings.push_back(Origin(ole, "LegacyImpersonationLevel") +
                               " ignored: " + legacy.problem);
      }
      out.imp_level = {ImpLevel::kIdentify, PolicySource::kBuiltIn,
                       "built-in (R14)"};
    }
  }

  // ---- R72: a running process keeps the levels it initialized with.
  if (running != nullptr) {
    out.authn_level = running->authn_level;
    out.imp_level = running->imp_level;
    if (out.process_fails) {
      out.warnings.push_back(out.process_failure +
                             " (the running server keeps the level it started with, R72)");
      out.process_fails = false;
      out.process_failure.clear();
    }
  }

  // ---- Access permission (R66, R137, R141, R144 + C2).
  if (explicit_cis) {
    out.access.source = PolicySource::kProcess;
    if (process->access == ProcessSecurity::Access::kNull) {
      out.access.origin = "CoInitializeSecurity pSecDesc = NULL";
      out.access.everyone = true;
    } else {
      out.access.origin = "CoInitializeSecurity pSecDesc";
      out.access.sd = process->access_sd;
    }
  } else if (out.authn_level.value == AuthnLevel::kNone) {
    out.access.source = out.authn_level.source;
    out.access.origin = out.authn_level.origin +
                        " is NONE, so COM makes no access check (R141)";
    out.access.everyone = true;
  } else {
    out.access = ResolveDescriptor(
        out, &app_kv, &Spec(SettingScope::kAppId, "AccessPermission"),
        PolicySource::kAppId, ole_kv,
        Spec(SettingScope::kMachine, "DefaultAccessPermission"),
        PolicySource::kMachineDefault, kBuiltinAccessPermission,
        "access permission");
  }

  // ---- Launch permission (R113, R114).
  out.launch = ResolveDescriptor(
      out, &app_kv, &Spec(SettingScope::kAppId, "LaunchPermission"),
      PolicySource::kAppId, ole_kv,
      Spec(SettingScope::kMachine, "DefaultLaunchPermission"),
      PolicySource::kMachineDefault, kBuiltinLaunchPermission,
      "launch permission");

  // ---- Machine restrictions: policy override, Ole value, R175 default.
  out.machine_launch_limit = ResolveDescriptor(
      out, &policy_kv,
      FindSetting(SettingScope::kPolicy, "MachineLaunchRestriction"),
      PolicySource::kPolicy, ole_kv,
      Spec(SettingScope::kMachine, "MachineLaunchRestriction"),
      PolicySource::kMachine, kDefaultMachineLaunchRestriction,
      "machine launch restriction");
  out.machine_access_limit = ResolveDescriptor(
      out, &policy_kv,
      FindSetting(SettingScope::kPolicy, "MachineAccessRestriction"),
      PolicySource::kPolicy, ole_kv,
      Spec(SettingScope::kMachine, "MachineAccessRestriction"),
      PolicySource::kMachine, kDefaultMachineAccessRestriction,
      "machine access restriction");

  // ---- Machine switches.
  SettingValue dcom = ole_kv.Read(Spec(SettingScope::kMachine, "EnableDCOM"));
  if (dcom.valid) {
    out.enable_dcom = dcom.flag;
    out.enable_dcom_source = PolicySource::kMachine;
  } else if (dcom.present) {
    // A security switch that cannot be read fails closed: only "Y" or "y"
    // turns DCOM on (R120).
    out.enable_dcom = false;
    out.enable_dcom_source = PolicySource::kMachine;
    out.warnings.push_back(Origin(ole, "EnableDCOM") +
                           " cannot be read, so DCOM is off: " + dcom.problem);
  }
  SettingValue hardening = hardening_kv.Read(Spec(SettingScope::kHardening,
                "RequireIntegrityActivationAuthenticationLevel"));
  if (hardening.valid && hardening.dword == 0) {
    out.min_activation_authn_level = AuthnLevel::kDefault;
    out.warnings.push_back(
        "DCOM hardening is off (RequireIntegrityActivationAuthenticationLevel "
        "= 0): activation requests below PKT_INTEGRITY are accepted");
  }
  if (!explicit_cis) {
    SettingValue refs = ole_kv.Read(Spec(SettingScope::kMachine, "LegacySecureReferences"));
    out.secure_references = refs.valid && refs.flag;
  }
  struct {
    const char* name;
    uint32_t* field;
  } logging[] = {
      {"ActivationFailureLoggingLevel", &out.activation_failure_logging},
      {"CallFailureLoggingLevel", &out.call_failure_logging},
      {"InvalidSecurityDescriptorLoggingLevel", &out.invalid_sd_logging},
  };
  for (auto& l : logging) {
    SettingValue v = ole_kv.Read(Spec(SettingScope::kMachine, l.name));
    if (v.valid) *l.field = v.dword;
  }
  return out;
}

Result<Guid> AppIdForClsid(ReadTransaction& tx, const Guid& clsid) {
  const KeyPath key = ClsidKeyPath(clsid);
  COMSEC_ASSIGN_OR_RETURN(KeyValues class_kv, KeyValues::Load(tx, key));
  if (!class_kv.exists()) {
    return Status(REGDB_E_CLASSNOTREG,
                  "class " + clsid.ToRegistryString() +
                      " is not registered; register it with 'comcfg class "
                      "register --clsid " + clsid.ToRegistryString() +
                      " --appid GUID'");
  }
  SettingValue v = class_kv.Read(Spec(SettingScope::kClsid, "AppID"));
  if (!v.valid) {
    return Status(REGDB_E_INVALIDVALUE,
                  "class " + clsid.ToRegistryString() +
                      (v.present ? " has an invalid AppID value: " + v.problem
                                 : std::string(" names no AppID")));
  }
  return *Guid::Parse(v.text);
}

}  // namespace comsec::config
