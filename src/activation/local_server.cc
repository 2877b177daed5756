#include "comsec/activation/local_server.h"

#include "comsec/rpc/binding.h"

namespace comsec::activation {

Result<LocalServer> StartLocalServer(const LocalServerOptions& options) {
  runtime::ProgramSecurity program;
  program.appid = options.appid;
  // NTLM logons: comsecd validates them when it is the resolver (a server
  // that may not read the secrets file), else this process from the store.
  if (!options.resolver.empty()) {
    COMSEC_ASSIGN_OR_RETURN(rpc::StringBinding at, rpc::StringBinding::Parse(options.resolver));
    program.validation.kind = runtime::LogonValidation::Kind::kLogonService;
    program.validation.logon_service = at;
  } else if (!options.store.empty()) {
    program.validation.kind = runtime::LogonValidation::Kind::kSecretsFile;
    program.validation.store_path = options.store;
  }
  COMSEC_ASSIGN_OR_RETURN(
      runtime::RuntimeOptions runtime_options,
      runtime::RuntimeOptionsFromStorePath(options.store, program, options.logger));
  runtime_options.tls.offer = !runtime_options.tls.certificate_file.empty();
  LocalServer server;
  COMSEC_ASSIGN_OR_RETURN(server.runtime,
                          runtime::Runtime::Create(std::move(runtime_options), options.logger));

  com::ComRuntimeOptions com_options;
  com_options.listen = options.listen;
  com_options.resolver = options.resolver;
  com_options.ping_period = options.ping_period;
  com_options.server = server.runtime->ServerOptions();
  // The implicit CoInitializeSecurity (R73): the AppID's values in the
  // store decide the floor and who may call, re-read when they change.
  com_options.store = options.store;
  com_options.appid = options.appid;
  com_options.authn_hint = security::ToNumber(server.runtime->options().authn_level);
  // The OXID's security bindings: the packages remote clients may use.
  for (uint16_t svc : {com::kAuthnNtlm, com::kAuthnNegotiate, com::kAuthnKerberos,
                       uint16_t{14} /* RPC_C_AUTHN_GSS_SCHANNEL */}) {
    if (server.runtime->packages().Find(static_cast<uint8_t>(svc)) != nullptr) {
      com_options.security_bindings.push_back({svc, com::kAuthzNone, u""});
    }
  }
  com_options.logger = options.logger;
  COMSEC_ASSIGN_OR_RETURN(server.com, com::ComRuntime::Start(com_options));
  return server;
}

}  // namespace comsec::activation
