// Which identity an outgoing ORPC call presents, and the associations that
// present it (issue 14, "Cloaking"; rules R104-R110 of
// com-security-rules.md). Transport choice and connecting are
// com/local_transport.h's.
//
// Identities. A call presents either the process's identity or the
// identity of the caller the calling thread impersonates
// (com/server_security.h: CurrentImpersonationToken, ImpersonatedUid). On
// Linux the one identity a thread can carry to another process is its Unix
// uid, and only when impersonation really switched the thread's
// credentials (a caller that granted IMPERSONATE or more, with a Unix
// account, to a server allowed to switch: root).
//
// Which one (R105, R107, R108), from ComRuntimeOptions::capabilities:
//   no cloaking        the process's, impersonating or not (R104: the
//                      default; a downstream server sees its direct
//                      caller, R109 last point);
//   EOAC_DYNAMIC_CLOAKING (0x40)
//                      on every call, the thread's impersonated identity
//                      when it impersonates, else the process's (R107; the
//                      only way to call as the process is to not
//                      impersonate, R108);
//   EOAC_STATIC_CLOAKING (0x20)
//                      the identity captured at the interface proxy's
//                      first call, kept for the proxy's life (R106: the
//                      thread's if it impersonated then, else the
//                      process's). Both flags: dynamic (CIS refuses the
//                      pair; this runtime does not second-guess it).
// TODO(conformance): IClientSecurity::SetBlanket capturing the token at
// SetBlanket time (R106's second point) belongs with the per-proxy
// blankets (com/client_security.h): StaticCloak::Recapture is its hook.
//
// How the identity is proven. One association per presented identity:
//   * the process's: the OXID's association (RemoteOxid::client), over
//     ncalrpc when the exporter is on this machine, else TCP; it
//     authenticates with the process's blanket (ComRuntimeOptions::
//     client_auth) or, with none over ncalrpc, with the local package at
//     CONNECT level, so that a local server sees an authenticated local
//     caller with a token rather than an anonymous one. It is connected
//     and reconnected as the process even from an impersonating thread
//     (ProcessDialer), so impersonating never leaks into uncloaked calls.
//   * a cloaked uid's, over ncalrpc: a second association to the same
//     endpoint, connected by a thread running as that uid, authenticated
//     with the local package at the process blanket's level (CONNECT when
//     it has none). The server learns the uid from SO_PEERCRED: the
//     kernel, not the intermediate, vouches for it, and the kernel only
//     lets a thread take a uid it may take. (comsecd need not vouch here:
//     a local server trusts the kernel more than any daemon; comsecd's
//     role is the secrets of network packages.) Whatever package the
//     process blanket names (NTLM with a password, say) cannot present the
//     caller, so cloaked calls over ncalrpc always use the local package.
//     Associations are kept per uid for the OXID's life.
//
// Refusals (never a silent fallback to the process's identity): a call that
// must present the thread's identity fails, with one log event
// com.cloaking_refused (warning: principal, HRESULT, reason), when
//   * the thread only identifies its caller (the caller granted IDENTIFY,
//     has no Unix account, or this process may not switch uids):
//     HRESULT_FROM_WIN32(ERROR_BAD_IMPERSONATION_LEVEL) 0x80070542, as R109
//     says an intermediate cannot cloak below IMPERSONATE;
//   * the OXID is reached over TCP and the package is NTLM (or Negotiate,
//     or none): NTLM cannot forward a caller's identity to another
//     machine (R109): SEC_E_NO_CREDENTIALS 0x8009030E;
//   * over TCP with Kerberos: E_NOTIMPL for now.
//     TODO(security): Kerberos with the call's delegated credentials
//     (rpc::DelegatedCredentials from a DELEGATE-level caller, R109's
//     "DELEGATE crosses any number of machines") is the next step;
//   * over TCP with TLS: E_INVALIDARG (R35: Schannel does not cloak).
//
// TODO(security): IRemUnknown calls a proxy manager makes (RemQueryInterface,
// RemAddRef, RemRelease) present the process's identity; with secure
// references (EOAC_SECURE_REFS) they must present the same identity as the
// proxy's calls.
//
// Thread-safety: OxidConnections and StaticCloak may be used from any
// thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/com/local_transport.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/security_package.h"

namespace comsec::com {

// ERROR_BAD_IMPERSONATION_LEVEL (1346) as an HRESULT: "Either a required
// impersonation level was not provided, or the provided impersonation
// level is invalid."
inline constexpr HResult kHrBadImpersonationLevel = HResult::FromWin32(1346);

enum class Cloaking { kNone, kStatic, kDynamic };

// The cloaking EOAC bits of `capabilities` (EOAC_STATIC_CLOAKING 0x20,
// EOAC_DYNAMIC_CLOAKING 0x40, objidlbase.h).
Cloaking CloakingOf(uint32_t capabilities);

// An identity a call presents: the process's (nullopt) or a Unix uid.
using PresentedUid = std::optional<uint32_t>;

// One interface proxy's static-cloaking capture (R106).
class StaticCloak {
 public:
  // The captured identity, capturing `now` on first use.
  PresentedUid CaptureOnce(PresentedUid now);
  // Forgets the capture (SetBlanket captures again, R106).
  void Recapture();

 private:
  std::mutex mu_;
  std::optional<PresentedUid> captured_;
};

class OxidConnections {
 public:
  struct Options {
    // The base of every association's options (timeouts, sizes).
    rpc::ClientOptions client;
    // The process's blanket; none: unauthenticated over TCP, the local
    // package at CONNECT over ncalrpc.
    std::optional<rpc::ClientAuth> auth;
    // The local package (outlives the connections).
    rpc::SecurityPackage* local_package = nullptr;
    // EOAC_* of the process (only the cloaking bits are read here).
    uint32_t capabilities = 0;
    std::shared_ptr<const ProcessDialer> dialer;
    const Logger* logger = nullptr;
  };

  // The process's association to the exporter: the first of
  // ConnectionCandidates(exporter) that connects and binds IRemUnknown.
  // The last failure (RPC_S_SERVER_UNAVAILABLE when there is no binding)
  // otherwise.
  static Result<std::shared_ptr<OxidConnections>> Connect(uint64_t oxid,
                                                           const OxidBindings& exporter,
                                                           Options options);

  // The association the calling thread's call on a proxy goes over, as
  // the file comment says; `cloak` is the proxy's static capture (null:
  // static cloaking behaves as dynamic for this call).
  Result<std::shared_ptr<rpc::Client>> ForCall(StaticCloak* cloak);

  // What ForCall would present now (the decision alone, for tests and
  // logs): the process's (nullopt) or a uid; the refusals as ForCall's.
  Result<PresentedUid> PresentedNow(StaticCloak* cloak) const;

  const std::shared_ptr<rpc::Client>& process_client() const { return process_; }
  // What the process's association bound with (null: unauthenticated).
  std::optional<rpc::ClientAuth> process_auth() const { return AuthFor(std::nullopt); }
  const rpc::StringBinding& binding() const { return binding_; }
  bool local() const { return binding_.IsLocal(); }

 private:
  OxidConnections(uint64_t oxid, Options options) : oxid_(oxid), options_(std::move(options)) {}
  // The ClientAuth an association over `binding_` presenting `uid` binds
  // with (null: none).
  std::optional<rpc::ClientAuth> AuthFor(PresentedUid uid) const;
  Result<std::shared_ptr<rpc::Client>> CloakedClient(uint32_t uid);
  // The refusal's Status, logged as com.cloaking_refused with `reason`
  // (identify_only, unauthenticated_over_tcp, ntlm_cannot_forward,
  // kerberos_delegation_not_built, schannel_cannot_cloak).
  Status Refuse(HResult hr, std::string_view reason, const std::string& why) const;

  const uint64_t oxid_;
  const Options options_;
  rpc::StringBinding binding_;
  std::shared_ptr<rpc::Client> process_;
  std::mutex mu_;
  std::map<uint32_t, std::shared_ptr<rpc::Client>> cloaked_;  // by uid
};

}  // namespace comsec::com
