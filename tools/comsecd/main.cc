// comsecd --store PATH --listen BINDING...
// comsec's daemon. Today it serves the endpoint mapper; the OXID resolver
// and the activation service join it later. By default it listens on TCP
// port 135, where anyone may look endpoints up, and on ncalrpc:[epmapper]
// (/run/comsec/epmapper, mode 0666), where local servers register theirs:
// the map changes only over ncalrpc, where the kernel names the caller.
// Runs in the foreground and prints "listening on BINDING" per endpoint.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "config/store.h"
#include "rpc/epmapper.h"
#include "base/termination_signals.h"
#include "rpc/server.h"

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsecd: comsec's daemon (endpoint mapper)"};
  std::string store_path;
  std::vector<std::string> listen = {"ncacn_ip_tcp:0.0.0.0[135]", "ncalrpc:[epmapper]"};
  app.add_option("--store", store_path, "configuration store");
  app.add_option("--listen", listen, "string bindings (repeatable)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!store_path.empty()) {
    auto store = config::Store::Open(store_path);
    if (!store.ok()) {
      std::cerr << "comsecd: " << store.status().ToString() << "\n";
      return 1;
    }
  }
  auto log = [](const std::string& line) { std::cerr << "comsecd: " << line << std::endl; };
  rpc::EndpointMapper mapper(rpc::EndpointMapperLimits{}, log);
  rpc::InterfaceRegistry registry;
  registry.Register(mapper.Interface());
  rpc::ServerOptions options;
  options.log = log;
  rpc::Server server(&registry, options);
  auto bound_bindings = server.ListenAll(listen);
  if (!bound_bindings.ok()) {
    std::cerr << "comsecd: " << bound_bindings.status().ToString() << "\n";
    return bound_bindings.status().code() == rpc::RPC_S_INVALID_STRING_BINDING ? 2 : 1;
  }
  bool local = false;
  for (const rpc::StringBinding& b : *bound_bindings) {
    std::cout << "listening on " << b.ToString() << std::endl;
    local = local || b.IsLocal();
  }
  if (!local) {
    log("no ncalrpc endpoint: local servers cannot register (add --listen ncalrpc:[epmapper])");
  }
  WaitForTerminationSignal();
  server.Stop();
  return 0;
}
