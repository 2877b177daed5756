// comsec-echo-server --listen BINDING... [--endpoint-mapper BINDING]
//                    [--min-auth-level N] [--store PATH]
// Serves IComsecEcho and rpcecho. Prints "listening on BINDING" for each
// endpoint (with the actual port) and runs until SIGINT or SIGTERM.
#include <iostream>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "auth/ntlm/ntlm_package.h"
#include "auth/ntlm/store_accounts.h"
#include "auth/peer_cred/local_package.h"
#include "config/accounts.h"
#include "config/store.h"
#include "examples/echo/echo_service.h"
#include "rpc/epmapper.h"
#include "base/termination_signals.h"
#include "rpc/server.h"

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsec-echo-server: the IComsecEcho and rpcecho test server"};
  std::vector<std::string> listen;
  std::string endpoint_mapper, store;
  uint32_t min_level = 1;
  app.add_option("--listen", listen, "string binding to listen on (repeatable)")
      ->required();
  app.add_option("--endpoint-mapper", endpoint_mapper,
                 "comsecd's ncalrpc endpoint to register with (ncalrpc:[epmapper])");
  app.add_option("--min-auth-level", min_level, "minimum authentication level 1-6")
      ->check(CLI::Range(1, 6));
  app.add_option("--store", store, "configuration store (accounts, with NTLM)");
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
  // NTLM validates callers against the store's accounts; without a store
  // the server offers only the local package (and unauthenticated calls
  // when the minimum level allows them).
  std::unique_ptr<config::Store> config_store;
  std::unique_ptr<auth::ntlm::StoreAccountSource> accounts;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm;
  if (!store.empty()) {
    auto opened = config::Store::Open(store);
    if (!opened.ok()) {
      std::cerr << "comsec-echo-server: " << opened.status().ToString() << "\n";
      return 1;
    }
    config_store = std::move(*opened);
    auto source = auth::ntlm::StoreAccountSource::Open(config_store.get());
    if (!source.ok()) {
      std::cerr << "comsec-echo-server: " << store << " has no accounts yet ("
                << source.status().ToString()
                << "); create one with `comcfg user add NAME`\n";
      return 1;
    }
    accounts = std::move(*source);
    auth::ntlm::ServerOptions ntlm_options;
    ntlm_options.accounts = accounts.get();
    // A null session is an unauthenticated caller: allowed only where
    // unauthenticated calls are.
    ntlm_options.allow_anonymous = min_level <= 1;
    std::string warning;
    auto lm_level = config::ReadLmCompatibilityLevel(config_store.get(), &warning);
    if (!warning.empty()) log("config: " + warning);
    ntlm_options.allow_ntlmv1 = lm_level.ok() && *lm_level < 5;
    if (ntlm_options.allow_ntlmv1) {
      log("ntlm: WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel " +
          std::to_string(*lm_level) + "); set it to 5 for NTLMv2 only");
    }
    // NTLMv1 acceptances are logged by the package as they happen.
    ntlm_options.log = [log](const std::string& line) {
      if (line.find("WEAK") != std::string::npos) log(line);
    };
    // Refusals reach the log through the RPC runtime's close reason, which
    // names the peer, the account and the package's reason.
    ntlm = std::make_unique<auth::ntlm::NtlmPackage>(std::move(ntlm_options));
    packages.Add(ntlm.get());
    std::cout << "NTLM accounts of domain " << accounts->DomainName() << " from "
              << store << std::endl;
  }
  rpc::ServerOptions options;
  options.packages = &packages;
  options.log = log;
  rpc::Server server(&registry, options);
  auto bound_bindings = server.ListenAll(listen);
  if (!bound_bindings.ok()) {
    std::cerr << "comsec-echo-server: " << bound_bindings.status().ToString() << "\n";
    return bound_bindings.status().code() == rpc::RPC_S_INVALID_STRING_BINDING ? 2 : 1;
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
