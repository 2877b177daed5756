// The Kerberos v5 security package (RPC_C_AUTHN_GSS_KERBEROS, 16) through
// MIT GSSAPI ([MS-RPCE] 3.3.1.5.2, [MS-KILE] 3.4.5, RFC 4121), in DCE style
// (GSS_C_DCE_STYLE) with mutual authentication: the client's AP-REQ in the
// bind, the server's AP-REP in the bind_ack, the client's AP-REP in auth3.
//
// Per-PDU protection, as Windows and Samba do it:
//   PKT_INTEGRITY: a MIC token (28 bytes for AES) from gss_get_mic_iov over
//     the header, stub with its padding, and sec_trailer when header signing
//     (PFC_SUPPORT_HEADER_SIGN) was negotiated, else over the stub alone;
//   PKT_PRIVACY: gss_wrap_iov with SIGN_ONLY(header) | DATA(stub) |
//     SIGN_ONLY(sec_trailer) | HEADER(auth_value): the stub is encrypted in
//     place and the whole wrap token (76 bytes for AES, RRC 28) is the
//     auth_value; without header signing the SIGN_ONLY parts are left out.
// Any supplementary status (duplicate, old, unsequenced, gap) fails the
// PDU: MIT reports a replayed PDU only as a supplementary bit
// (reference/kerberos/NOTES.md §0.2).
//
// The server accepts with the keys of a keytab (a file path, or
// KRB5_KTNAME's), for the SPNs it is configured with. The caller's
// principal becomes a token by auth/gssapi/principal_mapping.h's rule
// (PAC, then the store's principal map, then auth_to_local). The client takes
// its tickets from a ccache (KRB5CCNAME by default) or gets them with a
// keytab, and authenticates the server named by StartParams.target_name.
//
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "comsec/auth/gssapi/principal_mapping.h"
#include "comsec/base/log.h"
#include "comsec/rpc/security_package.h"

namespace comsec::auth::gssapi {

struct KerberosServerOptions {
  // The keytab holding the server's keys ("/etc/comsec/rpc.keytab" or
  // "FILE:..."); empty: KRB5_KTNAME, else the system's default keytab.
  std::string keytab;
  // The service principals this server answers to ("RPCSS/host",
  // "host/host.example.com@REALM"; without a realm, the default realm's).
  // Empty: any principal the keytab has keys for. A client that asked for
  // another one is refused.
  std::vector<std::string> spns;
  // Gets one kerberos.logon_refused event for every refused logon (peer,
  // level, reason, HRESULT; never a key or token byte). Not owned; null:
  // no logging.
  const Logger* logger = nullptr;
  // The store's principal → account table (rule 2 of
  // auth/gssapi/principal_mapping.h, which says how the caller's principal
  // becomes a token). Not owned; must outlive the package; null: no table.
  PrincipalMap* principal_map = nullptr;
  // Kerberos-only constrained delegation (S4U2Proxy; [MS-SFU] 3.1.5.2,
  // reference/kerberos/NOTES.md §4.3). When set, a client that forwarded no
  // TGT but whose service ticket is forwardable (and who did not ask for
  // identification only) leaves its ticket with the call as evidence:
  // Delegated() is then a constrained KerberosDelegatedCredentials, and an
  // onward call with KerberosCredentials::FromDelegated asks the KDC for a
  // ticket as the client to the onward target (S4U2Proxy), which the KDC
  // grants only to targets our SPN may delegate to (MIT: the LDAP KDB's
  // krbAllowedToDelegateTo; AD: msDS-AllowedToDelegateTo). The server's
  // own TGT, which that request needs, is got with the keytab on the first
  // such onward call. Off: no evidence is kept (the default; it costs
  // nothing per logon beyond the re-read delegation already does).
  bool constrained_delegation = false;
};

struct KerberosClientCredentials {
  // A ccache name ("FILE:/tmp/krb5cc_1000", "MEMORY:x"); empty: the
  // default (KRB5CCNAME).
  std::string ccache;
  // Or: a client keytab and the principal whose keys it holds; the TGT it
  // yields is kept in a MEMORY ccache of these credentials.
  std::string keytab;
  std::string principal;
};

// What a client delegated to one of our server contexts, as
// rpc::CallSecurity::delegated carries it to the call: a MEMORY ccache of
// this process, destroyed with the last reference (the context's, and any
// onward call's through KerberosCredentials::FromDelegated). Either
//   - unconstrained: the client's forwarded TGT; or
//   - constrained (KerberosServerOptions::constrained_delegation): the
//     client's forwardable ticket to our SPN (the evidence ticket) with the
//     ccache config entry "proxy_impersonator" naming that SPN, as MIT's
//     kg_compose_deleg_cred() lays out a proxy credential (MIT drops it under
//     DCE style, NOTES.md §0.1); the SPN's own TGT is added from `keytab` by
//     AddImpersonatorTgt before the first onward use. GSS then does S4U2Proxy
//     for the onward target.
//
// Thread-safety: the names are immutable; AddImpersonatorTgt may be called
// from several threads (once effective); the ccache may be used by several
// contexts.
class KerberosDelegatedCredentials : public rpc::DelegatedCredentials {
 public:
  KerberosDelegatedCredentials(std::string principal, std::string ccache)
      : principal_(std::move(principal)), ccache_(std::move(ccache)) {}
  // Constrained: `impersonator` is our SPN the evidence ticket is for,
  // `keytab` where its keys are ("" for the default keytab).
  KerberosDelegatedCredentials(std::string principal, std::string ccache,
                               std::string impersonator, std::string keytab)
      : principal_(std::move(principal)),
        ccache_(std::move(ccache)),
        impersonator_(std::move(impersonator)),
        keytab_(std::move(keytab)) {}
  ~KerberosDelegatedCredentials() override;
  KerberosDelegatedCredentials(const KerberosDelegatedCredentials&) = delete;
  KerberosDelegatedCredentials& operator=(const KerberosDelegatedCredentials&) = delete;
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_KERBEROS; }
  // The client's principal ("alice@REALM").
  std::string principal() const override { return principal_; }
  // "MEMORY:..."
  const std::string& ccache() const { return ccache_; }
  // Constrained delegation: the evidence ticket only, no TGT of the client.
  bool constrained() const { return !impersonator_.empty(); }
  // The SPN that acts for the client ("RPCSS/host@REALM"); empty when
  // unconstrained.
  const std::string& impersonator() const { return impersonator_; }
  // Constrained: gets the impersonator's own TGT with the keytab into the
  // ccache (one AS exchange, on the first call only). SEC_E_NO_CREDENTIALS
  // with the KDC's or keytab's reason when it cannot.
  Status AddImpersonatorTgt() const;

 private:
  std::string principal_;
  std::string ccache_;
  std::string impersonator_;
  std::string keytab_;
  mutable std::mutex mu_;
  mutable bool has_tgt_ = false;  // guarded by mu_
};

// Kerberos credentials for one client context (rpc::StartParams::
// credentials). With a keytab, the tickets are kept in a MEMORY ccache
// that lives as long as this object.
class KerberosCredentials : public rpc::Credentials {
 public:
  explicit KerberosCredentials(KerberosClientCredentials credentials);
  // Credentials that act as the client who delegated `delegated` to us
  // (a server calling onward as its caller: the double hop), keeping its
  // ccache alive. SEC_E_UNKNOWN_CREDENTIALS for another package's. For
  // constrained ones, first AddImpersonatorTgt (its failure is returned);
  // the KDC's refusal of the onward target comes in that call's handshake
  // (SEC_E_UNSUPPORTED_FUNCTION, see KerberosPackage).
  static Result<std::shared_ptr<const KerberosCredentials>> FromDelegated(
      std::shared_ptr<const rpc::DelegatedCredentials> delegated);
  ~KerberosCredentials() override;
  KerberosCredentials(const KerberosCredentials&) = delete;
  KerberosCredentials& operator=(const KerberosCredentials&) = delete;
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_KERBEROS; }
  const KerberosClientCredentials& get() const { return credentials_; }
  // The ccache that keytab credentials fill; empty for ccache credentials.
  const std::string& memory_ccache() const { return memory_ccache_; }
  // From constrained delegated credentials: the SPN acting for the client
  // (KerberosDelegatedCredentials::impersonator); else empty.
  std::string impersonator() const;

 private:
  KerberosClientCredentials credentials_;
  std::string memory_ccache_;
  std::shared_ptr<const rpc::DelegatedCredentials> delegated_;
};

// Thread-safety: Start may be called from many connection threads at once;
// each context is used by one thread at a time.
//
// Features: kFeatureSign, kFeatureSeal as the context's flags allow,
// kFeatureMutualAuth (always required: a context without it fails),
// kFeatureDceStyle, kFeatureSessionKey, kFeatureIdentify when the client
// asked for identification only (GSS_C_IDENTIFY_FLAG; the server's
// imp_level() is then IDENTIFY), kFeatureDelegate on a client whose TGT was
// forwarded (RPC_C_IMP_LEVEL_DELEGATE asks with GSS_C_DELEG_POLICY_FLAG:
// only to servers the KDC marks ok-as-delegate, as Windows does; a client
// whose features() lack it after the handshake did not delegate) and on a
// server that recovered it.
//
// Delegation under DCE style: MIT's acceptor drops the forwarded TGT
// (kg_accept_dce: "we don't support DCE credential delegation yet";
// NOTES.md §0.1), so the server re-reads the first AP-REQ with libkrb5
// once the handshake completed: krb5_rd_req with the same keytab and no
// replay cache, the authenticator's 0x8003 checksum (gss_checksum.h) with
// GSS_C_DELEG_FLAG, krb5_rd_cred on its KRB-CRED, and checks that the
// ticket's client, the authenticated name and the forwarded TGT's client
// are one principal and that the TGT is a krbtgt. The TGT goes to a MEMORY
// ccache (KerberosDelegatedCredentials, Delegated()); imp_level() is then
// DELEGATE. A recovery that fails or does not check out is logged
// (kerberos.delegation_refused, warning) and the logon continues without
// delegation. Cost: one more decryption of ticket and authenticator per
// logon (about 0.1-0.2 ms; NOTES.md §0.1).
//
// Constrained delegation (KerberosServerOptions::constrained_delegation):
// when that re-read finds no forwarded TGT, the client did not ask for
// IDENTIFY, and the ticket is forwardable, the server keeps the ticket as
// evidence (the ticket bytes are cut from the AP-REQ by ApReqTicket and
// checked to be the ticket libkrb5 decrypted). The context's imp_level()
// stays IMPERSONATE and kFeatureDelegate stays clear (the client delegated
// nothing; Windows's constrained delegation works from an impersonation
// token too). A client context whose credentials came from such evidence
// and whose S4U2Proxy the KDC refuses (KDC_ERR_BADOPTION: the target is
// not among those our SPN may delegate to, or it may delegate to none)
// fails with SEC_E_UNSUPPORTED_FUNCTION, what Windows returns for the
// KDC's STATUS_NOT_SUPPORTED ([MS-SFU] 3.2.5.2.1), with MIT's text.
class KerberosPackage : public rpc::SecurityPackage {
 public:
  // A server package: checks that the keytab can be read and holds keys
  // for each SPN (SEC_E_NO_CREDENTIALS naming what is missing).
  static Result<std::unique_ptr<KerberosPackage>> CreateServer(KerberosServerOptions options);
  // A client package whose default credentials are `client` (the default
  // ccache when empty). `logger` (not owned; may be null) gets one
  // kerberos.constrained_delegation_refused event (warning) for every
  // onward call the KDC refuses S4U2Proxy for.
  explicit KerberosPackage(KerberosClientCredentials client = {}, const Logger* logger = nullptr);
  ~KerberosPackage() override;

  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_KERBEROS; }
  const char* name() const override { return "Kerberos"; }
  Result<std::unique_ptr<rpc::SecurityContext>> Start(const rpc::StartParams& params) override;

 private:
  struct Acceptor;
  explicit KerberosPackage(std::unique_ptr<Acceptor> acceptor);

  std::unique_ptr<Acceptor> acceptor_;
  std::shared_ptr<const KerberosCredentials> client_;
  const Logger* client_logger_ = nullptr;
};

}  // namespace comsec::auth::gssapi
