// The Negotiate security package (RPC_C_AUTHN_GSS_NEGOTIATE, 9): SPNEGO
// (RFC 4178, [MS-SPNG]) choosing Kerberos, or NTLM when Kerberos is not
// available to both sides, inside DCE/RPC's bind ([MS-RPCE] 3.3.1.5.2).
//
// Our own wrapper, not MIT's SPNEGO mechanism: the inner contexts are the
// comsec Kerberos package's (DCE style, raw AP-REQ, header-signed IOV
// protection, supplementary statuses refused) and comsec's own NTLM
// package (gss-ntlmssp, MIT's only NTLM, cannot protect DCE/RPC PDUs:
// reference/kerberos/NOTES.md §5). Wrapping them keeps one behaviour per
// mechanism whether it is reached directly (auth_type 16 or 10) or through
// Negotiate, and lets us map the exchange onto PDUs exactly:
//
//   bind               NegTokenInit { mechTypes, mechToken: the first
//                      mechanism's first token (AP-REQ or NEGOTIATE) }
//   bind_ack           NegTokenResp { accept-incomplete, supportedMech,
//                      responseToken (AP-REP or CHALLENGE) }
//   alter_context      NegTokenResp { responseToken (the client's AP-REP or
//                      AUTHENTICATE), mechListMIC }
//   alter_context_resp NegTokenResp { accept-completed, mechListMIC }
//
// When the server picks a mechanism other than the client's first (a
// client with a Kerberos ticket, a server without a keytab), the bind_ack
// carries no token and the client starts that mechanism in an extra
// alter_context. The client lists Kerberos (the MS OID 1.2.840.48018.1.2.2
// first, as Windows does, then the RFC OID) only when it holds a ticket for
// the target, and NTLM when it has NTLM credentials; the server accepts
// either Kerberos OID and answers with the one the client wrote.
//
// mechListMIC (RFC 4178 5) binds the list to the authenticated context:
// each side signs the DER of mechTypes as the client sent it with the
// inner context's MIC (SecurityContext::MakeMic), and both MICs are
// required, in both directions and for both mechanisms — stricter than RFC
// 4178, which needs them only when the first mechanism was not chosen, so
// a list altered in transit (a downgrade to NTLM) is caught whatever the
// server chose. TODO(conformance): clients that send no mechListMIC (old
// SSPI with NTLM without a MIC, impacket 0.10's three-leg Negotiate) are
// refused.
//
// After the handshake every PDU is protected by the chosen inner context;
// features(), PeerName(), PeerToken(), SessionKey() and imp_level() are its.
//
// Server events (ServerOptions::logger; never a key or token byte):
//   negotiate.logon_refused  warning  a server context refused the client
//                                     (peer, level, mechanism, HRESULT,
//                                     reason: malformed_token,
//                                     no_common_mechanism, missing_mech_list_mic,
//                                     bad_mech_list_mic, or mechanism_refused
//                                     for the inner package's refusal, which
//                                     that package logs too).
#pragma once

#include <memory>
#include <string>

#include "comsec/base/log.h"
#include "comsec/rpc/security_package.h"

namespace comsec::auth::negotiate {

struct NegotiateOptions {
  // The inner packages (not owned; they must outlive this one): their
  // server side for a server, their client side (with their default
  // credentials) for a client. Null: that mechanism is not offered.
  rpc::SecurityPackage* kerberos = nullptr;
  rpc::SecurityPackage* ntlm = nullptr;
  // Client: list the MS Kerberos OID before the RFC one, as Windows does.
  bool offer_ms_kerberos_oid = true;
  // Server: negotiate.logon_refused events. Not owned; null: none.
  const Logger* logger = nullptr;
};

// Credentials for one client context: per mechanism, what the inner
// package gets as StartParams::credentials. A null member leaves that
// mechanism out (not: its package's default).
class NegotiateCredentials : public rpc::Credentials {
 public:
  NegotiateCredentials(std::shared_ptr<const rpc::Credentials> kerberos,
                       std::shared_ptr<const rpc::Credentials> ntlm)
      : kerberos_(std::move(kerberos)), ntlm_(std::move(ntlm)) {}
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_NEGOTIATE; }
  const std::shared_ptr<const rpc::Credentials>& kerberos() const { return kerberos_; }
  const std::shared_ptr<const rpc::Credentials>& ntlm() const { return ntlm_; }

 private:
  std::shared_ptr<const rpc::Credentials> kerberos_;
  std::shared_ptr<const rpc::Credentials> ntlm_;
};

// Thread-safety: Start may be called from many connection threads at once
// (the inner packages promise the same); each context is used by one
// thread at a time.
class NegotiatePackage : public rpc::SecurityPackage {
 public:
  explicit NegotiatePackage(NegotiateOptions options) : options_(options) {}

  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_NEGOTIATE; }
  const char* name() const override { return "Negotiate"; }
  // SEC_E_NO_CREDENTIALS when neither inner package is there; a client
  // whose mechanisms all fail to start fails in its first Update, naming
  // each mechanism's reason.
  Result<std::unique_ptr<rpc::SecurityContext>> Start(const rpc::StartParams& params) override;

 private:
  NegotiateOptions options_;
};

}  // namespace comsec::auth::negotiate
