// comsecd --store PATH --listen BINDING... [--trust-uid UID]...
//         [--max-connections N] [--ping-period SECONDS]
//         [--log-format text|json]
// comsec's daemon. It serves the endpoint mapper, the OXID resolver
// (IObjectExporter on every listen binding; the registration interface
// local COM servers use, over ncalrpc only: com/oxid_resolver_service.h)
// and, with a store, the
// logon service: the one process that reads the secrets file validates NTLM
// logons for servers that may not (auth/ntlm/logon_service.h). By default
// it listens on TCP port 135, where anyone may look endpoints up, and on
// ncalrpc:[epmapper] (/run/comsec/epmapper, mode 0666), where local servers
// register theirs, their OXIDs and OIDs, and ask for logons: the kernel
// names those callers. The activation service joins it later. Runs in the
// foreground, prints "listening on BINDING" per endpoint, and logs its
// events (base/log.h) to standard error, one line each, as text or JSON.
//
// A thin main over the runtime (runtime/runtime.h), which decides from the
// store what the daemon's servers do.
#include <unistd.h>


#include <chrono>
#include <iostream>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>

#include "comsec/activation/scm.h"
#include "comsec/activation/scm_service.h"
#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/base/log_sinks.h"
#include "comsec/base/termination_signals.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/advertised_bindings.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/com/oxid_resolver_service.h"
#include "comsec/com/running_classes.h"
#include "comsec/config/audit_trail.h"
#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"
#include "comsec/runtime/runtime.h"

namespace {

int Fail(const comsec::Status& s) {
  std::cerr << "comsecd: " << s.ToString() << "\n";
  return s.code() == comsec::E_INVALIDARG || s.code() == comsec::RPC_S_INVALID_STRING_BINDING
             ? 2
             : 1;
}

// ServerAlive2's bindings ([MS-DCOM] 3.1.2.5.1.6): the addresses where
// remote clients reach this machine (com/advertised_bindings.h), without
// endpoints when on port 135 as Windows's, with them otherwise (a test's
// comsecd on a port of its own must still be found), and the packages
// offered.
comsec::com::OxidBindings OwnBindings(const std::vector<comsec::rpc::StringBinding>& bound,
                                      bool kerberos) {
  using comsec::com::OxidBindings;
  OxidBindings out;
  for (const comsec::rpc::StringBinding& b : bound) {
    for (auto& a : comsec::com::AdvertisedStringBindings({b}, b.endpoint != "135")) {
      out.strings.push_back(std::move(a));
    }
  }
  // The packages the machine's COM servers offer: NTLM always (through
  // this daemon's logon service), Kerberos and Negotiate when configured.
  out.security.push_back({comsec::com::kAuthnNtlm, comsec::com::kAuthzNone, u""});
  if (kerberos) {
    out.security.push_back({comsec::com::kAuthnNegotiate, comsec::com::kAuthzNone, u""});
    out.security.push_back({comsec::com::kAuthnKerberos, comsec::com::kAuthzNone, u""});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  // Before any thread starts, so that every thread inherits the mask.
  BlockTerminationSignals();
  CLI::App app{"comsecd: comsec's daemon (endpoint mapper, logon service)"};
  std::string store_path;
  std::vector<std::string> listen = {"ncacn_ip_tcp:0.0.0.0[135]", "ncalrpc:[epmapper]"};
  std::vector<uint32_t> trusted_uids;
  size_t max_connections = rpc::ServerOptions{}.max_connections;
  std::string log_format = "text";
  uint32_t ping_period_s = 120;
  activation::ScmOptions scm_options;
  uint32_t launch_timeout_ms = 30000;
  std::string audit_log;
  app.add_option("--store", store_path, "configuration store (its secrets file beside it)");
  app.add_option("--listen", listen, "string bindings (repeatable)");
  app.add_option("--trust-uid", trusted_uids,
                 "a uid whose servers may validate logons here, besides root and "
                 "comsecd's own (repeatable)");
  app.add_option("--max-connections", max_connections,
                 "TCP connections served at once; more are closed at once (default " +
                     std::to_string(max_connections) + ")")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--ping-period", ping_period_s,
                 "the OXID resolver's ping period in seconds; objects run down after 3 "
                 "periods without a ping (default 120)")
      ->check(CLI::Range(uint32_t{1}, uint32_t{3600}));
  app.add_option("--service-user", scm_options.service_user,
                 "the Unix user servers whose RunAs is nt authority\\localservice run as "
                 "(default daemon)");
  app.add_option("--sessions-dir", scm_options.sessions_dir,
                 "logind's session files, where RunAs \"Interactive User\" finds who is "
                 "logged on (default /run/systemd/sessions)");
  app.add_option("--surrogate", scm_options.surrogate_path,
                 "the surrogate host DllSurrogate classes are loaded into (default: "
                 "comsec-surrogate beside comsecd)");
  app.add_option("--launch-timeout", launch_timeout_ms,
                 "milliseconds a launched server has to register its class object "
                 "(default 30000)")
      ->check(CLI::Range(uint32_t{100}, uint32_t{600000}));
  app.add_option("--audit-log", audit_log,
                 "the audit trail activation decisions are appended to, as JSON lines "
                 "(default: beside the store, NAME.audit.log; `comcfg log` reads it)");
  app.add_option("--log-format", log_format,
                 "events on standard error as text lines or JSON lines (default text)")
      ->check(CLI::IsMember({"text", "json"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // The process's one logger: the runtime hands it to every part.
  const std::unique_ptr<Logger> logger =
      MakeFdLogger(STDERR_FILENO, *ParseLogFormat(log_format));

  runtime::ProgramSecurity program;
  // The endpoint mapper answers anyone, unauthenticated, as Windows's does;
  // the logon service admits its callers by their kernel-proven uid.
  program.process = config::ProcessSecurity{};
  program.process->authn_level = security::AuthnLevel::kNone;
  // Activation (IRemoteSCMActivator, IActivation) is authenticated: NTLM
  // when the daemon has the machine's accounts (a store), Kerberos and
  // Negotiate as the store configures them. Without a store no password
  // can be checked, so none is offered.
  program.offer_ntlm = !store_path.empty();
  if (!store_path.empty()) {
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = store_path;
  }
  auto options = runtime::RuntimeOptionsFromStorePath(store_path, program, logger.get());
  if (!options.ok()) return Fail(options.status());
  options->server.max_connections = max_connections;
  runtime::RaiseDescriptorLimitFor(options->server, logger.get());
  auto rt = runtime::Runtime::Create(std::move(*options), logger.get());
  if (!rt.ok()) return Fail(rt.status());

  rpc::EndpointMapper mapper(rpc::EndpointMapperLimits{}, logger.get());
  // The OXID resolver; its own bindings are known once the listeners are
  // bound, so its interfaces read them through the options filled below.
  std::vector<rpc::StringBinding> parsed;
  for (const std::string& text : listen) {
    auto b = rpc::StringBinding::Parse(text);
    if (!b.ok()) return Fail(b.status());
    parsed.push_back(*b);
  }
  com::OxidResolverOptions resolver_options;
  resolver_options.ping_period = std::chrono::seconds(ping_period_s);
  resolver_options.own_bindings = OwnBindings(parsed, (*rt)->options().kerberos.offer);
  resolver_options.logger = logger.get();
  com::OxidResolver resolver(std::move(resolver_options));
  // The SCM: the class objects running servers registered, and the
  // activation service in front of them.
  com::RunningClassTable classes;
  scm_options.store_path = store_path;
  scm_options.resolver = &resolver;
  scm_options.classes = &classes;
  scm_options.launch_timeout = std::chrono::milliseconds(launch_timeout_ms);
  scm_options.server_log_fd = STDERR_FILENO;
  scm_options.logger = logger.get();
  // The audit trail: every activation refusal and launch, for `comcfg log`.
  std::unique_ptr<Logger> audit;
  if (audit_log.empty() && !store_path.empty()) audit_log = config::AuditTrailPathFor(store_path);
  if (!audit_log.empty()) {
    auto opened = config::OpenAuditTrail(audit_log);
    if (!opened.ok()) return Fail(opened.status());
    audit = std::move(*opened);
  }
  scm_options.audit = audit.get();
  if (scm_options.surrogate_path.empty()) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
      std::string dir(self, static_cast<size_t>(n));
      scm_options.surrogate_path = dir.substr(0, dir.rfind('/') + 1) + "comsec-surrogate";
    }
  }
  for (const rpc::StringBinding& b : parsed) {
    if (b.IsLocal()) {
      scm_options.resolver_binding = b.ToString();
      break;
    }
  }
  auto scm = activation::Scm::Create(scm_options);
  if (!scm.ok()) return Fail(scm.status());
  rpc::InterfaceRegistry registry;
  registry.Register(mapper.Interface());
  registry.Register(com::ObjectExporterInterface(&resolver));
  registry.Register(com::OxidRegistrationInterface(&resolver, logger.get(), &classes));
  // Activations wait (for a launched server to register here): they run
  // on threads of their own, never on the loops that serve registrations.
  com::WorkerPool activation_pool(16);
  registry.Register(activation::RemoteScmActivatorInterface(scm->get(), &activation_pool));
  registry.Register(activation::ActivationInterface(scm->get(), &activation_pool));
  // Neither is entered in the endpoint map: clients reach IObjectExporter
  // at the resolver's well-known endpoint (port 135, [MS-DCOM] 3.1.2.5.1),
  // and processes register at the ncalrpc endpoint they are configured with.
  if (auth::ntlm::LogonValidator* validator = (*rt)->logon_validator()) {
    auth::ntlm::LogonServiceOptions logon;
    logon.validator = validator;
    logon.trusted_uids = trusted_uids;
    // The servers the SCM launched: it chose their identity.
    activation::Scm* the_scm = scm->get();
    logon.trusted_process = [the_scm](uint32_t pid, uint32_t uid) {
      return the_scm->Launched(pid, uid);
    };
    logon.logger = logger.get();
    registry.Register(auth::ntlm::LogonServiceInterface(std::move(logon)));
  }
  rpc::Server server(&registry, (*rt)->ServerOptions());
  auto bound_bindings = server.ListenAll(listen);
  if (!bound_bindings.ok()) return Fail(bound_bindings.status());
  // What ServerAlive2 advertises is what was bound: a configured port 0
  // becomes the port the kernel chose.
  resolver.SetOwnBindings(OwnBindings(*bound_bindings, (*rt)->options().kerberos.offer));
  bool local = false;
  for (const rpc::StringBinding& b : *bound_bindings) {
    std::cout << "listening on " << b.ToString() << std::endl;
    local = local || b.IsLocal();
  }
  if (!local) {
    logger->Log(LogEvent("comsecd.no_local_endpoint", LogSeverity::kWarning,
                         "no ncalrpc endpoint: local servers cannot register or validate "
                         "logons (add --listen ncalrpc:[epmapper])"));
  }
  WaitForTerminationSignal();
  server.Stop();
  return 0;
}
