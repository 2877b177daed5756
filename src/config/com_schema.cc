#include "comsec/config/com_schema.h"

#include "comsec/base/hex.h"

#include "comsec/security/sddl.h"

namespace comsec::config {
namespace {

using K = SettingKind;
using S = SettingScope;
using B = BadValuePolicy;

// The ranges the registry accepts for levels: DEFAULT (0) is a request to
// CoInitializeSecurity, not a value (R3, R163).
constexpr uint32_t kAuthnNone = security::ToNumber(security::AuthnLevel::kNone);
constexpr uint32_t kAuthnPrivacy = security::ToNumber(security::AuthnLevel::kPktPrivacy);
constexpr uint32_t kImpAnonymous = security::ToNumber(security::ImpLevel::kAnonymous);
constexpr uint32_t kImpDelegate = security::ToNumber(security::ImpLevel::kDelegate);

constexpr SettingSpec kSettings[] = {
    // ---- HKLM\SOFTWARE\Microsoft\Ole (R164) ----
    {"EnableDCOM", S::kMachine, "", K::kYesNo, 0, 0, "Y", B::kIgnore, "R120",
     "N blocks every remote launch, activation and call; local COM is "
     "unaffected"},
    {"DefaultLaunchPermission", S::kMachine, "", K::kSecurityDescriptor, 0, 0,
     "built-in: Administrators, SYSTEM, INTERACTIVE (R114)", B::kFailClosed,
     "R113", "launch and activation descriptor for AppIDs without "
     "LaunchPermission"},
    {"DefaultAccessPermission", S::kMachine, "", K::kSecurityDescriptor, 0, 0,
     "built-in: SELF, SYSTEM, Administrators (R144, C2)", B::kFailClosed,
     "R137", "call descriptor for processes without CoInitializeSecurity and "
     "without AccessPermission"},
    {"LegacyAuthenticationLevel", S::kMachine, "", K::kAuthenticationLevel, kAuthnNone,
     kAuthnPrivacy, "2", B::kIgnore, "R8", "authentication level of processes that set none "
     "(1 NONE ... 6 PKT_PRIVACY)"},
    {"LegacyImpersonationLevel", S::kMachine, "", K::kImpersonationLevel, kImpAnonymous,
     kImpDelegate, "2", B::kIgnore, "R19", "impersonation level of processes that set none "
     "(1 ANONYMOUS ... 4 DELEGATE)"},
    {"LegacySecureReferences", S::kMachine, "", K::kYesNo, 0, 0, "N",
     B::kIgnore, "R164", "Y authenticates AddRef/Release for processes "
     "without CoInitializeSecurity"},
    {"MachineLaunchRestriction", S::kMachine, "", K::kSecurityDescriptor, 0,
     0, "Administrators: LL LA RL RA; Everyone: LL LA (R175)", B::kFailClosed,
     "R119", "machine-wide limit on launch and activation"},
    {"MachineAccessRestriction", S::kMachine, "", K::kSecurityDescriptor, 0,
     0, "Everyone: LC RC; Anonymous: LC (R175)", B::kFailClosed, "R139",
     "machine-wide limit on calls"},
    {"ActivationFailureLoggingLevel", S::kMachine, "", K::kDword, 0, 2, "0",
     B::kIgnore, "R136", "0 log unless CLSCTX_NO_FAILURE_LOG, 1 always, "
     "2 never"},
    {"CallFailureLoggingLevel", S::kMachine, "", K::kDword, 1, 2, "2",
     B::kIgnore, "R146", "1 always log call failures, 2 never (C4)"},
    {"InvalidSecurityDescriptorLoggingLevel", S::kMachine, "", K::kDword, 1, 2,
     "1", B::kIgnore, "R151", "1 log descriptors COM cannot interpret, "
     "2 never"},
    {"DCOMSCMRemoteCallFlags", S::kMachine, "", K::kDwordFlags, 0, 0x3F, "0",
     B::kIgnore, "R135", "packages and unsecured fallback of SCM-to-SCM "
     "calls"},
    {"SRPRunningObjectChecks", S::kMachine, "", K::kDisabledByNo, 0, 0,
     "enabled", B::kIgnore, "R132", "trust-level check when connecting to "
     "running objects"},
    {"SRPActivateAsActivatorChecks", S::kMachine, "", K::kDisabledByNo, 0, 0,
     "enabled", B::kIgnore, "R132", "trust-level check for activate-as-"
     "activator servers"},
    {"DoNotAddAllApplicationPackagesToRestrictions", S::kMachine, "",
     K::kDword, 0, 1, "1", B::kIgnore, "R164",
     "0 adds ALL APPLICATION PACKAGES to the machine restrictions"},
    // ---- DCOM hardening (KB5004442) ----
    {"RequireIntegrityActivationAuthenticationLevel", S::kHardening, "",
     K::kDword, 0, 1, "1", B::kIgnore, "hardening",
     "1 refuses activation requests below PKT_INTEGRITY (comsec's default); "
     "0 is the pre-2021 behaviour and is logged"},
    // ---- Policy overrides of the restrictions (R165) ----
    {"MachineLaunchRestriction", S::kPolicy, "", K::kSddl, 0, 0, "not defined",
     B::kFailClosed, "R165", "replaces the Ole MachineLaunchRestriction"},
    {"MachineAccessRestriction", S::kPolicy, "", K::kSddl, 0, 0, "not defined",
     B::kFailClosed, "R165", "replaces the Ole MachineAccessRestriction"},
    // ---- HKLM\SOFTWARE\Classes\AppID\{AppID} (R162) ----
    {"", S::kAppId, "", K::kString, 0, 0, "", B::kIgnore, "R162",
     "the application's display name"},
    {"AccessPermission", S::kAppId, "", K::kSecurityDescriptor, 0, 0,
     "DefaultAccessPermission", B::kFailClosed, "R137",
     "who may call the server"},
    {"LaunchPermission", S::kAppId, "", K::kSecurityDescriptor, 0, 0,
     "DefaultLaunchPermission", B::kFailClosed, "R113",
     "who may launch and activate the server"},
    {"AuthenticationLevel", S::kAppId, "", K::kAuthenticationLevel, kAuthnNone, kAuthnPrivacy,
     "LegacyAuthenticationLevel", B::kFailProcess, "R163",
     "authentication level of the server process"},
    {"RunAs", S::kAppId, "", K::kString, 0, 0, "launching user", B::kIgnore,
     "R128", "the server's identity"},
    {"LoadUserSettings", S::kAppId, "", K::kDword, 0, 0xFFFFFFFF, "0",
     B::kIgnore, "R129", "nonzero loads the launching user's profile"},
    {"AppIDFlags", S::kAppId, "", K::kDwordFlags, 0, 0x7, "0", B::kIgnore,
     "R130", "0x1 IU server in desktop, 0x2 secure process SD, 0x4 activation "
     "RPC at IDENTIFY"},
    {"ROTFlags", S::kAppId, "", K::kDword, 0, 1, "0", B::kIgnore, "R185",
     "1 lets any client see the server's ROT registrations"},
    {"SRPTrustLevel", S::kAppId, "", K::kDwordChoice, 0, 0x40000, "0", B::kIgnore,
     "R132", "0 Disallowed or 0x40000 Unrestricted"},
    {"RemoteServerName", S::kAppId, "", K::kString, 0, 0, "", B::kIgnore,
     "R125", "machine to activate on by default"},
    {"LocalService", S::kAppId, "", K::kString, 0, 0, "", B::kIgnore, "R131",
     "service that serves the AppID instead of LocalServer32"},
    {"ServiceParameters", S::kAppId, "", K::kString, 0, 0, "", B::kIgnore,
     "R131", "command line of the service"},
    {"DllSurrogate", S::kAppId, "", K::kString, 0, 0, "", B::kIgnore, "R162",
     "surrogate host for in-process servers (\"\" = the system's)"},
    {"DllSurrogateExecutable", S::kAppId, "", K::kString, 0, 0, "",
     B::kIgnore, "R162", "custom surrogate executable"},
    {"ActivateAtStorage", S::kAppId, "", K::kYesNo, 0, 0, "N", B::kIgnore,
     "R125", "activate on the machine that holds the data"},
    {"Endpoints", S::kAppId, "", K::kMultiString, 0, 0, "", B::kIgnore,
     "R162", "protocol sequences and endpoints the server listens on"},
    {"PreferredServerBitness", S::kAppId, "", K::kDword, 1, 3, "", B::kIgnore,
     "R162", "1 match client, 2 32-bit, 3 64-bit"},
    // ---- HKLM\SOFTWARE\Classes\CLSID\{CLSID} (R159, R181) ----
    {"", S::kClsid, "", K::kString, 0, 0, "", B::kIgnore, "R159",
     "the class's display name"},
    {"AppID", S::kClsid, "", K::kGuidString, 0, 0, "", B::kIgnore, "R159",
     "the AppID whose settings govern the class"},
    {"LocalizedString", S::kClsid, "", K::kString, 0, 0, "", B::kIgnore,
     "R181", "MUI display name, required for elevation"},
    {"", S::kClsid, "LocalServer32", K::kString, 0, 0, "", B::kIgnore, "R125",
     "command line of the local server"},
    {"", S::kClsid, "InprocServer32", K::kString, 0, 0, "", B::kIgnore,
     "R125", "path of the in-process server"},
    {"ThreadingModel", S::kClsid, "InprocServer32", K::kString, 0, 0,
     "(single-threaded)", B::kIgnore, "R125",
     "Apartment, Free, Both or Neutral"},
    {"Enabled", S::kClsid, "Elevation", K::kDword, 0, 1, "0", B::kIgnore,
     "R181", "1 allows the elevation moniker"},
    {"IconReference", S::kClsid, "Elevation", K::kString, 0, 0, "",
     B::kIgnore, "R181", "icon shown by the elevation prompt"},
};

bool EqualsFolded(std::string_view a, std::string_view b) {
  return a.size() == b.size() && FoldCase(a) == FoldCase(b);
}

std::string TypeProblem(const SettingSpec& spec, const RegValue& v,
                        const char* expected) {
  return std::string(spec.name[0] ? spec.name : "(default)") + " is " +
         RegTypeName(v.type) + "; COM expects " + expected;
}

KeyPath Parse(std::string_view text) { return *KeyPath::Parse(text); }

}  // namespace

std::span<const SettingSpec> AllSettings() { return kSettings; }

const SettingSpec* FindSetting(SettingScope scope, std::string_view name) {
  for (const SettingSpec& s : kSettings) {
    if (s.scope == scope && s.subkey[0] == '\0' && EqualsFolded(s.name, name)) {
      return &s;
    }
  }
  return nullptr;
}

KeyPath OleKeyPath() { return Parse("HKLM\\SOFTWARE\\Microsoft\\Ole"); }
KeyPath HardeningKeyPath() {
  return Parse("HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat");
}
KeyPath PolicyKeyPath() {
  return Parse("HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\DCOM");
}
KeyPath AppIdKeyPath(const Guid& appid) {
  return Parse("HKLM\\SOFTWARE\\Classes\\AppID").Child(appid.ToRegistryString());
}
KeyPath ClsidKeyPath(const Guid& clsid) {
  return Parse("HKLM\\SOFTWARE\\Classes\\CLSID").Child(clsid.ToRegistryString());
}

KeyPath SettingKeyPath(const SettingSpec& spec, const Guid* id) {
  KeyPath base;
  switch (spec.scope) {
    case SettingScope::kMachine: base = OleKeyPath(); break;
    case SettingScope::kHardening: base = HardeningKeyPath(); break;
    case SettingScope::kPolicy: base = PolicyKeyPath(); break;
    case SettingScope::kAppId: base = AppIdKeyPath(id ? *id : Guid{}); break;
    case SettingScope::kClsid: base = ClsidKeyPath(id ? *id : Guid{}); break;
  }
  return spec.subkey[0] ? base.Child(spec.subkey) : base;
}

SettingValue InterpretSetting(const SettingSpec& spec, const RegValue* v) {
  SettingValue out;
  out.spec = &spec;
  if (v == nullptr) return out;
  out.present = true;
  auto fail = [&out](std::string why) {
    out.problem = std::move(why);
    return out;
  };
  switch (spec.kind) {
    case SettingKind::kDword:
    case SettingKind::kAuthenticationLevel:
    case SettingKind::kImpersonationLevel:
    case SettingKind::kDwordFlags:
    case SettingKind::kDwordChoice: {
      // Only REG_DWORD: a big-endian DWORD is another type (R163).
      auto d = v->AsDword();
      if (v->type != RegType::kDword || !d.ok()) {
        return fail(TypeProblem(spec, *v, "REG_DWORD"));
      }
      if (spec.kind == SettingKind::kDwordChoice && *d != spec.min &&
          *d != spec.max) {
        return fail(std::string(spec.name) + " = " + std::to_string(*d) +
                    " is neither " + std::to_string(spec.min) + " nor " +
                    std::to_string(spec.max));
      }
      if ((spec.kind == SettingKind::kDword || spec.kind == SettingKind::kAuthenticationLevel ||
           spec.kind == SettingKind::kImpersonationLevel) &&
          (*d < spec.min || *d > spec.max)) {
        return fail(std::string(spec.name) + " = " + std::to_string(*d) +
                    " is outside " + std::to_string(spec.min) + ".." +
                    std::to_string(spec.max));
      }
      if (spec.kind == SettingKind::kDwordFlags && (*d & ~spec.max)) {
        return fail(std::string(spec.name) + " sets undefined bits");
      }
      out.dword = *d;
      break;
    }
    case SettingKind::kYesNo: {
      auto s = v->AsString();
      if (!s.ok() || v->type != RegType::kSz) {
        return fail(TypeProblem(spec, *v, "REG_SZ \"Y\" or \"N\""));
      }
      if (EqualsFolded(*s, "y")) {
        out.flag = true;
      } else if (EqualsFolded(*s, "n")) {
        out.flag = false;
      } else {
        return fail(std::string(spec.name) + " = \"" + *s +
                    "\"; COM expects \"Y\" or \"N\"");
      }
      break;
    }
    case SettingKind::kDisabledByNo: {
      auto s = v->AsString();
      if (!s.ok()) return fail(TypeProblem(spec, *v, "REG_SZ"));
      out.flag = !(*s == "N" || *s == "n" || *s == "NO" || *s == "No" ||
                   *s == "no");
      break;
    }
    case SettingKind::kSecurityDescriptor: {
      if (v->type != RegType::kBinary) {
        return fail(TypeProblem(spec, *v, "REG_BINARY security descriptor"));
      }
      auto sd = security::SecurityDescriptor::Decode(v->data);
      if (!sd.ok()) return fail(std::string(sd.status().message()));
      out.sd = std::move(*sd);
      break;
    }
    case SettingKind::kSddl: {
      auto s = v->AsString();
      if (!s.ok()) return fail(TypeProblem(spec, *v, "REG_SZ SDDL"));
      auto sd = security::ParseSddl(*s);
      if (!sd.ok()) return fail(std::string(sd.status().message()));
      out.text = *s;
      out.sd = std::move(*sd);
      break;
    }
    case SettingKind::kString: {
      auto s = v->AsString();
      if (!s.ok()) return fail(TypeProblem(spec, *v, "REG_SZ"));
      out.text = *s;
      break;
    }
    case SettingKind::kGuidString: {
      auto s = v->AsString();
      if (!s.ok()) return fail(TypeProblem(spec, *v, "REG_SZ \"{guid}\""));
      if (!Guid::Parse(*s).ok()) {
        return fail(std::string(spec.name) + " = \"" + *s +
                    "\" is not a GUID");
      }
      out.text = *s;
      break;
    }
    case SettingKind::kMultiString: {
      auto s = v->AsMultiString();
      if (!s.ok()) return fail(TypeProblem(spec, *v, "REG_MULTI_SZ"));
      out.strings = *s;
      break;
    }
  }
  out.valid = true;
  return out;
}

security::AuthnLevel SettingAuthnLevel(const SettingValue& v) {
  COMSEC_CHECK(v.valid && v.spec->kind == SettingKind::kAuthenticationLevel, v.spec->name);
  const auto level = security::AuthnLevelFromNumber(v.dword);
  COMSEC_CHECK(level.has_value(), std::to_string(v.dword));  // InterpretSetting checked it
  return *level;
}

security::ImpLevel SettingImpLevel(const SettingValue& v) {
  COMSEC_CHECK(v.valid && v.spec->kind == SettingKind::kImpersonationLevel, v.spec->name);
  const auto level = security::ImpLevelFromNumber(v.dword);
  COMSEC_CHECK(level.has_value(), std::to_string(v.dword));  // InterpretSetting checked it
  return *level;
}

Result<RegValue> EncodeSetting(const SettingSpec& spec, std::string_view in) {
  std::string name = spec.name;
  auto bad = [&](std::string why) {
    return Status(E_INVALIDARG, std::string(spec.name[0] ? spec.name
                                                         : "(default)") +
                                    ": " + why);
  };
  switch (spec.kind) {
    case SettingKind::kDword:
    case SettingKind::kDwordFlags:
    case SettingKind::kDwordChoice: {
      auto v = ParseUnsigned(in, NumberBase::kDecimalOrHex, 0xFFFFFFFFu);
      if (!v.ok()) {
        return bad("\"" + std::string(in) + "\" is not a 32-bit number");
      }
      RegValue rv = RegValue::Dword(name, static_cast<uint32_t>(*v));
      SettingValue check = InterpretSetting(spec, &rv);
      if (!check.valid) return bad(check.problem);
      return rv;
    }
    case SettingKind::kAuthenticationLevel:
    case SettingKind::kImpersonationLevel: {
      // A number (decimal or 0x) is range-checked below like any DWORD;
      // otherwise the input is a level's name.
      auto parsed = ParseUnsigned(in, NumberBase::kDecimalOrHex, 0xFFFFFFFFu);
      uint32_t number = parsed.ok() ? static_cast<uint32_t>(*parsed) : 0;
      if (!parsed.ok() && spec.kind == SettingKind::kAuthenticationLevel) {
        auto level = security::ParseAuthnLevel(in);
        if (!level.ok()) return bad(std::string(level.status().message()));
        number = security::ToNumber(*level);
      } else if (!parsed.ok()) {
        auto level = security::ParseImpLevel(in);
        if (!level.ok()) return bad(std::string(level.status().message()));
        number = security::ToNumber(*level);
      }
      RegValue rv = RegValue::Dword(name, number);
      SettingValue check = InterpretSetting(spec, &rv);
      if (!check.valid) return bad(check.problem);
      return rv;
    }
    case SettingKind::kYesNo:
      if (in != "Y" && in != "y" && in != "N" && in != "n") {
        return bad("expected Y or N");
      }
      return RegValue::String(name, in);
    case SettingKind::kDisabledByNo:
    case SettingKind::kString:
      return RegValue::String(name, in);
    case SettingKind::kGuidString: {
      auto g = Guid::Parse(in);
      if (!g.ok()) return bad(std::string(g.status().message()));
      return RegValue::String(name, g->ToRegistryString());
    }
    case SettingKind::kMultiString: {
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t i = 0; i <= in.size(); ++i) {
        if (i == in.size() || in[i] == ';') {
          if (i > start) parts.emplace_back(in.substr(start, i - start));
          start = i + 1;
        }
      }
      return RegValue::MultiString(name, parts);
    }
    case SettingKind::kSecurityDescriptor:
    case SettingKind::kSddl: {
      auto sd = security::ParseSddl(in);
      if (!sd.ok()) return std::move(sd).TakeStatus();
      if (spec.kind == SettingKind::kSddl) {
        return RegValue::String(name, *security::FormatSddl(*sd));
      }
      return RegValue::Binary(name, sd->Encode());
    }
  }
  return bad("unsupported setting kind");
}

}  // namespace comsec::config
