// comsec-echo-server --listen BINDING... [--endpoint-mapper BINDING]
//                    [--min-auth-level N] [--store PATH] [--logon-service BINDING]
// Serves IComsecEcho and rpcecho. Prints "listening on BINDING" for each
// endpoint (with the actual port) and runs until SIGINT or SIGTERM.
#include <iostream>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/base/win32_error.h"
#include "comsec/base/termination_signals.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"
#include "echo_service.h"

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsec-echo-server: the IComsecEcho and rpcecho test server"};
  std::vector<std::string> listen;
  std::string endpoint_mapper, store, logon_service;
  uint32_t min_level = 1;
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  rpc::InterfaceRegistry registry;
  examples::RegisterEchoInterfaces(registry, min_level);
  // ncalrpc callers may authenticate with the local package at any level.
  auth::LocalPackage local_package;
  rpc::SecurityPackageRegistry packages;
  packages.Add(&local_package);
  auto log = [](const std::string& line) { std::cerr << line << std::endl; };
  // NTLM: the responses are validated by comsecd's logon service when
  // --logon-service names it (a server that may not read the secrets file),
  // else in this process from the store's secrets file.
  std::unique_ptr<auth::ntlm::LogonValidator> validator;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm;
  if (!logon_service.empty()) {
    auto binding = rpc::StringBinding::Parse(logon_service);
    if (!binding.ok()) {
      std::cerr << "comsec-echo-server: " << binding.status().ToString() << "\n";
      return 2;
    }
    validator = std::make_unique<auth::ntlm::RemoteLogonValidator>(*binding);
    std::cout << "NTLM logons validated by comsecd at " << binding->ToString() << std::endl;
  } else if (!store.empty()) {
    auto opened = auth::ntlm::StoreLogonValidator::Open(store, log);
    if (!opened.ok()) {
      std::cerr << "comsec-echo-server: " << opened.status().ToString()
                << (opened.status().code() == E_ACCESSDENIED
                        ? "; or let comsecd validate logons: --logon-service ncalrpc:SOCKET"
                        : "")
                << "\n";
      return 1;
    }
    const std::string domain = (*opened)->AccountDomain();
    if (domain.empty()) {
      log("ntlm: " + store + " has no accounts yet; NTLM logons will fail until "
          "'comcfg user add NAME' creates one (unauthenticated and ncalrpc callers are "
          "served meanwhile)");
    }
    std::cout << "NTLM accounts of domain " << (domain.empty() ? "(none yet)" : domain)
              << " from " << config::SecretsPathFor(store) << std::endl;
    validator = std::move(*opened);
  }
  if (validator) {
    auth::ntlm::ServerOptions ntlm_options;
    ntlm_options.validator = validator.get();
    // A null session is an unauthenticated caller: allowed only where
    // unauthenticated calls are.
    ntlm_options.allow_anonymous = min_level <= 1;
    // Refusals reach the log through the RPC runtime's close reason, which
    // names the peer, the account and the package's reason; weak logons
    // are logged by the package as they happen.
    ntlm_options.log = [log](const std::string& line) {
      if (line.starts_with("ntlm: WEAK: ")) log(line);
    };
    ntlm = std::make_unique<auth::ntlm::NtlmPackage>(std::move(ntlm_options));
    packages.Add(ntlm.get());
  }
  rpc::ServerOptions options;
  options.packages = &packages;
  options.log = log;
  rpc::Server server(&registry, options);
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
