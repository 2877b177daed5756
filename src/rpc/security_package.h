// The security-package interface ([MS-RPCE] 3.3.1.5.2; the role of SSPI,
// shaped as Samba's gensec): the RPC runtime starts a context for a role,
// credentials, a target name and the features it wants, feeds it the
// peer's tokens until it says it is done, asks what it achieved (features,
// session key, peer identity, delegated credentials), and then has it
// protect and verify each PDU at the negotiated level. Packages live in
// src/auth, one library each, and implement this interface; the runtime
// never knows their wire formats.
//
// How a handshake maps onto PDUs (the runtime's loop, client side):
//   bind          carries the first Update's output;
//   bind_ack      carries the server's answer, fed to the next Update;
//   then, while the context is not done:
//     alter_context / alter_context_resp carry the next leg and its answer;
//   and when an Update returns output with done = true, that output goes in
//     auth3, which has no reply.
// So NTLM is bind, bind_ack, auth3 (the third Update is done); Kerberos with
// DCE_STYLE and mutual authentication is bind (AP-REQ), bind_ack (AP-REP),
// auth3 (the client's AP-REP, done); SPNEGO is four legs, bind, bind_ack,
// alter_context (the client's mechListMIC, not done: it waits for the
// server's accept-completed), alter_context_resp (done, no output). A TLS
// package runs its handshake records through the same loop: ClientHello in
// the bind, ServerHello..Finished in the bind_ack, the client's Finished in
// alter_context (TLS 1.3 needs the server to confirm nothing, but a client
// certificate makes the flight longer), and protects PDUs with TLS records
// (SignatureSize then depends on the data: record header, tag and padding).
// The server side mirrors it: each bind, alter_context or auth3 verifier is
// fed to Update; its output goes in the reply (none for auth3).
//
// Kerberos through GSSAPI fits as follows: Start maps wanted features to
// GSS flags (kMutualAuth → GSS_C_MUTUAL_FLAG, kDelegate →
// GSS_C_DELEG_POLICY_FLAG, kIdentify → GSS_C_IDENTIFY_FLAG, kDceStyle →
// GSS_C_DCE_STYLE), Update wraps gss_init_sec_context /
// gss_accept_sec_context, SignatureSize(n) is gss_wrap_iov_length's
// answer for n bytes, Protect/Verify use gss_get_mic_iov/gss_wrap_iov with
// the header included when header signing was negotiated, and
// DelegatedCredentials() hands the forwarded TGT to the call.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/base/secret.h"
#include "comsec/rpc/transport/endpoint.h"
#include "comsec/security/authn_level.h"
#include "comsec/security/token.h"

namespace comsec::rpc {

// rpcdce.h authentication services (R26) comsec knows.
inline constexpr uint8_t RPC_C_AUTHN_NONE = 0;
inline constexpr uint8_t RPC_C_AUTHN_GSS_NEGOTIATE = 9;
inline constexpr uint8_t RPC_C_AUTHN_WINNT = 10;
inline constexpr uint8_t RPC_C_AUTHN_GSS_SCHANNEL = 14;
inline constexpr uint8_t RPC_C_AUTHN_GSS_KERBEROS = 16;
// The local package on ncalrpc: the kernel vouches for the caller.
inline constexpr uint8_t RPC_C_AUTHN_KERNEL = 20;

// Authentication levels (R1) and impersonation levels (R5) are
// security::AuthnLevel and security::ImpLevel (security/authn_level.h)
// throughout; only the auth_verifier's byte is a number (rpc/pdu.h,
// WireAuthnLevel and PduAuthnLevel).

// What a caller asks of a context and what the context reports it got
// (gensec's want_feature / have_feature).
enum Feature : uint32_t {
  kFeatureSign = 1u << 0,
  kFeatureSeal = 1u << 1,
  // The server proves its identity to the client (NTLM cannot).
  kFeatureMutualAuth = 1u << 2,
  // The server may act as the client towards other servers (Kerberos
  // delegation; RPC_C_IMP_LEVEL_DELEGATE).
  kFeatureDelegate = 1u << 3,
  // The server may identify the client but not impersonate it
  // (RPC_C_IMP_LEVEL_IDENTIFY; NTLMSSP_NEGOTIATE_IDENTIFY,
  // GSS_C_IDENTIFY_FLAG).
  kFeatureIdentify = 1u << 4,
  // DCE/RPC's three-leg framing of GSS handshakes (GSS_C_DCE_STYLE).
  kFeatureDceStyle = 1u << 5,
  kFeatureSessionKey = 1u << 6,
};

enum class Role { kClient, kServer };

// What a package may learn about the connection it authenticates.
struct ConnectionInfo {
  bool local = false;  // ncalrpc
  // The peer as logs name it ("127.0.0.1:50312", "ncalrpc pid 42 uid 0").
  std::string peer;
  // Our own end in the same form, which is what the other side sees as
  // `peer` on a direct connection. For logs.
  std::string local_address;
  // Both ends as the kernel names them (rpc/transport/endpoint.h): on one
  // connection, one side's local_endpoint is the other's peer_endpoint.
  // NTLM uses the pair to tell a loopback logon from a reflected one
  // (MS08-068, auth/ntlm/reflection_registry.h); unknown ends count as
  // another connection (the check fails closed).
  TransportEndpoint local_endpoint;
  TransportEndpoint peer_endpoint;
  bool has_peer = false;
  uint32_t peer_uid = 0;
  uint32_t peer_gid = 0;
  uint32_t peer_pid = 0;
};

// Who a client context authenticates as. Each package defines its own
// kind (NTLM: user, domain, password or hash; Kerberos: a ccache or
// keytab); a package refuses credentials of another kind. Credentials
// belong to the context that uses them, so one connection may carry
// several identities (one per authentication context).
//
// Thread-safety: immutable once made; shared between contexts.
class Credentials {
 public:
  virtual ~Credentials() = default;
  // The package these credentials are for (RPC_C_AUTHN_*).
  virtual uint8_t auth_type() const = 0;
};

// Credentials the server received to act as the client (a forwarded TGT).
// The package that produced them knows how to use them; the COM layer
// passes them on to the call that wants them.
class DelegatedCredentials {
 public:
  virtual ~DelegatedCredentials() = default;
  virtual uint8_t auth_type() const = 0;
  // The principal they act as.
  virtual std::string principal() const = 0;
};

// What a package knows of an authenticated peer beyond its name and token,
// in the package's own terms (the TLS package: the peer's certificate and
// its Schannel principal names, auth/tls/principal_names.h, rule R52). The
// runtime carries it to the call (CallSecurity::peer_evidence) without
// looking inside; a layer above that knows the package reads its type
// (auth_type(), then the package's own class).
//
// Thread-safety: immutable once made.
class PeerEvidence {
 public:
  virtual ~PeerEvidence() = default;
  virtual uint8_t auth_type() const = 0;
};

// How a context is started.
struct StartParams {
  Role role = Role::kClient;
  // The level the handshake asks for: a package refuses a negotiation that
  // cannot deliver it (an NTLM peer dropping NEGOTIATE_SIGN, case 32).
  security::AuthnLevel auth_level = security::AuthnLevel::kPktIntegrity;
  // Client: who to authenticate as; null asks for the package's default
  // (anonymous for NTLM, the default ccache for Kerberos).
  std::shared_ptr<const Credentials> credentials;
  // Client: the server principal expected (an SPN such as
  // "RPCSS/host.example.com"); packages that authenticate the server check
  // it. Empty: none expected.
  std::string target_name;
  // Client: the impersonation level granted to the server.
  security::ImpLevel imp_level = security::ImpLevel::kImpersonate;
  // Feature bits (kFeature*) the caller wants; a package that cannot give
  // a wanted feature says so in Start or in the handshake, never silently.
  uint32_t wanted = 0;
  ConnectionInfo connection;
};

// One leg's result: the token to send (possibly empty) and whether the
// context is complete on this side.
struct UpdateResult {
  std::vector<uint8_t> output;
  bool done = false;
};

// Where a PDU's protected parts lie, for Protect and Verify.
struct PduRegion {
  // The whole fragment, header to auth_value.
  std::span<uint8_t> pdu;
  // [stub_begin, stub_end) is the stub with its padding: sealed in place
  // at PKT_PRIVACY.
  size_t stub_begin = 0;
  size_t stub_end = 0;
  // The auth_value inside `pdu`: written by Protect, read by Verify.
  std::span<uint8_t> signature;
  security::AuthnLevel level = security::AuthnLevel::kPktIntegrity;
  // PFC_SUPPORT_HEADER_SIGN was negotiated: GSS packages then sign the
  // header and sec_trailer too. (NTLM signs the whole PDU either way.)
  bool header_signing = false;
};

// One authentication context: one handshake and its keys.
//
// Thread-safety: used by one thread at a time (the connection's). Once
// complete, the const queries (features, PeerName, PeerToken,
// DelegatedCredentials) do not change and may be read from any thread.
class SecurityContext {
 public:
  virtual ~SecurityContext() = default;

  // Consumes the peer's token (empty for a client's first leg) and returns
  // the token to send. A failure refuses the authentication.
  virtual Result<UpdateResult> Update(std::span<const uint8_t> input) = 0;
  virtual bool IsComplete() const = 0;

  // The kFeature* bits this context achieved (valid once complete).
  virtual uint32_t features() const = 0;
  // The impersonation level the client granted, as the server sees it.
  virtual security::ImpLevel imp_level() const { return security::ImpLevel::kImpersonate; }

  // The auth_value size for a PDU whose stub and padding are
  // `stub_length` bytes (R4: CALL is raised to PKT, so every PDU of a CALL
  // level association carries one).
  virtual size_t SignatureSize(size_t stub_length) const = 0;
  // Whether a received verifier of `signature_length` bytes may be passed
  // to Verify (anything else is refused before it, SEC_E_MESSAGE_ALTERED).
  // By default only SignatureSize: a package whose peers may choose another
  // size (Kerberos wrap tokens: RFC 4121 4.2.4 lets the sender choose EC)
  // widens it, bounded, and Verify proves the rest.
  virtual bool AcceptsSignatureSize(size_t signature_length, size_t stub_length) const {
    return signature_length == SignatureSize(stub_length);
  }
  // Checks a received PDU at region.level ≥ PKT, unsealing the stub in
  // place at PKT_PRIVACY. The signature may lie in `pdu` after stub_end,
  // which a package never modifies.
  virtual Status Verify(const PduRegion& region) = 0;
  // Protects an outgoing PDU: seals the stub in place at PKT_PRIVACY and
  // writes SignatureSize(stub_end - stub_begin) bytes into the signature.
  virtual Status Protect(const PduRegion& region) = 0;

  // A detached integrity token over `message` with the context's keys
  // (GSS_GetMIC, [MS-NLMP] 3.4.4), and its check (GSS_VerifyMIC), each
  // taking the next sequence number of its direction, as PDUs do. SPNEGO's
  // mechListMIC (RFC 4178 5; auth/negotiate) is their first user.
  // VerifyMic fails with SEC_E_MESSAGE_ALTERED (or SEC_E_OUT_OF_SEQUENCE)
  // when the token does not match. REQUIRES: IsComplete(). A package
  // without detached tokens answers E_NOTIMPL.
  virtual Result<std::vector<uint8_t>> MakeMic(std::span<const uint8_t> message) {
    (void)message;
    return Status(E_NOTIMPL, "this security package makes no detached integrity tokens");
  }
  virtual Status VerifyMic(std::span<const uint8_t> message, std::span<const uint8_t> mic) {
    (void)message;
    (void)mic;
    return Status(E_NOTIMPL, "this security package checks no detached integrity tokens");
  }
  // SPNEGO calls this right after it made (incoming = false) or checked
  // (true) the mechListMIC: NTLM puts that direction's RC4 handle back to
  // its starting state, so that the first message protected afterwards
  // sees the key state the MIC did ([MS-SPNG] 3.3.5.1; MIT's SPNEGO asks
  // the same of gss-ntlmssp through GSS_NTLMSSP_RESET_CRYPTO_OID). Sequence
  // numbers are not reset. Other packages: nothing.
  virtual void ResetAfterMechListMic(bool incoming) { (void)incoming; }

  // The session key (for application-level encryption as SMB and
  // [MS-DCOM]'s secure references use it); E_NOTIMPL when there is none.
  virtual Result<SecretArray<16>> SessionKey() const {
    return Status(E_NOTIMPL, "this security package has no session key");
  }
  // The authenticated peer as the server reports it (C5): "DOMAIN\user",
  // "unix:NAME", or "NT AUTHORITY\ANONYMOUS LOGON"; on the client, the
  // server's name as far as the package knows it.
  virtual std::string PeerName() const = 0;
  // The caller's token once the server side completed (who access checks
  // see); null on the client side.
  virtual std::shared_ptr<const security::Token> PeerToken() const = 0;
  // Credentials the client delegated to us; null when it did not.
  virtual std::shared_ptr<const DelegatedCredentials> Delegated() const {
    return nullptr;
  }
  // What the package knows of the peer beyond PeerName (above); null by
  // default.
  virtual std::shared_ptr<const PeerEvidence> Evidence() const { return nullptr; }
};

// A package: the factory of its contexts.
//
// Thread-safety: Start is called from many connections at once; every
// implementation must be safe for that. What a package shares between its
// contexts (a LogonValidator, a keytab) must itself be thread-safe.
class SecurityPackage {
 public:
  virtual ~SecurityPackage() = default;
  virtual uint8_t auth_type() const = 0;
  virtual const char* name() const = 0;
  // A context for a new handshake; a package that cannot serve this role,
  // these credentials or this connection (the local package on TCP) fails
  // with an HRESULT saying why (SEC_E_NO_CREDENTIALS,
  // SEC_E_UNSUPPORTED_FUNCTION...).
  virtual Result<std::unique_ptr<SecurityContext>> Start(const StartParams& params) = 0;
};

// The packages a server offers or a client may use. Packages must outlive
// the registry's users.
//
// Thread-safety: filled before use, then only read (from any thread).
class SecurityPackageRegistry {
 public:
  void Add(SecurityPackage* package) { packages_.push_back(package); }
  SecurityPackage* Find(uint8_t auth_type) const {
    for (SecurityPackage* p : packages_) {
      if (p->auth_type() == auth_type) return p;
    }
    return nullptr;
  }

 private:
  std::vector<SecurityPackage*> packages_;
};

}  // namespace comsec::rpc
