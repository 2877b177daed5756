// comcfg app list|show|create|delete|set and comcfg class
// register|show|unregister — the per-application pages of dcomcnfg.
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/com_schema.h"

namespace comsec::comcfg {

using namespace comsec::config;  // NOLINT: a tool file using its layer

std::string SettingText(const SettingValue& v);  // machine_commands.cc

namespace {

Result<Guid> ParseGuidArg(const std::string& text, const char* what) {
  auto g = Guid::Parse(text);
  if (!g.ok()) {
    return Status(E_INVALIDARG, std::string(what) + ": " +
                                    std::string(g.status().message()));
  }
  return *g;
}

KeyPath AppIdRoot() { return *KeyPath::Parse("HKLM\\SOFTWARE\\Classes\\AppID"); }
KeyPath ClsidRoot() { return *KeyPath::Parse("HKLM\\SOFTWARE\\Classes\\CLSID"); }

std::string DisplayName(ReadTransaction& tx, const KeyPath& key) {
  auto v = tx.GetValue(key, "");
  if (!v.ok() || !v->has_value()) return "";
  auto s = (*v)->AsString();
  return s.ok() ? *s : "";
}

Status NotFound(const std::string& what) {
  return Status(ERROR_NOT_FOUND, what + " is not registered");
}

// Every setting of `scope` for the key of `id`, as text or JSON.
Status ShowSettings(ReadTransaction& tx, SettingScope scope, const Guid& id,
                    bool json, nlohmann::json& j, std::ostream& out) {
  for (const SettingSpec& spec : AllSettings()) {
    if (spec.scope != scope) continue;
    KeyPath key = SettingKeyPath(spec, &id);
    COMSEC_ASSIGN_OR_RETURN(std::optional<RegValue> raw,
                            tx.GetValue(key, spec.name));
    SettingValue v = InterpretSetting(spec, raw ? &*raw : nullptr);
    std::string name = spec.subkey[0] ? std::string(spec.subkey) + "\\" +
                                            (spec.name[0] ? spec.name : "(default)")
                                      : (spec.name[0] ? spec.name : "(default)");
    if (json) {
      nlohmann::json s;
      s["name"] = name;
      s["set"] = v.present;
      s["valid"] = v.valid;
      s["value"] = SettingText(v);
      s["default"] = spec.default_text;
      s["rule"] = spec.rule;
      if (!v.problem.empty()) s["problem"] = v.problem;
      j["settings"].push_back(std::move(s));
    } else if (v.present) {
      out << "  " << name << " = " << SettingText(v) << "  [" << spec.rule
          << "]\n";
      if (!v.problem.empty()) out << "      problem: " << v.problem << "\n";
    } else if (spec.default_text[0] != '\0') {
      out << "  " << name << " (not set; " << spec.default_text << ")\n";
    }
  }
  return Status();
}

}  // namespace

void AddAppCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                    int* exit_code) {
  CLI::App* appcmd = app.add_subcommand(
      "app", "applications (AppIDs) and their security settings");
  appcmd->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = appcmd->add_subcommand("list", "list registered AppIDs");
  list->add_flag("--json", *list_json, "print JSON");
  list->callback([list_json, &global, &io, exit_code] {
    *exit_code = WithRead(global, io, [&](ReadTransaction& tx) -> Status {
      auto root = tx.ReadKey(AppIdRoot());
      nlohmann::json arr = nlohmann::json::array();
      if (root.ok()) {
        for (const std::string& name : root->subkeys) {
          auto g = Guid::Parse(name);
          if (!g.ok()) continue;  // executable-name mappings (R159)
          std::string display = DisplayName(tx, AppIdKeyPath(*g));
          if (*list_json) {
            arr.push_back({{"appid", g->ToRegistryString()}, {"name", display}});
          } else {
            io.out << g->ToRegistryString() << "  " << display << "\n";
          }
        }
      }
      if (*list_json) io.out << arr.dump(2) << "\n";
      return Status();
    });
  });

  struct ShowArgs {
    std::string id;
    bool json = false;
  };
  auto sh = std::make_shared<ShowArgs>();
  CLI::App* show = appcmd->add_subcommand("show", "an AppID's settings");
  show->add_option("APPID", sh->id, "the AppID GUID")->required();
  show->add_flag("--json", sh->json, "print JSON");
  show->callback([sh, &global, &io, exit_code] {
    auto id = ParseGuidArg(sh->id, "APPID");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    *exit_code = WithRead(global, io, [&](ReadTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists, tx.KeyExists(AppIdKeyPath(*id)));
      if (!exists) return NotFound("AppID " + id->ToRegistryString());
      nlohmann::json j;
      j["appid"] = id->ToRegistryString();
      j["name"] = DisplayName(tx, AppIdKeyPath(*id));
      j["settings"] = nlohmann::json::array();
      if (!sh->json) {
        io.out << id->ToRegistryString() << "  "
               << j["name"].get<std::string>() << "\n";
      }
      COMSEC_RETURN_IF_ERROR(
          ShowSettings(tx, SettingScope::kAppId, *id, sh->json, j, io.out));
      // Classes that name this AppID (R159).
      j["classes"] = nlohmann::json::array();
      auto classes = tx.ReadKey(ClsidRoot());
      if (classes.ok()) {
        for (const std::string& c : classes->subkeys) {
          auto cg = Guid::Parse(c);
          if (!cg.ok()) continue;
          auto v = tx.GetValue(ClsidKeyPath(*cg), "AppID");
          if (!v.ok() || !v->has_value()) continue;
          auto s = (*v)->AsString();
          auto ag = s.ok() ? Guid::Parse(*s) : Result<Guid>(Status(E_FAIL, ""));
          if (ag.ok() && *ag == *id) {
            j["classes"].push_back(cg->ToRegistryString());
            if (!sh->json) io.out << "  class " << cg->ToRegistryString() << "\n";
          }
        }
      }
      if (sh->json) io.out << j.dump(2) << "\n";
      return Status();
    });
  });

  struct CreateArgs {
    std::string id, name;
  };
  auto cr = std::make_shared<CreateArgs>();
  CLI::App* create = appcmd->add_subcommand("create", "register an AppID");
  create->add_option("--appid", cr->id, "the AppID GUID")->required();
  create->add_option("--name", cr->name, "display name")->required();
  create->callback([cr, &global, &io, exit_code] {
    auto id = ParseGuidArg(cr->id, "--appid");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists,
                              tx.reader().KeyExists(AppIdKeyPath(*id)));
      if (exists) {
        return Status(E_INVALIDARG, "AppID " + id->ToRegistryString() +
                                        " already exists; change it with "
                                        "'comcfg app set'");
      }
      return tx.SetValue(AppIdKeyPath(*id), RegValue::String("", cr->name));
    });
  });

  auto del_id = std::make_shared<std::string>();
  CLI::App* del = appcmd->add_subcommand("delete", "remove an AppID");
  del->add_option("APPID", *del_id, "the AppID GUID")->required();
  del->callback([del_id, &global, &io, exit_code] {
    auto id = ParseGuidArg(*del_id, "APPID");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists,
                              tx.reader().KeyExists(AppIdKeyPath(*id)));
      if (!exists) return NotFound("AppID " + id->ToRegistryString());
      return tx.DeleteKey(AppIdKeyPath(*id));
    });
  });

  struct SetArgs {
    std::string id, name, value;
  };
  auto sa = std::make_shared<SetArgs>();
  CLI::App* set = appcmd->add_subcommand(
      "set", "set an AppID value (AuthenticationLevel 1-6, RunAs, "
             "LaunchPermission/AccessPermission as SDDL, ...)");
  set->add_option("APPID", sa->id, "the AppID GUID")->required();
  set->add_option("NAME", sa->name, "value name")->required();
  set->add_option("VALUE", sa->value, "the value")->required();
  set->callback([sa, &global, &io, exit_code] {
    auto id = ParseGuidArg(sa->id, "APPID");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    std::string name = sa->name == "(default)" || sa->name == "@" ? "" : sa->name;
    const SettingSpec* spec = FindSetting(SettingScope::kAppId, name);
    if (spec == nullptr) {
      *exit_code = ReportBadInput(
          io, Status(E_INVALIDARG, "\"" + sa->name +
                                       "\" is not an AppID setting; 'comcfg "
                                       "app show' lists them"));
      return;
    }
    auto value = EncodeSetting(*spec, sa->value);
    if (!value.ok()) {
      *exit_code = ReportBadInput(io, value.status());
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists,
                              tx.reader().KeyExists(AppIdKeyPath(*id)));
      if (!exists) return NotFound("AppID " + id->ToRegistryString());
      return tx.SetValue(AppIdKeyPath(*id), *value);
    });
  });

  // ---- classes
  CLI::App* cls = app.add_subcommand("class", "COM classes (CLSIDs)");
  cls->require_subcommand(1);
  struct RegisterArgs {
    std::string clsid, appid, local_server, inproc_server, name,
        threading_model;
  };
  auto ra = std::make_shared<RegisterArgs>();
  CLI::App* reg = cls->add_subcommand(
      "register", "register a class under an AppID");
  reg->add_option("--clsid", ra->clsid, "the class GUID")->required();
  reg->add_option("--appid", ra->appid, "the AppID whose settings apply")
      ->required();
  auto* ls = reg->add_option("--local-server", ra->local_server,
                             "command line of the local server");
  auto* ip = reg->add_option("--inproc-server", ra->inproc_server,
                             "path of the in-process server");
  ls->excludes(ip);
  reg->add_option("--name", ra->name, "display name");
  reg->add_option("--threading-model", ra->threading_model,
                  "Apartment, Free, Both or Neutral (in-process servers)")
      ->check(CLI::IsMember({"Apartment", "Free", "Both", "Neutral"}));
  reg->callback([ra, ls, ip, &global, &io, exit_code] {
    auto clsid = ParseGuidArg(ra->clsid, "--clsid");
    auto appid = ParseGuidArg(ra->appid, "--appid");
    if (!clsid.ok() || !appid.ok()) {
      *exit_code = ReportBadInput(io, clsid.ok() ? appid.status()
                                                 : clsid.status());
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool app_exists,
                              tx.reader().KeyExists(AppIdKeyPath(*appid)));
      if (!app_exists) {
        // As dcomcnfg does for a class with a server (R160): the AppID is
        // created so its settings have a home; it inherits the defaults.
        COMSEC_RETURN_IF_ERROR(tx.SetValue(
            AppIdKeyPath(*appid),
            RegValue::String("", ra->name.empty() ? clsid->ToRegistryString()
                                                  : ra->name)));
        io.out << "created AppID " << appid->ToRegistryString()
               << " (it follows the machine defaults until configured)\n";
      }
      KeyPath key = ClsidKeyPath(*clsid);
      COMSEC_RETURN_IF_ERROR(tx.CreateKey(key));
      if (!ra->name.empty()) {
        COMSEC_RETURN_IF_ERROR(tx.SetValue(key, RegValue::String("", ra->name)));
      }
      COMSEC_RETURN_IF_ERROR(tx.SetValue(
          key, RegValue::String("AppID", appid->ToRegistryString())));
      if (ls->count()) {
        COMSEC_RETURN_IF_ERROR(tx.SetValue(key.Child("LocalServer32"),
                                           RegValue::String("", ra->local_server)));
      }
      if (ip->count()) {
        KeyPath inproc = key.Child("InprocServer32");
        COMSEC_RETURN_IF_ERROR(
            tx.SetValue(inproc, RegValue::String("", ra->inproc_server)));
        if (!ra->threading_model.empty()) {
          COMSEC_RETURN_IF_ERROR(tx.SetValue(
              inproc, RegValue::String("ThreadingModel", ra->threading_model)));
        }
      }
      return Status();
    });
  });

  auto cs = std::make_shared<ShowArgs>();
  CLI::App* cshow = cls->add_subcommand("show", "a class's registration");
  cshow->add_option("CLSID", cs->id, "the class GUID")->required();
  cshow->add_flag("--json", cs->json, "print JSON");
  cshow->callback([cs, &global, &io, exit_code] {
    auto id = ParseGuidArg(cs->id, "CLSID");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    *exit_code = WithRead(global, io, [&](ReadTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists, tx.KeyExists(ClsidKeyPath(*id)));
      if (!exists) return NotFound("class " + id->ToRegistryString());
      nlohmann::json j;
      j["clsid"] = id->ToRegistryString();
      j["settings"] = nlohmann::json::array();
      if (!cs->json) io.out << id->ToRegistryString() << "\n";
      COMSEC_RETURN_IF_ERROR(
          ShowSettings(tx, SettingScope::kClsid, *id, cs->json, j, io.out));
      if (cs->json) io.out << j.dump(2) << "\n";
      return Status();
    });
  });

  auto cu = std::make_shared<std::string>();
  CLI::App* unreg = cls->add_subcommand("unregister", "remove a class");
  unreg->add_option("CLSID", *cu, "the class GUID")->required();
  unreg->callback([cu, &global, &io, exit_code] {
    auto id = ParseGuidArg(*cu, "CLSID");
    if (!id.ok()) {
      *exit_code = ReportBadInput(io, id.status());
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists,
                              tx.reader().KeyExists(ClsidKeyPath(*id)));
      if (!exists) return NotFound("class " + id->ToRegistryString());
      return tx.DeleteKey(ClsidKeyPath(*id));
    });
  });
}

}  // namespace comsec::comcfg
