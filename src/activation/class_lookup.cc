#include "comsec/activation/class_lookup.h"

#include "comsec/config/com_schema.h"

namespace comsec::activation {
namespace {

// A REG_SZ value, "" when absent or not a string.
Result<std::optional<std::string>> StringValue(config::ReadTransaction& tx,
                                               const config::KeyPath& key,
                                               std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(std::optional<config::RegValue> v, tx.GetValue(key, name));
  if (!v) return std::optional<std::string>();
  auto text = v->AsString();
  if (!text.ok()) return std::optional<std::string>();
  return std::optional<std::string>(*text);
}

}  // namespace

Result<ClassRegistrationInfo> LookUpClass(config::ReadTransaction& tx, const Guid& clsid) {
  ClassRegistrationInfo info;
  info.clsid = clsid;
  const config::KeyPath key = config::ClsidKeyPath(clsid);
  COMSEC_ASSIGN_OR_RETURN(info.registered, tx.KeyExists(key));
  if (!info.registered) return info;
  COMSEC_ASSIGN_OR_RETURN(auto appid_text, StringValue(tx, key, "AppID"));
  COMSEC_ASSIGN_OR_RETURN(auto local, StringValue(tx, key.Child("LocalServer32"), ""));
  COMSEC_ASSIGN_OR_RETURN(auto inproc, StringValue(tx, key.Child("InprocServer32"), ""));
  info.local_server = local.value_or("");
  info.inproc_server = inproc.value_or("");
  if (appid_text) {
    auto appid = Guid::Parse(*appid_text);
    if (!appid.ok()) {
      return Status(CO_E_APPNOTFOUND, "class " + clsid.ToRegistryString() +
                                          " names AppID \"" + *appid_text +
                                          "\", which is not a GUID");
    }
    info.appid = *appid;
    const config::KeyPath app = config::AppIdKeyPath(info.appid);
    COMSEC_ASSIGN_OR_RETURN(info.appid_registered, tx.KeyExists(app));
    if (info.appid_registered) {
      COMSEC_ASSIGN_OR_RETURN(info.run_as, StringValue(tx, app, "RunAs"));
      COMSEC_ASSIGN_OR_RETURN(auto surrogate, StringValue(tx, app, "DllSurrogate"));
      info.dll_surrogate = surrogate.has_value();
      info.dll_surrogate_path = surrogate.value_or("");
    }
  }
  return info;
}

}  // namespace comsec::activation
