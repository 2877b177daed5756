// comsec-surrogate --clsid {CLSID} --library PATH [--embedding]
//                  [--store S] [--resolver BINDING] [--listen BINDING]...
//                  [--log-format text|json]
// comsec's surrogate host, the dllhost.exe of R162: it serves a class whose
// server is an in-process library (InprocServer32) to other processes.
// comsecd's SCM starts it for a class whose AppID has a DllSurrogate value
// (empty: this program; else the value names the host), as the AppID's
// RunAs identity, with
//   argv {host, "--clsid", "{CLSID}", "--library", INPROCSERVER32, "--embedding"}
// and a clean environment holding COMSEC_RESOLVER (comsecd's ncalrpc
// endpoint) and COMSEC_STORE, the defaults of --resolver and --store.
//
// It loads the library (dlopen; the path must be absolute), asks its
// DllGetClassObject (com/inproc_server.h) for the class object as
// IClassFactory, registers the proxies and stubs of the interfaces the
// library lists (ComsecInterfaces), and registers the class object with
// CoRegisterClassObject(CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE), which
// offers it to comsecd's SCM: the SCM then activates the class here. It
// serves until SIGINT or SIGTERM.
//
// Security is the class's AppID's (the class key's AppID value in the
// store), read as the implicit CoInitializeSecurity reads it (R73), as for
// any launched server: the authentication level, who may call
// (AccessPermission, MachineAccessRestriction), NTLM logons validated by
// comsecd's logon service. A class the store does not register runs with
// the machine's defaults. Listens on ncacn_ip_tcp:0.0.0.0[0] with
// --embedding (remote clients reach the objects the SCM hands out), else
// ncacn_ip_tcp:127.0.0.1[0], unless --listen says otherwise; prints
// "listening on BINDING" for each endpoint, then "serving {CLSID}".
//
// Exit 0 after a signal; 1 when the library cannot be loaded (dlerror()'s
// text is logged), has no DllGetClassObject, its DllGetClassObject fails
// (the HRESULT's name is logged) or serving fails; 2 on bad usage (a
// relative library path included).
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "comsec/activation/class_lookup.h"
#include "comsec/activation/local_server.h"
#include "comsec/base/log_sinks.h"
#include "comsec/base/termination_signals.h"
#include "comsec/com/com_runtime.h"
#include "comsec/config/store.h"
#include "inproc_library.h"

namespace {

// The AppID of `clsid` in the store at `path` (nil when the store has no
// such class or names no AppID: the machine's defaults apply).
comsec::Result<comsec::Guid> ClassAppId(const std::string& path, const comsec::Guid& clsid,
                                        const comsec::Logger& logger) {
  using namespace comsec;
  if (path.empty()) return Guid{};
  config::StoreOptions read_only;
  read_only.create_if_missing = false;
  read_only.read_only = true;
  COMSEC_ASSIGN_OR_RETURN(auto store, config::Store::Open(path, read_only));
  COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginRead());
  COMSEC_ASSIGN_OR_RETURN(activation::ClassRegistrationInfo info,
                          activation::LookUpClass(*tx, clsid));
  if (!info.registered) {
    logger.Log(LogEvent("surrogate.class_not_registered", LogSeverity::kWarning,
                        "class " + clsid.ToRegistryString() + " is not registered in " + path +
                            ": its server runs with the machine's default security")
                   .Extra("clsid", clsid.ToRegistryString()));
  }
  return info.appid;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsec-surrogate: serves an in-process server library's class"};
  std::string clsid_text, library, store, resolver, log_format = "text";
  std::vector<std::string> listen;
  bool embedding = false;
  if (const char* env = std::getenv("COMSEC_STORE")) store = env;
  if (const char* env = std::getenv("COMSEC_RESOLVER")) resolver = env;
  app.add_option("--clsid", clsid_text, "the class to serve, {CLSID}")->required();
  app.add_option("--library", library,
                 "the in-process server library (InprocServer32), an absolute path")
      ->required();
  app.add_flag("--embedding", embedding, "started by the SCM (COM's -Embedding)");
  app.add_option("--store", store,
                 "configuration store: the class's AppID and its security (default "
                 "$COMSEC_STORE)");
  app.add_option("--resolver", resolver,
                 "comsecd's ncalrpc endpoint: the OXID and the class object are registered "
                 "there (default $COMSEC_RESOLVER)");
  app.add_option("--listen", listen,
                 "string binding the object exporter listens on (repeatable; default "
                 "ncacn_ip_tcp:0.0.0.0[0] with --embedding, else ncacn_ip_tcp:127.0.0.1[0])");
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
  // Each failure is one event on standard error (where the SCM sends a
  // launched server's output: comsecd's log).
  auto fail = [&logger](const std::string& event, const Status& s, int code) {
    logger->Log(LogEvent(event, LogSeverity::kError, "comsec-surrogate: " + s.ToString())
                    .Hresult(s.code()));
    return code;
  };
  auto clsid = Guid::Parse(clsid_text);
  if (!clsid.ok()) {
    return fail("surrogate.usage", Status(E_INVALIDARG, "--clsid \"" + clsid_text +
                                                            "\" is not a GUID"),
                2);
  }
  if (listen.empty()) {
    listen.push_back(embedding ? "ncacn_ip_tcp:0.0.0.0[0]" : "ncacn_ip_tcp:127.0.0.1[0]");
  }

  // The library and its class object first: a class that cannot be had
  // fails before anything listens or registers.
  auto lib = surrogate::InprocLibrary::Load(library);
  if (!lib.ok()) {
    return fail("surrogate.load_failed", lib.status(),
                lib.status().code() == E_INVALIDARG ? 2 : 1);
  }
  auto class_object = (*lib)->GetClassObject(*clsid);
  if (!class_object.ok()) return fail("surrogate.class_object_failed", class_object.status(), 1);

  // The process's security as a server that never calls
  // CoInitializeSecurity gets it: from its AppID in the registry (R73),
  // here the hosted class's.
  auto appid = ClassAppId(store, *clsid, *logger);
  if (!appid.ok()) return fail("surrogate.store_unreadable", appid.status(), 1);
  activation::LocalServerOptions setup;
  setup.store = store;
  setup.resolver = resolver;
  setup.appid = *appid;
  setup.listen = listen;
  setup.logger = logger.get();
  auto server = activation::StartLocalServer(setup);
  if (!server.ok()) {
    const bool usage = server.status().code() == RPC_S_INVALID_STRING_BINDING;
    return fail(usage ? "surrogate.usage" : "surrogate.failed", server.status(), usage ? 2 : 1);
  }
  com::ComRuntime* com = server->com.get();
  for (const rpc::ObjectInterfaceInfo* info : (*lib)->interfaces()) {
    com->RegisterInterface(*info);
  }
  for (const rpc::StringBinding& b : com->endpoints()) {
    std::cout << "listening on " << b.ToString() << std::endl;
  }
  auto cookie = com->RegisterClassObject(*clsid, class_object->get(), com::CLSCTX_LOCAL_SERVER,
                                            com::REGCLS_MULTIPLEUSE);
  if (!cookie.ok()) return fail("surrogate.register_failed", cookie.status(), 1);
  {
    LogEvent e("surrogate.serving", LogSeverity::kInfo,
               "serving " + clsid->ToRegistryString() + " from " + library +
                   (embedding ? " (started by the SCM)" : ""));
    e.Extra("clsid", clsid->ToRegistryString());
    e.Extra("library", library);
    e.Extra("appid", appid->ToRegistryString());
    e.Extra("pid", std::to_string(::getpid()));
    logger->Log(e);
  }
  std::cout << "serving " << clsid->ToRegistryString() << std::endl;

  WaitForTerminationSignal();
  (void)com->RevokeClassObject(*cookie);
  *class_object = nullptr;
  server->com.reset();
  logger->Log(LogEvent("surrogate.stopped", LogSeverity::kInfo,
                       "stopped; DllCanUnloadNow: " + (*lib)->CanUnloadNow().ToString()));
  return 0;
}
