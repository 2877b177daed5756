// comsecd --store PATH --listen BINDING... [--trust-uid UID]...
// comsec's daemon. It serves the endpoint mapper and, with a store, the
// logon service: the one process that reads the secrets file validates NTLM
// logons for servers that may not (auth/ntlm/logon_service.h). By default
// it listens on TCP port 135, where anyone may look endpoints up, and on
// ncalrpc:[epmapper] (/run/comsec/epmapper, mode 0666), where local servers
// register theirs and ask for logons: the kernel names those callers. The
// OXID resolver and the activation service join it later. Runs in the
// foreground and prints "listening on BINDING" per endpoint.
#include <unistd.h>

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/base/termination_signals.h"
#include "comsec/base/win32_error.h"
#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"

namespace {

void Log(const std::string& line) { std::cerr << "comsecd: " << line << std::endl; }

}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsecd: comsec's daemon (endpoint mapper, logon service)"};
  std::string store_path;
  std::vector<std::string> listen = {"ncacn_ip_tcp:0.0.0.0[135]", "ncalrpc:[epmapper]"};
  std::vector<uint32_t> trusted_uids;
  app.add_option("--store", store_path, "configuration store (its secrets file beside it)");
  app.add_option("--listen", listen, "string bindings (repeatable)");
  app.add_option("--trust-uid", trusted_uids,
                 "a uid whose servers may validate logons here, besides root and "
                 "comsecd's own (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  rpc::EndpointMapper mapper(rpc::EndpointMapperLimits{}, Log);
  rpc::InterfaceRegistry registry;
  registry.Register(mapper.Interface());

  std::unique_ptr<auth::ntlm::StoreLogonValidator> validator;
  if (!store_path.empty()) {
    // Creates the store's secrets file (0600) and moves an older store's
    // accounts into it.
    auto opened = auth::ntlm::StoreLogonValidator::Open(store_path, Log);
    if (!opened.ok()) {
      std::cerr << "comsecd: " << opened.status().ToString() << "\n";
      return 1;
    }
    validator = std::move(*opened);
    if (validator->AccountDomain().empty()) {
      Log("the account database has no accounts yet; NTLM logons will fail until "
          "'comcfg user add NAME' creates one");
    }
    auth::ntlm::LogonServiceOptions logon;
    logon.validator = validator.get();
    logon.trusted_uids = trusted_uids;
    logon.log = Log;
    registry.Register(auth::ntlm::LogonServiceInterface(std::move(logon)));
  }
  rpc::ServerOptions options;
  options.log = Log;
  rpc::Server server(&registry, options);
  auto bound_bindings = server.ListenAll(listen);
  if (!bound_bindings.ok()) {
    std::cerr << "comsecd: " << bound_bindings.status().ToString() << "\n";
    return bound_bindings.status().code() == RPC_S_INVALID_STRING_BINDING ? 2 : 1;
  }
  bool local = false;
  for (const rpc::StringBinding& b : *bound_bindings) {
    std::cout << "listening on " << b.ToString() << std::endl;
    local = local || b.IsLocal();
  }
  if (!local) {
    Log("no ncalrpc endpoint: local servers cannot register or validate logons (add "
        "--listen ncalrpc:[epmapper])");
  }
  WaitForTerminationSignal();
  server.Stop();
  return 0;
}
