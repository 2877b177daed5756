#include "comsec/auth/ntlm/ntlm_package.h"

#include <algorithm>
#include <cstring>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/session_security.h"
#include "comsec/base/log_escape.h"
#include "comsec/config/accounts.h"
#include "comsec/security/token.h"

namespace comsec::auth::ntlm {
namespace {

using security::AuthnLevel;
using security::ImpLevel;

// What comsec's NTLM speaks ([MS-NLMP] 2.2.2.5); anything else a client
// asks for is dropped from the CHALLENGE.
constexpr uint32_t kSupportedFlags =
    NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN |
    NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_NTLM |
    NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NTLMSSP_NEGOTIATE_TARGET_INFO | NTLMSSP_NEGOTIATE_VERSION |
    NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56 |
    NTLMSSP_NEGOTIATE_IDENTIFY;

constexpr uint32_t kClientFlags =
    NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN |
    NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_NTLM |
    NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
    NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 |
    NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56;

Status Denied(std::string why) { return Status(SEC_E_LOGON_DENIED, std::move(why)); }

// The flags a level needs from the negotiation (R4: CALL counts as PKT).
Status CheckFlagsForLevel(uint32_t flags, AuthnLevel level, const char* who) {
  auto missing = [&](const char* what) {
    return Status(SEC_E_ALGORITHM_MISMATCH,
                  std::string(who) + " did not negotiate " + what +
                      ", which authentication level " + std::to_string(security::ToNumber(level)) +
                      " needs; refusing rather than continuing unprotected");
  };
  if (!(flags & NTLMSSP_NEGOTIATE_UNICODE)) return missing("NTLMSSP_NEGOTIATE_UNICODE");
  if (!(flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
    return missing("NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY (NTLMv2 session security)");
  }
  if (level >= AuthnLevel::kCall) {
    if (!(flags & NTLMSSP_NEGOTIATE_SIGN)) return missing("NTLMSSP_NEGOTIATE_SIGN");
    if (!(flags & NTLMSSP_NEGOTIATE_128)) return missing("NTLMSSP_NEGOTIATE_128 (128-bit keys)");
  }
  if (level >= AuthnLevel::kPktPrivacy && !(flags & NTLMSSP_NEGOTIATE_SEAL)) {
    return missing("NTLMSSP_NEGOTIATE_SEAL");
  }
  return Status::Ok();
}

// Signing and sealing of RPC PDUs: the whole PDU up to the auth_value is
// signed, the stub and its padding are sealed ([MS-RPCE] 3.3.1.5.2.2).
class Protection {
 public:
  Status Verify(const rpc::PduRegion& r) {
    auto pdu = r.pdu;
    const size_t stub_begin = r.stub_begin, stub_end = r.stub_end;
    const AuthnLevel level = r.level;
    std::span<const uint8_t> signature = r.signature;
    if (!session_) return Status(SEC_E_INTERNAL_ERROR, "NTLM handshake not complete");
    if (signature.size() != kSignatureSize || pdu.size() < kSignatureSize ||
        stub_end > pdu.size() - kSignatureSize || stub_begin > stub_end) {
      return Status(SEC_E_MESSAGE_ALTERED, "NTLM verifier is truncated");
    }
    auto message = pdu.first(pdu.size() - kSignatureSize);
    if (level >= AuthnLevel::kPktPrivacy) {
      return session_->UnsealAndVerify(
          message, pdu.subspan(stub_begin, stub_end - stub_begin), signature);
    }
    return session_->Verify(message, signature);
  }
  Status Protect(const rpc::PduRegion& r) {
    auto pdu = r.pdu;
    const size_t stub_begin = r.stub_begin, stub_end = r.stub_end;
    const AuthnLevel level = r.level;
    std::span<uint8_t> signature = r.signature;
    if (!session_) return Status(SEC_E_INTERNAL_ERROR, "NTLM handshake not complete");
    if (signature.size() != kSignatureSize || pdu.size() < kSignatureSize ||
        stub_end > pdu.size() - kSignatureSize || stub_begin > stub_end) {
      return Status(SEC_E_INTERNAL_ERROR, "no room for the NTLM signature");
    }
    auto message = pdu.first(pdu.size() - kSignatureSize);
    std::array<uint8_t, 16> sig;
    if (level >= AuthnLevel::kPktPrivacy) {
      session_->SealAndSign(message, pdu.subspan(stub_begin, stub_end - stub_begin), sig);
    } else {
      session_->Sign(message, sig);
    }
    std::memcpy(signature.data(), sig.data(), sig.size());
    return Status::Ok();
  }

  std::optional<SessionSecurity> session_;
};

// What client and server contexts share once the handshake is done.
class NtlmContext : public rpc::SecurityContext {
 public:
  explicit NtlmContext(AuthnLevel level) : level_(level) {}
  size_t SignatureSize(size_t) const override { return kSignatureSize; }
  Status Verify(const rpc::PduRegion& r) override { return protection_.Verify(r); }
  Status Protect(const rpc::PduRegion& r) override { return protection_.Protect(r); }
  uint32_t features() const override {
    if (!protection_.session_) return 0;
    uint32_t f = rpc::kFeatureSessionKey;
    if (flags_ & NTLMSSP_NEGOTIATE_SIGN) f |= rpc::kFeatureSign;
    if (flags_ & NTLMSSP_NEGOTIATE_SEAL) f |= rpc::kFeatureSeal;
    if (flags_ & NTLMSSP_NEGOTIATE_IDENTIFY) f |= rpc::kFeatureIdentify;
    return f;
  }
  ImpLevel imp_level() const override {
    return (flags_ & NTLMSSP_NEGOTIATE_IDENTIFY) ? ImpLevel::kIdentify : ImpLevel::kImpersonate;
  }
  // An NTLM signature over `message` with the next sequence number
  // ([MS-NLMP] 3.4.4.2), as gss_get_mic makes it.
  Result<std::vector<uint8_t>> MakeMic(std::span<const uint8_t> message) override {
    if (!protection_.session_) {
      return Status(SEC_E_INTERNAL_ERROR, "the NTLM handshake is not complete");
    }
    std::vector<uint8_t> mic(kSignatureSize);
    protection_.session_->Sign(message, std::span<uint8_t, 16>(mic.data(), 16));
    return mic;
  }
  Status VerifyMic(std::span<const uint8_t> message, std::span<const uint8_t> mic) override {
    if (!protection_.session_) {
      return Status(SEC_E_INTERNAL_ERROR, "the NTLM handshake is not complete");
    }
    return protection_.session_->Verify(message, mic);
  }
  // [MS-SPNG] 3.3.5.1 (pinned by gss_ntlmssp_acceptor_test against
  // gss-ntlmssp).
  void ResetAfterMechListMic(bool incoming) override {
    if (!protection_.session_) return;
    if (incoming) {
      protection_.session_->RestoreIncomingSealingState();
    } else {
      protection_.session_->RestoreOutgoingSealingState();
    }
  }
  Result<SecretArray<16>> SessionKey() const override {
    if (!protection_.session_) {
      return Status(SEC_E_INTERNAL_ERROR, "the NTLM handshake is not complete");
    }
    return session_key_;
  }

 protected:
  // Once complete: the negotiated flags and the exported session key.
  void Complete(const Digest16& exported, uint32_t flags, bool client) {
    protection_.session_.emplace(exported, flags, client);
    std::copy(exported.begin(), exported.end(), session_key_.begin());
    flags_ = flags;
  }

  AuthnLevel level_;
  Protection protection_;
  uint32_t flags_ = 0;
  SecretArray<16> session_key_{};
};

// ==== Server ================================================================

class ServerContext : public NtlmContext {
 public:
  ServerContext(const ServerOptions& o, const rpc::StartParams& p)
      : NtlmContext(p.auth_level), options_(o), connection_(p.connection) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> out, Accept(token));
    return rpc::UpdateResult{std::move(out), IsComplete()};
  }

  Result<std::vector<uint8_t>> Accept(std::span<const uint8_t> token) {
    Result<std::vector<uint8_t>> r = Status(SEC_E_INVALID_TOKEN, "unexpected NTLM message");
    switch (state_) {
      case State::kNegotiate:
        r = OnNegotiate(token);
        break;
      case State::kAuthenticate:
        r = OnAuthenticate(token);
        break;
      default:
        break;
    }
    if (!r.ok()) {
      state_ = State::kFailed;
      const std::string why(r.status().message());
      if (!account_.empty()) {
        r = Status(r.status().code(), "logon of " + account_ + " refused: " + why);
      }
      LogRefused(r.status(), why);
    }
    return r;
  }
  bool IsComplete() const override { return state_ == State::kDone; }
  std::string PeerName() const override { return peer_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return token_; }

 private:
  enum class State { kNegotiate, kAuthenticate, kDone, kFailed };

  // One ntlm.logon_refused (or ntlm.reflection_refused) event for the
  // refusal `refusal`, whose cause is `why`.
  void LogRefused(const Status& refusal, const std::string& why) const {
    const Logger* logger = options_.logger;
    if (!logger || !logger->Enabled(LogSeverity::kWarning)) return;
    LogEvent e(reflected_ ? "ntlm.reflection_refused" : "ntlm.logon_refused",
               LogSeverity::kWarning,
               account_.empty() ? "an NTLM logon was refused: " + why
                                : std::string(refusal.message()));
    if (!connection_.peer.empty()) e.Peer(connection_.peer);
    if (!principal_.empty()) e.Principal(principal_);
    logger->Log(e.AuthnLevel(security::ToNumber(level_), security::AuthnLevelName(level_))
                    .Reason(why)
                    .Hresult(refusal.code()));
  }

  Result<std::vector<uint8_t>> OnNegotiate(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(NegotiateMessage neg, NegotiateMessage::Decode(token));
    negotiate_bytes_.assign(token.begin(), token.end());
    uint32_t flags = (neg.flags & kSupportedFlags) | NTLMSSP_NEGOTIATE_TARGET_INFO |
                     NTLMSSP_TARGET_TYPE_SERVER | NTLMSSP_REQUEST_TARGET |
                     NTLMSSP_NEGOTIATE_NTLM;
    COMSEC_RETURN_IF_ERROR(CheckFlagsForLevel(flags, level_, "the client"));
    if (options_.validator) {
      // Without the domain (comsecd unreachable) the CHALLENGE names the
      // computer; the logon then fails at validation, closed.
      if (auto d = options_.validator->DomainName(); d.ok()) domain_ = *d;
    }
    const std::string computer =
        options_.computer_name.empty() ? config::NetbiosComputerName() : options_.computer_name;
    if (domain_.empty()) domain_ = computer;
    AvPairs info;
    info.SetString(AvId::kNbDomainName, Utf8ToUtf16(domain_));
    info.SetString(AvId::kNbComputerName, Utf8ToUtf16(computer));
    info.SetString(AvId::kDnsDomainName, Utf8ToUtf16(options_.dns_domain_name.empty()
                                                         ? domain_
                                                         : options_.dns_domain_name));
    info.SetString(AvId::kDnsComputerName,
                   Utf8ToUtf16(options_.dns_computer_name.empty() ? computer
                                                                  : options_.dns_computer_name));
    const uint64_t now = FileTimeNow();
    std::vector<uint8_t> ts(8);
    for (int i = 0; i < 8; ++i) ts[i] = uint8_t(now >> (8 * i));
    info.Set(AvId::kTimestamp, std::move(ts));
    ChallengeMessage chal;
    chal.flags = flags;
    chal.target_name = Utf8ToUtf16(domain_);
    RandomBytes(chal.server_challenge);
    chal.target_info = info.Encode();
    chal.version = kOurVersion;
    challenge_flags_ = flags;
    server_challenge_ = chal.server_challenge;
    challenge_bytes_ = chal.Encode();
    state_ = State::kAuthenticate;
    return challenge_bytes_;
  }

  Result<std::vector<uint8_t>> OnAuthenticate(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(AuthenticateMessage auth, AuthenticateMessage::Decode(token));
    const uint32_t flags = auth.flags & challenge_flags_;
    const bool anonymous =
        auth.user.empty() && auth.nt_response.empty() &&
        (auth.lm_response.empty() ||
         (auth.lm_response.size() == 1 && auth.lm_response[0] == 0));
    Digest16 key_exchange_key{};
    if (anonymous) {
      account_ = "NT AUTHORITY\\ANONYMOUS LOGON";
      principal_ = account_;
      if (!options_.allow_anonymous) {
        return Denied("anonymous (null session) logons are not allowed on this "
                      "server; the client must authenticate");
      }
      token_ = std::make_shared<const security::Token>(
          security::Token::Anonymous(security::LogonKind::kNetwork, false));
      peer_name_ = "NT AUTHORITY\\ANONYMOUS LOGON";
    } else {
      // Peer-supplied: escaped for the messages it goes into (log sinks
      // escape the principal field themselves).
      account_ = (auth.domain.empty() ? domain_ : EscapeForLog(Utf16ToUtf8(auth.domain))) +
                 "\\" + EscapeForLog(Utf16ToUtf8(auth.user));
      principal_ = (auth.domain.empty() ? domain_ : Utf16ToUtf8(auth.domain)) + "\\" +
                   Utf16ToUtf8(auth.user);
      COMSEC_ASSIGN_OR_RETURN(key_exchange_key, ValidateUser(auth));
    }
    COMSEC_RETURN_IF_ERROR(CheckFlagsForLevel(flags, level_, "the client"));
    Digest16 exported = key_exchange_key;
    if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
      if (auth.encrypted_session_key.size() != 16) {
        return Denied("key exchange negotiated but the EncryptedRandomSessionKey has " +
                      std::to_string(auth.encrypted_session_key.size()) +
                      " bytes (need 16)");
      }
      exported = DecryptSessionKey(
          key_exchange_key, std::span<const uint8_t, 16>(auth.encrypted_session_key.data(), 16));
    }
    if (mic_required_) {
      // The MIC binds all three messages: a relay that changed the
      // NEGOTIATE's flags or stripped the MIC fails here (CVE-2019-1040).
      if (!auth.mic) {
        return Denied("the client's NTLMv2 response promises a MIC, but the "
                      "AUTHENTICATE message has none (removed in transit?)");
      }
      std::vector<uint8_t> zeroed(token.begin(), token.end());
      std::fill_n(zeroed.begin() + kMicOffset, 16, 0);
      Digest16 mic = ComputeMic(exported, negotiate_bytes_, challenge_bytes_, zeroed);
      if (!SecretEquals(mic, *auth.mic)) {
        return Denied("the AUTHENTICATE message's MIC does not match the "
                      "exchange (messages altered in transit)");
      }
    }
    Complete(exported, flags, /*client=*/false);
    state_ = State::kDone;
    return std::vector<uint8_t>{};
  }

  // The validator checks the response against the account's secret; the
  // server keeps what needs none. Returns the key exchange key.
  Result<Digest16> ValidateUser(const AuthenticateMessage& auth) {
    if (!options_.validator) return Denied("this server has no logon validator");
    if (auth.nt_response.size() > 24) {
      // NTLMv2: the MIC promise is in the blob's AV pairs.
      COMSEC_ASSIGN_OR_RETURN(ParsedNtlmV2Response v2, ParseNtlmV2Response(auth.nt_response));
      COMSEC_ASSIGN_OR_RETURN(AvPairs pairs, AvPairs::Decode(v2.av_pairs));
      if (auto f = pairs.Flags(); f && (*f & kAvFlagMicPresent)) mic_required_ = true;
    }
    NetworkLogonRequest request;
    request.server_challenge = server_challenge_;
    request.user = auth.user;
    request.domain = auth.domain;
    request.nt_response = auth.nt_response;
    request.lm_response = auth.lm_response;
    request.peer = connection_.peer;
    COMSEC_ASSIGN_OR_RETURN(NetworkLogonResult result,
                            options_.validator->ValidateNetworkLogon(request));
    COMSEC_RETURN_IF_ERROR(AcceptAccount(result));
    if (result.ntlmv1 && options_.logger) {
      LogEvent e("ntlm.ntlmv1_accepted", LogSeverity::kWarning,
                 "WEAK: accepted an NTLMv1 logon of " + account_ + " from " +
                     connection_.peer +
                     " because NTLMv1 is allowed (LmCompatibilityLevel below 5); set it "
                     "to 5 to refuse NTLMv1");
      if (!connection_.peer.empty()) e.Peer(connection_.peer);
      options_.logger->Log(
          e.Principal(account_)
              .AuthnLevel(security::ToNumber(level_), security::AuthnLevelName(level_))
              .Reason("NTLMv1 is allowed (LmCompatibilityLevel below 5)"));
    }
    return result.key_exchange_key;
  }

  // The last check once the response proved the password, then the
  // caller's identity: its name and its network logon token.
  Status AcceptAccount(const NetworkLogonResult& result) {
    if (options_.reflection &&
        options_.reflection->IsReflected(server_challenge_, connection_.local_endpoint,
                                         connection_.peer_endpoint)) {
      reflected_ = true;
      return Denied("the AUTHENTICATE answers a challenge that a client in this "
                    "process received: a reflected logon (MS08-068)");
    }
    account_ = result.domain + "\\" + result.account_name;
    principal_ = account_;
    peer_name_ = account_;
    // The token of a store account's logon, as config builds it for every
    // package and for `comcfg explain`.
    token_ = std::make_shared<const security::Token>(config::AccountLogonToken(
        {result.user_sid, result.group_sids, result.unix_identity},
        security::LogonKind::kNetwork));
    return Status::Ok();
  }

  const ServerOptions& options_;
  rpc::ConnectionInfo connection_;
  State state_ = State::kNegotiate;
  std::string domain_;
  uint32_t challenge_flags_ = 0;
  std::array<uint8_t, 8> server_challenge_{};
  std::vector<uint8_t> negotiate_bytes_;
  std::vector<uint8_t> challenge_bytes_;
  bool mic_required_ = false;
  // The account as the client named it, peer-supplied parts escaped (for
  // Status messages), then as validated.
  std::string account_;
  // The same, unescaped (log sinks escape it): the principal of events.
  std::string principal_;
  // The AUTHENTICATE was refused as a reflection (MS08-068).
  bool reflected_ = false;
  std::string peer_name_;
  std::shared_ptr<const security::Token> token_;
};

// ==== Client ================================================================

class ClientContext : public NtlmContext {
 public:
  ClientContext(const ClientCredentials& c, ReflectionRegistry* reflection,
                const rpc::StartParams& p)
      : NtlmContext(p.auth_level),
        creds_(c),
        reflection_(reflection),
        connection_(p.connection),
        identify_(p.imp_level == ImpLevel::kIdentify || (p.wanted & rpc::kFeatureIdentify)) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> out, Initiate(token));
    return rpc::UpdateResult{std::move(out), complete_};
  }

  Result<std::vector<uint8_t>> Initiate(std::span<const uint8_t> token) {
    if (!sent_negotiate_) {
      NegotiateMessage neg;
      neg.flags = kClientFlags;
      // RPC_C_IMP_LEVEL_IDENTIFY: the server may identify us, not act as us.
      if (identify_) neg.flags |= NTLMSSP_NEGOTIATE_IDENTIFY;
      if (Anonymous()) neg.flags |= NTLMSSP_ANONYMOUS;
      neg.version = kOurVersion;
      negotiate_bytes_ = neg.Encode();
      sent_negotiate_ = true;
      return negotiate_bytes_;
    }
    if (complete_) return Status(SEC_E_INVALID_TOKEN, "NTLM handshake already complete");
    return OnChallenge(token);
  }
  bool IsComplete() const override { return complete_; }
  std::string PeerName() const override { return server_name_; }
  std::shared_ptr<const security::Token> PeerToken() const override { return nullptr; }

 private:
  bool Anonymous() const {
    return creds_.user.empty() && !creds_.password && !creds_.nt_hash;
  }

  Result<std::vector<uint8_t>> OnChallenge(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(ChallengeMessage chal, ChallengeMessage::Decode(token));
    uint32_t flags = chal.flags & (kClientFlags | NTLMSSP_ANONYMOUS);
    // Identification only is ours to ask: kept even if the server did not
    // echo it.
    if (identify_) flags |= NTLMSSP_NEGOTIATE_IDENTIFY;
    // Case 32: never continue with less protection than the level needs.
    COMSEC_RETURN_IF_ERROR(CheckFlagsForLevel(flags, level_, "the server"));
    if (std::all_of(chal.server_challenge.begin(), chal.server_challenge.end(),
                    [](uint8_t b) { return b == 0; })) {
      return Status(SEC_E_INVALID_TOKEN, "the server's challenge is all zeros");
    }
    if (chal.target_info.empty()) {
      return Status(SEC_E_INVALID_TOKEN,
                    "the server's CHALLENGE has no target info, which NTLMv2 needs");
    }
    if (reflection_) {
      reflection_->RememberReceived(chal.server_challenge, connection_.local_endpoint,
                                    connection_.peer_endpoint);
    }
    COMSEC_ASSIGN_OR_RETURN(AvPairs pairs, AvPairs::Decode(chal.target_info));
    server_name_ = Utf16ToUtf8(chal.target_name);

    AuthenticateMessage auth;
    auth.flags = flags;
    auth.workstation = Utf8ToUtf16(creds_.workstation.empty() ? config::NetbiosComputerName()
                                                              : creds_.workstation);
    auth.version = kOurVersion;
    Digest16 key_exchange_key{};
    if (Anonymous()) {
      auth.lm_response = {0};
    } else {
      auth.user = Utf8ToUtf16(creds_.user);
      auth.domain = Utf8ToUtf16(creds_.domain);
      const Digest16 nt_hash =
          creds_.nt_hash ? *creds_.nt_hash : NtHashOfPassword(creds_.password ? creds_.password->view() : "");
      const Digest16 key = NtOwfV2(nt_hash, auth.user, auth.domain);
      uint64_t timestamp = FileTimeNow();
      const AvPair* ts = pairs.Find(AvId::kTimestamp);
      if (ts) {
        timestamp = 0;
        for (int i = 0; i < 8; ++i) timestamp |= uint64_t{ts->value[i]} << (8 * i);
      }
      // Promise a MIC, so that a relay cannot strip it (CVE-2019-1040).
      uint32_t av_flags = pairs.Flags().value_or(0) | kAvFlagMicPresent;
      std::vector<uint8_t> fv(4);
      for (int i = 0; i < 4; ++i) fv[i] = uint8_t(av_flags >> (8 * i));
      pairs.Set(AvId::kFlags, std::move(fv));
      Challenge8 client_challenge;
      RandomBytes(client_challenge);
      auto blob = MakeNtlmV2Blob(timestamp, client_challenge, pairs.Encode());
      NtlmV2Result v2 = ComputeNtlmV2(key, chal.server_challenge, client_challenge, blob);
      auth.nt_response = std::move(v2.nt_response);
      // [MS-NLMP] 3.1.5.1.2: with a server timestamp the LMv2 response is zeros.
      auth.lm_response = ts ? std::vector<uint8_t>(24, 0) : std::move(v2.lm_response);
      key_exchange_key = v2.session_base_key;
    }
    Digest16 exported = key_exchange_key;
    if (flags & NTLMSSP_NEGOTIATE_KEY_EXCH) {
      RandomBytes(exported);
      Digest16 enc = EncryptSessionKey(key_exchange_key, exported);
      auth.encrypted_session_key.assign(enc.begin(), enc.end());
    }
    std::vector<uint8_t> bytes = auth.Encode(/*with_mic=*/true);
    Digest16 mic = ComputeMic(exported, negotiate_bytes_, token, bytes);
    std::copy(mic.begin(), mic.end(), bytes.begin() + kMicOffset);
    Complete(exported, flags, /*client=*/true);
    complete_ = true;
    return bytes;
  }

  ClientCredentials creds_;
  ReflectionRegistry* reflection_;
  rpc::ConnectionInfo connection_;
  bool identify_ = false;
  bool sent_negotiate_ = false;
  bool complete_ = false;
  std::vector<uint8_t> negotiate_bytes_;
  std::string server_name_;
};

}  // namespace

NtlmPackage::NtlmPackage(ServerOptions server) : server_(std::move(server)) {
  if (!server_->reflection && server_->logger) {
    server_->logger->Log(LogEvent(
        "ntlm.no_reflection_registry", LogSeverity::kWarning,
        "this server has no reflection registry: an AUTHENTICATE relayed from a "
        "client in this process would not be recognized (MS08-068)"));
  }
}
NtlmPackage::NtlmPackage(ClientCredentials client, ReflectionRegistry* reflection)
    : client_(std::move(client)), client_reflection_(reflection) {}

Result<std::unique_ptr<rpc::SecurityContext>> NtlmPackage::Start(
    const rpc::StartParams& params) {
  if (params.role == rpc::Role::kServer) {
    if (!server_) {
      return Status(SEC_E_NO_CREDENTIALS, "this NTLM package has no server configuration");
    }
    return std::unique_ptr<rpc::SecurityContext>(new ServerContext(*server_, params));
  }
  const ClientCredentials* credentials = client_ ? &*client_ : nullptr;
  if (params.credentials) {
    const auto* ntlm = dynamic_cast<const NtlmCredentials*>(params.credentials.get());
    if (ntlm == nullptr) {
      return Status(SEC_E_UNKNOWN_CREDENTIALS,
                    "the credentials given are not NTLM credentials");
    }
    credentials = &ntlm->get();
  }
  if (credentials == nullptr) {
    return Status(SEC_E_NO_CREDENTIALS, "this NTLM package has no client credentials");
  }
  // A wanted kFeatureDelegate is not refused (Windows's answer too): NTLM
  // cannot delegate, the context goes ahead and features() says so.
  return std::unique_ptr<rpc::SecurityContext>(
      new ClientContext(*credentials, client_reflection_, params));
}

}  // namespace comsec::auth::ntlm
