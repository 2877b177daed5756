// comsec-hello-server [--store S] [--listen BINDING]... [--resolver BINDING]
//                     [--print-objref] [--embedding] [--ping-period SECONDS]
//                     [--log-format text|json]
// Serves one ComsecHello object (hello_object.h) over MS-DCOM: its object
// exporter listens on each --listen binding (default
// ncacn_ip_tcp:127.0.0.1[0]; ncacn_ip_tcp:0.0.0.0[0] for other machines),
// prints "listening on BINDING" for each, and with --print-objref one line
// "objref HEX": the OBJREF of IComsecHello (the bytes of an
// MInterfacePointer's abData), once the object can be called. Runs until
// SIGINT or SIGTERM; the OBJREF is table-marshaled, so any number of
// clients may unmarshal it while the server runs.
//
// Security is the machine's policy for the ComsecHello AppID
// (7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162) read from --store, as the
// implicit CoInitializeSecurity reads it (R73): its AuthenticationLevel
// (else the machine's legacy level, else CONNECT) is the floor below which
// calls are refused; its AccessPermission (else DefaultAccessPermission,
// else SELF, SYSTEM and Administrators) and MachineAccessRestriction decide
// who may call (R187), re-read when the store changes; Kerberos/TLS are
// offered as the store configures them. --resolver names comsecd's ncalrpc endpoint:
// the OXID is registered there, OBJREFs point at comsecd, and comsecd's
// logon service validates NTLM logons (so the server need not read the
// secrets file); without it the process answers OXID resolution itself on
// its own endpoints and validates NTLM logons against the store's secrets
// file.
//
// The class object (CLSID 7d2a5e11-…) is registered with
// CoRegisterClassObject(CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE, or
// REGCLS_SINGLEUSE with --single-use): with --resolver, comsecd's SCM then
// activates the class in this process. --embedding is how the SCM starts
// servers: comsecd launches the class's LocalServer32 command line with a
// clean environment holding COMSEC_RESOLVER and COMSEC_STORE, which are
// the defaults of --resolver and --store; an embedded server listens on
// every interface (ncacn_ip_tcp:0.0.0.0[0]) unless --listen says
// otherwise, since remote clients reach the objects the SCM hands them.
//
// Exit 0 after a signal, 1 when serving fails, 2 on bad usage.
#include <unistd.h>

#include <cstdlib>

#include <iostream>

#include <CLI/CLI.hpp>

#include "comsec/base/hex.h"
#include "comsec/base/log_sinks.h"
#include "comsec/base/termination_signals.h"
#include "comsec/base/utf16.h"
#include "comsec/activation/local_server.h"
#include "comsec/com/com_runtime.h"
#include "hello_object.h"

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsec-hello-server: serves the ComsecHello COM object"};
  std::string store, resolver, log_format = "text";
  std::vector<std::string> listen;
  bool print_objref = false, embedding = false, single_use = false;
  if (const char* env = std::getenv("COMSEC_STORE")) store = env;
  if (const char* env = std::getenv("COMSEC_RESOLVER")) resolver = env;
  uint32_t ping_period_s = 120;
  app.add_option("--store", store,
                 "configuration store: the AppID's security, NTLM accounts, Kerberos, TLS");
  app.add_option("--listen", listen,
                 "string binding the object exporter listens on (repeatable; default "
                 "ncacn_ip_tcp:127.0.0.1[0])");
  app.add_option("--resolver", resolver,
                 "comsecd's ncalrpc endpoint: register the OXID there (default: resolve in "
                 "this process)");
  app.add_flag("--print-objref", print_objref,
               "print 'objref HEX', the OBJREF of IComsecHello, once serving");
  app.add_option("--ping-period", ping_period_s,
                 "seconds between the pings clients owe; an object is reclaimed after three "
                 "missed periods (default 120, [MS-DCOM]'s; without --resolver)")
      ->check(CLI::Range(1u, 3600u));
  app.add_flag("--embedding", embedding, "started by the SCM (COM's -Embedding)");
  app.add_flag("--single-use", single_use,
               "register the class object REGCLS_SINGLEUSE: it serves one activation");
  app.add_option("--log-format", log_format,
                 "events on standard error as text lines or JSON lines (default text)")
      ->check(CLI::IsMember({"text", "json"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const std::unique_ptr<Logger> logger =
      MakeFdLogger(STDERR_FILENO, *ParseLogFormat(log_format));
  auto fail = [](const Status& s, int code) {
    std::cerr << "comsec-hello-server: " << s.ToString() << "\n";
    return code;
  };
  if (listen.empty()) {
    listen.push_back(embedding ? "ncacn_ip_tcp:0.0.0.0[0]" : "ncacn_ip_tcp:127.0.0.1[0]");
  }

  // The process's security as a program that never calls
  // CoInitializeSecurity gets it: from its AppID in the registry (R73).
  activation::LocalServerOptions setup;
  setup.store = store;
  setup.resolver = resolver;
  setup.appid = examples::kAppIdComsecHello;
  setup.listen = listen;
  setup.ping_period = std::chrono::seconds(ping_period_s);
  setup.logger = logger.get();
  auto server = activation::StartLocalServer(setup);
  if (!server.ok()) {
    const HResult code = server.status().code();
    return fail(server.status(),
                code == E_INVALIDARG || code == RPC_S_INVALID_STRING_BINDING ? 2 : 1);
  }
  if (embedding) {
    logger->Log(LogEvent("hello.embedding", LogSeverity::kInfo,
                         "started with --embedding, as the SCM starts servers"));
  }
  server->com->RegisterInterface(idl::IComsecHelloInfo());
  for (const rpc::StringBinding& b : server->com->endpoints()) {
    std::cout << "listening on " << b.ToString() << std::endl;
  }
  auto security = server->com->SecuritySettings();
  if (!security.ok()) return fail(security.status(), 1);
  const config::EffectivePolicy& policy = (*security)->policy;
  std::cout << "calls below authentication level " << security::ToNumber(policy.authn_level.value)
            << " refused (" << policy.authn_level.origin << ")" << std::endl;
  std::cout << "access permission: " << policy.access.origin << std::endl;

  ComPtr<idl::IComsecHello> hello =
      examples::MakeComsecHello(Utf8ToUtf16Lossy(examples::ProcessAccountName()));
  // Its class object, registered for other processes as a server the SCM
  // starts does it; with comsecd as the resolver, its SCM hands it out.
  ComPtr<examples::ComsecHelloFactory> factory = MakeComObject<examples::ComsecHelloFactory>(
      Utf8ToUtf16Lossy(examples::ProcessAccountName()));
  auto cookie = server->com->RegisterClassObject(
      examples::kClsidComsecHello, factory->unknown(), com::CLSCTX_LOCAL_SERVER,
      single_use ? com::REGCLS_SINGLEUSE : com::REGCLS_MULTIPLEUSE);
  if (!cookie.ok()) return fail(cookie.status(), 1);
  auto objref = server->com->MarshalInterface(idl::IID_IComsecHello, hello.get(),
                                         com::MarshalFlags::kTableStrong);
  if (!objref.ok()) return fail(objref.status(), 1);
  if (print_objref) std::cout << "objref " << ToHex(*objref) << std::endl;

  WaitForTerminationSignal();
  (void)server->com->ReleaseMarshalData(*objref);
  (void)server->com->RevokeClassObject(*cookie);
  hello = nullptr;
  server->com.reset();
  return 0;
}
