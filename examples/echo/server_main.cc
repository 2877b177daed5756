// comsec-echo-server --listen BINDING... [--endpoint-mapper BINDING]
//                    [--min-auth-level N] [--store PATH] [--logon-service BINDING]
//                    [--max-connections N] [--log-format text|json]
//                    [--keytab FILE [--spn SPN]...]
//                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE]]
// Serves IComsecEcho and rpcecho. Prints "listening on BINDING" for each
// endpoint (with the actual port), logs its events to standard error (text
// or JSON lines) and runs until SIGINT or SIGTERM. With --keytab it offers
// Kerberos (auth_type 16) and Negotiate (9, SPNEGO choosing Kerberos or
// NTLM) beside NTLM and the local package, for the SPNs
// given (default: every principal of the keytab). With --tls-cert and
// --tls-key (or the files `comcfg tls set` stored) it offers TLS
// (auth_type 14); with --tls-ca it asks clients for certificates, verifies
// them against that file and maps them through the store's table (`comcfg
// tls map`). A thin
// main over the runtime (runtime/runtime.h), which decides from the store
// and these flags what the server offers.
#include <iostream>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "comsec/base/log_sinks.h"
#include "comsec/base/termination_signals.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"
#include "comsec/runtime/runtime.h"
#include "echo_service.h"

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsec-echo-server: the IComsecEcho and rpcecho test server"};
  std::vector<std::string> listen;
  std::string endpoint_mapper, store, logon_service;
  uint32_t min_level = 1;
  size_t max_connections = rpc::ServerOptions{}.max_connections;
  std::string log_format = "text";
  std::string keytab;
  std::vector<std::string> spns;
  std::string tls_cert, tls_key, tls_ca;
  app.add_option("--listen", listen, "string binding to listen on (repeatable)")
      ->required();
  app.add_option("--endpoint-mapper", endpoint_mapper,
                 "comsecd's ncalrpc endpoint to register with (ncalrpc:[epmapper])");
  app.add_option("--min-auth-level", min_level, "minimum authentication level 1-6")
      ->check(CLI::Range(1, 6));
  app.add_option("--store", store,
                 "configuration store: NTLM validates against its secrets file");
  app.add_option("--logon-service", logon_service,
                 "comsecd's ncalrpc binding: NTLM logons are validated there");
  app.add_option("--max-connections", max_connections,
                 "TCP connections served at once; more are closed at once (default " +
                     std::to_string(max_connections) + ")")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--log-format", log_format,
                 "events on standard error as text lines or JSON lines (default text)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--keytab", keytab,
                 "keytab with the server's Kerberos keys: offers Kerberos (auth_type 16) and "
                 "Kerberos through Negotiate (9)");
  app.add_option("--spn", spns,
                 "service principal Kerberos clients may ask for, e.g. RPCSS/host "
                 "(repeatable; default: any principal of the keytab)")
      ->needs("--keytab");
  auto* tls_cert_opt = app.add_option(
      "--tls-cert", tls_cert, "PEM certificate (with chain): offers TLS (auth_type 14)");
  auto* tls_key_opt = app.add_option("--tls-key", tls_key, "PEM private key of --tls-cert");
  tls_cert_opt->needs(tls_key_opt);
  tls_key_opt->needs(tls_cert_opt);
  app.add_option("--tls-ca", tls_ca,
                 "PEM CA certificates client certificates must chain to (asks clients for "
                 "one; mapped with 'comcfg tls map')");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // The process's one logger: the runtime hands it to every part.
  const std::unique_ptr<Logger> logger =
      MakeFdLogger(STDERR_FILENO, *ParseLogFormat(log_format));
  auto fail = [](const Status& s, int code, const std::string& hint = "") {
    std::cerr << "comsec-echo-server: " << s.ToString() << hint << "\n";
    return code;
  };

  // The echo server's own security: its level floor is --min-auth-level,
  // and every caller who reaches it may call (CoInitializeSecurity with a
  // NULL pSecDesc, R66). NTLM logons are validated by comsecd's logon
  // service when --logon-service names it (a server that may not read the
  // secrets file), else in this process from the store's secrets file.
  runtime::ProgramSecurity program;
  program.process = config::ProcessSecurity{};
  // Out of range stays out of range: the runtime refuses it, naming it.
  program.process->authn_level = static_cast<security::AuthnLevel>(min_level);
  if (!logon_service.empty()) {
    auto binding = rpc::StringBinding::Parse(logon_service);
    if (!binding.ok()) return fail(binding.status(), 2);
    program.validation.kind = runtime::LogonValidation::Kind::kLogonService;
    program.validation.logon_service = *binding;
  } else if (!store.empty()) {
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = store;
  }
  auto options = runtime::RuntimeOptionsFromStorePath(store, program, logger.get());
  if (!options.ok()) return fail(options.status(), options.status().code() == E_INVALIDARG ? 2 : 1);
  options->server.max_connections = max_connections;
  if (!keytab.empty()) {
    options->kerberos.offer = true;
    options->kerberos.keytab = keytab;
    options->kerberos.spns = spns;
  }
  if (!tls_cert.empty()) {
    options->tls.certificate_file = tls_cert;
    options->tls.key_file = tls_key;
  }
  if (!tls_ca.empty()) options->tls.ca_file = tls_ca;
  options->tls.offer = !options->tls.certificate_file.empty();
  runtime::RaiseDescriptorLimitFor(options->server, logger.get());
  auto rt = runtime::Runtime::Create(std::move(*options), logger.get());
  if (!rt.ok()) {
    return fail(rt.status(), 1,
                rt.status().code() == E_ACCESSDENIED
                    ? "; or let comsecd validate logons: --logon-service ncalrpc:SOCKET"
                    : "");
  }
  const runtime::RuntimeOptions& o = (*rt)->options();
  if (o.kerberos.offer) {
    std::string served;
    for (const std::string& spn : o.kerberos.spns) served += " " + spn;
    std::cout << "Kerberos keys from " << o.kerberos.keytab << " for"
              << (served.empty() ? std::string(" every principal of the keytab") : served)
              << std::endl;
  }
  if (o.tls.offer) {
    std::cout << "TLS with " << o.tls.certificate_file
              << (o.tls.ca_file.empty() ? std::string(", no client certificates")
                                        : ", client certificates from " + o.tls.ca_file)
              << std::endl;
  }
  if (o.validation.kind == runtime::LogonValidation::Kind::kLogonService) {
    std::cout << "NTLM logons validated by comsecd at " << o.validation.logon_service.ToString()
              << std::endl;
  } else if (o.validation.kind == runtime::LogonValidation::Kind::kSecretsFile) {
    const std::string domain = (*rt)->AccountDomain();
    std::cout << "NTLM accounts of domain " << (domain.empty() ? "(none yet)" : domain)
              << " from " << config::SecretsPathFor(store) << std::endl;
  }

  rpc::InterfaceRegistry registry;
  examples::RegisterEchoInterfaces(registry, o.authn_level);
  rpc::Server server(&registry, (*rt)->ServerOptions());
  auto bound_bindings = server.ListenAll(listen);
  if (!bound_bindings.ok()) {
    std::cerr << "comsec-echo-server: " << bound_bindings.status().ToString() << "\n";
    return bound_bindings.status().code() == RPC_S_INVALID_STRING_BINDING ? 2 : 1;
  }
  for (const rpc::StringBinding& b : *bound_bindings) {
    std::cout << "listening on " << b.ToString() << std::endl;
  }
  if (!endpoint_mapper.empty()) {
    auto mapper = rpc::StringBinding::Parse(endpoint_mapper);
    if (!mapper.ok()) {
      std::cerr << "comsec-echo-server: " << mapper.status().ToString() << "\n";
      return 2;
    }
    std::vector<rpc::EndpointEntry> entries;
    for (const rpc::StringBinding& b : *bound_bindings) {
      for (const rpc::SyntaxId& s :
           {examples::ComsecEchoSyntax(), examples::RpcEchoSyntax()}) {
        rpc::EndpointEntry e;
        e.tower.interface = s;
        e.tower.transfer_syntax = rpc::Ndr20Syntax();
        e.tower.protseq = b.protseq;
        e.tower.endpoint = b.endpoint;
        e.tower.address = b.IsTcp() ? b.address : "";
        e.annotation = "comsec-echo-server";
        entries.push_back(e);
      }
    }
    Status s = rpc::EptInsert(*mapper, entries);
    if (!s.ok()) {
      std::cerr << "comsec-echo-server: registering with " << endpoint_mapper
                << ": " << s.ToString() << "\n";
      return 1;
    }
    std::cout << "registered with " << mapper->ToString() << std::endl;
  }
  WaitForTerminationSignal();
  server.Stop();
  return 0;
}
