#include "comsec/auth/tls/tls_package.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>

#include "comsec/auth/tls/principal_names.h"
#include "comsec/base/hex.h"
#include "comsec/base/log_escape.h"
#include "comsec/rpc/pdu.h"

namespace comsec::auth::tls {
namespace {

// TLS 1.3 record layout (RFC 8446 5.2): header, then the AEAD ciphertext of
// plaintext || content type, then the tag. The suites allowed all have
// 16-byte tags.
constexpr size_t kRecordHeader = 5;
constexpr size_t kTag = 16;
constexpr size_t kRecordOverhead = kRecordHeader + 1 + kTag;
// RFC 8446 5.1: at most 2^14 plaintext bytes per record.
constexpr size_t kMaxPlaintext = 16384;
constexpr size_t kDigest = 32;
constexpr uint8_t kApplicationData = 23;
constexpr char kSuites[] =
    "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr char kSessionKeyLabel[] = "EXPORTER-comsec-session-key";
constexpr char kDigestLabel[] = "comsec-tls-pdu";
// The server's last leg: one application-data record carrying this, which
// proves to the client that the server accepted its flight (certificate
// included) with the keys the handshake made.
constexpr char kAccepted[] = "comsec-tls-accepted";
constexpr size_t kAcceptedSize = sizeof kAccepted - 1;

struct SslCtxFree {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// The OpenSSL errors queued on this thread, emptied, as one sentence.
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long e = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(e, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? std::string("no OpenSSL error queued") : text;
}

Status FileFailure(const std::string& what, const std::string& path) {
  return Status(SEC_E_NO_CREDENTIALS,
                "TLS: cannot use " + what + " '" + path + "': " + OpenSslErrors());
}

// The HRESULT Schannel gives for a certificate verification failure.
HResult VerifyErrorCode(long verify) {
  switch (verify) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_EMAIL_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return SEC_E_WRONG_PRINCIPAL;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return SEC_E_UNTRUSTED_ROOT;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return SEC_E_CERT_EXPIRED;
    default:
      return SEC_E_CERT_UNKNOWN;
  }
}

std::array<uint8_t, kDigest> Digest(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  std::array<uint8_t, kDigest> d{};
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  unsigned int length = 0;
  if (md == nullptr || EVP_DigestInit_ex(md, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(md, kDigestLabel, sizeof kDigestLabel - 1) != 1 ||
      EVP_DigestUpdate(md, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(md, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(md, d.data(), &length) != 1) {
    // Allocation failure only; a zero digest then fails every Verify.
    d.fill(0);
  }
  EVP_MD_CTX_free(md);
  return d;
}

size_t RecordCount(size_t stub_length) {
  return (stub_length + kDigest + kMaxPlaintext - 1) / kMaxPlaintext;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// "RPCSS/host@REALM" → "host"; "host" → "host".
std::string HostOfTarget(std::string_view target) {
  if (size_t slash = target.find('/'); slash != std::string_view::npos) {
    target.remove_prefix(slash + 1);
  }
  if (size_t at = target.find('@'); at != std::string_view::npos) target = target.substr(0, at);
  return std::string(target);
}

std::string SubjectOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string text(data, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(bio);
  return text;
}

std::string ThumbprintOf(X509* cert) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md.data(), &n) != 1) return {};
  return ToHex(std::span<const uint8_t>(md.data(), n));
}

}  // namespace

namespace {

// The msstd name, "" for a certificate that has none (R52).
std::string MsstdOrEmpty(X509* cert) {
  auto name = MsstdPrincipalName(cert);
  return name.ok() ? *name : std::string();
}

}  // namespace

// ==== Package state =========================================================
// Invariant: ctx is fully configured before the package is handed out and
// only read afterwards (SSL_new from many threads is safe on it).

struct TlsPackage::State {
  rpc::Role role = rpc::Role::kClient;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  TlsServerOptions server;
  TlsClientOptions client;
};

namespace {

Result<std::unique_ptr<SSL_CTX, SslCtxFree>> NewContext(bool server) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(server ? TLS_server_method()
                                                               : TLS_client_method()));
  if (!ctx) return Status(SEC_E_INTERNAL_ERROR, "TLS: SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(c, kSuites) != 1) {
    return Status(SEC_E_INTERNAL_ERROR, "TLS: configuring TLS 1.3: " + OpenSslErrors());
  }
  // No dummy ChangeCipherSpec records in the legs, no tickets or session
  // cache (each association is one full handshake; nothing is sent after
  // it outside a PDU), and no early data.
  SSL_CTX_clear_options(c, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_max_early_data(c, 0);
  return ctx;
}

Status LoadCertificate(SSL_CTX* c, const std::string& certificate, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(c, certificate.c_str()) != 1) {
    return FileFailure("the certificate file", certificate);
  }
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return FileFailure("the key file", key);
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    return Status(SEC_E_NO_CREDENTIALS, "TLS: the key in '" + key +
                                            "' does not belong to the certificate in '" +
                                            certificate + "'");
  }
  return Status::Ok();
}

// ==== Contexts ==============================================================
// Invariant: ssl_ owns in_ (what the peer sent, fed by Update and Verify)
// and out_ (what TLS wrote, drained into the next token or PDU); after a
// handshake step both are empty. complete_ means the handshake ended on
// this side and, on the client, the server confirmed it. After any
// failure failed_ is set and every later call fails: a TLS channel that saw
// an error is dead.

class TlsContext : public rpc::SecurityContext {
 public:
  TlsContext(const TlsPackage::State& state, const rpc::StartParams& params)
      : state_(state), params_(params) {}

  Status Init(SSL_CTX* ctx) {
    ERR_clear_error();
    ssl_.reset(SSL_new(ctx));
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    if (!ssl_ || in == nullptr || out == nullptr) {
      BIO_free(in);
      BIO_free(out);
      return Status(E_OUTOFMEMORY, "TLS: SSL_new: " + OpenSslErrors());
    }
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(ssl_.get(), in, out);
    in_ = in;
    out_ = out;
    return Status::Ok();
  }

  SSL* ssl() { return ssl_.get(); }

  bool IsComplete() const override { return complete_; }

  uint32_t features() const override {
    if (!complete_) return 0;
    return rpc::kFeatureSign | rpc::kFeatureSeal | rpc::kFeatureMutualAuth |
           rpc::kFeatureSessionKey;
  }

  // R15, R20, R78: TLS is IMPERSONATE, whatever the client asked.
  security::ImpLevel imp_level() const override { return security::ImpLevel::kImpersonate; }

  size_t SignatureSize(size_t stub_length) const override {
    return TlsSignatureSize(params_.auth_level, stub_length);
  }

  Status Protect(const rpc::PduRegion& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    COMSEC_RETURN_IF_ERROR(CheckRegion(r, SEC_E_INTERNAL_ERROR));
    ERR_clear_error();
    Status s = r.level >= security::AuthnLevel::kPktPrivacy ? Seal(r) : Sign(r);
    if (!s.ok()) failed_ = true;
    return s;
  }

  Status Verify(const rpc::PduRegion& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    COMSEC_RETURN_IF_ERROR(CheckRegion(r, SEC_E_MESSAGE_ALTERED));
    ERR_clear_error();
    Status s = r.level >= security::AuthnLevel::kPktPrivacy ? Unseal(r) : CheckSignature(r);
    if (!s.ok()) {
      failed_ = true;
      // The fatal alert OpenSSL queued is never sent: the runtime answers
      // with a fault and closes the connection.
      (void)Drain(out_);
      LogRefusal("tls.message_refused", s);
    }
    return s;
  }

  Result<SecretArray<16>> SessionKey() const override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the TLS handshake is not complete");
    SecretArray<16> key{};
    std::lock_guard<std::mutex> lock(mu_);
    if (SSL_export_keying_material(ssl_.get(), key.data(), key.size(), kSessionKeyLabel,
                                   sizeof kSessionKeyLabel - 1, nullptr, 0, 0) != 1) {
      return Status(SEC_E_INTERNAL_ERROR, "TLS: exporting the session key: " + OpenSslErrors());
    }
    return key;
  }

 protected:
  // One handshake step: feeds `input`, runs the handshake, and returns what
  // TLS wrote. `*finished` says whether the handshake completed.
  Result<std::vector<uint8_t>> HandshakeStep(std::span<const uint8_t> input, bool* finished) {
    std::lock_guard<std::mutex> lock(mu_);
    ERR_clear_error();
    if (!input.empty() &&
        BIO_write(in_, input.data(), static_cast<int>(input.size())) != static_cast<int>(input.size())) {
      return Status(E_OUTOFMEMORY, "TLS: buffering the peer's handshake records");
    }
    const int rc = SSL_do_handshake(ssl_.get());
    *finished = rc == 1;
    if (rc != 1) {
      const int error = SSL_get_error(ssl_.get(), rc);
      if (error != SSL_ERROR_WANT_READ) return HandshakeFailure();
    }
    std::vector<uint8_t> output = Drain(out_);
    // Each leg carries whole flights: bytes left unread are not TLS.
    if (BIO_ctrl_pending(in_) != 0) {
      return Status(SEC_E_INVALID_TOKEN, "TLS: " + std::to_string(BIO_ctrl_pending(in_)) +
                                             " bytes after the peer's handshake flight");
    }
    return output;
  }

  Status HandshakeFailure() {
    const long verify = SSL_get_verify_result(ssl_.get());
    const std::string errors = OpenSslErrors();
    if (verify != X509_V_OK) {
      const char* who = state_.role == rpc::Role::kClient ? "the server's" : "the client's";
      return Status(VerifyErrorCode(verify),
                    std::string("TLS: ") + who + " certificate failed verification: " +
                        X509_verify_cert_error_string(verify));
    }
    return Status(SEC_E_LOGON_DENIED, "TLS handshake failed: " + errors);
  }

  void LogRefusal(const char* event, const Status& s) const {
    const Logger* logger = state_.server.logger;
    if (state_.role != rpc::Role::kServer || !logger || !logger->Enabled(LogSeverity::kWarning)) {
      return;
    }
    LogEvent e(event, LogSeverity::kWarning, std::string(s.message()));
    if (!params_.connection.peer.empty()) e.Peer(params_.connection.peer);
    if (!peer_name_.empty()) e.Principal(peer_name_);
    logger->Log(e.AuthnLevel(security::ToNumber(params_.auth_level),
                             security::AuthnLevelName(params_.auth_level))
                    .Hresult(s.code()));
  }

  const TlsPackage::State& state_;
  rpc::StartParams params_;
  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  mutable std::mutex mu_;
  bool complete_ = false;
  bool failed_ = false;
  std::string peer_name_;

 protected:
  static std::vector<uint8_t> Drain(BIO* bio) {
    std::vector<uint8_t> bytes(BIO_ctrl_pending(bio));
    if (!bytes.empty()) {
      const int n = BIO_read(bio, bytes.data(), static_cast<int>(bytes.size()));
      bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    return bytes;
  }

  Status CheckRegion(const rpc::PduRegion& r, HResult code) const {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the TLS handshake is not complete");
    if (failed_) return Status(code, "the TLS channel failed earlier; it carries nothing more");
    if (r.stub_begin > r.stub_end || r.stub_end > r.pdu.size() ||
        r.pdu.size() - r.stub_end < rpc::kSecTrailerSize ||
        r.signature.size() != TlsSignatureSize(r.level, r.stub_end - r.stub_begin)) {
      return Status(code, "the PDU's TLS verifier is out of place");
    }
    return Status::Ok();
  }

  // The digest of what the records do not carry (file comment).
  static std::array<uint8_t, kDigest> PduDigest(const rpc::PduRegion& r, bool with_stub) {
    const auto trailer = r.pdu.subspan(r.stub_end, rpc::kSecTrailerSize);
    if (with_stub) return Digest(r.pdu.first(r.stub_end), trailer);
    return Digest(r.pdu.first(r.stub_begin), trailer);
  }

  // One SSL_write of `plain`, which must make exactly one record, returned.
  Result<std::vector<uint8_t>> WriteRecord(std::span<const uint8_t> plain) {
    const int n = SSL_write(ssl_.get(), plain.data(), static_cast<int>(plain.size()));
    if (n != static_cast<int>(plain.size())) {
      return Status(SEC_E_INTERNAL_ERROR, "TLS: sealing a PDU: " + OpenSslErrors());
    }
    std::vector<uint8_t> record = Drain(out_);
    if (record.size() != plain.size() + kRecordOverhead || record[0] != kApplicationData) {
      return Status(SEC_E_INTERNAL_ERROR,
                    "TLS wrote a record of " + std::to_string(record.size()) + " bytes for " +
                        std::to_string(plain.size()) + " bytes of data");
    }
    return record;
  }

  // Feeds one received record and reads its `length` plaintext bytes.
  Status ReadRecord(std::span<const uint8_t> record, std::span<uint8_t> plain) {
    const size_t declared = size_t{record[3]} << 8 | record[4];
    if (record[0] != kApplicationData || declared != record.size() - kRecordHeader) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the PDU's TLS record header does not describe its data");
    }
    if (BIO_write(in_, record.data(), static_cast<int>(record.size())) !=
        static_cast<int>(record.size())) {
      return Status(E_OUTOFMEMORY, "TLS: buffering a PDU's record");
    }
    const int n = SSL_read(ssl_.get(), plain.data(), static_cast<int>(plain.size()));
    if (n != static_cast<int>(plain.size()) || BIO_ctrl_pending(in_) != 0) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the PDU's TLS record does not authenticate (altered, replayed or out of "
                    "order): " +
                        OpenSslErrors());
    }
    return Status::Ok();
  }

  Status Sign(const rpc::PduRegion& r) {
    const auto digest = PduDigest(r, true);
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> record, WriteRecord(digest));
    std::memcpy(r.signature.data(), record.data(), record.size());
    return Status::Ok();
  }

  Status CheckSignature(const rpc::PduRegion& r) {
    std::array<uint8_t, kDigest> received{};
    COMSEC_RETURN_IF_ERROR(ReadRecord(r.signature, received));
    const auto expected = PduDigest(r, true);
    if (CRYPTO_memcmp(received.data(), expected.data(), kDigest) != 0) {
      return Status(SEC_E_MESSAGE_ALTERED, "the PDU does not match its TLS signature");
    }
    return Status::Ok();
  }

  // The stub || digest stream, cut into records; per record the stub's
  // ciphertext goes back in place and the rest into the auth_value.
  Status Seal(const rpc::PduRegion& r) {
    const size_t n = r.stub_end - r.stub_begin;
    const auto digest = PduDigest(r, false);
    std::vector<uint8_t> plain(r.pdu.begin() + static_cast<ptrdiff_t>(r.stub_begin),
                               r.pdu.begin() + static_cast<ptrdiff_t>(r.stub_end));
    plain.insert(plain.end(), digest.begin(), digest.end());
    uint8_t* sig = r.signature.data();
    for (size_t off = 0; off < plain.size(); off += kMaxPlaintext) {
      const size_t len = std::min(kMaxPlaintext, plain.size() - off);
      COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> record,
                              WriteRecord(std::span<const uint8_t>(plain).subspan(off, len)));
      const uint8_t* body = record.data() + kRecordHeader;
      const size_t in_stub = off < n ? std::min(len, n - off) : 0;
      sig = std::copy_n(record.data(), kRecordHeader, sig);
      std::memcpy(r.pdu.data() + r.stub_begin + off, body, in_stub);
      sig = std::copy_n(body + in_stub, len - in_stub + 1 + kTag, sig);
    }
    WipeSecret(plain.data(), plain.size());
    return Status::Ok();
  }

  Status Unseal(const rpc::PduRegion& r) {
    const size_t n = r.stub_end - r.stub_begin;
    std::vector<uint8_t> plain(n + kDigest);
    const uint8_t* sig = r.signature.data();
    std::vector<uint8_t> record;
    for (size_t off = 0; off < plain.size(); off += kMaxPlaintext) {
      const size_t len = std::min(kMaxPlaintext, plain.size() - off);
      const size_t in_stub = off < n ? std::min(len, n - off) : 0;
      record.assign(sig, sig + kRecordHeader);
      sig += kRecordHeader;
      record.insert(record.end(), r.pdu.begin() + static_cast<ptrdiff_t>(r.stub_begin + off),
                    r.pdu.begin() + static_cast<ptrdiff_t>(r.stub_begin + off + in_stub));
      const size_t rest = len - in_stub + 1 + kTag;
      record.insert(record.end(), sig, sig + rest);
      sig += rest;
      COMSEC_RETURN_IF_ERROR(
          ReadRecord(record, std::span<uint8_t>(plain).subspan(off, len)));
    }
    const auto expected = PduDigest(r, false);
    if (CRYPTO_memcmp(plain.data() + n, expected.data(), kDigest) != 0) {
      WipeSecret(plain.data(), plain.size());
      return Status(SEC_E_MESSAGE_ALTERED, "the PDU's header or sec_trailer was altered");
    }
    std::copy(plain.begin(), plain.end() - kDigest, r.pdu.begin() + static_cast<ptrdiff_t>(r.stub_begin));
    WipeSecret(plain.data(), plain.size());
    return Status::Ok();
  }
};

// ==== Server ================================================================

class ServerContext : public TlsContext {
 public:
  using TlsContext::TlsContext;

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> input) override {
    auto r = Accept(input);
    if (!r.ok()) {
      failed_ = true;
      LogRefusal("tls.logon_refused", r.status());
    }
    return r;
  }

  std::string PeerName() const override { return peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return token_; }
  std::shared_ptr<const rpc::PeerEvidence> Evidence() const override { return evidence_; }

 private:
  Result<rpc::UpdateResult> Accept(std::span<const uint8_t> input) {
    if (complete_ || failed_) {
      return Status(SEC_E_INVALID_TOKEN, "a TLS token after the handshake ended");
    }
    if (input.empty()) return Status(SEC_E_INVALID_TOKEN, "an empty TLS handshake token");
    bool finished = false;
    rpc::UpdateResult result;
    COMSEC_ASSIGN_OR_RETURN(result.output, HandshakeStep(input, &finished));
    if (!finished) {
      if (result.output.empty()) {
        return Status(SEC_E_INVALID_TOKEN, "the client's TLS flight is incomplete");
      }
      return result;
    }
    if (!result.output.empty()) {
      // Nothing may follow the handshake outside a PDU (no tickets).
      return Status(SEC_E_INTERNAL_ERROR, "TLS wrote records after the handshake");
    }
    COMSEC_RETURN_IF_ERROR(Identify());
    {
      std::lock_guard<std::mutex> lock(mu_);
      COMSEC_ASSIGN_OR_RETURN(result.output,
                              WriteRecord(std::span<const uint8_t>(
                                  reinterpret_cast<const uint8_t*>(kAccepted), kAcceptedSize)));
    }
    complete_ = true;
    result.done = true;
    return result;
  }

  // The caller's token: its mapped account, else ANONYMOUS LOGON (file
  // comment; R35).
  Status Identify() {
    std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl()));
    if (cert && SSL_get_verify_result(ssl()) != X509_V_OK) {
      // Duplicates the handshake's own check (SSL_VERIFY_PEER).
      return Status(SEC_E_CERT_UNKNOWN, "the client's certificate is not verified");
    }
    if (cert) {
      ClientCertificate c{SubjectOf(cert.get()), ThumbprintOf(cert.get())};
      // R52: the caller's Schannel names, for QueryBlanket (msstd, or
      // fullsic on request). A certificate without an msstd name still has
      // a fullsic one.
      SchannelPrincipalNames names;
      names.msstd = MsstdOrEmpty(cert.get());
      names.fullsic = FullsicPrincipalName(cert.get(), SSL_get0_verified_chain(ssl()));
      evidence_ = std::make_shared<const TlsPeerCertificate>(std::move(names), c.subject,
                                                             c.thumbprint);
      std::optional<MappedAccount> mapped;
      if (state_.server.mapper) {
        COMSEC_ASSIGN_OR_RETURN(mapped, state_.server.mapper->Map(c));
      }
      if (mapped && mapped->token) {
        peer_name_ = mapped->name;
        token_ = mapped->token;
        return Status::Ok();
      }
      if (const Logger* logger = state_.server.logger;
          logger && logger->Enabled(LogSeverity::kWarning)) {
        LogEvent e("tls.certificate_unmapped", LogSeverity::kWarning,
                   "the client's certificate " + EscapeForLog(c.subject) +
                       " is mapped to no account; the caller is ANONYMOUS LOGON "
                       "(map it: comcfg tls map --thumbprint " +
                       c.thumbprint + " ACCOUNT)");
        if (!params_.connection.peer.empty()) e.Peer(params_.connection.peer);
        logger->Log(e.Extra("subject", c.subject).Extra("thumbprint", c.thumbprint));
      }
    }
    peer_name_ = "NT AUTHORITY\\ANONYMOUS LOGON";
    token_ = std::make_shared<const security::Token>(
        security::Token::Anonymous(security::LogonKind::kNetwork, false));
    return Status::Ok();
  }

  std::shared_ptr<const security::Token> token_;
  std::shared_ptr<const TlsPeerCertificate> evidence_;
};

// ==== Client ================================================================

class ClientContext : public TlsContext {
 public:
  using TlsContext::TlsContext;

  // Names the server to check and loads a per-context certificate.
  Status Configure(const TlsCredentials* credentials) {
    const std::string& target = params_.target_name;
    // The prefixes in any case, as IsMsstdName and IsFullsicName read them.
    if (EqualsIgnoringCase(std::string_view(target).substr(0, 6), "msstd:")) {
      if (!IsMsstdName(target)) return Status(E_INVALIDARG, "an empty msstd: principal name");
      msstd_ = target;
    } else if (EqualsIgnoringCase(std::string_view(target).substr(0, 8), "fullsic:")) {
      // R52: the server's issuer chain and subject (principal_names.h).
      if (!IsFullsicName(target)) {
        return Status(E_INVALIDARG, "TLS: '" + EscapeForLog(target) +
                                        "' is not a fullsic principal name "
                                        "(fullsic:\\<\\ISSUER...\\SUBJECT>)");
      }
      fullsic_ = target;
    } else if (!target.empty()) {
      host_ = HostOfTarget(target);
      if (host_.empty()) return Status(E_INVALIDARG, "no host in the target '" + target + "'");
      if (SSL_set1_host(ssl(), host_.c_str()) != 1 ||
          SSL_set_tlsext_host_name(ssl(), host_.c_str()) != 1) {
        return Status(E_INVALIDARG, "TLS: '" + host_ + "' is not a host name");
      }
    }
    if (credentials) {
      if (SSL_use_certificate_chain_file(ssl(), credentials->certificate_file().c_str()) != 1) {
        return FileFailure("the certificate file", credentials->certificate_file());
      }
      if (SSL_use_PrivateKey_file(ssl(), credentials->key_file().c_str(), SSL_FILETYPE_PEM) !=
              1 ||
          SSL_check_private_key(ssl()) != 1) {
        return FileFailure("the key file", credentials->key_file());
      }
    }
    SSL_set_connect_state(ssl());
    return Status::Ok();
  }

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> input) override {
    auto r = Step(input);
    if (!r.ok()) failed_ = true;
    return r;
  }

  std::string PeerName() const override { return peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return nullptr; }

 private:
  Result<rpc::UpdateResult> Step(std::span<const uint8_t> input) {
    if (complete_ || failed_) {
      return Status(SEC_E_INVALID_TOKEN, "a TLS token after the handshake ended");
    }
    rpc::UpdateResult result;
    if (awaiting_confirmation_) {
      // The alter_context_resp to our Finished: the server's record saying
      // it accepted us.
      if (input.size() != kAcceptedSize + kRecordOverhead) {
        return Status(SEC_E_INVALID_TOKEN, "the server answered the TLS Finished with " +
                                               std::to_string(input.size()) + " bytes");
      }
      std::array<uint8_t, kAcceptedSize> accepted{};
      {
        std::lock_guard<std::mutex> lock(mu_);
        ERR_clear_error();
        COMSEC_RETURN_IF_ERROR(ReadRecord(input, accepted));
      }
      if (std::memcmp(accepted.data(), kAccepted, kAcceptedSize) != 0) {
        return Status(SEC_E_INVALID_TOKEN, "the server's TLS acceptance record is not one");
      }
      complete_ = true;
      result.done = true;
      return result;
    }
    if (started_ && input.empty()) {
      return Status(SEC_E_INVALID_TOKEN, "the server sent no TLS handshake records");
    }
    started_ = true;
    bool finished = false;
    COMSEC_ASSIGN_OR_RETURN(result.output, HandshakeStep(input, &finished));
    if (result.output.empty()) {
      return Status(SEC_E_INVALID_TOKEN, "the server's TLS flight is incomplete");
    }
    if (finished) {
      COMSEC_RETURN_IF_ERROR(CheckServerName());
      // Our Finished goes in alter_context; its empty answer completes us.
      awaiting_confirmation_ = true;
    }
    return result;
  }

  Status CheckServerName() {
    std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl()));
    if (!cert || SSL_get_verify_result(ssl()) != X509_V_OK) {
      // Duplicates the handshake's own check (SSL_VERIFY_PEER).
      return Status(SEC_E_CERT_UNKNOWN, "TLS: the server's certificate is not verified");
    }
    const std::string subject = SubjectOf(cert.get());
    if (!msstd_.empty()) {
      const std::string name = MsstdOrEmpty(cert.get());
      if (!EqualsIgnoringCase(name, msstd_)) {
        return Status(SEC_E_WRONG_PRINCIPAL, "TLS: the server's certificate names " +
                                                 EscapeForLog(name) + ", not " +
                                                 EscapeForLog(msstd_));
      }
      peer_name_ = name;
    } else if (!fullsic_.empty()) {
      const std::string name = FullsicPrincipalName(cert.get(), SSL_get0_verified_chain(ssl()));
      if (!EqualsIgnoringCase(name, fullsic_)) {
        return Status(SEC_E_WRONG_PRINCIPAL, "TLS: the server's certificate chain names " +
                                                 EscapeForLog(name) + ", not " +
                                                 EscapeForLog(fullsic_));
      }
      peer_name_ = name;
    } else {
      peer_name_ = host_.empty() ? subject : host_;
    }
    return Status::Ok();
  }

  std::string host_;
  std::string msstd_;    // the whole target, "msstd:..."
  std::string fullsic_;  // the whole target, "fullsic:\<...>"
  bool started_ = false;
  bool awaiting_confirmation_ = false;
};

}  // namespace

// ==== Package ===============================================================

size_t TlsSignatureSize(security::AuthnLevel level, size_t stub_length) {
  if (level < security::AuthnLevel::kCall) return 0;
  if (level < security::AuthnLevel::kPktPrivacy) return kDigest + kRecordOverhead;
  return RecordCount(stub_length) * kRecordOverhead + kDigest;
}

Status RejectCloaking(uint8_t authn_svc, bool cloaking) {
  if (authn_svc == rpc::RPC_C_AUTHN_GSS_SCHANNEL && cloaking) {
    return Status(E_INVALIDARG, "TLS (Schannel) does not support cloaking (R35, R104)");
  }
  return Status::Ok();
}

TlsPackage::TlsPackage(std::unique_ptr<State> state) : state_(std::move(state)) {}
TlsPackage::~TlsPackage() = default;

Result<SchannelPrincipalNames> TlsPackage::PrincipalNames() const {
  X509* cert = SSL_CTX_get0_certificate(state_->ctx.get());
  if (cert == nullptr) {
    return Status(SEC_E_NO_CREDENTIALS, "TLS: this package has no certificate of its own");
  }
  STACK_OF(X509)* chain = nullptr;
  if (SSL_CTX_get0_chain_certs(state_->ctx.get(), &chain) != 1) chain = nullptr;
  return RenderSchannelPrincipalNames(cert, chain);
}

Result<std::unique_ptr<TlsPackage>> TlsPackage::CreateServer(TlsServerOptions options) {
  if (options.certificate_file.empty() || options.key_file.empty()) {
    return Status(SEC_E_NO_CREDENTIALS, "a TLS server needs a certificate and its key");
  }
  auto state = std::make_unique<State>();
  state->role = rpc::Role::kServer;
  COMSEC_ASSIGN_OR_RETURN(state->ctx, NewContext(true));
  SSL_CTX* c = state->ctx.get();
  COMSEC_RETURN_IF_ERROR(LoadCertificate(c, options.certificate_file, options.key_file));
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, options.ca_file.c_str(), nullptr) != 1) {
      return FileFailure("the client CA file", options.ca_file);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca_file.c_str());
    if (names == nullptr) return FileFailure("the client CA file", options.ca_file);
    SSL_CTX_set_client_CA_list(c, names);
    // Asked, not required: a client without a certificate is anonymous.
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  state->server = std::move(options);
  return std::unique_ptr<TlsPackage>(new TlsPackage(std::move(state)));
}

Result<std::unique_ptr<TlsPackage>> TlsPackage::CreateClient(TlsClientOptions options) {
  if (options.ca_file.empty()) {
    return Status(SEC_E_NO_CREDENTIALS,
                  "a TLS client needs a CA file to verify the server's certificate against");
  }
  if (options.certificate_file.empty() != options.key_file.empty()) {
    return Status(E_INVALIDARG, "a TLS client certificate needs its key, and a key its certificate");
  }
  auto state = std::make_unique<State>();
  state->role = rpc::Role::kClient;
  COMSEC_ASSIGN_OR_RETURN(state->ctx, NewContext(false));
  SSL_CTX* c = state->ctx.get();
  if (SSL_CTX_load_verify_locations(c, options.ca_file.c_str(), nullptr) != 1) {
    return FileFailure("the CA file", options.ca_file);
  }
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  if (!options.certificate_file.empty()) {
    COMSEC_RETURN_IF_ERROR(LoadCertificate(c, options.certificate_file, options.key_file));
  }
  state->client = std::move(options);
  return std::unique_ptr<TlsPackage>(new TlsPackage(std::move(state)));
}

Result<std::unique_ptr<rpc::SecurityContext>> TlsPackage::Start(const rpc::StartParams& params) {
  if (params.role != state_->role) {
    return Status(SEC_E_NO_CREDENTIALS, params.role == rpc::Role::kServer
                                            ? "this TLS package has no server certificate"
                                            : "this TLS package is a server's");
  }
  // R35: TLS does not run at NONE.
  if (params.auth_level < security::AuthnLevel::kConnect ||
      params.auth_level > security::AuthnLevel::kPktPrivacy) {
    return Status(E_INVALIDARG, "TLS needs an authentication level from CONNECT to PKT_PRIVACY");
  }
  // R20, R35: no delegation; identify-only does not exist in TLS (R78
  // raises the level to IMPERSONATE, which imp_level() reports).
  if (params.wanted & (rpc::kFeatureDelegate | rpc::kFeatureIdentify)) {
    return Status(SEC_E_UNSUPPORTED_FUNCTION,
                  "TLS supports neither delegation nor identify-only (R20, R35)");
  }
  if (params.role == rpc::Role::kServer) {
    auto context = std::make_unique<ServerContext>(*state_, params);
    COMSEC_RETURN_IF_ERROR(context->Init(state_->ctx.get()));
    SSL_set_accept_state(context->ssl());
    return std::unique_ptr<rpc::SecurityContext>(std::move(context));
  }
  const TlsCredentials* credentials = nullptr;
  if (params.credentials) {
    credentials = dynamic_cast<const TlsCredentials*>(params.credentials.get());
    if (credentials == nullptr) {
      return Status(SEC_E_UNKNOWN_CREDENTIALS, "the credentials given are not TLS credentials");
    }
  }
  auto context = std::make_unique<ClientContext>(*state_, params);
  COMSEC_RETURN_IF_ERROR(context->Init(state_->ctx.get()));
  COMSEC_RETURN_IF_ERROR(context->Configure(credentials));
  return std::unique_ptr<rpc::SecurityContext>(std::move(context));
}

}  // namespace comsec::auth::tls
