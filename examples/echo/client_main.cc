// comsec-echo-client --binding BINDING [--endpoint-mapper BINDING]
//     [--auth none|local|ntlm|kerberos|negotiate] [--level N] [--imp-level N]
//     [--user U] [--domain D] [--password P | --password-stdin | --nt-hash HEX]
//     [--spn SPN] [--keytab FILE] [--server-uid UID]...
//     [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
//     whoami | add A B | echo --size N
// Calls comsec-echo-server with comsec's own runtime; the authentication
// flags are the examples' shared ones (examples/common/client_blanket.h).
// Exit 0 on success, 1 when the call fails, 2 on bad usage.
#include <iostream>

#include <CLI/CLI.hpp>

#include "comsec/rpc/client.h"
#include "comsec/rpc/epmapper.h"
#include "client_blanket.h"
#include "echo.h"
#include "echo_service.h"

int main(int argc, char** argv) {
  using namespace comsec;
  using examples::AddClientBlanketFlags;
  using examples::ClientBlanket;
  using examples::ClientBlanketFlags;
  CLI::App app{"comsec-echo-client: call comsec-echo-server"};
  std::string binding_text, endpoint_mapper;
  app.add_option("--binding", binding_text, "server string binding")->required();
  app.add_option("--endpoint-mapper", endpoint_mapper, "endpoint mapper binding");
  ClientBlanketFlags blanket_flags;
  AddClientBlanketFlags(app, blanket_flags);
  rpc::ClientOptions client_options;
  app.add_option("--server-uid", client_options.trusted_server_uids,
                 "on ncalrpc, a uid the server may run as (repeatable; default: root or "
                 "this user)");
  app.require_subcommand(1);
  auto* whoami = app.add_subcommand("whoami", "ask the server who we are");
  int32_t a = 0, b = 0;
  auto* add = app.add_subcommand("add", "add two numbers");
  add->add_option("A", a)->required();
  add->add_option("B", b)->required();
  uint32_t size = 64;
  auto* echo = app.add_subcommand("echo", "echo N bytes");
  echo->add_option("--size", size, "bytes to echo")->check(CLI::Range(0, 4 << 20));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto binding = rpc::StringBinding::Parse(binding_text);
  if (!binding.ok()) {
    std::cerr << "comsec-echo-client: " << binding.status().ToString() << "\n";
    return 2;
  }
  if (!endpoint_mapper.empty() && (binding->endpoint.empty() || binding->endpoint == "0")) {
    auto mapper = rpc::StringBinding::Parse(endpoint_mapper);
    if (!mapper.ok()) {
      std::cerr << "comsec-echo-client: " << mapper.status().ToString() << "\n";
      return 2;
    }
    auto resolved = rpc::EptMap(*mapper, examples::ComsecEchoSyntax(), binding->protseq);
    if (!resolved.ok()) {
      std::cerr << "comsec-echo-client: " << resolved.status().ToString() << "\n";
      return 1;
    }
    if (binding->IsTcp()) resolved->address = binding->address;
    *binding = *resolved;
  }
  auto fail = [](const Status& s) {
    std::cerr << "comsec-echo-client: " << s.ToString() << "\n";
    return 1;
  };
  auto blanket = ClientBlanket::Make(blanket_flags, std::cin);
  if (!blanket.ok()) {
    if (blanket.status().code() != E_INVALIDARG) return fail(blanket.status());
    std::cerr << "comsec-echo-client: " << blanket.status().message() << "\n";
    return 2;
  }
  auto client = rpc::Client::Connect(*binding, client_options);
  if (!client.ok()) return fail(client.status());
  const rpc::ClientAuth* use_auth = (*blanket)->auth();
  if (Status s = (*client)->Bind(examples::ComsecEchoSyntax(), use_auth); !s.ok()) {
    return fail(s);
  }
  if (use_auth && ((*client)->unmet_features(use_auth->context_id) & rpc::kFeatureDelegate)) {
    std::cerr << "warning: " << (*blanket)->DelegationNotGranted() << "\n";
  }

  idl::IComsecEchoProxy echo_proxy(client->get());
  if (*whoami) {
    std::optional<std::u16string> name;
    int32_t level = 0, svc = 0;
    auto r = echo_proxy.WhoAmI(name, level, svc);
    if (!r.ok()) return fail(r.status());
    std::u16string n = name.value_or(u"");
    std::cout << std::string(n.begin(), n.end()) << " authn_level=" << level
              << " authn_svc=" << svc << "\n";
  } else if (*add) {
    int32_t sum = 0;
    auto r = echo_proxy.Add(a, b, sum);
    if (!r.ok()) return fail(r.status());
    std::cout << sum << "\n";
  } else if (*echo) {
    std::vector<uint8_t> data(size);
    for (uint32_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
    std::vector<uint8_t> out;
    auto r = echo_proxy.Echo(size, data, out);
    if (!r.ok()) return fail(r.status());
    if (out != data) return fail(Status(E_FAIL, "the echoed bytes differ"));
    std::cout << "echoed " << size << " bytes\n";
  }
  return 0;
}
