// comcfg kerberos: the Kerberos server's configuration in the store
// (config/kerberos_config.h): the keytab and SPNs servers accept with, and
// the principal → account table that names Kerberos callers (rule 2 of
// auth/gssapi/principal_mapping.h).
#include <filesystem>
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comsec/config/kerberos_config.h"
#include "comsec/config/secrets.h"

namespace comsec::comcfg {
namespace {

struct KerberosArgs {
  std::string keytab;
  std::vector<std::string> spns;
  std::string principal, account;
  bool json = false;
};

int RunSet(const KerberosArgs& a, bool has_keytab, bool has_spns, const GlobalOptions& global,
           const Io& io) {
  if (!has_keytab && !has_spns) {
    return ReportBadInput(io, Status(E_INVALIDARG, "give --keytab PATH and/or --spn SPN"));
  }
  auto store = OpenStore(global);
  if (!store.ok()) return ReportFailure(io, store.status());
  std::optional<std::string> keytab;
  if (has_keytab) keytab = a.keytab;
  std::optional<std::vector<std::string>> spns;
  if (has_spns) spns = a.spns;
  Status s = config::SetKerberosService(**store, keytab, spns);
  if (!s.ok()) return s.code() == E_INVALIDARG ? ReportBadInput(io, s) : ReportFailure(io, s);
  if (keytab) {
    io.out << "keytab: " << a.keytab << "\n";
    std::error_code ec;
    const std::string path = a.keytab.starts_with("FILE:") ? a.keytab.substr(5) : a.keytab;
    if (!std::filesystem::exists(path, ec)) {
      io.err << "comcfg: warning: " << path
             << " does not exist yet; servers will not start until it does\n";
    }
  }
  if (spns) {
    io.out << "service principal names:";
    for (const std::string& spn : *spns) io.out << " " << spn;
    io.out << (spns->empty() ? " (any principal of the keytab)\n" : "\n");
  }
  return kExitOk;
}

int RunMap(const KerberosArgs& a, const GlobalOptions& global, const Io& io) {
  auto store = OpenStore(global);
  if (!store.ok()) return ReportFailure(io, store.status());
  // The account must exist when this user can tell; otherwise the server
  // will tell at the first logon (and refuse it).
  config::SecretsOptions o;
  o.create_if_missing = false;
  o.read_only = true;
  auto secrets = config::OpenSecrets(StorePath(global), o);
  if (secrets.ok()) {
    config::AccountDatabase db(secrets->get());
    auto found = db.FindUser(a.account);
    if (!found.ok()) return ReportFailure(io, found.status());
    if (!*found) {
      return ReportFailure(io, Status(ERROR_NO_SUCH_USER,
                                      "no account '" + a.account +
                                          "' in the account database; create it with "
                                          "'comcfg user add " + a.account + "'"));
    }
  } else {
    io.err << "comcfg: warning: cannot check that account '" << a.account
           << "' exists (" << secrets.status().message() << ")\n";
  }
  Status s = config::MapPrincipal(**store, a.principal, a.account);
  if (!s.ok()) return s.code() == E_INVALIDARG ? ReportBadInput(io, s) : ReportFailure(io, s);
  io.out << a.principal << " -> " << a.account << "\n";
  return kExitOk;
}

int RunShow(const KerberosArgs& a, const GlobalOptions& global, const Io& io) {
  return WithRead(global, io, [&](config::ReadTransaction& tx) -> Status {
    COMSEC_ASSIGN_OR_RETURN(config::KerberosConfig c, config::ReadKerberosConfig(tx));
    if (a.json || global.json) {
      nlohmann::json j;
      j["keytab"] = c.keytab;
      j["spns"] = c.spns;
      j["principal_map"] = nlohmann::json::array();
      for (const auto& [principal, account] : c.principal_map) {
        j["principal_map"].push_back({{"principal", principal}, {"account", account}});
      }
      io.out << j.dump(2) << "\n";
      return Status::Ok();
    }
    io.out << "keytab: " << (c.keytab.empty() ? "(none: servers need --keytab or KRB5_KTNAME)" : c.keytab)
           << "\n";
    io.out << "service principal names:";
    for (const std::string& spn : c.spns) io.out << " " << spn;
    io.out << (c.spns.empty() ? " (any principal of the keytab)\n" : "\n");
    io.out << "principal map:" << (c.principal_map.empty() ? " (empty)\n" : "\n");
    for (const auto& [principal, account] : c.principal_map) {
      io.out << "  " << principal << " -> " << account << "\n";
    }
    return Status::Ok();
  });
}

}  // namespace

void AddKerberosCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                         int* exit_code) {
  CLI::App* krb = app.add_subcommand(
      "kerberos", "the Kerberos server's keytab, SPNs and principal → account map");
  krb->require_subcommand(1);
  auto a = std::make_shared<KerberosArgs>();

  CLI::App* set = krb->add_subcommand("set", "set the keytab and/or the SPNs servers accept");
  auto* keytab = set->add_option("--keytab", a->keytab, "absolute path of the server's keytab");
  auto* spn = set->add_option("--spn", a->spns,
                              "a service principal name (repeatable; replaces the list)");
  set->callback([a, keytab, spn, &global, &io, exit_code] {
    *exit_code = RunSet(*a, keytab->count() > 0, spn->count() > 0, global, io);
  });

  CLI::App* map = krb->add_subcommand(
      "map", "name a Kerberos principal's local account (its SID and groups)");
  map->add_option("PRINCIPAL", a->principal, "principal with its realm: alice@EXAMPLE.COM")
      ->required();
  map->add_option("ACCOUNT", a->account, "an account of 'comcfg user'")->required();
  map->callback([a, &global, &io, exit_code] { *exit_code = RunMap(*a, global, io); });

  CLI::App* unmap = krb->add_subcommand("unmap", "remove a principal's mapping");
  unmap->add_option("PRINCIPAL", a->principal, "principal with its realm")->required();
  unmap->callback([a, &global, &io, exit_code] {
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = config::UnmapPrincipal(**store, a->principal);
    if (!s.ok()) {
      *exit_code = ReportFailure(io, s);
      return;
    }
    io.out << "unmapped " << a->principal << "\n";
    *exit_code = kExitOk;
  });

  CLI::App* show = krb->add_subcommand("show", "print the Kerberos configuration");
  show->add_flag("--json", a->json, "print JSON");
  show->callback([a, &global, &io, exit_code] { *exit_code = RunShow(*a, global, io); });
}

}  // namespace comsec::comcfg
