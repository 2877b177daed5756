#include "comsec/com/server_security.h"

#include <atomic>

#include "comsec/auth/tls/principal_names.h"
#include "comsec/base/log.h"
#include "comsec/com/client_security.h"
#include "comsec/base/win32_error.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::com {
namespace {

// This thread's impersonation, for the invocation running on it.
struct ThreadState {
  ServerCallScope* scope = nullptr;
  // CoSwitchCallContext's object, in force instead of the scope's while
  // `switched` (not owned, R101).
  bool switched = false;
  ServerSecurity* switched_context = nullptr;
  std::shared_ptr<ServerSecurity> impersonating;
  std::unique_ptr<security::ThreadImpersonation> os;
  std::optional<uint32_t> uid;

  void Revert() {
    os.reset();  // the Unix identity first, while the token still names it
    uid.reset();
    impersonating.reset();
  }
};

thread_local ThreadState this_thread;

std::atomic<const Logger*> g_logger{nullptr};
std::atomic<bool> g_said_identify_only{false};

void Log(const LogEvent& e) {
  if (const Logger* l = g_logger.load()) l->Log(e);
}

}  // namespace

Result<ServerBlanket> ServerSecurity::QueryBlanket(uint32_t capabilities) const {
  if (complete()) return Status(RPC_E_CALL_COMPLETE, "the call has returned");
  ServerBlanket b;
  b.authn_svc = security_.authn_svc;
  b.authn_level = security::ToNumber(security_.authn_level);
  b.client_principal = security_.principal;
  // R52: a Schannel caller's certificate names, msstd unless asked for
  // fullsic. The TLS package's evidence, read through the RPC layer's
  // interface (rpc::CallSecurity::peer_evidence).
  if (security_.authn_svc == rpc::RPC_C_AUTHN_GSS_SCHANNEL) {
    if (const auto* cert =
            dynamic_cast<const auth::tls::TlsPeerCertificate*>(security_.peer_evidence.get())) {
      const bool fullsic = (capabilities & EOAC_MAKE_FULLSIC) != 0 || cert->msstd().empty();
      b.client_principal = fullsic ? cert->fullsic() : cert->msstd();
    }
  }
  return b;
}

HResult ServerSecurity::ImpersonateClient() {
  if (complete()) return RPC_E_CALL_COMPLETE;
  // C12: a call at level NONE has no security context to act with.
  if (security_.authn_level < security::AuthnLevel::kConnect) {
    Log(LogEvent("com.impersonation_refused", LogSeverity::kInfo,
                 "CoImpersonateClient on an unauthenticated call: there is no client identity to "
                 "act as (C12)")
            .Hresult(RPC_S_NO_CONTEXT_AVAILABLE)
            .Reason("authn_level_none"));
    return RPC_S_NO_CONTEXT_AVAILABLE;
  }
  // R95: an authenticated caller, with a token to act as.
  if (security_.token == nullptr) return E_FAIL;
  ThreadState& t = this_thread;
  if (t.impersonating.get() == this) return HResult(0);
  t.Revert();
  t.impersonating = shared_from_this();
  if (security_.imp_level >= security::ImpLevel::kImpersonate) {
    if (auto identity = security::ImpersonationIdentityOf(*security_.token)) {
      if (auto os = security::ThreadImpersonation::Begin(*identity); os.ok()) {
        t.os = std::move(*os);
        t.uid = identity->uid;
      } else if (!g_said_identify_only.exchange(true)) {
        // Said once: every later impersonation would say the same.
        Log(LogEvent("com.impersonation_identify_only", LogSeverity::kWarning,
                     "this server cannot switch its threads' Unix identity, so impersonating a "
                     "caller only identifies it (its token is used by access checks, files are "
                     "still opened as the server); run it as root or with CAP_SETUID and "
                     "CAP_SETGID to act as callers")
                .Principal(security_.principal)
                .Hresult(os.status().code())
                .Reason(std::string(os.status().message())));
      }
    }
  }
  return HResult(0);
}

HResult ServerSecurity::RevertToSelf() {
  if (complete()) return RPC_E_CALL_COMPLETE;
  this_thread.Revert();
  return HResult(0);
}

bool ServerSecurity::IsImpersonating() const { return this_thread.impersonating != nullptr; }

ServerCallScope::ServerCallScope(const rpc::CallSecurity& security)
    : context_(std::make_shared<ServerSecurity>(security)), outer_(this_thread.scope) {
  ThreadState& t = this_thread;
  // R97: the outer invocation's impersonation is suspended, and put back
  // when this one returns.
  outer_impersonating_ = t.impersonating;
  outer_switched_ = t.switched;
  outer_switched_context_ = t.switched_context;
  t.Revert();
  t.scope = this;
  t.switched = false;
  t.switched_context = nullptr;
}

ServerCallScope::~ServerCallScope() {
  ThreadState& t = this_thread;
  context_->Complete();
  t.Revert();  // R96: COM reverts for a method that did not
  t.scope = outer_;
  t.switched = outer_switched_;
  t.switched_context = outer_switched_context_;
  if (outer_impersonating_) (void)outer_impersonating_->ImpersonateClient();
}

Result<std::shared_ptr<ServerSecurity>> CoGetCallContext() {
  if (this_thread.switched) {
    if (this_thread.switched_context == nullptr) {
      return Status(RPC_E_NO_CONTEXT, "CoGetCallContext: the call context was switched to none");
    }
    return this_thread.switched_context->shared_from_this();
  }
  ServerCallScope* scope = this_thread.scope;
  if (scope == nullptr) {
    return Status(RPC_E_NO_CONTEXT, "CoGetCallContext: no call is being served on this thread");
  }
  return scope->context();
}

void SetServerSecurityLogger(const Logger* logger) { g_logger.store(logger); }

void UnsetServerSecurityLogger(const Logger* logger) {
  g_logger.compare_exchange_strong(logger, nullptr);
}

ServerSecurity* CoSwitchCallContext(ServerSecurity* new_context) {
  ThreadState& t = this_thread;
  ServerSecurity* old = t.switched ? t.switched_context
                        : t.scope  ? t.scope->context().get()
                                   : nullptr;
  t.switched = true;
  t.switched_context = new_context;
  return old;
}

HResult CoImpersonateClient() {
  auto c = CoGetCallContext();
  return c.ok() ? (*c)->ImpersonateClient() : c.status().code();
}

HResult CoRevertToSelf() {
  auto c = CoGetCallContext();
  return c.ok() ? (*c)->RevertToSelf() : c.status().code();
}

Result<ServerBlanket> CoQueryClientBlanket(uint32_t capabilities) {
  COMSEC_ASSIGN_OR_RETURN(std::shared_ptr<ServerSecurity> c, CoGetCallContext());
  return c->QueryBlanket(capabilities);
}

std::shared_ptr<const security::Token> CurrentImpersonationToken() {
  const auto& i = this_thread.impersonating;
  return i ? i->security().token : nullptr;
}

std::shared_ptr<const ServerSecurity> CurrentImpersonation() { return this_thread.impersonating; }

std::optional<uint32_t> ImpersonatedUid() { return this_thread.uid; }

}  // namespace comsec::com
