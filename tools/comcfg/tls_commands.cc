// comcfg tls: the TLS package's configuration (config/tls_settings.h):
//   comcfg tls set [--ca FILE] [--cert FILE] [--key FILE]
//   comcfg tls map --subject SUBJECT ACCOUNT | --thumbprint HEX ACCOUNT
//   comcfg tls unmap --subject SUBJECT | --thumbprint HEX
//   comcfg tls show [--json]
// Paths are stored as given (made absolute), never read: a key file stays
// where its owner put it. ACCOUNT is an account of the store ("alice") or
// a Unix user ("unix:alice"); auth/tls/store_certificate_mapper.h says how
// servers resolve it.
#include <filesystem>
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/config/tls_settings.h"

namespace comsec::comcfg {
namespace {

std::string Absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

struct TlsArgs {
  std::string ca, cert, key;
  std::string subject, thumbprint, account;
  bool json = false;
};

// Exactly one of --subject and --thumbprint.
Result<std::pair<config::TlsMappingKind, std::string>> Which(const TlsArgs& a) {
  if (a.subject.empty() == a.thumbprint.empty()) {
    return Status(E_INVALIDARG, "give exactly one of --subject and --thumbprint");
  }
  if (!a.thumbprint.empty()) {
    return std::make_pair(config::TlsMappingKind::kThumbprint, a.thumbprint);
  }
  return std::make_pair(config::TlsMappingKind::kSubject, a.subject);
}

int Show(const GlobalOptions& global, const Io& io, bool json) {
  auto store = OpenStore(global, StoreAccess::kRead);
  if (!store.ok()) return ReportFailure(io, store.status());
  auto files = config::ReadTlsFiles(store->get());
  if (!files.ok()) return ReportFailure(io, files.status());
  auto mappings = config::ListTlsMappings(store->get());
  if (!mappings.ok()) return ReportFailure(io, mappings.status());
  if (json) {
    nlohmann::json j;
    j["certificate_file"] = files->certificate_file;
    j["key_file"] = files->key_file;
    j["ca_file"] = files->ca_file;
    j["mappings"] = nlohmann::json::array();
    for (const auto& m : *mappings) {
      j["mappings"].push_back({{"kind", config::TlsMappingKindName(m.kind)},
                               {"certificate", m.certificate},
                               {"account", m.account}});
    }
    io.out << j.dump(2) << "\n";
    return kExitOk;
  }
  auto or_none = [](const std::string& s) { return s.empty() ? std::string("(not set)") : s; };
  io.out << "certificate: " << or_none(files->certificate_file) << "\n"
         << "key:         " << or_none(files->key_file) << "\n"
         << "client CAs:  " << or_none(files->ca_file) << "\n";
  if (mappings->empty()) io.out << "no certificate mappings\n";
  for (const auto& m : *mappings) {
    io.out << config::TlsMappingKindName(m.kind) << " " << m.certificate << " -> " << m.account
           << "\n";
  }
  return kExitOk;
}

}  // namespace

void AddTlsCommands(CLI::App& app, const GlobalOptions& global, const Io& io, int* exit_code) {
  CLI::App* tls = app.add_subcommand(
      "tls", "the TLS package (auth_type 14): server files and client certificate mappings");
  tls->require_subcommand(1);
  auto a = std::make_shared<TlsArgs>();

  CLI::App* set = tls->add_subcommand("set", "the server's certificate, key and client CAs");
  set->add_option("--ca", a->ca, "PEM CA certificates client certificates must chain to");
  set->add_option("--cert", a->cert, "PEM server certificate (with chain)");
  set->add_option("--key", a->key, "PEM private key of --cert");
  set->callback([a, &global, &io, exit_code] {
    if (a->ca.empty() && a->cert.empty() && a->key.empty()) {
      *exit_code = ReportBadInput(io, Status(E_INVALIDARG, "give --ca, --cert or --key"));
      return;
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    config::TlsFiles files{Absolute(a->cert), Absolute(a->key), Absolute(a->ca)};
    Status s = config::WriteTlsFiles(store->get(), files);
    *exit_code = s.ok() ? kExitOk : ReportFailure(io, s);
  });

  CLI::App* map = tls->add_subcommand("map", "map a client certificate to an account");
  map->add_option("--subject", a->subject, "the certificate's subject, RFC 2253 (CN=x,O=y)");
  map->add_option("--thumbprint", a->thumbprint, "SHA-256 of the certificate, 64 hex digits");
  map->add_option("ACCOUNT", a->account, "account name, or unix:NAME")->required();
  map->callback([a, &global, &io, exit_code] {
    auto which = Which(*a);
    if (!which.ok()) {
      *exit_code = ReportBadInput(io, which.status());
      return;
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = config::MapTlsCertificate(store->get(), which->first, which->second, a->account);
    if (!s.ok()) {
      *exit_code = s.code() == E_INVALIDARG ? ReportBadInput(io, s) : ReportFailure(io, s);
      return;
    }
    *exit_code = kExitOk;
  });

  CLI::App* unmap = tls->add_subcommand("unmap", "remove a client certificate mapping");
  unmap->add_option("--subject", a->subject, "the mapped subject");
  unmap->add_option("--thumbprint", a->thumbprint, "the mapped thumbprint");
  unmap->callback([a, &global, &io, exit_code] {
    auto which = Which(*a);
    if (!which.ok()) {
      *exit_code = ReportBadInput(io, which.status());
      return;
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = config::UnmapTlsCertificate(store->get(), which->first, which->second);
    if (!s.ok()) {
      *exit_code = s.code() == E_INVALIDARG ? ReportBadInput(io, s) : ReportFailure(io, s);
      return;
    }
    *exit_code = kExitOk;
  });

  CLI::App* show = tls->add_subcommand("show", "the TLS files and certificate mappings");
  show->add_flag("--json", a->json, "JSON output");
  show->callback([a, &global, &io, exit_code] { *exit_code = Show(global, io, a->json); });
}

}  // namespace comsec::comcfg
