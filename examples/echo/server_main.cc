// comsec-echo-server --listen BINDING... [--endpoint-mapper BINDING]
//                    [--min-auth-level N] [--store PATH]
// Serves IComsecEcho and rpcecho. Prints "listening on BINDING" for each
// endpoint (with the actual port) and runs until SIGINT or SIGTERM.
#include <csignal>
#include <iostream>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "examples/echo/echo_service.h"
#include "rpc/server.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  CLI::App app{"comsec-echo-server: the IComsecEcho and rpcecho test server"};
  std::vector<std::string> listen;
  std::string endpoint_mapper, store;
  uint32_t min_level = 1;
  app.add_option("--listen", listen, "string binding to listen on (repeatable)")
      ->required();
  app.add_option("--endpoint-mapper", endpoint_mapper,
                 "comsecd's endpoint mapper to register with");
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
  rpc::ServerOptions options;
  options.log = [](const std::string& line) { std::cerr << line << std::endl; };
  rpc::Server server(&registry, options);
  for (const std::string& text : listen) {
    auto binding = rpc::StringBinding::Parse(text);
    if (!binding.ok()) {
      std::cerr << "comsec-echo-server: " << binding.status().ToString() << "\n";
      return 2;
    }
    auto bound = server.Listen(*binding);
    if (!bound.ok()) {
      std::cerr << "comsec-echo-server: " << bound.status().ToString() << "\n";
      return 1;
    }
    std::cout << "listening on " << bound->ToString() << std::endl;
  }
  if (!endpoint_mapper.empty()) {
    // TODO(conformance): register with comsecd's endpoint mapper (issue 4).
    std::cerr << "comsec-echo-server: endpoint mapper registration is not "
                 "implemented yet; clients must use the printed binding\n";
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) pause();
  server.Stop();
  return 0;
}
