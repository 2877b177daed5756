#include "comsec/auth/gssapi/kerberos_package.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

#include "comsec/auth/gssapi/gss_checksum.h"
#include "comsec/auth/gssapi/gss_status.h"
#include "comsec/base/hex.h"
#include "comsec/base/log_escape.h"
#include "comsec/rpc/pdu.h"
#include "comsec/security/unix_identity.h"

namespace comsec::auth::gssapi {
namespace {

// The krb5 mechanism only (never SPNEGO's choice: auth_type 16 is raw
// krb5).
gss_OID_set_desc Krb5MechSet() { return gss_OID_set_desc{1, gss_mech_krb5}; }

// Every name comsec passes to GSS is a Kerberos principal
// ("RPCSS/host[@REALM]"), as Windows writes SPNs; without a realm MIT adds
// the default realm.
Status ImportPrincipal(const std::string& text, GssName* name) {
  gss_buffer_desc buffer{text.size(), const_cast<char*>(text.data())};
  OM_uint32 minor = 0;
  OM_uint32 major = gss_import_name(&minor, &buffer, GSS_KRB5_NT_PRINCIPAL_NAME, name->out());
  if (major != GSS_S_COMPLETE) {
    return GssFailure(SEC_E_TARGET_UNKNOWN, "'" + text + "' is not a Kerberos principal name",
                      major, minor);
  }
  return Status::Ok();
}

// The principal with its realm, as the KDC knows it ("RPCSS/localhost@R").
Result<std::string> CanonicalPrincipal(const std::string& text) {
  GssName name;
  COMSEC_RETURN_IF_ERROR(ImportPrincipal(text, &name));
  GssName canonical;
  OM_uint32 minor = 0;
  OM_uint32 major = gss_canonicalize_name(&minor, name.get(), gss_mech_krb5, canonical.out());
  if (major != GSS_S_COMPLETE) {
    return GssFailure(SEC_E_TARGET_UNKNOWN, "canonicalizing '" + text + "'", major, minor);
  }
  return canonical.Display();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

gss_iov_buffer_desc Iov(OM_uint32 type, std::span<uint8_t> bytes) {
  return gss_iov_buffer_desc{type, {bytes.size(), bytes.data()}};
}

// ==== What client and server contexts share =================================
// Invariant: ctx_ is a complete krb5 context once complete_ is set, and
// flags_ are its ret_flags, checked against the level by Established().

class KerberosContext : public rpc::SecurityContext {
 public:
  explicit KerberosContext(security::AuthnLevel level) : level_(level) {}

  bool IsComplete() const override { return complete_; }

  uint32_t features() const override {
    if (!complete_) return 0;
    uint32_t f = rpc::kFeatureSessionKey;
    if (flags_ & GSS_C_INTEG_FLAG) f |= rpc::kFeatureSign;
    if (flags_ & GSS_C_CONF_FLAG) f |= rpc::kFeatureSeal;
    if (flags_ & GSS_C_MUTUAL_FLAG) f |= rpc::kFeatureMutualAuth;
    if (flags_ & GSS_C_DCE_STYLE) f |= rpc::kFeatureDceStyle;
    if (flags_ & GSS_C_IDENTIFY_FLAG) f |= rpc::kFeatureIdentify;
    if (flags_ & GSS_C_DELEG_FLAG) f |= rpc::kFeatureDelegate;
    return f;
  }

  // PKT_PRIVACY: the wrap token's size for this stub (gss_wrap_iov_length
  // with the layout Protect uses; the SIGN_ONLY parts do not change it).
  // Below: the MIC token's.
  // PKT_PRIVACY: a wrap token whose EC (filler) is anywhere from 0 to what
  // we send (RFC 4121 4.2.4: the sender chooses EC; MIT and Windows send
  // 16 for AES, 76 bytes, impacket 0, 60 bytes: interop.impacket_kerberos).
  // gss_unwrap_iov then checks the token. PKT_INTEGRITY: the MIC's size.
  bool AcceptsSignatureSize(size_t signature_length, size_t stub_length) const override {
    const size_t ours = SignatureSize(stub_length);
    if (level_ >= security::AuthnLevel::kPktPrivacy && ours >= 16) {
      return signature_length >= ours - 16 && signature_length <= ours;
    }
    return signature_length == ours;
  }
  size_t SignatureSize(size_t stub_length) const override {
    if (!complete_) return 0;
    OM_uint32 minor = 0, major = 0;
    if (level_ >= security::AuthnLevel::kPktPrivacy) {
      gss_iov_buffer_desc iov[2] = {{GSS_IOV_BUFFER_TYPE_DATA, {stub_length, nullptr}},
                                    {GSS_IOV_BUFFER_TYPE_HEADER, {0, nullptr}}};
      int conf = 0;
      major = gss_wrap_iov_length(&minor, ctx_.get(), 1, GSS_C_QOP_DEFAULT, &conf, iov, 2);
      return major == GSS_S_COMPLETE ? iov[1].buffer.length : 0;
    }
    gss_iov_buffer_desc iov[2] = {{GSS_IOV_BUFFER_TYPE_DATA, {stub_length, nullptr}},
                                  {GSS_IOV_BUFFER_TYPE_MIC_TOKEN, {0, nullptr}}};
    major = gss_get_mic_iov_length(&minor, ctx_.get(), GSS_C_QOP_DEFAULT, iov, 2);
    return major == GSS_S_COMPLETE ? iov[1].buffer.length : 0;
  }

  Status Protect(const rpc::PduRegion& r) override {
    COMSEC_RETURN_IF_ERROR(CheckRegion(r, SEC_E_INTERNAL_ERROR));
    gss_iov_buffer_desc iov[4];
    OM_uint32 minor = 0, major = 0;
    if (r.level >= security::AuthnLevel::kPktPrivacy) {
      const int n = Layout(r, iov, GSS_IOV_BUFFER_TYPE_HEADER, r.signature);
      int conf = 0;
      major = gss_wrap_iov(&minor, ctx_.get(), 1, GSS_C_QOP_DEFAULT, &conf, iov, n);
      if (major != GSS_S_COMPLETE) {
        return GssFailure(SEC_E_INTERNAL_ERROR, "sealing a PDU", major, minor);
      }
      if (conf != 1 || iov[n - 1].buffer.length != r.signature.size()) {
        return Status(SEC_E_INTERNAL_ERROR,
                      "Kerberos sealed a PDU without confidentiality or with a token of " +
                          std::to_string(iov[n - 1].buffer.length) + " bytes where " +
                          std::to_string(r.signature.size()) + " were reserved");
      }
      return Status::Ok();
    }
    const int n = Layout(r, iov, GSS_IOV_BUFFER_TYPE_MIC_TOKEN | GSS_IOV_BUFFER_FLAG_ALLOCATE, {});
    major = gss_get_mic_iov(&minor, ctx_.get(), GSS_C_QOP_DEFAULT, iov, n);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_INTERNAL_ERROR, "signing a PDU", major, minor);
    }
    const gss_buffer_desc& mic = iov[n - 1].buffer;
    Status s = Status::Ok();
    if (mic.length != r.signature.size()) {
      s = Status(SEC_E_INTERNAL_ERROR, "Kerberos made a MIC of " + std::to_string(mic.length) +
                                           " bytes where " + std::to_string(r.signature.size()) +
                                           " were reserved");
    } else {
      std::memcpy(r.signature.data(), mic.value, mic.length);
    }
    gss_release_iov_buffer(&minor, iov, n);
    return s;
  }

  Status Verify(const rpc::PduRegion& r) override {
    COMSEC_RETURN_IF_ERROR(CheckRegion(r, SEC_E_MESSAGE_ALTERED));
    gss_iov_buffer_desc iov[4];
    OM_uint32 minor = 0, major = 0;
    if (r.level >= security::AuthnLevel::kPktPrivacy) {
      const int n = Layout(r, iov, GSS_IOV_BUFFER_TYPE_HEADER, r.signature);
      int conf = 0;
      gss_qop_t qop = 0;
      major = gss_unwrap_iov(&minor, ctx_.get(), &conf, &qop, iov, n);
      // Anything but COMPLETE, supplementary bits included, refuses it.
      if (major != GSS_S_COMPLETE) return GssFailure(SEC_E_MESSAGE_ALTERED, "unsealing a PDU", major, minor);
      if (conf != 1) {
        return Status(SEC_E_MESSAGE_ALTERED,
                      "a PKT_PRIVACY PDU whose Kerberos token is not encrypted");
      }
      return Status::Ok();
    }
    const int n = Layout(r, iov, GSS_IOV_BUFFER_TYPE_MIC_TOKEN, r.signature);
    gss_qop_t qop = 0;
    major = gss_verify_mic_iov(&minor, ctx_.get(), &qop, iov, n);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_MESSAGE_ALTERED, "verifying a PDU's signature", major, minor);
    }
    return Status::Ok();
  }

  // SPNEGO's mechListMIC (auth/negotiate): gss_get_mic / gss_verify_mic,
  // each taking its direction's next sequence number; any supplementary
  // status fails the check, as for PDUs.
  Result<std::vector<uint8_t>> MakeMic(std::span<const uint8_t> message) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "Kerberos handshake not complete");
    gss_buffer_desc in{message.size(), const_cast<uint8_t*>(message.data())};
    GssBuffer mic;
    OM_uint32 minor = 0;
    OM_uint32 major = gss_get_mic(&minor, ctx_.get(), GSS_C_QOP_DEFAULT, &in, mic.out());
    if (major != GSS_S_COMPLETE) return GssFailure(SEC_E_INTERNAL_ERROR, "making a MIC", major, minor);
    const auto* bytes = static_cast<const uint8_t*>(mic.get().value);
    return std::vector<uint8_t>(bytes, bytes + mic.get().length);
  }
  Status VerifyMic(std::span<const uint8_t> message, std::span<const uint8_t> mic) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "Kerberos handshake not complete");
    gss_buffer_desc in{message.size(), const_cast<uint8_t*>(message.data())};
    gss_buffer_desc token{mic.size(), const_cast<uint8_t*>(mic.data())};
    OM_uint32 minor = 0;
    gss_qop_t qop = 0;
    OM_uint32 major = gss_verify_mic(&minor, ctx_.get(), &in, &token, &qop);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_MESSAGE_ALTERED, "verifying a MIC", major, minor);
    }
    return Status::Ok();
  }

  // The SSPI session key (GSS_C_INQ_SSPI_SESSION_KEY): the context's
  // subkey, 32 bytes for AES-256, of which the first 16 are given, as
  // Windows gives the first 16 bytes to SMB and DCOM.
  Result<SecretArray<16>> SessionKey() const override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Kerberos handshake is not complete");
    OM_uint32 minor = 0;
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    OM_uint32 major =
        gss_inquire_sec_context_by_oid(&minor, ctx_.get(), GSS_C_INQ_SSPI_SESSION_KEY, &set);
    if (major != GSS_S_COMPLETE || set == GSS_C_NO_BUFFER_SET || set->count < 1) {
      if (set != GSS_C_NO_BUFFER_SET) gss_release_buffer_set(&minor, &set);
      return GssFailure(SEC_E_INTERNAL_ERROR, "reading the session key", major, minor);
    }
    SecretArray<16> key{};
    const gss_buffer_desc& k = set->elements[0];
    std::memcpy(key.data(), k.value, std::min<size_t>(k.length, key.size()));
    WipeSecret(k.value, k.length);
    gss_release_buffer_set(&minor, &set);
    return key;
  }

 protected:
  // Checks the established context against the level (R4: CALL needs
  // integrity like PKT) and records it.
  Status Established(OM_uint32 flags, const char* who) {
    auto missing = [&](const char* what) {
      return Status(SEC_E_ALGORITHM_MISMATCH,
                    std::string(who) + " did not agree to " + what +
                        ", which authentication level " + std::to_string(security::ToNumber(level_)) +
                        " needs; refusing rather than continuing unprotected");
    };
    if (!(flags & GSS_C_MUTUAL_FLAG)) return missing("mutual authentication");
    if (level_ >= security::AuthnLevel::kCall && !(flags & GSS_C_INTEG_FLAG)) return missing("integrity");
    if (level_ >= security::AuthnLevel::kPktPrivacy && !(flags & GSS_C_CONF_FLAG)) {
      return missing("confidentiality");
    }
    if (level_ >= security::AuthnLevel::kCall &&
        (flags & (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG)) !=
            (GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG)) {
      return missing("replay and sequence detection");
    }
    flags_ = flags;
    complete_ = true;
    return Status::Ok();
  }

  GssContext ctx_;
  security::AuthnLevel level_;
  OM_uint32 flags_ = 0;
  bool complete_ = false;
  bool failed_ = false;

 private:
  Status CheckRegion(const rpc::PduRegion& r, HResult code) const {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "Kerberos handshake not complete");
    if (r.stub_begin > r.stub_end || r.stub_end > r.pdu.size() ||
        r.pdu.size() - r.stub_end < rpc::kSecTrailerSize || r.signature.empty()) {
      return Status(code, "the PDU's Kerberos verifier is out of place");
    }
    return Status::Ok();
  }

  // SIGN_ONLY(header and body prefix) | DATA(stub with padding) |
  // SIGN_ONLY(sec_trailer) | token, the first and third only with header
  // signing (Samba's gensec_gssapi_{seal,sign}_packet do the same).
  // Returns the number of buffers; the token is the last.
  static int Layout(const rpc::PduRegion& r, gss_iov_buffer_desc* iov, OM_uint32 token_type,
                    std::span<uint8_t> token) {
    int n = 0;
    if (r.header_signing) iov[n++] = Iov(GSS_IOV_BUFFER_TYPE_SIGN_ONLY, r.pdu.first(r.stub_begin));
    iov[n++] = Iov(GSS_IOV_BUFFER_TYPE_DATA,
                   r.pdu.subspan(r.stub_begin, r.stub_end - r.stub_begin));
    if (r.header_signing) {
      iov[n++] = Iov(GSS_IOV_BUFFER_TYPE_SIGN_ONLY,
                     r.pdu.subspan(r.stub_end, rpc::kSecTrailerSize));
    }
    iov[n++] = Iov(token_type, token);
    return n;
  }
};

}  // namespace

// ==== Server ================================================================

struct KerberosPackage::Acceptor {
  KerberosServerOptions options;
  // Accepts for any principal of the keytab; the SPN check is ours.
  GssCred cred;
  // options.spns with their realms.
  std::vector<std::string> spns;
};

namespace {

// The libkrb5 objects one recovery holds, released in reverse order.
struct Krb5Recovery {
  krb5_context ctx = nullptr;
  krb5_auth_context ac = nullptr;
  krb5_keytab kt = nullptr;
  krb5_ticket* ticket = nullptr;
  krb5_authenticator* authenticator = nullptr;
  krb5_creds** creds = nullptr;
  ~Krb5Recovery() {
    if (!ctx) return;
    if (creds) krb5_free_tgt_creds(ctx, creds);
    if (authenticator) krb5_free_authenticator(ctx, authenticator);
    if (ticket) krb5_free_ticket(ctx, ticket);
    if (kt) krb5_kt_close(ctx, kt);
    if (ac) krb5_auth_con_free(ctx, ac);
    krb5_free_context(ctx);
  }
  Status Failure(krb5_error_code code, const std::string& what) const {
    const char* m = krb5_get_error_message(ctx, code);
    Status s(SEC_E_INVALID_TOKEN, what + ": " + (m ? m : "error " + std::to_string(code)));
    krb5_free_error_message(ctx, m);
    return s;
  }
  std::string Unparse(krb5_const_principal p) const {
    char* text = nullptr;
    if (krb5_unparse_name(ctx, p, &text) != 0) return {};
    std::string out(text);
    krb5_free_unparsed_name(ctx, text);
    return out;
  }
};

Result<std::shared_ptr<const KerberosDelegatedCredentials>> KeepEvidence(
    const Krb5Recovery& k, std::span<const uint8_t> ap_req, const std::string& keytab,
    const std::string& client);

// The TGT `client` forwarded in its first AP-REQ (see the header:
// delegation under DCE style); null when it forwarded none. With
// `evidence` (constrained delegation allowed, the client not at IDENTIFY):
// a client that forwarded no TGT leaves its forwardable ticket as evidence
// (KeepEvidence); null when it is not forwardable.
Result<std::shared_ptr<const KerberosDelegatedCredentials>> RecoverDelegation(
    std::span<const uint8_t> ap_req, const std::string& keytab, const std::string& client,
    bool evidence) {
  Krb5Recovery k;
  if (krb5_error_code e = krb5_init_context(&k.ctx)) {
    return Status(SEC_E_INTERNAL_ERROR, "krb5_init_context failed: " + std::to_string(e));
  }
  krb5_error_code e = keytab.empty() ? krb5_kt_default(k.ctx, &k.kt)
                                     : krb5_kt_resolve(k.ctx, keytab.c_str(), &k.kt);
  if (e) return k.Failure(e, "opening the keytab");
  if ((e = krb5_auth_con_init(k.ctx, &k.ac))) return k.Failure(e, "krb5_auth_con_init");
  // No replay cache: GSS already accepted (and recorded) this AP-REQ.
  krb5_auth_con_setflags(k.ctx, k.ac, 0);
  krb5_data data{};
  data.length = static_cast<unsigned int>(ap_req.size());
  data.data = reinterpret_cast<char*>(const_cast<uint8_t*>(ap_req.data()));
  if ((e = krb5_rd_req(k.ctx, &k.ac, &data, nullptr, k.kt, nullptr, &k.ticket))) {
    return k.Failure(e, "re-reading the AP-REQ");
  }
  if ((e = krb5_auth_con_getauthenticator(k.ctx, k.ac, &k.authenticator))) {
    return k.Failure(e, "reading the authenticator");
  }
  const krb5_checksum* cksum = k.authenticator->checksum;
  if (cksum == nullptr || cksum->checksum_type != kGssChecksumType) {
    return Status(SEC_E_INVALID_TOKEN, "the authenticator has no GSS checksum (type 0x8003)");
  }
  COMSEC_ASSIGN_OR_RETURN(GssChecksum gss,
                          ParseGssChecksum(std::span<const uint8_t>(cksum->contents, cksum->length)));
  if (gss.delegation.empty() && !evidence) return std::shared_ptr<const KerberosDelegatedCredentials>();
  const std::string ticket_client = k.Unparse(k.ticket->enc_part2->client);
  if (ticket_client != client) {
    return Status(SEC_E_WRONG_PRINCIPAL, "the ticket's client " + EscapeForLog(ticket_client) +
                                             " is not the authenticated " + EscapeForLog(client));
  }
  if (gss.delegation.empty()) return KeepEvidence(k, ap_req, keytab, client);
  krb5_data cred{};
  cred.length = static_cast<unsigned int>(gss.delegation.size());
  cred.data = reinterpret_cast<char*>(const_cast<uint8_t*>(gss.delegation.data()));
  if ((e = krb5_rd_cred(k.ctx, k.ac, &cred, &k.creds, nullptr))) {
    return k.Failure(e, "reading the forwarded KRB-CRED");
  }
  if (k.creds == nullptr || k.creds[0] == nullptr || k.creds[1] != nullptr) {
    return Status(SEC_E_INVALID_TOKEN, "the KRB-CRED does not hold exactly one ticket");
  }
  krb5_creds* tgt = k.creds[0];
  const std::string tgt_client = k.Unparse(tgt->client);
  if (tgt_client != client) {
    return Status(SEC_E_WRONG_PRINCIPAL, "the forwarded ticket's client " +
                                             EscapeForLog(tgt_client) + " is not the authenticated " +
                                             EscapeForLog(client));
  }
  const krb5_principal_data* server = tgt->server;
  const bool is_tgt = server->length == 2 && server->data[0].length == 6 &&
                      std::memcmp(server->data[0].data, "krbtgt", 6) == 0;
  if (!is_tgt) {
    return Status(SEC_E_INVALID_TOKEN, "the forwarded ticket is for " +
                                           EscapeForLog(k.Unparse(tgt->server)) + ", not a krbtgt");
  }
  krb5_ccache cc = nullptr;
  if ((e = krb5_cc_new_unique(k.ctx, "MEMORY", nullptr, &cc))) {
    return k.Failure(e, "making a MEMORY ccache");
  }
  if ((e = krb5_cc_initialize(k.ctx, cc, tgt->client)) || (e = krb5_cc_store_cred(k.ctx, cc, tgt))) {
    Status s = k.Failure(e, "storing the forwarded TGT");
    krb5_cc_destroy(k.ctx, cc);
    return s;
  }
  std::string name = std::string(krb5_cc_get_type(k.ctx, cc)) + ":" + krb5_cc_get_name(k.ctx, cc);
  // Closing a MEMORY ccache keeps its contents; KerberosDelegatedCredentials destroys it.
  krb5_cc_close(k.ctx, cc);
  return std::make_shared<const KerberosDelegatedCredentials>(client, std::move(name));
}

// The ccache config key MIT's gss_acquire_cred reads to make a proxy
// credential (KRB5_CC_CONF_PROXY_IMPERSONATOR in MIT's private k5-int.h).
constexpr char kProxyImpersonator[] = "proxy_impersonator";

// Constrained delegation's proxy credential, laid out as MIT's
// kg_compose_deleg_cred() does (its acceptor drops it under DCE style): a
// MEMORY ccache whose principal is the client, the config entry
// proxy_impersonator naming the ticket's server (our SPN), and the client's
// ticket to it. `k` holds the ticket libkrb5 decrypted from `ap_req`, whose
// client was checked to be `client`. Null when the ticket is not
// forwardable (the KDC would refuse S4U2Proxy with it: [MS-SFU] 3.2.5.2.1).
Result<std::shared_ptr<const KerberosDelegatedCredentials>> KeepEvidence(
    const Krb5Recovery& k, std::span<const uint8_t> ap_req, const std::string& keytab,
    const std::string& client) {
  const krb5_enc_tkt_part* part = k.ticket->enc_part2;
  if (!(part->flags & TKT_FLG_FORWARDABLE)) return std::shared_ptr<const KerberosDelegatedCredentials>();
  COMSEC_ASSIGN_OR_RETURN(std::span<const uint8_t> der, ApReqTicket(ap_req));
  krb5_data der_data{};
  der_data.length = static_cast<unsigned int>(der.size());
  der_data.data = reinterpret_cast<char*>(const_cast<uint8_t*>(der.data()));
  // The bytes cut out must be the ticket libkrb5 decrypted: same server,
  // same key version and enctype, same ciphertext.
  krb5_ticket* decoded = nullptr;
  if (krb5_error_code e = krb5_decode_ticket(&der_data, &decoded)) {
    return k.Failure(e, "decoding the evidence ticket");
  }
  const bool same =
      krb5_principal_compare(k.ctx, decoded->server, k.ticket->server) &&
      decoded->enc_part.kvno == k.ticket->enc_part.kvno &&
      decoded->enc_part.enctype == k.ticket->enc_part.enctype &&
      decoded->enc_part.ciphertext.length == k.ticket->enc_part.ciphertext.length &&
      std::memcmp(decoded->enc_part.ciphertext.data, k.ticket->enc_part.ciphertext.data,
                  decoded->enc_part.ciphertext.length) == 0;
  krb5_free_ticket(k.ctx, decoded);
  if (!same) {
    return Status(SEC_E_INVALID_TOKEN, "the ticket cut from the AP-REQ is not the one decrypted");
  }
  const std::string impersonator = k.Unparse(k.ticket->server);
  if (impersonator.empty()) return Status(SEC_E_INVALID_TOKEN, "the ticket's server has no name");
  krb5_creds evidence{};
  evidence.client = part->client;
  evidence.server = k.ticket->server;
  evidence.keyblock = *part->session;
  evidence.times = part->times;
  evidence.ticket_flags = part->flags;
  evidence.addresses = part->caddrs;
  evidence.ticket = der_data;
  krb5_ccache cc = nullptr;
  krb5_error_code e = krb5_cc_new_unique(k.ctx, "MEMORY", nullptr, &cc);
  if (e) return k.Failure(e, "making a MEMORY ccache");
  krb5_data config{};
  config.length = static_cast<unsigned int>(impersonator.size());
  config.data = const_cast<char*>(impersonator.data());
  if ((e = krb5_cc_initialize(k.ctx, cc, part->client)) ||
      (e = krb5_cc_set_config(k.ctx, cc, nullptr, kProxyImpersonator, &config)) ||
      (e = krb5_cc_store_cred(k.ctx, cc, &evidence))) {
    Status s = k.Failure(e, "storing the evidence ticket");
    krb5_cc_destroy(k.ctx, cc);
    return s;
  }
  std::string name = std::string(krb5_cc_get_type(k.ctx, cc)) + ":" + krb5_cc_get_name(k.ctx, cc);
  krb5_cc_close(k.ctx, cc);
  return std::make_shared<const KerberosDelegatedCredentials>(client, std::move(name), impersonator,
                                                              keytab);
}

// The ticket's PAC as MIT's GSSAPI exposes it: the whole PAC under the
// name attribute "urn:mspac:" (MIT src/lib/krb5/krb/pac.c; "urn:mspac:
// logon-info" would give the logon info buffer alone), and whether MIT
// verified its server checksum with our key. The whole PAC rather than the
// one buffer, so that a PAC with two logon infos is refused and the PAC's
// layout is checked by our own parser too.
constexpr char kPacAttribute[] = "urn:mspac:";

// Not present when the name carries no PAC (GSS_S_UNAVAILABLE: MIT's
// answer for a ticket without one, and for a name from another mechanism).
Result<TicketPac> ReadTicketPac(gss_name_t name) {
  gss_buffer_desc attribute{sizeof kPacAttribute - 1, const_cast<char*>(kPacAttribute)};
  int authenticated = 0, complete = 0, more = -1;
  GssBuffer value, display;
  OM_uint32 minor = 0;
  OM_uint32 major = gss_get_name_attribute(&minor, name, &attribute, &authenticated, &complete,
                                           value.out(), display.out(), &more);
  TicketPac pac;
  if (major == GSS_S_UNAVAILABLE) return pac;
  if (major != GSS_S_COMPLETE) {
    return GssFailure(SEC_E_LOGON_DENIED, "reading the ticket's PAC", major, minor);
  }
  pac.present = true;
  const auto* bytes = static_cast<const uint8_t*>(value.get().value);
  pac.bytes.assign(bytes, bytes + value.get().length);
  pac.verified = authenticated != 0;
  return pac;
}

class ServerContext : public KerberosContext {
 public:
  // `options`, `spns` and `cred` belong to the package, which outlives
  // its contexts.
  ServerContext(const KerberosServerOptions& options, const std::vector<std::string>& spns,
                gss_cred_id_t cred, const rpc::StartParams& p)
      : KerberosContext(p.auth_level),
        options_(options),
        spns_(spns),
        cred_(cred),
        connection_(p.connection) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    auto r = Accept(token);
    if (!r.ok()) {
      failed_ = true;
      if (const Logger* logger = options_.logger;
          logger && logger->Enabled(LogSeverity::kWarning)) {
        LogEvent e("kerberos.logon_refused", LogSeverity::kWarning,
                   std::string(r.status().message()));
        if (!connection_.peer.empty()) e.Peer(connection_.peer);
        logger->Log(e.AuthnLevel(security::ToNumber(level_), security::AuthnLevelName(level_))
                        .Hresult(r.status().code()));
      }
    }
    return r;
  }

  std::string PeerName() const override { return peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return token_; }
  security::ImpLevel imp_level() const override {
    if (flags_ & GSS_C_IDENTIFY_FLAG) return security::ImpLevel::kIdentify;
    if ((flags_ & GSS_C_DELEG_FLAG) || (delegated_ && !delegated_->constrained())) {
      return security::ImpLevel::kDelegate;
    }
    return security::ImpLevel::kImpersonate;
  }
  uint32_t features() const override {
    uint32_t f = KerberosContext::features();
    if (complete_ && delegated_ && !delegated_->constrained()) f |= rpc::kFeatureDelegate;
    return f;
  }
  std::shared_ptr<const rpc::DelegatedCredentials> Delegated() const override {
    return delegated_;
  }

 private:
  Result<rpc::UpdateResult> Accept(std::span<const uint8_t> token) {
    if (complete_ || failed_) {
      return Status(SEC_E_INVALID_TOKEN, "a Kerberos token after the handshake ended");
    }
    if (token.empty()) return Status(SEC_E_INVALID_TOKEN, "an empty Kerberos token");
    gss_buffer_desc in{token.size(), const_cast<uint8_t*>(token.data())};
    GssName source;
    GssBuffer out;
    OM_uint32 minor = 0, ret_flags = 0;
    OM_uint32 major = gss_accept_sec_context(&minor, ctx_.inout(), cred_, &in,
                                             GSS_C_NO_CHANNEL_BINDINGS, source.out(), nullptr,
                                             out.out(), &ret_flags, nullptr, nullptr);
    const char* step = first_ ? "accepting the client's AP-REQ" : "accepting the client's AP-REP";
    if (first_) ap_req_.assign(token.begin(), token.end());
    first_ = false;
    if (GSS_ERROR(major)) return GssFailure(SEC_E_LOGON_DENIED, step, major, minor);
    rpc::UpdateResult result;
    const auto* bytes = static_cast<const uint8_t*>(out.get().value);
    result.output.assign(bytes, bytes + out.get().length);
    if (major == GSS_S_CONTINUE_NEEDED) return result;
    if (major != GSS_S_COMPLETE) return GssFailure(SEC_E_LOGON_DENIED, step, major, minor);
    const std::string principal = source.Display();
    if (principal.empty()) return Status(SEC_E_LOGON_DENIED, "the client's principal is unknown");
    account_ = EscapeForLog(principal);
    COMSEC_RETURN_IF_ERROR(CheckTarget());
    COMSEC_RETURN_IF_ERROR(Established(ret_flags, ("the client " + account_).c_str()));
    COMSEC_RETURN_IF_ERROR(MapPrincipal(principal, source.get()));
    auto delegated = RecoverDelegation(
        ap_req_, options_.keytab, principal,
        options_.constrained_delegation && !(ret_flags & GSS_C_IDENTIFY_FLAG));
    if (delegated.ok()) {
      delegated_ = std::move(*delegated);
    } else if (const Logger* logger = options_.logger;
               logger && logger->Enabled(LogSeverity::kWarning)) {
      LogEvent e("kerberos.delegation_refused", LogSeverity::kWarning,
                 "not accepting the credentials " + account_ + " delegated: " +
                     std::string(delegated.status().message()));
      if (!connection_.peer.empty()) e.Peer(connection_.peer);
      logger->Log(e.Hresult(delegated.status().code()));
    }
    ap_req_.clear();
    result.done = true;
    return result;
  }

  // The ticket was for one of our SPNs (any key of the keytab would have
  // decrypted it).
  Status CheckTarget() {
    if (spns_.empty()) return Status::Ok();
    GssName target;
    OM_uint32 minor = 0;
    OM_uint32 major = gss_inquire_context(&minor, ctx_.get(), nullptr, target.out(), nullptr,
                                          nullptr, nullptr, nullptr, nullptr);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_LOGON_DENIED, "reading the ticket's service", major, minor);
    }
    const std::string name = target.Display();
    for (const std::string& spn : spns_) {
      if (EqualsIgnoringCase(spn, name)) return Status::Ok();
    }
    std::string served;
    for (const std::string& spn : spns_) served += (served.empty() ? "" : ", ") + spn;
    return Status(SEC_E_WRONG_PRINCIPAL, account_ + " has a ticket for " + EscapeForLog(name) +
                                             ", which this server does not serve (it serves " +
                                             served + ")");
  }

  // principal_mapping.h's rule; a refusal there refuses the logon. Rule 1
  // reads the ticket's PAC from the authenticated name; rules 2-4 use the
  // principal.
  Status MapPrincipal(const std::string& principal, gss_name_t name) {
    COMSEC_ASSIGN_OR_RETURN(TicketPac pac, ReadTicketPac(name));
    COMSEC_ASSIGN_OR_RETURN(CallerResolution r, ResolveCaller(principal, pac, options_.principal_map));
    if (pac.present && !pac.verified) {
      // MIT could not verify the server checksum: ResolveCaller ignored it.
      if (const Logger* logger = options_.logger;
          logger && logger->Enabled(LogSeverity::kWarning)) {
        LogEvent e("kerberos.pac_unverified", LogSeverity::kWarning,
                   "ignoring the unverified PAC in " + account_ + "'s ticket");
        if (!connection_.peer.empty()) e.Peer(connection_.peer);
        logger->Log(e.Principal(account_).Reason("pac_unverified"));
      }
    }
    const MappedIdentity* id = &r.identity;
    if (const Logger* logger = options_.logger; logger && logger->Enabled(LogSeverity::kDebug)) {
      LogEvent e("kerberos.identity", LogSeverity::kDebug,
                 account_ + " is " + EscapeForLog(id->name));
      if (!connection_.peer.empty()) e.Peer(connection_.peer);
      logger->Log(e.Principal(id->name)
                      .Extra("source", id->source)
                      .Extra("pac", r.pac_state)
                      .Extra("pac_bytes", std::to_string(pac.bytes.size())));
    }
    token_ = std::move(r.identity.token);
    peer_name_ = std::move(r.identity.name);
    return Status::Ok();
  }

  const KerberosServerOptions& options_;
  const std::vector<std::string>& spns_;
  gss_cred_id_t cred_;
  rpc::ConnectionInfo connection_;
  bool first_ = true;
  // The first leg's AP-REQ, kept until the handshake completes.
  std::vector<uint8_t> ap_req_;
  std::shared_ptr<const KerberosDelegatedCredentials> delegated_;
  std::string account_;
  std::string peer_name_;
  std::shared_ptr<const security::Token> token_;
};

// ==== Client ================================================================

class ClientContext : public KerberosContext {
 public:
  ClientContext(security::AuthnLevel level, OM_uint32 req_flags) : KerberosContext(level), req_(req_flags) {}

  // Credentials from constrained delegation: the SPN acting for the
  // client, so that the KDC's refusal of S4U2Proxy is reported as such.
  void ActingFor(std::string impersonator, const Logger* logger) {
    impersonator_ = std::move(impersonator);
    logger_ = logger;
  }

  // Acquires the credentials and names the target; the first Update sends
  // the AP-REQ.
  Status Init(const KerberosClientCredentials* creds, const std::string& memory_ccache,
              const std::string& target) {
    if (target.empty()) {
      return Status(SEC_E_TARGET_UNKNOWN,
                    "Kerberos needs the server's principal name (an SPN such as "
                    "RPCSS/host.example.com)");
    }
    COMSEC_RETURN_IF_ERROR(ImportPrincipal(target, &target_));
    target_text_ = target;
    std::vector<gss_key_value_element_desc> elements;
    GssName desired;
    if (creds && !creds->keytab.empty()) {
      if (creds->principal.empty()) {
        return Status(SEC_E_NO_CREDENTIALS, "a client keytab needs the principal to act as");
      }
      COMSEC_RETURN_IF_ERROR(ImportPrincipal(creds->principal, &desired));
      elements.push_back({"client_keytab", creds->keytab.c_str()});
      elements.push_back({"ccache", memory_ccache.c_str()});
    } else if (creds && !creds->ccache.empty()) {
      elements.push_back({"ccache", creds->ccache.c_str()});
    }
    gss_key_value_set_desc store{static_cast<OM_uint32>(elements.size()), elements.data()};
    gss_OID_set_desc mechs = Krb5MechSet();
    OM_uint32 minor = 0;
    OM_uint32 major = gss_acquire_cred_from(
        &minor, desired.get(), GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE,
        elements.empty() ? GSS_C_NO_CRED_STORE : &store, cred_.out(), nullptr, nullptr);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_NO_CREDENTIALS, "getting the client's Kerberos credentials", major,
                        minor);
    }
    return Status::Ok();
  }

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    if (complete_ || failed_) {
      return Status(SEC_E_INVALID_TOKEN, "a Kerberos token after the handshake ended");
    }
    if (started_ && token.empty()) {
      return Status(SEC_E_INVALID_TOKEN, "the server sent no Kerberos AP-REP");
    }
    gss_buffer_desc in{token.size(), const_cast<uint8_t*>(token.data())};
    GssBuffer out;
    OM_uint32 minor = 0, ret_flags = 0;
    OM_uint32 major = gss_init_sec_context(
        &minor, cred_.get(), ctx_.inout(), target_.get(), gss_mech_krb5, req_,
        GSS_C_INDEFINITE, GSS_C_NO_CHANNEL_BINDINGS, started_ ? &in : GSS_C_NO_BUFFER, nullptr,
        out.out(), &ret_flags, nullptr);
    const std::string step = started_ ? "checking the server's AP-REP (mutual authentication)"
                                      : "getting a ticket for " + target_text_;
    started_ = true;
    if (major != GSS_S_COMPLETE && major != GSS_S_CONTINUE_NEEDED) {
      failed_ = true;
      if (!impersonator_.empty() && static_cast<krb5_error_code>(minor) == KRB5KDC_ERR_BADOPTION) {
        return ConstrainedDelegationRefused(major, minor);
      }
      return GssFailure(SEC_E_LOGON_DENIED, step, major, minor);
    }
    rpc::UpdateResult result;
    const auto* bytes = static_cast<const uint8_t*>(out.get().value);
    result.output.assign(bytes, bytes + out.get().length);
    if (major == GSS_S_CONTINUE_NEEDED) return result;
    if (Status s = Established(ret_flags, "the server"); !s.ok()) {
      failed_ = true;
      return s;
    }
    GssName target;
    if (gss_inquire_context(&minor, ctx_.get(), nullptr, target.out(), nullptr, nullptr, nullptr,
                            nullptr, nullptr) == GSS_S_COMPLETE) {
      peer_name_ = target.Display();
    }
    result.done = true;
    return result;
  }

  std::string PeerName() const override { return peer_name_.empty() ? target_text_ : peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return nullptr; }

 private:
  // The KDC refused S4U2Proxy (KDC_ERR_BADOPTION): our SPN may not
  // delegate to this target, or to any. SEC_E_UNSUPPORTED_FUNCTION, as
  // Windows's SSP returns for the KDC's STATUS_NOT_SUPPORTED.
  Status ConstrainedDelegationRefused(OM_uint32 major, OM_uint32 minor) {
    GssName client;
    OM_uint32 m = 0;
    std::string acting_as = "its caller";
    if (gss_inquire_cred(&m, cred_.get(), client.out(), nullptr, nullptr, nullptr) ==
        GSS_S_COMPLETE) {
      acting_as = EscapeForLog(client.Display());
    }
    Status s(SEC_E_UNSUPPORTED_FUNCTION,
             EscapeForLog(impersonator_) + " may not act as " + acting_as + " towards " +
                 EscapeForLog(target_text_) +
                 ": the KDC refused constrained delegation (S4U2Proxy), so this server cannot "
                 "call " + EscapeForLog(target_text_) + " as its caller (the KDC allows " +
                 EscapeForLog(impersonator_) +
                 " to delegate only to the services it lists for it; MIT: krbAllowedToDelegateTo, "
                 "AD: msDS-AllowedToDelegateTo): " + DescribeGssStatus(major, minor));
    if (logger_ && logger_->Enabled(LogSeverity::kWarning)) {
      LogEvent e("kerberos.constrained_delegation_refused", LogSeverity::kWarning,
                 std::string(s.message()));
      logger_->Log(e.Principal(acting_as)
                       .Extra("impersonator", EscapeForLog(impersonator_))
                       .Extra("target", EscapeForLog(target_text_))
                       .Extra("krb5_error", std::to_string(static_cast<krb5_error_code>(minor)))
                       .Reason("s4u2proxy_refused")
                       .Hresult(s.code()));
    }
    return s;
  }

  std::string impersonator_;
  const Logger* logger_ = nullptr;
  OM_uint32 req_;
  GssCred cred_;
  GssName target_;
  std::string target_text_;
  std::string peer_name_;
  bool started_ = false;
};

}  // namespace

// ==== Package ===============================================================

KerberosCredentials::KerberosCredentials(KerberosClientCredentials credentials)
    : credentials_(std::move(credentials)) {
  if (!credentials_.keytab.empty()) {
    std::array<uint8_t, 12> random{};
    RAND_bytes(random.data(), static_cast<int>(random.size()));
    memory_ccache_ = "MEMORY:comsec-" + ToHex(random);
  }
}

KerberosDelegatedCredentials::~KerberosDelegatedCredentials() {
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return;
  krb5_ccache cc = nullptr;
  if (krb5_cc_resolve(kc, ccache_.c_str(), &cc) == 0) krb5_cc_destroy(kc, cc);
  krb5_free_context(kc);
}

Status KerberosDelegatedCredentials::AddImpersonatorTgt() const {
  if (!constrained()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  if (has_tgt_) return Status::Ok();
  Krb5Recovery k;
  if (krb5_error_code e = krb5_init_context(&k.ctx)) {
    return Status(SEC_E_INTERNAL_ERROR, "krb5_init_context failed: " + std::to_string(e));
  }
  auto failure = [&](krb5_error_code e, const std::string& what) {
    const char* m = krb5_get_error_message(k.ctx, e);
    Status s(SEC_E_NO_CREDENTIALS,
             "constrained delegation needs " + EscapeForLog(impersonator_) + "'s own TGT; " + what +
                 ": " + (m ? m : "error " + std::to_string(e)));
    krb5_free_error_message(k.ctx, m);
    return s;
  };
  krb5_error_code e = keytab_.empty() ? krb5_kt_default(k.ctx, &k.kt)
                                      : krb5_kt_resolve(k.ctx, keytab_.c_str(), &k.kt);
  if (e) return failure(e, "opening the keytab");
  krb5_principal me = nullptr;
  if ((e = krb5_parse_name(k.ctx, impersonator_.c_str(), &me))) return failure(e, "its name");
  krb5_creds tgt{};
  e = krb5_get_init_creds_keytab(k.ctx, &tgt, me, k.kt, 0, nullptr, nullptr);
  krb5_free_principal(k.ctx, me);
  if (e) return failure(e, "getting it with the keytab");
  krb5_ccache cc = nullptr;
  if (!(e = krb5_cc_resolve(k.ctx, ccache_.c_str(), &cc))) {
    e = krb5_cc_store_cred(k.ctx, cc, &tgt);
    krb5_cc_close(k.ctx, cc);
  }
  krb5_free_cred_contents(k.ctx, &tgt);
  if (e) return failure(e, "storing it");
  has_tgt_ = true;
  return Status::Ok();
}

std::string KerberosCredentials::impersonator() const {
  const auto* krb = dynamic_cast<const KerberosDelegatedCredentials*>(delegated_.get());
  return krb ? krb->impersonator() : std::string();
}

Result<std::shared_ptr<const KerberosCredentials>> KerberosCredentials::FromDelegated(
    std::shared_ptr<const rpc::DelegatedCredentials> delegated) {
  const auto* krb = dynamic_cast<const KerberosDelegatedCredentials*>(delegated.get());
  if (krb == nullptr) {
    return Status(SEC_E_UNKNOWN_CREDENTIALS, "the delegated credentials are not Kerberos's");
  }
  COMSEC_RETURN_IF_ERROR(krb->AddImpersonatorTgt());
  KerberosClientCredentials c;
  c.ccache = krb->ccache();
  auto credentials = std::make_shared<KerberosCredentials>(std::move(c));
  credentials->delegated_ = std::move(delegated);
  return std::shared_ptr<const KerberosCredentials>(std::move(credentials));
}

KerberosCredentials::~KerberosCredentials() {
  if (memory_ccache_.empty()) return;
  // The TGT the keytab yielded goes with the credentials.
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return;
  krb5_ccache cc = nullptr;
  if (krb5_cc_resolve(kc, memory_ccache_.c_str(), &cc) == 0) krb5_cc_destroy(kc, cc);
  krb5_free_context(kc);
}

KerberosPackage::KerberosPackage(KerberosClientCredentials client, const Logger* logger)
    : client_(std::make_shared<const KerberosCredentials>(std::move(client))),
      client_logger_(logger) {}

KerberosPackage::KerberosPackage(std::unique_ptr<Acceptor> acceptor)
    : acceptor_(std::move(acceptor)) {}

KerberosPackage::~KerberosPackage() = default;

Result<std::unique_ptr<KerberosPackage>> KerberosPackage::CreateServer(
    KerberosServerOptions options) {
  auto acceptor = std::make_unique<Acceptor>();
  std::vector<gss_key_value_element_desc> elements;
  if (!options.keytab.empty()) elements.push_back({"keytab", options.keytab.c_str()});
  gss_key_value_set_desc store{static_cast<OM_uint32>(elements.size()), elements.data()};
  gss_const_key_value_set_t store_ptr = elements.empty() ? GSS_C_NO_CRED_STORE : &store;
  gss_OID_set_desc mechs = Krb5MechSet();
  const std::string keytab_name =
      options.keytab.empty() ? std::string("the default keytab (KRB5_KTNAME)") : options.keytab;
  OM_uint32 minor = 0, major = 0;
  // Each SPN must have keys in the keytab: MIT checks when a credential
  // is acquired for that name.
  for (const std::string& spn : options.spns) {
    GssName name;
    COMSEC_RETURN_IF_ERROR(ImportPrincipal(spn, &name));
    GssCred probe;
    major = gss_acquire_cred_from(&minor, name.get(), GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT,
                                  store_ptr, probe.out(), nullptr, nullptr);
    if (major != GSS_S_COMPLETE) {
      return GssFailure(SEC_E_NO_CREDENTIALS, keytab_name + " has no keys for " + spn, major,
                        minor);
    }
    COMSEC_ASSIGN_OR_RETURN(std::string canonical, CanonicalPrincipal(spn));
    acceptor->spns.push_back(std::move(canonical));
  }
  major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_ACCEPT,
                                store_ptr, acceptor->cred.out(), nullptr, nullptr);
  if (major != GSS_S_COMPLETE) {
    return GssFailure(SEC_E_NO_CREDENTIALS, "reading " + keytab_name, major, minor);
  }
  acceptor->options = std::move(options);
  return std::unique_ptr<KerberosPackage>(new KerberosPackage(std::move(acceptor)));
}

Result<std::unique_ptr<rpc::SecurityContext>> KerberosPackage::Start(
    const rpc::StartParams& params) {
  if (params.role == rpc::Role::kServer) {
    if (!acceptor_) {
      return Status(SEC_E_NO_CREDENTIALS, "this Kerberos package has no keytab to accept with");
    }
    return std::unique_ptr<rpc::SecurityContext>(new ServerContext(
        acceptor_->options, acceptor_->spns, acceptor_->cred.get(), params));
  }
  const KerberosCredentials* credentials = client_.get();
  if (params.credentials) {
    credentials = dynamic_cast<const KerberosCredentials*>(params.credentials.get());
    if (credentials == nullptr) {
      return Status(SEC_E_UNKNOWN_CREDENTIALS,
                    "the credentials given are not Kerberos credentials");
    }
  }
  // DCE style, mutual authentication, replay and sequence detection always
  // (a context without them fails in Established).
  OM_uint32 req = GSS_C_MUTUAL_FLAG | GSS_C_DCE_STYLE | GSS_C_REPLAY_FLAG |
                  GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG;
  if (params.auth_level >= security::AuthnLevel::kPktPrivacy) req |= GSS_C_CONF_FLAG;
  if (params.imp_level == security::ImpLevel::kIdentify || (params.wanted & rpc::kFeatureIdentify)) {
    req |= GSS_C_IDENTIFY_FLAG;
  }
  // RPC_C_IMP_LEVEL_DELEGATE with Windows's meaning: forward the TGT only
  // to a server the KDC marks ok-as-delegate (features() tells whether it
  // happened).
  if (params.imp_level == security::ImpLevel::kDelegate || (params.wanted & rpc::kFeatureDelegate)) {
    req |= GSS_C_DELEG_POLICY_FLAG;
  }
  auto context = std::make_unique<ClientContext>(params.auth_level, req);
  if (credentials) context->ActingFor(credentials->impersonator(), client_logger_);
  static const std::string kNoCcache;
  COMSEC_RETURN_IF_ERROR(context->Init(credentials ? &credentials->get() : nullptr,
                                       credentials ? credentials->memory_ccache() : kNoCcache,
                                       params.target_name));
  return std::unique_ptr<rpc::SecurityContext>(std::move(context));
}

}  // namespace comsec::auth::gssapi
