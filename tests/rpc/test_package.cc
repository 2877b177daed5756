#include "test_package.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/check.h"
#include "comsec/rpc/pdu.h"

namespace comsec::rpc::testing {
namespace {

using security::AuthnLevel;
using security::ImpLevel;

using Key = SecretArray<32>;
using Mac = std::array<uint8_t, 32>;

constexpr size_t kNonceSize = 32;
constexpr size_t kMacSize = 32;
constexpr size_t kBlock = 16;
// version, flags, two reserved bytes, the sequence number.
constexpr size_t kSignatureHeader = 8;
constexpr uint8_t kFlagSealed = 0x01;
constexpr uint8_t kFlagHeaderSigned = 0x02;
// Names and targets in the handshake are short; this bounds what a hostile
// peer can make us hold.
constexpr size_t kMaxName = 256;

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// HMAC-SHA256 over the concatenation of `parts` (OpenSSL's EVP_MAC).
Mac Hmac(std::span<const uint8_t> key, std::initializer_list<std::span<const uint8_t>> parts) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  COMSEC_CHECK(mac != nullptr, "OpenSSL has no HMAC");
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  COMSEC_CHECK(ctx != nullptr, "EVP_MAC_CTX_new failed");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  COMSEC_CHECK(EVP_MAC_init(ctx, key.data(), key.size(), params) == 1, "EVP_MAC_init failed");
  for (auto part : parts) {
    COMSEC_CHECK(EVP_MAC_update(ctx, part.data(), part.size()) == 1, "EVP_MAC_update failed");
  }
  Mac out;
  size_t length = 0;
  COMSEC_CHECK(EVP_MAC_final(ctx, out.data(), &length, out.size()) == 1 && length == out.size(),
               "EVP_MAC_final failed");
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return out;
}

Key DeriveKey(std::span<const uint8_t> key, std::string_view label,
              std::span<const uint8_t> a = {}, std::span<const uint8_t> b = {}) {
  Mac m = Hmac(key, {AsBytes(label), a, b});
  Key k;
  std::memcpy(k.data(), m.data(), k.size());
  WipeSecret(m.data(), m.size());
  return k;
}

bool MacEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::array<uint8_t, 4> U32Bytes(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

// AES-256-CBC with PKCS#7 padding; false only when a ciphertext does not
// decrypt to valid padding.
bool Cbc(bool encrypt, const Key& key, std::span<const uint8_t, kBlock> iv,
         std::span<const uint8_t> in, std::vector<uint8_t>* out) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  COMSEC_CHECK(ctx != nullptr, "EVP_CIPHER_CTX_new failed");
  COMSEC_CHECK(EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), nullptr, key.data(), iv.data(),
                                 encrypt ? 1 : 0) == 1,
               "EVP_CipherInit_ex failed");
  out->assign(in.size() + kBlock, 0);
  int n = 0, last = 0;
  COMSEC_CHECK(EVP_CipherUpdate(ctx, out->data(), &n, in.data(), static_cast<int>(in.size())) == 1,
               "EVP_CipherUpdate failed");
  const bool ok = EVP_CipherFinal_ex(ctx, out->data() + n, &last) == 1;
  EVP_CIPHER_CTX_free(ctx);
  out->resize(ok ? static_cast<size_t>(n + last) : 0);
  return ok;
}

// ==== Handshake messages ====================================================
// Invariant: every message is "CSTP", its leg, version 1, then the leg's
// fields; a parser refuses trailing bytes.

constexpr std::array<uint8_t, 4> kMagic = {'C', 'S', 'T', 'P'};

std::vector<uint8_t> MessageHeader(uint8_t leg) {
  std::vector<uint8_t> m(kMagic.begin(), kMagic.end());
  m.push_back(leg);
  m.push_back(1);
  return m;
}

Status BadToken(int leg, std::string_view why) {
  return Status(SEC_E_INVALID_TOKEN,
                "leg " + std::to_string(leg) + " of the test package's handshake " +
                    std::string(why));
}

Result<ByteReader> OpenMessage(std::span<const uint8_t> m, uint8_t leg) {
  ByteReader r(m, "test package message");
  auto magic = r.Bytes(4);
  auto got_leg = r.U8();
  auto version = r.U8();
  if (!magic.ok() || !got_leg.ok() || !version.ok() ||
      !std::equal(magic->begin(), magic->end(), kMagic.begin())) {
    return BadToken(leg, "is not a test package message");
  }
  if (*got_leg != leg) {
    return BadToken(leg, "was expected, but message " + std::to_string(*got_leg) + " arrived");
  }
  if (*version != 1) return BadToken(leg, "has an unknown version");
  return r;
}

Result<std::string> ReadName(ByteReader& r, int leg) {
  auto n = r.U16Le();
  if (!n.ok() || *n > kMaxName) return BadToken(leg, "has a bad name length");
  auto bytes = r.Bytes(*n);
  if (!bytes.ok()) return BadToken(leg, "is truncated");
  return std::string(bytes->begin(), bytes->end());
}

void WriteName(std::vector<uint8_t>& m, std::string_view name) {
  m.push_back(static_cast<uint8_t>(name.size()));
  m.push_back(static_cast<uint8_t>(name.size() >> 8));
  m.insert(m.end(), name.begin(), name.end());
}

// ==== The context ===========================================================

class SharedSecretContext : public SecurityContext {
 public:
  // Client.
  SharedSecretContext(const StartParams& params,
                      std::shared_ptr<const SharedSecretCredentials> credentials)
      : role_(Role::kClient),
        level_(params.auth_level),
        imp_level_(params.imp_level),
        local_(params.connection.local),
        target_(params.target_name),
        credentials_(std::move(credentials)) {}
  // Server.
  SharedSecretContext(const StartParams& params, const SharedSecretServerOptions* server)
      : role_(Role::kServer),
        level_(params.auth_level),
        local_(params.connection.local),
        server_(server) {}

  Result<UpdateResult> Update(std::span<const uint8_t> input) override {
    if (role_ == Role::kClient) return ClientStep(input);
    return ServerStep(input);
  }
  bool IsComplete() const override { return complete_; }

  uint32_t features() const override {
    if (!complete_) return 0;
    uint32_t f = kFeatureSign | kFeatureSeal | kFeatureMutualAuth | kFeatureSessionKey;
    if (imp_level_ == ImpLevel::kIdentify) f |= kFeatureIdentify;
    return f;
  }
  ImpLevel imp_level() const override { return imp_level_; }

  size_t SignatureSize(size_t n) const override {
    size_t size = kSignatureHeader + kMacSize;
    if (level_ == AuthnLevel::kPktPrivacy) size += kBlock - n % kBlock;
    return size;
  }

  Status Protect(const PduRegion& region) override {
    COMSEC_RETURN_IF_ERROR(CheckRegion(region, /*protect=*/true));
    const bool seal = level_ == AuthnLevel::kPktPrivacy;
    const uint32_t seq = send_seq_;
    Direction& d = role_ == Role::kClient ? client_to_server_ : server_to_client_;
    std::span<uint8_t> sig = region.signature;
    std::span<uint8_t> stub = region.pdu.subspan(region.stub_begin,
                                                 region.stub_end - region.stub_begin);
    sig[0] = 1;
    sig[1] = static_cast<uint8_t>((seal ? kFlagSealed : 0) |
                                  (region.header_signing ? kFlagHeaderSigned : 0));
    sig[2] = sig[3] = 0;
    std::memcpy(sig.data() + 4, U32Bytes(seq).data(), 4);
    const size_t tail = sig.size() - kSignatureHeader - kMacSize;
    if (seal) {
      std::vector<uint8_t> ciphertext;
      COMSEC_CHECK(Cbc(true, d.seal, Iv(d, seq), stub, &ciphertext), "sealing failed");
      COMSEC_CHECK(ciphertext.size() == stub.size() + tail,
                   "the ciphertext's tail is not the signature's");
      std::memcpy(stub.data(), ciphertext.data(), stub.size());
      std::memcpy(sig.data() + kSignatureHeader, ciphertext.data() + stub.size(), tail);
    }
    Mac mac = PduMac(d, region, sig.first(kSignatureHeader + tail));
    std::memcpy(sig.data() + kSignatureHeader + tail, mac.data(), kMacSize);
    ++send_seq_;
    return Status::Ok();
  }

  Status Verify(const PduRegion& region) override {
    COMSEC_RETURN_IF_ERROR(CheckRegion(region, /*protect=*/false));
    const bool seal = level_ == AuthnLevel::kPktPrivacy;
    Direction& d = role_ == Role::kClient ? server_to_client_ : client_to_server_;
    std::span<const uint8_t> sig = region.signature;
    const size_t tail = sig.size() - kSignatureHeader - kMacSize;
    Mac mac = PduMac(d, region, sig.first(kSignatureHeader + tail));
    if (!MacEquals(mac, sig.subspan(kSignatureHeader + tail))) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the test package's signature does not match the PDU: it was altered "
                    "in transit or signed with another key");
    }
    // Authenticated from here on; what the sender said must be what we
    // expect, or it is a downgrade or a replay.
    const uint8_t flags = static_cast<uint8_t>((seal ? kFlagSealed : 0) |
                                               (region.header_signing ? kFlagHeaderSigned : 0));
    if (sig[0] != 1 || sig[1] != flags) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the test package's signature claims other protection than negotiated");
    }
    const uint32_t seq = sig[4] | (sig[5] << 8) | (sig[6] << 16) | (uint32_t{sig[7]} << 24);
    if (seq != recv_seq_) {
      return Status(SEC_E_OUT_OF_SEQUENCE, "PDU with sequence number " + std::to_string(seq) +
                                               " where " + std::to_string(recv_seq_) +
                                               " was expected (replayed or dropped PDU)");
    }
    if (seal) {
      std::span<uint8_t> stub = region.pdu.subspan(region.stub_begin,
                                                   region.stub_end - region.stub_begin);
      std::vector<uint8_t> ciphertext(stub.begin(), stub.end());
      ciphertext.insert(ciphertext.end(), sig.begin() + kSignatureHeader,
                        sig.begin() + static_cast<ptrdiff_t>(kSignatureHeader + tail));
      std::vector<uint8_t> plain;
      if (!Cbc(false, d.seal, Iv(d, seq), ciphertext, &plain) || plain.size() != stub.size()) {
        return Status(SEC_E_MESSAGE_ALTERED, "the sealed stub does not decrypt");
      }
      std::memcpy(stub.data(), plain.data(), stub.size());
    }
    ++recv_seq_;
    return Status::Ok();
  }

  Result<SecretArray<16>> SessionKey() const override {
    if (!complete_) return Status(SEC_E_NO_CREDENTIALS, "the handshake is not complete");
    SecretArray<16> k;
    std::memcpy(k.data(), session_key_.data(), k.size());
    return k;
  }
  std::string PeerName() const override { return peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return token_; }

 private:
  struct Direction {
    Key sign;
    Key seal;
  };

  Status CheckRegion(const PduRegion& r, bool protect) const {
    if (!complete_) return Status(E_UNEXPECTED, "PDU protection before the handshake completed");
    if (r.level < AuthnLevel::kCall || r.level != level_) {
      return Status(E_UNEXPECTED,
                    "PDU protected at level " + std::to_string(security::ToNumber(r.level)) +
                        " under a context of level " + std::to_string(security::ToNumber(level_)));
    }
    if (r.stub_begin > r.stub_end || r.stub_end > r.pdu.size() ||
        (r.header_signing && r.stub_end + kSecTrailerSize > r.pdu.size())) {
      return Status(E_INVALIDARG, "the PDU region does not fit its PDU");
    }
    const size_t want = SignatureSize(r.stub_end - r.stub_begin);
    if (r.signature.size() != want) {
      return Status(protect ? E_INVALIDARG : SEC_E_MESSAGE_ALTERED,
                    "a signature of " + std::to_string(r.signature.size()) +
                        " bytes where the test package's is " + std::to_string(want));
    }
    return Status::Ok();
  }

  std::array<uint8_t, kBlock> Iv(const Direction& d, uint32_t seq) const {
    auto seq_bytes = U32Bytes(seq);
    Mac m = Hmac(d.seal, {AsBytes("iv"), seq_bytes});
    std::array<uint8_t, kBlock> iv;
    std::memcpy(iv.data(), m.data(), iv.size());
    return iv;
  }

  // The MAC of a PDU: the signature's first bytes, then header and body
  // prefix (header signing), stub, sec_trailer (header signing).
  Mac PduMac(const Direction& d, const PduRegion& r, std::span<const uint8_t> sig_prefix) const {
    std::span<const uint8_t> pdu = r.pdu;
    std::span<const uint8_t> header, trailer;
    if (r.header_signing) {
      header = pdu.first(r.stub_begin);
      trailer = pdu.subspan(r.stub_end, kSecTrailerSize);
    }
    return Hmac(d.sign, {sig_prefix, header, pdu.subspan(r.stub_begin, r.stub_end - r.stub_begin),
                         trailer});
  }

  // ---- client legs ----

  Result<UpdateResult> ClientStep(std::span<const uint8_t> input) {
    switch (leg_) {
      case 0: {  // leg 1: NEGOTIATE
        COMSEC_CHECK(RAND_bytes(client_nonce_.data(), static_cast<int>(client_nonce_.size())) == 1,
                     "no random bytes");
        msg1_ = MessageHeader(1);
        msg1_.insert(msg1_.end(), client_nonce_.begin(), client_nonce_.end());
        WriteName(msg1_, credentials_->user());
        WriteName(msg1_, target_);
        msg1_.push_back(static_cast<uint8_t>(security::ToNumber(imp_level_)));
        user_key_ = UserKey(credentials_->secret(), credentials_->user());
        leg_ = 1;
        return UpdateResult{msg1_, false};
      }
      case 1: {  // leg 2 in, leg 3 out: check the server's proof
        COMSEC_ASSIGN_OR_RETURN(ByteReader r, OpenMessage(input, 2));
        auto nonce = r.Bytes(kNonceSize);
        if (!nonce.ok()) return BadToken(2, "is truncated");
        std::memcpy(server_nonce_.data(), nonce->data(), kNonceSize);
        COMSEC_ASSIGN_OR_RETURN(std::string server_name, ReadName(r, 2));
        const size_t proof_at = r.offset();
        auto proof = r.Bytes(kMacSize);
        if (!proof.ok() || r.remaining() != 0) return BadToken(2, "has a bad length");
        Mac expected = Hmac(user_key_, {AsBytes("server proof"), msg1_, input.first(proof_at)});
        if (!MacEquals(expected, *proof)) {
          return Status(SEC_E_MUTUAL_AUTH_FAILED,
                        "the server \"" + server_name + "\" did not prove that it knows " +
                            credentials_->user() +
                            "'s secret: it is not the server it claims to be, or the secret "
                            "differs between client and server (the client's proof was not sent)");
        }
        if (!target_.empty() && server_name != target_) {
          return Status(SEC_E_WRONG_PRINCIPAL, "the server proved it is \"" + server_name +
                                                   "\", but \"" + target_ + "\" was expected");
        }
        peer_name_ = server_name;
        msg2_.assign(input.begin(), input.end());
        std::vector<uint8_t> msg3 = MessageHeader(3);
        Mac client_proof = Hmac(user_key_, {AsBytes("client proof"), msg1_, msg2_});
        msg3.insert(msg3.end(), client_proof.begin(), client_proof.end());
        msg3_ = msg3;
        leg_ = 3;
        return UpdateResult{std::move(msg3), false};
      }
      case 3: {  // leg 4: the server's key confirmation
        COMSEC_ASSIGN_OR_RETURN(ByteReader r, OpenMessage(input, 4));
        auto confirmation = r.Bytes(kMacSize);
        if (!confirmation.ok() || r.remaining() != 0) return BadToken(4, "has a bad length");
        DeriveSessionKeys();
        Mac expected = Hmac(session_key_, {AsBytes("confirm"), msg1_, msg2_, msg3_});
        if (!MacEquals(expected, *confirmation)) {
          return Status(SEC_E_MUTUAL_AUTH_FAILED,
                        "the server's key confirmation does not match: it did not derive "
                        "our session key");
        }
        complete_ = true;
        leg_ = 4;
        return UpdateResult{{}, true};
      }
      default:
        return Status(SEC_E_INVALID_TOKEN, "the test package's handshake is already complete");
    }
  }

  // ---- server legs ----

  Result<UpdateResult> ServerStep(std::span<const uint8_t> input) {
    switch (leg_) {
      case 0: {  // leg 1 in, leg 2 out
        COMSEC_ASSIGN_OR_RETURN(ByteReader r, OpenMessage(input, 1));
        auto nonce = r.Bytes(kNonceSize);
        if (!nonce.ok()) return BadToken(1, "is truncated");
        std::memcpy(client_nonce_.data(), nonce->data(), kNonceSize);
        COMSEC_ASSIGN_OR_RETURN(std::string user, ReadName(r, 1));
        COMSEC_ASSIGN_OR_RETURN(std::string target, ReadName(r, 1));
        auto imp = r.U8();
        if (!imp.ok() || r.remaining() != 0) return BadToken(1, "has a bad length");
        const std::optional<ImpLevel> imp_level = security::ImpLevelFromNumber(*imp);
        if (!imp_level) return BadToken(1, "names no impersonation level");
        if (!target.empty() && target != server_->server_name) {
          return Status(SEC_E_WRONG_PRINCIPAL, "the client wants \"" + target +
                                                   "\", and this server is \"" +
                                                   server_->server_name + "\"");
        }
        auto account = server_->accounts.find(user);
        if (account == server_->accounts.end()) {
          return Status(SEC_E_LOGON_DENIED, "the test package has no account \"" + user + "\"");
        }
        imp_level_ = *imp_level;
        user_ = user;
        user_sid_ = account->second.sid;
        user_key_ = UserKey(account->second.secret, user);
        msg1_.assign(input.begin(), input.end());
        COMSEC_CHECK(RAND_bytes(server_nonce_.data(), static_cast<int>(server_nonce_.size())) == 1,
                     "no random bytes");
        std::vector<uint8_t> msg2 = MessageHeader(2);
        msg2.insert(msg2.end(), server_nonce_.begin(), server_nonce_.end());
        WriteName(msg2, server_->server_name);
        Mac proof = Hmac(user_key_, {AsBytes("server proof"), msg1_, msg2});
        msg2.insert(msg2.end(), proof.begin(), proof.end());
        msg2_ = msg2;
        leg_ = 2;
        return UpdateResult{std::move(msg2), false};
      }
      case 2: {  // leg 3 in, leg 4 out
        COMSEC_ASSIGN_OR_RETURN(ByteReader r, OpenMessage(input, 3));
        auto proof = r.Bytes(kMacSize);
        if (!proof.ok() || r.remaining() != 0) return BadToken(3, "has a bad length");
        Mac expected = Hmac(user_key_, {AsBytes("client proof"), msg1_, msg2_});
        if (!MacEquals(expected, *proof)) {
          return Status(SEC_E_LOGON_DENIED,
                        "the client did not prove that it knows " + user_ + "'s secret");
        }
        msg3_.assign(input.begin(), input.end());
        DeriveSessionKeys();
        std::vector<uint8_t> msg4 = MessageHeader(4);
        Mac confirmation = Hmac(session_key_, {AsBytes("confirm"), msg1_, msg2_, msg3_});
        msg4.insert(msg4.end(), confirmation.begin(), confirmation.end());
        peer_name_ = server_->realm + "\\" + user_;
        token_ = std::make_shared<const security::Token>(security::Token::ForAuthenticatedUser(
            user_sid_, {}, local_ ? security::LogonKind::kLocal : security::LogonKind::kNetwork));
        complete_ = true;
        leg_ = 4;
        return UpdateResult{std::move(msg4), true};
      }
      default:
        return Status(SEC_E_INVALID_TOKEN, "the test package's handshake is already complete");
    }
  }

  static Key UserKey(const SecretString& secret, std::string_view user) {
    return DeriveKey(AsBytes(secret.view()), "comsec test key", AsBytes(user));
  }

  void DeriveSessionKeys() {
    session_key_ = DeriveKey(user_key_, "session key", client_nonce_, server_nonce_);
    client_to_server_.sign = DeriveKey(session_key_, "sign client to server");
    client_to_server_.seal = DeriveKey(session_key_, "seal client to server");
    server_to_client_.sign = DeriveKey(session_key_, "sign server to client");
    server_to_client_.seal = DeriveKey(session_key_, "seal server to client");
  }

  const Role role_;
  const AuthnLevel level_;
  ImpLevel imp_level_ = ImpLevel::kImpersonate;
  const bool local_;
  std::string target_;
  std::shared_ptr<const SharedSecretCredentials> credentials_;
  const SharedSecretServerOptions* server_ = nullptr;

  // The leg last sent (client) or answered (server).
  int leg_ = 0;
  bool complete_ = false;
  std::array<uint8_t, kNonceSize> client_nonce_{};
  std::array<uint8_t, kNonceSize> server_nonce_{};
  std::vector<uint8_t> msg1_, msg2_, msg3_;
  Key user_key_{};
  Key session_key_{};
  Direction client_to_server_{}, server_to_client_{};
  uint32_t send_seq_ = 0;
  uint32_t recv_seq_ = 0;
  std::string user_;
  security::Sid user_sid_;
  std::string peer_name_;
  std::shared_ptr<const security::Token> token_;
};

}  // namespace

Result<std::unique_ptr<SecurityContext>> SharedSecretPackage::Start(const StartParams& params) {
  if (params.wanted & (kFeatureDelegate | kFeatureDceStyle)) {
    return Status(SEC_E_UNSUPPORTED_FUNCTION,
                  "the test package cannot delegate and has no DCE-style framing");
  }
  if (params.role == Role::kServer) {
    if (!server_) {
      return Status(SEC_E_UNSUPPORTED_FUNCTION, "this test package was made for clients only");
    }
    return std::unique_ptr<SecurityContext>(new SharedSecretContext(params, &*server_));
  }
  std::shared_ptr<const SharedSecretCredentials> credentials = client_;
  if (params.credentials) {
    if (params.credentials->auth_type() != kTestAuthType) {
      return Status(SEC_E_UNKNOWN_CREDENTIALS, "credentials of another package");
    }
    credentials = std::static_pointer_cast<const SharedSecretCredentials>(params.credentials);
  }
  if (!credentials) {
    return Status(SEC_E_NO_CREDENTIALS, "the test package needs a user and a secret");
  }
  return std::unique_ptr<SecurityContext>(new SharedSecretContext(params, std::move(credentials)));
}

}  // namespace comsec::rpc::testing
