// The server side of a call's security (issue 14's first piece; rules
// R91-R100 of com-security-rules.md): CoGetCallContext's IServerSecurity —
// QueryBlanket, ImpersonateClient, RevertToSelf, IsImpersonating — and the
// Co* wrappers, over the CallSecurity the RPC runtime hands every ORPC call.
//
// The object exporter opens a ServerCallScope around each method it
// dispatches (on the apartment thread that runs it). Within it:
//   * CoGetCallContext gives the call's ServerSecurity; outside any call
//     RPC_E_NO_CONTEXT; a ServerSecurity kept past its call answers
//     RPC_E_CALL_COMPLETE (R91).
//   * ImpersonateClient (R95) needs an authenticated caller: at level NONE
//     it fails with HRESULT_FROM_WIN32(RPC_S_NO_CONTEXT_AVAILABLE) (C12),
//     without a token E_FAIL. It makes the thread impersonate
//     the caller: IsImpersonating is true, CurrentImpersonationToken is the
//     caller's token (what access checks use), and when the token names a
//     Unix account (S-1-22-1-uid: local, Kerberos or TLS callers mapped to
//     unix:NAME; or a store account mapped to a Unix identity, whose token
//     carries it: security::ImpersonationIdentityOf) and the client
//     granted RPC_C_IMP_LEVEL_IMPERSONATE or more, the thread's Unix
//     identity switches to it
//     (security/thread_impersonation.h) where the process may switch (root,
//     or the server's own uid). At IDENTIFY, or for an account without a
//     Unix uid, only the token changes: an identification, as Windows gives
//     at that level. ImpersonatedUid says which Unix identity is in force.
//   * RevertToSelf (R98) undoes any number of ImpersonateClient calls;
//     S_OK.
//   * When the method returns, COM reverts for it (R96), and a nested call
//     served on the same thread (an STA's callback while it waits) leaves
//     the outer invocation's impersonation as it found it (R97).
//
// Threads a method starts while it impersonates: Linux copies the creating
// thread's credentials to a new thread, so a thread started then runs as
// the caller's Unix account (where Windows gives it the process token) and
// comsec does not know it impersonates. Revert before starting threads
// that outlive the call. The runtime's own pools start their threads up
// front; the thread an STA's outgoing call waits on (com/orpc_channel.h)
// only moves bytes on an association already connected as the process.
//
// Thread affinity: a ServerSecurity may be used from any thread of the
// call's apartment while the call runs (R92), but impersonation belongs to
// the thread that asked for it; the scope and the Co* functions are per
// thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "comsec/base/hresult.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/rpc/interface.h"
#include "comsec/security/thread_impersonation.h"
#include "comsec/security/token.h"

namespace comsec::com {

// What QueryBlanket reports (R93). The client's impersonation level is not
// among them: a server cannot learn it through QueryBlanket.
struct ServerBlanket {
  uint32_t authn_svc = 0;   // RPC_C_AUTHN_*
  uint32_t authz_svc = 0;   // RPC_C_AUTHZ_NONE
  uint32_t authn_level = 0;  // RPC_C_AUTHN_LEVEL_*
  // pPrivs for NTLM/Kerberos: the client's name ("DOMAIN\user",
  // "user@REALM", "unix:name"); "" when unauthenticated. For a TLS
  // (Schannel, RPC_C_AUTHN_GSS_SCHANNEL) caller that presented a verified
  // certificate, its Schannel principal name (R52; auth/tls/
  // principal_names.h): the msstd form by default, the fullsic form when
  // the query's capabilities carry EOAC_MAKE_FULLSIC. A TLS caller without
  // a certificate keeps the package's name (NT AUTHORITY\ANONYMOUS LOGON),
  // and one whose certificate has no msstd name (neither e-mail nor common
  // name) is named in fullsic form even by default.
  std::string client_principal;
  // The call's capabilities: EOAC_NONE (the input flags are not echoed).
  uint32_t capabilities = 0;
};

class ServerSecurity : public std::enable_shared_from_this<ServerSecurity> {
 public:
  explicit ServerSecurity(const rpc::CallSecurity& security) : security_(security) {}

  // `capabilities` is pCapabilities' input half (R52): EOAC_MAKE_FULLSIC
  // (0x100) asks for a Schannel caller's name in fullsic form; other bits
  // are ignored.
  Result<ServerBlanket> QueryBlanket(uint32_t capabilities = 0) const;
  HResult ImpersonateClient();
  HResult RevertToSelf();
  bool IsImpersonating() const;

  // The call has returned (the scope closes it): later use is
  // RPC_E_CALL_COMPLETE.
  void Complete() { complete_.store(true); }
  bool complete() const { return complete_.load(); }
  const rpc::CallSecurity& security() const { return security_; }

 private:
  const rpc::CallSecurity security_;
  std::atomic<bool> complete_{false};
};

// One dispatched method invocation on this thread. Opens on entry, reverts
// what the method left impersonated and restores the outer invocation's
// impersonation on exit (R96, R97).
class ServerCallScope {
 public:
  explicit ServerCallScope(const rpc::CallSecurity& security);
  ~ServerCallScope();
  ServerCallScope(const ServerCallScope&) = delete;
  ServerCallScope& operator=(const ServerCallScope&) = delete;

  const std::shared_ptr<ServerSecurity>& context() const { return context_; }

 private:
  std::shared_ptr<ServerSecurity> context_;
  ServerCallScope* outer_;
  // The outer invocation's impersonation, suspended while this one runs,
  // and its switched context (CoSwitchCallContext).
  std::shared_ptr<ServerSecurity> outer_impersonating_;
  bool outer_switched_ = false;
  ServerSecurity* outer_switched_context_ = nullptr;
};

// CoGetCallContext(IID_IServerSecurity): RPC_E_NO_CONTEXT outside a call.
Result<std::shared_ptr<ServerSecurity>> CoGetCallContext();
// CoSwitchCallContext (R101), for code that dispatches calls itself (a
// custom marshaler): makes `new_context` (null: none) this thread's call
// context until switched again, and returns the one in force before (null
// when none), which the caller must neither free nor keep past the call.
// The runtime does not own `new_context` (as COM does not AddRef it): the
// caller keeps it alive, held by a shared_ptr, until it switches back.
ServerSecurity* CoSwitchCallContext(ServerSecurity* new_context);

// The thin wrappers (R100).
HResult CoImpersonateClient();
HResult CoRevertToSelf();
// `capabilities` as ServerSecurity::QueryBlanket's (R52).
Result<ServerBlanket> CoQueryClientBlanket(uint32_t capabilities = 0);

// Where impersonation's events go, process-wide (ComRuntime::Start sets its
// logger): com.impersonation_identify_only, once, when the process cannot
// switch its threads' Unix identity; com.impersonation_refused for an
// unauthenticated caller (C12). Null: none. Must outlive its use.
void SetServerSecurityLogger(const Logger* logger);
// Stops using `logger` if it is the one set (its owner is going).
void UnsetServerSecurityLogger(const Logger* logger);

// The token this thread is impersonating, null when it is not.
std::shared_ptr<const security::Token> CurrentImpersonationToken();
// The call context this thread impersonates (its security(): level,
// principal, granted impersonation level, delegated credentials), null
// when it is not impersonating. Cloaking reads it (com/cloaking.h).
std::shared_ptr<const ServerSecurity> CurrentImpersonation();
// The Unix uid the thread runs as because of impersonation; nullopt when
// it is not impersonating or only identifies its caller.
std::optional<uint32_t> ImpersonatedUid();

}  // namespace comsec::com
