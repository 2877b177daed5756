// The TLS security package (RPC_C_AUTHN_GSS_SCHANNEL, 14): the Schannel
// analog ("Schannel" in reference/com-security/schannel.md; rules R15, R20,
// R33-R36, R78, R104 of reference/com-security-rules.md), OpenSSL TLS 1.3
// driven through memory BIOs, its handshake records carried in the RPC
// bind legs ([MS-RPCE] 3.3.1.5.2 as rpc/security_package.h maps them):
//
//   bind               ClientHello
//   bind_ack           ServerHello, EncryptedExtensions, CertificateRequest
//                      (when the server has a client CA file), Certificate,
//                      CertificateVerify, Finished
//   alter_context      the client's Certificate and CertificateVerify (when
//                      it has one and was asked), Finished
//   alter_context_resp one application-data record carrying
//                      "comsec-tls-accepted" (41 bytes), sealed with the
//                      server's application key: the server accepted the
//                      client's flight (the record layer's first server
//                      record, so the first response PDU is the second)
// The last leg is alter_context rather than auth3 so that a client whose
// certificate the server refuses learns it at bind time, with the fault,
// instead of on its first call; its answer must carry a token (the PDU
// codec reads auth_length 0 as no verifier), hence the acceptance record. The server sends no session tickets
// (SSL_CTX_set_num_tickets 0): nothing follows the handshake outside a PDU.
// Only TLS 1.3, only its AEAD suites with 16-byte tags (AES-GCM,
// ChaCha20-Poly1305), so that a record's overhead is fixed.
//
// Per-PDU protection (PduRegion; rpc/pdu_protection.h). Let D be SHA-256
// over what the record does not already carry: "comsec-tls-pdu" and
//   PKT_PRIVACY:   the PDU's header up to the stub, and the sec_trailer;
//   PKT_INTEGRITY: the header, the stub with its padding and the sec_trailer
// (everything before the auth_value). Then
//   PKT_PRIVACY:   the plaintext stub || D is sent as application-data
//     records of at most 16384 bytes (one SSL_write each). A TLS 1.3 record
//     is a 5-byte header, the ciphertext of plaintext || content type (AEAD
//     stream ciphers: same length, byte for byte) and a 16-byte tag. The
//     ciphertext of the stub bytes goes back over the stub, in place; the
//     auth_value holds, per record, its header, the ciphertext of the
//     digest bytes it carries, of the content-type byte, and the tag:
//     SignatureSize(n) = 22 * ceil((n + 32) / 16384) + 32 (54 up to 16352
//     stub bytes).
//   PKT_INTEGRITY (and CALL, R4): the stub stays clear and the auth_value is
//     one record carrying D: 5 + 32 + 1 + 16 = 54 bytes. Windows's
//     Schannel gives DCOM integrity only through privacy; here PKT_INTEGRITY
//     is a real level (a sealed digest of the whole PDU, the record's MAC
//     and sequence number making it a signature), which costs no more.
//   CONNECT: only the handshake.
// The TLS sequence numbers make every replayed, reordered or dropped PDU
// fail to authenticate (SEC_E_MESSAGE_ALTERED); after that the channel is
// dead, and the RPC runtime closes the connection (cases 24, 25).
//
// Identities. The client verifies the server's certificate chain against
// its CA file (SEC_E_UNTRUSTED_ROOT when it does not chain there,
// SEC_E_CERT_EXPIRED, SEC_E_CERT_UNKNOWN otherwise) and, when
// StartParams::target_name is given, the server's name
// (SEC_E_WRONG_PRINCIPAL): "msstd:NAME" (R36) is the certificate's e-mail
// address if it has one, else its common name; "fullsic:\<\...>" (R52)
// names the server certificate's issuer chain and subject
// (auth/tls/principal_names.h), compared with the verified chain (case
// ignored; E_INVALIDARG at Start when it is not in that form); any other
// target is a host
// ("host", "RPCSS/host", "RPCSS/host@REALM": the part between '/' and '@')
// checked against the certificate's DNS names (RFC 6125, as
// SSL_set1_host). The server requests a certificate from the client only
// when it has a client CA file, and verifies it against that file. As
// Schannel does (R35: impersonation works only with a certificate the
// server maps to an account), a client without a certificate is
// NT AUTHORITY\ANONYMOUS LOGON, and so is one whose verified certificate
// no mapping names (logged, tls.certificate_unmapped, with the subject and
// thumbprint an administrator maps with `comcfg tls map`). Note that the
// RPC runtime credits an anonymous caller's calls at most CONNECT
// (rpc/server_auth.cc SecurityFor) although its PDUs are sealed.
//
// Impersonation level: always IMPERSONATE (R15, R20, R78), whatever the
// client asked; no delegation (R35). Cloaking is refused with E_INVALIDARG
// (R35, R104): that is the COM layer's check (CoInitializeSecurity and
// SetBlanket with EOAC_STATIC_CLOAKING/DYNAMIC_CLOAKING and
// RPC_C_AUTHN_GSS_SCHANNEL), which this package cannot see; RejectCloaking
// below is the one function it should call.
//
// No Windows peer: Windows's Schannel in DCOM speaks TLS 1.0 framed its own
// way, and no Windows machine is reachable here, so this package is tested
// only client to server (tests/auth/tls_rpc_test.cc,
// tests/interop/tls_echo.py) and does not claim wire compatibility.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "comsec/auth/tls/principal_names.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/rpc/security_package.h"

namespace comsec::auth::tls {

// winerror.h codes Schannel returns for certificates.
inline constexpr HResult SEC_E_UNTRUSTED_ROOT{0x80090325u};
inline constexpr HResult SEC_E_CERT_UNKNOWN{0x80090327u};
inline constexpr HResult SEC_E_CERT_EXPIRED{0x80090328u};

// A verified client certificate as the mapping sees it.
struct ClientCertificate {
  // The subject as OpenSSL prints it in RFC 2253 form ("CN=alice,O=Example").
  std::string subject;
  // SHA-256 of the certificate's DER encoding, 64 lower-case hex digits.
  std::string thumbprint;
};

// Who a mapped certificate is.
struct MappedAccount {
  // What PeerName reports: "DOMAIN\\alice", "unix:alice".
  std::string name;
  std::shared_ptr<const security::Token> token;
};

// Maps a verified client certificate to an account (the store's table,
// auth/tls/store_certificate_mapper.h).
//
// Thread-safety: Map is called from many connection threads at once.
class CertificateMapper {
 public:
  virtual ~CertificateMapper() = default;
  // nullopt: no mapping names this certificate (the caller is anonymous).
  // An error: the mappings or accounts could not be read; the logon fails
  // closed with it.
  virtual Result<std::optional<MappedAccount>> Map(const ClientCertificate& certificate) = 0;
};

struct TlsServerOptions {
  // PEM files: the server's certificate (with its chain) and private key.
  std::string certificate_file;
  std::string key_file;
  // PEM CA certificates client certificates must chain to. Empty: clients
  // are not asked for certificates (every caller is anonymous).
  std::string ca_file;
  // Maps client certificates to accounts; null: every certificate is
  // unmapped. Not owned; must outlive the package.
  CertificateMapper* mapper = nullptr;
  // Events (not owned; null: none), each with the peer and level:
  //   tls.logon_refused          warning  a handshake failed (reason, HRESULT)
  //   tls.certificate_unmapped   warning  a verified client certificate no
  //                                       mapping names (extra subject,
  //                                       thumbprint): the caller is anonymous
  //   tls.message_refused        warning  a PDU failed to authenticate
  // Never a key or record byte.
  const Logger* logger = nullptr;
};

struct TlsClientOptions {
  // PEM CA certificates the server's certificate must chain to (required:
  // a client that cannot verify the server refuses to start).
  std::string ca_file;
  // Optional client certificate (with chain) and key, PEM.
  std::string certificate_file;
  std::string key_file;
};

// A client certificate for one context (rpc::StartParams::credentials),
// overriding the package's.
class TlsCredentials : public rpc::Credentials {
 public:
  TlsCredentials(std::string certificate_file, std::string key_file)
      : certificate_file_(std::move(certificate_file)), key_file_(std::move(key_file)) {}
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_SCHANNEL; }
  const std::string& certificate_file() const { return certificate_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  std::string certificate_file_;
  std::string key_file_;
};

// The auth_value size for a stub of `stub_length` bytes at `level`
// (the formulas above); 0 below PKT.
size_t TlsSignatureSize(security::AuthnLevel level, size_t stub_length);

// E_INVALIDARG when cloaking is asked together with TLS (R35, R104), for the
// COM layer's CoInitializeSecurity and SetBlanket.
Status RejectCloaking(uint8_t authn_svc, bool cloaking);

// The server's contexts report a caller's verified certificate as
// TlsPeerCertificate (SecurityContext::Evidence; principal_names.h), which
// the COM layer's QueryBlanket reads (R52).
//
// Thread-safety: Start may be called from many threads at once (the
// SSL_CTX is shared read-only). A context is used by one thread at a time
// but takes its own lock around the TLS state, so that a response sealed
// on one thread and a request verified on another cannot race.
//
// Features: kFeatureSign, kFeatureSeal, kFeatureMutualAuth (the server
// always proves its certificate), kFeatureSessionKey (an exporter value,
// RFC 8446 7.5, label "EXPORTER-comsec-session-key"). kFeatureDelegate and
// kFeatureIdentify are refused in Start (SEC_E_UNSUPPORTED_FUNCTION).
class TlsPackage : public rpc::SecurityPackage {
 public:
  // Loads the certificate, key and CA file; SEC_E_NO_CREDENTIALS naming
  // the file that cannot be read or the key that does not match.
  static Result<std::unique_ptr<TlsPackage>> CreateServer(TlsServerOptions options);
  static Result<std::unique_ptr<TlsPackage>> CreateClient(TlsClientOptions options);
  ~TlsPackage() override;

  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_SCHANNEL; }
  const char* name() const override { return "TLS"; }
  Result<std::unique_ptr<rpc::SecurityContext>> Start(const rpc::StartParams& params) override;

  // This package's own Schannel principal names (R52), from its
  // certificate and the chain its certificate file carries: what a COM
  // server advertises for RPC_C_AUTHN_GSS_SCHANNEL (msstd, or fullsic with
  // EOAC_MAKE_FULLSIC). SEC_E_NO_CREDENTIALS for a client package without
  // a certificate; RPC_E_INVALID_STD_NAME for one without an msstd name.
  Result<SchannelPrincipalNames> PrincipalNames() const;

  struct State;

 private:
  explicit TlsPackage(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace comsec::auth::tls
