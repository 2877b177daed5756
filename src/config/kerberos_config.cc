#include "comsec/config/kerberos_config.h"

#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

KeyPath Key(std::string_view text) { return *KeyPath::Parse(text); }

// service/host with an optional @REALM; nothing empty, no spaces.
Status CheckSpn(const std::string& spn) {
  const size_t slash = spn.find('/');
  const size_t at = spn.find('@');
  const bool ok = slash != std::string::npos && slash > 0 && slash + 1 < spn.size() &&
                  (at == std::string::npos || (at > slash + 1 && at + 1 < spn.size())) &&
                  spn.find_first_of(" \t\r\n") == std::string::npos;
  if (!ok) {
    return Status(E_INVALIDARG, "'" + spn +
                                    "' is not a service principal name (service/host, "
                                    "optionally @REALM: RPCSS/host.example.com)");
  }
  return Status::Ok();
}

Status CheckPrincipal(std::string_view principal) {
  const size_t at = principal.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == principal.size() ||
      principal.find_first_of(" \t\r\n") != std::string_view::npos) {
    return Status(E_INVALIDARG, "'" + std::string(principal) +
                                    "' is not a principal with its realm (user@REALM); "
                                    "a mapping names the realm so that it cannot catch "
                                    "a principal of another");
  }
  return Status::Ok();
}

}  // namespace

Result<KerberosConfig> ReadKerberosConfig(ReadTransaction& tx) {
  KerberosConfig c;
  COMSEC_ASSIGN_OR_RETURN(auto values, tx.ReadValues(Key(kKerberosKey)));
  if (values) {
    for (const RegValue& v : *values) {
      if (FoldCase(v.name) == FoldCase("Keytab")) {
        COMSEC_ASSIGN_OR_RETURN(c.keytab, v.AsString());
      } else if (FoldCase(v.name) == FoldCase("ServicePrincipalNames")) {
        COMSEC_ASSIGN_OR_RETURN(c.spns, v.AsMultiString());
      } else if (FoldCase(v.name) == FoldCase("ConstrainedDelegation")) {
        COMSEC_ASSIGN_OR_RETURN(uint32_t on, v.AsDword());
        c.constrained_delegation = on != 0;
      }
    }
  }
  COMSEC_ASSIGN_OR_RETURN(auto map, tx.ReadValues(Key(kKerberosPrincipalMapKey)));
  if (map) {
    for (const RegValue& v : *map) {
      COMSEC_ASSIGN_OR_RETURN(std::string account, v.AsString());
      c.principal_map.emplace_back(v.name, std::move(account));
    }
  }
  return c;
}

Result<std::optional<std::string>> FindPrincipalMapping(ReadTransaction& tx,
                                                        std::string_view principal) {
  COMSEC_ASSIGN_OR_RETURN(auto value, tx.GetValue(Key(kKerberosPrincipalMapKey), principal));
  if (!value) return std::optional<std::string>();
  COMSEC_ASSIGN_OR_RETURN(std::string account, value->AsString());
  return std::optional<std::string>(std::move(account));
}

Status SetKerberosService(Store& store, const std::optional<std::string>& keytab,
                          const std::optional<std::vector<std::string>>& spns) {
  std::string path = keytab.value_or("");
  if (keytab) {
    // "FILE:/path" is MIT's own spelling of the same thing.
    if (path.starts_with("FILE:")) path = path.substr(5);
    if (path.empty() || path[0] != '/') {
      return Status(E_INVALIDARG, "--keytab '" + *keytab +
                                      "' is not an absolute path: servers started from "
                                      "any directory read it");
    }
  }
  if (spns) {
    for (const std::string& spn : *spns) COMSEC_RETURN_IF_ERROR(CheckSpn(spn));
  }
  COMSEC_ASSIGN_OR_RETURN(auto tx, store.BeginWrite());
  if (keytab) COMSEC_RETURN_IF_ERROR(tx->SetValue(Key(kKerberosKey), RegValue::String("Keytab", path)));
  if (spns) {
    COMSEC_RETURN_IF_ERROR(
        tx->SetValue(Key(kKerberosKey), RegValue::MultiString("ServicePrincipalNames", *spns)));
  }
  return tx->Commit();
}

Status MapPrincipal(Store& store, std::string_view principal, std::string_view account) {
  COMSEC_RETURN_IF_ERROR(CheckPrincipal(principal));
  if (account.empty()) return Status(E_INVALIDARG, "the account name is empty");
  return store.SetValue(Key(kKerberosPrincipalMapKey),
                        RegValue::String(std::string(principal), account));
}

Status UnmapPrincipal(Store& store, std::string_view principal) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store.BeginWrite());
  COMSEC_ASSIGN_OR_RETURN(auto existing,
                          tx->reader().GetValue(Key(kKerberosPrincipalMapKey), principal));
  if (!existing) {
    return Status(ERROR_NOT_FOUND, "'" + std::string(principal) + "' has no mapping");
  }
  COMSEC_RETURN_IF_ERROR(tx->DeleteValue(Key(kKerberosPrincipalMapKey), principal));
  return tx->Commit();
}

}  // namespace comsec::config
