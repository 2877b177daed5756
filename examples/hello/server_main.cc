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
#include "comsec/com/com_runtime.h"
#include "comsec/runtime/runtime.h"
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
  runtime::ProgramSecurity program;
  program.appid = examples::kAppIdComsecHello;
  // NTLM logons: comsecd validates them when it is our resolver (a server
  // that may not read the secrets file), else this process from the store.
  if (!resolver.empty()) {
    auto at = rpc::StringBinding::Parse(resolver);
    if (!at.ok()) return fail(at.status(), 2);
    program.validation.kind = runtime::LogonValidation::Kind::kLogonService;
    program.validation.logon_service = *at;
  } else if (!store.empty()) {
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = store;
  }
  auto options = runtime::RuntimeOptionsFromStorePath(store, program, logger.get());
  if (!options.ok()) return fail(options.status(), options.status().code() == E_INVALIDARG ? 2 : 1);
  options->tls.offer = !options->tls.certificate_file.empty();
  auto rt = runtime::Runtime::Create(std::move(*options), logger.get());
  if (!rt.ok()) return fail(rt.status(), 1);
  const runtime::RuntimeOptions& o = (*rt)->options();
  if (embedding) {
    logger->Log(LogEvent("hello.embedding", LogSeverity::kInfo,
                         "started with --embedding, as the SCM starts servers"));
  }

  com::ComRuntimeOptions com_options;
  com_options.listen = listen;
  com_options.resolver = resolver;
  com_options.ping_period = std::chrono::seconds(ping_period_s);
  com_options.server = (*rt)->ServerOptions();
  // The implicit CoInitializeSecurity (R73): the AppID's values in the
  // store decide the floor and who may call, re-read when they change.
  com_options.store = store;
  com_options.appid = examples::kAppIdComsecHello;
  com_options.authn_hint = security::ToNumber(o.authn_level);
  // The OXID's security bindings: the packages remote clients may use.
  for (uint16_t svc : {com::kAuthnNtlm, com::kAuthnNegotiate, com::kAuthnKerberos,
                       uint16_t{14} /* RPC_C_AUTHN_GSS_SCHANNEL */}) {
    if ((*rt)->packages().Find(static_cast<uint8_t>(svc)) != nullptr) {
      com_options.security_bindings.push_back({svc, com::kAuthzNone, u""});
    }
  }
  com_options.logger = logger.get();
  auto com = com::ComRuntime::Start(com_options);
  if (!com.ok()) {
    return fail(com.status(), com.status().code() == RPC_S_INVALID_STRING_BINDING ? 2 : 1);
  }
  (*com)->RegisterInterface(idl::IComsecHelloInfo());
  for (const rpc::StringBinding& b : (*com)->endpoints()) {
    std::cout << "listening on " << b.ToString() << std::endl;
  }
  auto security = (*com)->SecuritySettings();
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
  auto cookie = (*com)->RegisterClassObject(
      examples::kClsidComsecHello, factory->unknown(), com::CLSCTX_LOCAL_SERVER,
      single_use ? com::REGCLS_SINGLEUSE : com::REGCLS_MULTIPLEUSE);
  if (!cookie.ok()) return fail(cookie.status(), 1);
  auto objref = (*com)->MarshalInterface(idl::IID_IComsecHello, hello.get(),
                                         com::MarshalFlags::kTableStrong);
  if (!objref.ok()) return fail(objref.status(), 1);
  if (print_objref) std::cout << "objref " << ToHex(*objref) << std::endl;

  WaitForTerminationSignal();
  (void)(*com)->ReleaseMarshalData(*objref);
  (void)(*com)->RevokeClassObject(*cookie);
  hello = nullptr;
  com->reset();
  return 0;
}
