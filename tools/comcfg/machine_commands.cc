// comcfg init | machine show | machine set — the machine-wide page of
// dcomcnfg ("Default Properties", "Default Security", "Edit Limits").
#include <filesystem>
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/secrets.h"
#include "comsec/security/sddl.h"

namespace comsec::comcfg {

using namespace comsec::config;  // NOLINT: a tool file using its layer

namespace {

// What `comcfg init` writes: Windows's defaults (R164, R175 with C3) and
// comsec's hardened activation floor.
Status WriteDefaults(WriteTransaction& tx) {
  const KeyPath ole = OleKeyPath();
  COMSEC_RETURN_IF_ERROR(tx.SetValue(ole, RegValue::String("EnableDCOM", "Y")));
  COMSEC_RETURN_IF_ERROR(
      tx.SetValue(ole, RegValue::Dword("LegacyAuthenticationLevel", 2)));
  COMSEC_RETURN_IF_ERROR(
      tx.SetValue(ole, RegValue::Dword("LegacyImpersonationLevel", 2)));
  COMSEC_RETURN_IF_ERROR(
      tx.SetValue(ole, RegValue::String("LegacySecureReferences", "N")));
  struct {
    const char* name;
    const char* sddl;
  } sds[] = {
      {"DefaultLaunchPermission", kBuiltinLaunchPermission},
      {"MachineLaunchRestriction", kDefaultMachineLaunchRestriction},
      {"MachineAccessRestriction", kDefaultMachineAccessRestriction},
  };
  for (const auto& s : sds) {
    COMSEC_RETURN_IF_ERROR(tx.SetValue(
        ole, RegValue::Binary(s.name, security::ParseSddl(s.sddl)->Encode())));
  }
  COMSEC_RETURN_IF_ERROR(tx.SetValue(
      HardeningKeyPath(),
      RegValue::Dword("RequireIntegrityActivationAuthenticationLevel", 1)));
  COMSEC_RETURN_IF_ERROR(
      tx.CreateKey(*KeyPath::Parse("HKLM\\SOFTWARE\\Classes\\AppID")));
  COMSEC_RETURN_IF_ERROR(
      tx.CreateKey(*KeyPath::Parse("HKLM\\SOFTWARE\\Classes\\CLSID")));
  return Status();
}

const char* ScopeName(SettingScope s) {
  switch (s) {
    case SettingScope::kMachine: return "Ole";
    case SettingScope::kHardening: return "Ole\\AppCompat";
    case SettingScope::kPolicy: return "policy";
    case SettingScope::kAppId: return "AppID";
    case SettingScope::kClsid: return "CLSID";
  }
  return "";
}

// "policy:MachineLaunchRestriction" names the policy override (R165).
const SettingSpec* FindMachineSetting(std::string_view name) {
  if (name.starts_with("policy:")) {
    return FindSetting(SettingScope::kPolicy, name.substr(7));
  }
  if (const SettingSpec* s = FindSetting(SettingScope::kMachine, name)) return s;
  return FindSetting(SettingScope::kHardening, name);
}

}  // namespace

// The value as a person reads it.
std::string SettingText(const SettingValue& v) {
  if (!v.present) return "";
  if (!v.valid) return "(invalid)";
  switch (v.spec->kind) {
    case SettingKind::kDword:
    case SettingKind::kDwordFlags:
    case SettingKind::kDwordChoice:
    case SettingKind::kAuthenticationLevel:  // the number, as the registry holds it
    case SettingKind::kImpersonationLevel:
      return std::to_string(v.dword);
    case SettingKind::kYesNo:
      return v.flag ? "Y" : "N";
    case SettingKind::kDisabledByNo:
      return v.flag ? "enabled" : "disabled";
    case SettingKind::kSecurityDescriptor:
    case SettingKind::kSddl: {
      auto s = security::FormatSddl(*v.sd);
      return s.ok() ? *s : "(descriptor not expressible as SDDL)";
    }
    case SettingKind::kMultiString: {
      std::string out;
      for (const auto& s : v.strings) out += (out.empty() ? "" : ";") + s;
      return out;
    }
    default:
      return v.text;
  }
}

void AddMachineCommands(CLI::App& app, const GlobalOptions& global,
                        const Io& io, int* exit_code) {
  auto force = std::make_shared<bool>(false);
  CLI::App* init = app.add_subcommand(
      "init", "create the store with Windows's defaults (the XP SP2 machine "
              "restrictions included) and comsec's hardened activation level");
  init->add_flag("--force", *force,
                 "write the defaults again over an existing store's machine "
                 "settings");
  init->callback([force, &global, &io, exit_code] {
    std::string path = StorePath(global);
    // The system store's directory may not exist yet on a fresh machine.
    // The directory is created 0755: everyone may read the policy store,
    // only its owner may add files beside it.
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (!ec) {
        std::filesystem::permissions(parent, std::filesystem::perms(0755),
                                     std::filesystem::perm_options::replace, ec);
      }
    }
    if (ec) {
      *exit_code = ReportFailure(
          io, Status(E_ACCESSDENIED, "cannot create " + parent.string() +
                                         ": " + ec.message()));
      return;
    }
    auto store = Store::Open(path);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    // The secrets file (0600) beside it; an older store's accounts move there.
    if (auto secrets = config::OpenSecrets(path); !secrets.ok()) {
      *exit_code = ReportFailure(io, secrets.status());
      return;
    }
    auto tx = (*store)->BeginWrite();
    if (!tx.ok()) {
      *exit_code = ReportFailure(io, tx.status());
      return;
    }
    auto initialized = (*tx)->reader().KeyExists(OleKeyPath());
    if (!initialized.ok()) {
      *exit_code = ReportFailure(io, initialized.status());
      return;
    }
    if (*initialized && !*force) {
      io.out << "store " << path << " is already initialized (use --force to "
             << "restore the defaults)\n";
      *exit_code = kExitOk;
      return;
    }
    Status s = WriteDefaults(**tx);
    if (s.ok()) s = (*tx)->Commit();
    if (!s.ok()) {
      *exit_code = ReportFailure(io, s);
      return;
    }
    io.out << "initialized " << path << " with Windows's defaults (accounts in "
           << config::SecretsPathFor(path) << ", readable by its owner only)\n";
    *exit_code = kExitOk;
  });

  CLI::App* machine =
      app.add_subcommand("machine", "machine-wide COM security settings");
  machine->require_subcommand(1);

  auto json = std::make_shared<bool>(false);
  CLI::App* show = machine->add_subcommand(
      "show", "every machine-wide setting, its value or default, and rule");
  show->add_flag("--json", *json, "print JSON");
  show->callback([json, &global, &io, exit_code] {
    auto store = OpenStore(global, StoreAccess::kRead);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    auto tx = (*store)->BeginRead();
    if (!tx.ok()) {
      *exit_code = ReportFailure(io, tx.status());
      return;
    }
    nlohmann::json arr = nlohmann::json::array();
    for (const SettingSpec& spec : AllSettings()) {
      if (spec.scope != SettingScope::kMachine &&
          spec.scope != SettingScope::kHardening &&
          spec.scope != SettingScope::kPolicy) {
        continue;
      }
      auto raw = (*tx)->GetValue(SettingKeyPath(spec), spec.name);
      if (!raw.ok()) {
        *exit_code = ReportFailure(io, raw.status());
        return;
      }
      SettingValue v = InterpretSetting(spec, raw->has_value() ? &**raw : nullptr);
      std::string name = spec.scope == SettingScope::kPolicy
                             ? std::string("policy:") + spec.name
                             : spec.name;
      if (*json) {
        nlohmann::json j;
        j["name"] = name;
        j["key"] = SettingKeyPath(spec).ToString();
        j["set"] = v.present;
        j["valid"] = v.valid;
        j["value"] = SettingText(v);
        j["default"] = spec.default_text;
        j["rule"] = spec.rule;
        j["meaning"] = spec.meaning;
        if (!v.problem.empty()) j["problem"] = v.problem;
        arr.push_back(std::move(j));
      } else {
        io.out << name << " = "
               << (v.present ? SettingText(v)
                             : std::string("(not set; default ") +
                                   spec.default_text + ")")
               << "  [" << ScopeName(spec.scope) << ", " << spec.rule << "]\n";
        if (!v.problem.empty()) io.out << "    problem: " << v.problem << "\n";
      }
    }
    if (*json) io.out << arr.dump(2) << "\n";
    *exit_code = kExitOk;
  });

  struct SetArgs {
    std::string name, value;
  };
  auto sa = std::make_shared<SetArgs>();
  CLI::App* set = machine->add_subcommand(
      "set", "set a machine-wide setting (descriptors as SDDL; "
             "policy:NAME for the restriction policy overrides)");
  set->add_option("NAME", sa->name, "setting name, e.g. EnableDCOM")
      ->required();
  set->add_option("VALUE", sa->value, "the value")->required();
  set->callback([sa, &global, &io, exit_code] {
    const SettingSpec* spec = FindMachineSetting(sa->name);
    if (spec == nullptr) {
      *exit_code = ReportBadInput(
          io, Status(E_INVALIDARG, "\"" + sa->name +
                                       "\" is not a machine-wide COM setting; "
                                       "'comcfg machine show' lists them"));
      return;
    }
    auto value = EncodeSetting(*spec, sa->value);
    if (!value.ok()) {
      *exit_code = ReportBadInput(io, value.status());
      return;
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = (*store)->SetValue(SettingKeyPath(*spec), *value);
    *exit_code = s.ok() ? kExitOk : ReportFailure(io, s);
  });
}

}  // namespace comsec::comcfg
