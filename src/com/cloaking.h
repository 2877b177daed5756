// Which identity an outgoing ORPC call presents, and the associations that
// present it (issue 14, "Cloaking"; rules R104-R110 of
// com-security-rules.md). Transport choice and connecting are
// com/local_transport.h's.
//
// Identities. A call presents either the process's identity or the
// identity of the caller the calling thread impersonates
// (com/server_security.h: CurrentImpersonation). What carries the caller's
// identity to another process depends on where that process is:
//   * on this machine (ncalrpc): its Unix uid, and only when impersonation
//     really switched the thread's credentials (a caller that granted
//     IMPERSONATE or more, with a Unix account, to a server allowed to
//     switch: root);
//   * on another machine (TCP): only credentials the caller delegated to
//     us, which only Kerberos carries: the client granted
//     RPC_C_IMP_LEVEL_DELEGATE and the KDC let it forward its TGT to us
//     (rpc::CallSecurity::delegated; auth/gssapi/kerberos_package.h). A
//     Unix uid means nothing on another machine.
// PresentedIdentity holds both; the transport picks which one is used.
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
//   A proxy's blanket (IClientSecurity::SetBlanket, com/client_security.h)
//   carries its own cloaking bits, which win over the process's (R89);
//   the default blanket carries the process's (R47). SetBlanket with
//   static cloaking captures the calling thread's identity at SetBlanket
//   time, and every later SetBlanket captures again (R106's second and
//   third points): OxidConnections::CaptureNow. A capture refused then
//   (an identification only) is kept too: the proxy's calls fail with it
//   until the next SetBlanket.
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
//   * a cloaked Kerberos principal's, over TCP (R109: "DELEGATE plus a
//     cloaking flag crosses any number of machines"): a second association
//     to the same endpoint, connected as the process, authenticated with
//     the process blanket's Kerberos package, level, impersonation level
//     and target SPN (the OXID's, R75) but as the caller: the credentials
//     are auth::gssapi::KerberosCredentials::FromDelegated of the call's
//     delegated credentials, so the KDC, not the intermediate, vouches for
//     the caller, and C sees "alice@REALM" (and its mapped account). At
//     RPC_C_IMP_LEVEL_DELEGATE the TGT travels on to C again (any number
//     of machines). Associations are kept per principal for the OXID's
//     life; the first call's credentials authenticate it (a later call of
//     the same principal presents the same identity). Constrained
//     delegation evidence (KerberosServerOptions::constrained_delegation)
//     is used the same way, the KDC deciding by S4U2Proxy.
//
// Refusals (never a silent fallback to the process's identity): a call that
// must present the thread's identity fails, with one log event
// com.cloaking_refused (warning: principal, HRESULT, reason), when
//   * the caller granted IDENTIFY (or less): R109 says an intermediate
//     cannot cloak below IMPERSONATE: HRESULT_FROM_WIN32(
//     ERROR_BAD_IMPERSONATION_LEVEL) 0x80070542, reason identify_only;
//   * over ncalrpc, the thread only identifies its caller (the caller has
//     no Unix account, or this process may not switch uids): the same
//     0x80070542, identify_only;
//   * over TCP with Kerberos, the caller delegated nothing (it granted
//     IMPERSONATE only, or asked for DELEGATE of a server the KDC does not
//     trust for delegation, ok-as-delegate unset): R109's "IMPERSONATE
//     crosses one machine boundary", and A -> B was that boundary.
//     SEC_E_NO_CREDENTIALS 0x8009030E, reason kerberos_not_delegated. It
//     is what Windows's Kerberos package answers here: the impersonation
//     token of a network logon has no TGT in its logon session, so
//     AcquireCredentialsHandle/InitializeSecurityContext for the onward
//     call find "no credentials available in the security package". (Not
//     RPC_S_SEC_PKG_ERROR, the RPC runtime's catch-all for a package
//     failure: the cause here is precise.) The same code as NTLM's below,
//     so a caller tests one HRESULT for "the identity cannot go there";
//   * over TCP with NTLM (or Negotiate, or none): NTLM cannot forward a
//     caller's identity to another machine (R109): SEC_E_NO_CREDENTIALS,
//     reason ntlm_cannot_forward (unauthenticated_over_tcp);
//   * over TCP with TLS: E_INVALIDARG (R35: Schannel does not cloak).
// The onward bind's own failure (the KDC refusing the ticket, C refusing
// the caller) is returned as the package or server gave it.
//
// TODO(conformance): R109's "A and B share a machine, C elsewhere: B -> C
// works" at IMPERSONATE needs A's own credentials (its Kerberos ccache,
// Windows's interactive logon session); a local caller is refused over
// TCP as above. A Negotiate blanket does not cloak across machines yet
// (refused as NTLM). Cloaked associations bind at the process blanket's
// level, not a SetBlanket level of the proxy.
//
// IRemUnknown calls a proxy manager makes (com/remote_object.h) present
// what its IUnknown presents (R86: IUnknown's blanket, the default one
// with secure references, decided by the table above like any proxy's;
// its own static capture), and references are given back by the identity
// that took them: private references count per identity at the exporter
// (R145, [MS-DCOM] 1.3.6 "released only by the client identity that
// requested them"), so a RemRelease presenting anyone else would do
// nothing and leak them. OxidConnections::ClientFor reaches a recorded
// identity's association whatever the releasing thread impersonates.
//
// Thread-safety: OxidConnections and StaticCloak may be used from any
// thread.
#pragma once

#include <cstdint>
#include <functional>
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
#include "comsec/com/server_security.h"
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

// An identity a call presents: the process's (neither set) or the
// impersonated caller's, carried by its Unix uid over ncalrpc and by the
// Kerberos credentials it delegated over TCP (the file comment).
struct PresentedIdentity {
  std::optional<uint32_t> uid;
  // A Kerberos caller's delegated credentials (rpc::CallSecurity::
  // delegated, auth_type RPC_C_AUTHN_GSS_KERBEROS); kept alive while the
  // identity is (a static capture keeps them for the proxy's life).
  std::shared_ptr<const rpc::DelegatedCredentials> delegated;
  bool process() const { return !uid && !delegated; }
  // The same identity: the same association presents both (the process,
  // one uid, or one Kerberos principal whatever its credentials).
  bool SameAs(const PresentedIdentity& other) const;
  // "process", "uid N" or the Kerberos principal, for logs and tests.
  std::string ToString() const;
};

// One interface proxy's static-cloaking capture (R106).
class StaticCloak {
 public:
  // The captured identity; on first use, `now`'s answer, captured when it
  // is an identity (a refusal captures nothing and is returned).
  Result<PresentedIdentity> CaptureOnce(
      const std::function<Result<PresentedIdentity>()>& now);
  // Replaces the capture with `now` (SetBlanket, R106), a refusal
  // included: CaptureOnce then returns it.
  void Capture(Result<PresentedIdentity> now);
  // Forgets the capture: the next CaptureOnce captures.
  void Recapture();

 private:
  std::mutex mu_;
  std::optional<Result<PresentedIdentity>> captured_;
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
  // the file comment says; `mode` is the proxy blanket's cloaking
  // (process_cloaking() for a proxy without one), `cloak` its static
  // capture (null: static cloaking behaves as dynamic for this call).
  Result<std::shared_ptr<rpc::Client>> ForCall(Cloaking mode, StaticCloak* cloak);

  // The association presenting `identity` (one PresentedNow gave), from
  // any thread: the process's, or the cloaked identity's own (connected
  // now if it is not yet). E_UNEXPECTED for an identity this transport
  // cannot carry.
  Result<std::shared_ptr<rpc::Client>> ClientFor(const PresentedIdentity& identity);

  // What ForCall would present now (the decision alone, for tests and
  // logs); the refusals as ForCall's.
  Result<PresentedIdentity> PresentedNow(Cloaking mode, StaticCloak* cloak) const;

  // R106 second point: captures into `cloak` the identity the calling
  // thread would present now (its caller's when impersonating, else the
  // process's), or the refusal, which is logged now.
  void CaptureNow(StaticCloak* cloak) const;

  // The process's cloaking (ComRuntimeOptions::capabilities).
  Cloaking process_cloaking() const { return CloakingOf(options_.capabilities); }

  const std::shared_ptr<rpc::Client>& process_client() const { return process_; }
  // What the process's association bound with (null: unauthenticated).
  std::optional<rpc::ClientAuth> process_auth() const { return AuthFor(std::nullopt); }
  const rpc::StringBinding& binding() const { return binding_; }
  bool local() const { return binding_.IsLocal(); }

 private:
  OxidConnections(uint64_t oxid, Options options) : oxid_(oxid), options_(std::move(options)) {}
  // The ClientAuth an association over `binding_` presenting `uid` binds
  // with (null: none).
  std::optional<rpc::ClientAuth> AuthFor(std::optional<uint32_t> uid) const;
  // The identity of the caller `impersonated` (the thread's call context)
  // as this OXID's transport can carry it, or the refusal.
  Result<PresentedIdentity> CallerIdentity(const ServerSecurity& impersonated) const;
  // The thread's identity now: the process's when it does not impersonate
  // (R105, R108), else CallerIdentity's.
  Result<PresentedIdentity> ThreadIdentity() const;
  Result<std::shared_ptr<rpc::Client>> CloakedClient(uint32_t uid);
  Result<std::shared_ptr<rpc::Client>> DelegatedClient(
      const std::shared_ptr<const rpc::DelegatedCredentials>& delegated);
  // The refusal's Status, logged as com.cloaking_refused with `reason`
  // (identify_only, kerberos_not_delegated, unauthenticated_over_tcp,
  // ntlm_cannot_forward, schannel_cannot_cloak).
  Status Refuse(HResult hr, std::string_view reason, const std::string& why) const;

  const uint64_t oxid_;
  const Options options_;
  rpc::StringBinding binding_;
  std::shared_ptr<rpc::Client> process_;
  std::mutex mu_;
  std::map<uint32_t, std::shared_ptr<rpc::Client>> cloaked_;  // by uid
  std::map<std::string, std::shared_ptr<rpc::Client>> delegated_;  // by principal
};

}  // namespace comsec::com
