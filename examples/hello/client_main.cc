// comsec-hello-client (--objref HEX | --server HOST) [--listen BINDING]...
//     [--auth none|local|ntlm|kerberos|negotiate|tls --user U --password-stdin
//      --level N --imp-level N ...]
//     [--ping-interval SECONDS]
//     greet NAME | whoami | child | callback [NAME] | hold
// Calls comsec-hello-server's ComsecHello through MS-DCOM with comsec's COM
// runtime (the authentication flags are the examples' shared ones,
// examples/common/client_blanket.h; they are the blanket of every call this
// process makes, IRemUnknown's included):
//   greet NAME       prints the greeting ("Hello, NAME, from SERVER")
//   whoami           prints "CALLER authn_level=N imp_level=N uid=U": the
//                    caller as the server's call context sees it, and the
//                    uid the server ran as while impersonating (-1: it
//                    could not)
//   child [--marshal] asks for a new object (an interface pointer returned
//                    by the server) and prints its greeting
//   callback [NAME]  passes an object of this process (living in the main
//                    thread's single-threaded apartment) to the server,
//                    which calls it back while this thread waits; prints
//                    what it answered ("Hello, NAME, from client ACCOUNT")
//   hold             gets a new object and holds it, pinging the server,
//                    until killed
// The client's own objects are served on --listen (default
// ncacn_ip_tcp:127.0.0.1[0]; a reachable address when the server is on
// another machine). --server HOST asks HOST's SCM (comsecd) for a new
// ComsecHello with CoCreateInstanceEx: over TCP at HOST's port 135, or at
// the port "HOST[PORT]" names; HOST naming this machine (localhost,
// 127.0.0.1, its host name) asks the local comsecd over ncalrpc at
// --local-scm (default ncalrpc:[epmapper]). The activation goes at
// PKT_INTEGRITY at least, whatever --level says (Windows's
// RaiseActivationAuthenticationLevel); the object's calls at --level.
// Exit 0 on success, 1 when a call fails, 2 on bad usage.
#include <chrono>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "client_blanket.h"
#include "comsec/activation/clsctx.h"
#include "comsec/activation/co_create_instance.h"
#include "comsec/base/hex.h"
#include "comsec/base/utf16.h"
#include "comsec/com/client_security.h"
#include "comsec/com/coinit.h"
#include "comsec/com/com_runtime.h"
#include "hello_object.h"

namespace {

std::string Narrow(const std::optional<std::u16string>& s) {
  return comsec::Utf16ToUtf8Lossy(s.value_or(u""));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  CLI::App app{"comsec-hello-client: call comsec-hello-server's ComsecHello object"};
  std::string objref_hex, server;
  std::vector<std::string> listen;
  auto* objref_opt = app.add_option("--objref", objref_hex,
                                    "the object's OBJREF in hex (comsec-hello-server "
                                    "--print-objref)");
  auto* server_opt = app.add_option("--server", server,
                                    "activate ComsecHello on HOST (HOST[PORT] for an SCM not "
                                    "on port 135)");
  std::string local_scm = "ncalrpc:[epmapper]";
  app.add_option("--local-scm", local_scm,
                 "the local comsecd's ncalrpc endpoint, for --server naming this machine "
                 "(default ncalrpc:[epmapper])");
  objref_opt->excludes(server_opt);
  app.add_option("--listen", listen,
                 "where this process serves its own objects (callback; default "
                 "ncacn_ip_tcp:127.0.0.1[0])");
  uint32_t ping_interval_s = 120;
  app.add_option("--ping-interval", ping_interval_s,
                 "seconds between this process's pings of the objects it holds (default 120; "
                 "at most the server's ping period)")
      ->check(CLI::Range(1u, 3600u));
  examples::ClientBlanketFlags blanket_flags;
  examples::AddClientBlanketFlags(app, blanket_flags);
  app.require_subcommand(1);
  std::string name;
  auto* greet = app.add_subcommand("greet", "print the server's greeting for NAME");
  greet->add_option("NAME", name)->required();
  auto* whoami = app.add_subcommand("whoami", "ask the server who we are");
  auto* child = app.add_subcommand("child", "get a new object from the server and greet it");
  bool marshal_child = false;
  child->add_flag("--marshal", marshal_child,
                  "also print 'objref HEX' for the child, for another process to call");
  auto* callback = app.add_subcommand("callback", "have the server call an object of ours");
  auto* hold = app.add_subcommand(
      "hold", "get a new object from the server and hold it, pinging, until killed");
  std::string callback_name = "server";
  callback->add_option("NAME", callback_name, "the name the server greets us with");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto fail = [&blanket_flags](const Status& s) {
    std::cerr << "comsec-hello-client: " << s.ToString();
    // A refusal says what to change: the server's floor is its AppID's
    // AuthenticationLevel, and its log names the check that refused.
    if (s.code() == E_ACCESSDENIED) {
      std::cerr << "; the server refused the call"
                << (blanket_flags.auth == "none"
                        ? " unauthenticated: authenticate (e.g. --auth ntlm --user U "
                          "--password-stdin --level 6)"
                        : " at this caller or level: try --level 6, or ask its owner whether "
                          "this account may call it")
                << "; the server's log (com.access_denied) says which check refused and how to change it";
    }
    std::cerr << "\n";
    return 1;
  };
  if (objref_hex.empty() && server.empty()) {
    std::cerr << "comsec-hello-client: give --objref HEX or --server HOST\n";
    return 2;
  }
  auto objref = server.empty() ? FromHex(objref_hex)
                               : Result<std::vector<uint8_t>>(std::vector<uint8_t>{});
  if (!objref.ok()) {
    std::cerr << "comsec-hello-client: --objref: " << objref.status().message() << "\n";
    return 2;
  }
  auto blanket = examples::ClientBlanket::Make(blanket_flags, std::cin);
  if (!blanket.ok()) {
    if (blanket.status().code() != E_INVALIDARG) return fail(blanket.status());
    std::cerr << "comsec-hello-client: " << blanket.status().message() << "\n";
    return 2;
  }

  com::ComRuntimeOptions options;
  if (!listen.empty()) options.listen = listen;
  if ((*blanket)->auth() != nullptr) options.client_auth = *(*blanket)->auth();
  options.mta_threads = 2;
  options.ping_interval = std::chrono::seconds(ping_interval_s);
  auto com = com::ComRuntime::Start(options);
  if (!com.ok()) return fail(com.status());
  {
    // The server calls back into objects this client passes it (callback):
    // like clients that receive callbacks, this one says who may call it
    // with CoInitializeSecurity — anyone, unauthenticated included (a NULL
    // descriptor at level NONE, R66, R71). Its own calls go out at
    // --level (set on the proxy, R89), else at the server's level (R75),
    // granting --imp-level.
    com::CoInitializeSecurityParams cis;
    cis.sec_desc = com::CoInitializeSecurityParams::SecDesc::kNull;
    cis.authn_level = security::ToNumber(security::AuthnLevel::kNone);
    cis.imp_level = security::ToNumber((*blanket)->auth() != nullptr
                                           ? (*blanket)->auth()->imp_level
                                           : security::ImpLevel::kIdentify);
    if (Status s = (*com)->InitializeSecurity(std::move(cis)); !s.ok()) return fail(s);
  }
  (*com)->RegisterInterface(idl::IComsecHelloInfo());
  // The main thread is an STA, so the object it passes to the server is
  // called back on it, while it waits in the call.
  if (HResult hr = com::CoInitializeEx(**com, com::COINIT_APARTMENTTHREADED); hr.Failed()) {
    return fail(Status(hr, "CoInitializeEx failed"));
  }

  int rc = 0;
  // (no return from here to CoUninitialize: the apartment must be left
  // while the runtime lives)
  Result<ComPtr<idl::IComsecHello>> hello = Status(E_FAIL, "");
  if (server.empty()) {
    hello = (*com)->Unmarshal<idl::IComsecHello>(*objref);
  } else {
    // CoCreateInstanceEx on HOST's SCM, this process's identity (the
    // blanket's) authenticating the activation.
    activation::COSERVERINFO where;
    where.name = server;
    activation::MULTI_QI qi[1];
    qi[0].iid = idl::IID_IComsecHello;
    activation::ActivationClientOptions how;
    how.local_scm = local_scm;
    auto created = activation::CreateInstanceEx(
        **com, examples::kClsidComsecHello, nullptr,
        activation::CLSCTX_REMOTE_SERVER, &where, qi, how);
    if (!created.ok()) {
      hello = created.status();
    } else if (qi[0].hr.Failed()) {
      hello = Status(qi[0].hr, "the new ComsecHello has no IComsecHello");
    } else {
      hello = ComPtr<idl::IComsecHello>::Adopt(static_cast<idl::IComsecHello*>(qi[0].itf.Detach()));
    }
  }
  if (hello.ok() && blanket_flags.level != 0 && (*blanket)->auth() != nullptr) {
    // An explicit --level is this proxy's own (CoSetProxyBlanket, R89):
    // stored as given, not raised to the server's hint as the negotiated
    // default is (R75), so a level below the server's floor is refused.
    HResult set = com::CoSetProxyBlanket(
        hello->get(), com::RPC_C_AUTHN_DEFAULT, com::RPC_C_AUTHZ_DEFAULT,
        com::COLE_DEFAULT_PRINCIPAL, (*blanket)->auth()->level, security::ImpLevel::kDefault,
        com::COLE_DEFAULT_AUTHINFO, com::EOAC_DEFAULT);
    if (set.Failed()) hello = Status(set, "CoSetProxyBlanket failed");
  }
  if (!hello.ok()) {
    rc = fail(hello.status());
  } else {
    auto check = [&](const Result<idl::HRESULT>& r) -> bool {
      if (!r.ok()) {
        rc = fail(r.status());
        return false;
      }
      if (HResult(static_cast<uint32_t>(*r)).Failed()) {
        rc = fail(Status(HResult(static_cast<uint32_t>(*r)), "the server's method failed"));
        return false;
      }
      return true;
    };
    std::optional<std::u16string> text;
    if (*greet) {
      if (check((*hello)->Greet(Utf8ToUtf16Lossy(name), text))) std::cout << Narrow(text) << "\n";
    } else if (*whoami) {
      int32_t level = 0, imp = 0, uid = -1;
      if (check((*hello)->WhoAmI(text, level, imp, uid))) {
        std::cout << Narrow(text) << " authn_level=" << level << " imp_level=" << imp
                  << " uid=" << uid << "\n";
      }
    } else if (*child) {
      ComPtr<idl::IComsecHello> kid;
      if (check((*hello)->GetChild(kid))) {
        if (!kid) {
          rc = fail(Status(E_POINTER, "the server returned no child"));
        } else if (check(kid->Greet(u"child", text))) {
          std::cout << Narrow(text) << "\n";
          if (marshal_child) {
            // Marshaling a proxy hands out a reference to the object in
            // its server, with references of its own: a third process calls
            // it there, after this one has gone.
            auto bytes = (*com)->MarshalInterface(idl::IID_IComsecHello, kid.get());
            if (!bytes.ok()) {
              rc = fail(bytes.status());
            } else {
              std::cout << "objref " << ToHex(*bytes) << "\n";
            }
          }
        }
      }
    } else if (*hold) {
      // Holds a reference the server must keep while we ping (conformance
      // case 42 kills us here and watches the server reclaim it).
      ComPtr<idl::IComsecHello> kid;
      if (check((*hello)->GetChild(kid)) && kid) {
        std::cout << "holding a child object" << std::endl;
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
      }
    } else if (*callback) {
      ComPtr<idl::IComsecHello> mine = examples::MakeComsecHello(
          Utf8ToUtf16Lossy("client " + examples::ProcessAccountName()));
      if (check((*hello)->CallBack(mine, Utf8ToUtf16Lossy(callback_name), text))) {
        std::cout << Narrow(text) << "\n";
      }
      (*com)->DisconnectObject(mine.get());
    }
  }
  // The STA's objects are disconnected; the proxies' references go back as
  // the runtime closes.
  com::CoUninitialize();
  com->reset();
  return rc;
}
