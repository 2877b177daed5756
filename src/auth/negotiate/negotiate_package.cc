#include "comsec/auth/negotiate/negotiate_package.h"

#include <algorithm>

#include "comsec/auth/negotiate/spnego_token.h"

namespace comsec::auth::negotiate {
namespace {

enum class Mech { kNone, kKerberos, kNtlm };

Mech MechOf(std::span<const uint8_t> oid) {
  const Oid o(oid.begin(), oid.end());
  if (o == KerberosOid() || o == MsKerberosOid()) return Mech::kKerberos;
  if (o == NtlmOid()) return Mech::kNtlm;
  return Mech::kNone;
}

const char* MechName(Mech m) {
  switch (m) {
    case Mech::kKerberos:
      return "Kerberos";
    case Mech::kNtlm:
      return "NTLM";
    default:
      return "none";
  }
}

Status Refused(std::string why) { return Status(SEC_E_LOGON_DENIED, std::move(why)); }

// ==== What client and server contexts share =================================
// Invariant: once complete_, inner_ is a complete context of mech_ whose
// mechListMICs both sides checked; everything after the handshake is its.

class NegotiateContext : public rpc::SecurityContext {
 public:
  explicit NegotiateContext(const rpc::StartParams& p) : params_(p) {}

  bool IsComplete() const override { return complete_; }
  uint32_t features() const override { return complete_ ? inner_->features() : 0; }
  security::ImpLevel imp_level() const override {
    return inner_ ? inner_->imp_level() : security::ImpLevel::kImpersonate;
  }
  bool AcceptsSignatureSize(size_t signature_length, size_t stub_length) const override {
    return complete_ && inner_->AcceptsSignatureSize(signature_length, stub_length);
  }
  size_t SignatureSize(size_t stub_length) const override {
    return complete_ ? inner_->SignatureSize(stub_length) : 0;
  }
  Status Verify(const rpc::PduRegion& region) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Negotiate handshake is not complete");
    return inner_->Verify(region);
  }
  Status Protect(const rpc::PduRegion& region) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Negotiate handshake is not complete");
    return inner_->Protect(region);
  }
  Result<std::vector<uint8_t>> MakeMic(std::span<const uint8_t> message) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Negotiate handshake is not complete");
    return inner_->MakeMic(message);
  }
  Status VerifyMic(std::span<const uint8_t> message, std::span<const uint8_t> mic) override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Negotiate handshake is not complete");
    return inner_->VerifyMic(message, mic);
  }
  Result<SecretArray<16>> SessionKey() const override {
    if (!complete_) return Status(SEC_E_INTERNAL_ERROR, "the Negotiate handshake is not complete");
    return inner_->SessionKey();
  }
  std::string PeerName() const override { return inner_ ? inner_->PeerName() : std::string(); }
  std::shared_ptr<const security::Token> PeerToken() const override {
    return complete_ ? inner_->PeerToken() : nullptr;
  }
  std::shared_ptr<const rpc::DelegatedCredentials> Delegated() const override {
    return complete_ ? inner_->Delegated() : nullptr;
  }

 protected:
  // The inner context's params: ours, with the inner package's
  // credentials.
  rpc::StartParams InnerParams(std::shared_ptr<const rpc::Credentials> credentials) const {
    rpc::StartParams p = params_;
    p.credentials = std::move(credentials);
    return p;
  }

  rpc::StartParams params_;
  Mech mech_ = Mech::kNone;
  std::unique_ptr<rpc::SecurityContext> inner_;
  // What mechListMIC covers: the MechTypeList as the client sent it.
  std::vector<uint8_t> mech_types_der_;
  bool complete_ = false;
  bool failed_ = false;
};

// ==== Server ================================================================
// Invariant: state_ says which token comes next; inner_ is set from the
// NegTokenInit on.

class ServerContext : public NegotiateContext {
 public:
  ServerContext(const NegotiateOptions& options, const rpc::StartParams& p)
      : NegotiateContext(p), options_(options) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    if (failed_ || complete_) {
      return Status(SEC_E_INVALID_TOKEN, "a Negotiate token after the handshake ended");
    }
    auto r = state_ == State::kInit ? OnInit(token) : OnResp(token);
    if (!r.ok()) {
      failed_ = true;
      LogRefused(r.status());
    }
    return r;
  }

 private:
  enum class State { kInit, kExchange };

  void LogRefused(const Status& s) const {
    const Logger* logger = options_.logger;
    if (!logger || !logger->Enabled(LogSeverity::kWarning)) return;
    LogEvent e("negotiate.logon_refused", LogSeverity::kWarning,
               "a Negotiate logon was refused: " + std::string(s.message()));
    if (!params_.connection.peer.empty()) e.Peer(params_.connection.peer);
    if (complete_inner_name_.size()) e.Principal(complete_inner_name_);
    e.Extra("mechanism", MechName(mech_));
    logger->Log(e.AuthnLevel(security::ToNumber(params_.auth_level),
                             security::AuthnLevelName(params_.auth_level))
                    .Reason(reason_)
                    .Hresult(s.code()));
  }

  // Picks the client's most preferred mechanism that this server can
  // accept with, and runs the optimistic token when it is for that one.
  Result<rpc::UpdateResult> OnInit(std::span<const uint8_t> token) {
    reason_ = "malformed_token";
    COMSEC_ASSIGN_OR_RETURN(NegTokenInit init, DecodeInitialToken(token));
    reason_ = "mechanism_refused";
    mech_types_der_ = init.mech_types_der;
    std::string offered, why_not;
    size_t chosen = init.mech_types.size();
    for (size_t i = 0; i < init.mech_types.size() && chosen == init.mech_types.size(); ++i) {
      const Mech m = MechOf(init.mech_types[i]);
      offered += (offered.empty() ? "" : ", ") + OidToString(init.mech_types[i]);
      rpc::SecurityPackage* package = m == Mech::kKerberos ? options_.kerberos
                                      : m == Mech::kNtlm   ? options_.ntlm
                                                           : nullptr;
      if (package == nullptr) continue;
      auto context = package->Start(InnerParams(nullptr));
      if (!context.ok()) {
        why_not += std::string("; ") + MechName(m) + ": " + std::string(context.status().message());
        continue;
      }
      inner_ = std::move(*context);
      mech_ = m;
      chosen = i;
    }
    if (!inner_) {
      reason_ = "no_common_mechanism";
      return Status(SEC_E_UNSUPPORTED_FUNCTION,
                    "no mechanism in common: the client offered " + offered +
                        "; this server accepts " + Accepted() + why_not);
    }
    NegTokenResp resp;
    resp.neg_state = NegState::kAcceptIncomplete;
    resp.supported_mech = init.mech_types[chosen];
    state_ = State::kExchange;
    // The optimistic token is for mech_types[0] only (RFC 4178 3.2).
    if (chosen == 0 && init.mech_token) {
      COMSEC_ASSIGN_OR_RETURN(rpc::UpdateResult step, inner_->Update(*init.mech_token));
      if (inner_->IsComplete()) {
        return Status(SEC_E_INVALID_TOKEN, std::string(MechName(mech_)) +
                                               " completed on its first token, which leaves no "
                                               "leg for the mechListMIC");
      }
      resp.response_token = std::move(step.output);
    }
    return rpc::UpdateResult{EncodeNegTokenResp(resp), false};
  }

  std::string Accepted() const {
    std::string s;
    if (options_.kerberos) s += "Kerberos";
    if (options_.ntlm) s += std::string(s.empty() ? "" : ", ") + "NTLM";
    return s.empty() ? "nothing" : s;
  }

  Result<rpc::UpdateResult> OnResp(std::span<const uint8_t> token) {
    reason_ = "malformed_token";
    COMSEC_ASSIGN_OR_RETURN(NegTokenResp in, DecodeNegTokenResp(token));
    reason_ = "mechanism_refused";
    if (in.neg_state == NegState::kReject) {
      return Refused("the client gave up the Negotiate handshake (reject)");
    }
    if (!in.response_token || in.response_token->empty()) {
      return Status(SEC_E_INVALID_TOKEN,
                    std::string("the client's NegTokenResp carries no ") + MechName(mech_) +
                        " token");
    }
    COMSEC_ASSIGN_OR_RETURN(rpc::UpdateResult step, inner_->Update(*in.response_token));
    NegTokenResp out;
    if (!inner_->IsComplete()) {
      if (in.mech_list_mic) {
        return Status(SEC_E_INVALID_TOKEN, "a mechListMIC before the mechanism completed");
      }
      out.neg_state = NegState::kAcceptIncomplete;
      out.response_token = std::move(step.output);
      return rpc::UpdateResult{EncodeNegTokenResp(out), false};
    }
    complete_inner_name_ = inner_->PeerName();
    if (!in.mech_list_mic) {
      reason_ = "missing_mech_list_mic";
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the client sent no mechListMIC, which this server requires to prove that "
                    "the mechanism list was not altered in transit");
    }
    if (Status s = inner_->VerifyMic(mech_types_der_, *in.mech_list_mic); !s.ok()) {
      reason_ = "bad_mech_list_mic";
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the client's mechListMIC does not match the mechanism list this server "
                    "received (altered in transit: a downgrade attempt?): " +
                        std::string(s.message()));
    }
    inner_->ResetAfterMechListMic(/*incoming=*/true);
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> mic, inner_->MakeMic(mech_types_der_));
    inner_->ResetAfterMechListMic(/*incoming=*/false);
    out.neg_state = NegState::kAcceptCompleted;
    if (!step.output.empty()) out.response_token = std::move(step.output);
    out.mech_list_mic = std::move(mic);
    complete_ = true;
    return rpc::UpdateResult{EncodeNegTokenResp(out), true};
  }

  const NegotiateOptions& options_;
  State state_ = State::kInit;
  std::string complete_inner_name_;
  // The event's short cause: malformed_token, no_common_mechanism,
  // mechanism_refused (the inner package's), missing_mech_list_mic,
  // bad_mech_list_mic.
  std::string reason_ = "mechanism_refused";
};

// ==== Client ================================================================
// Invariant: mechs_ is the list sent, in order; inner_ is the optimistic
// mechanism's context until the server chooses, then the chosen one's.

class ClientContext : public NegotiateContext {
 public:
  ClientContext(const NegotiateOptions& options, const rpc::StartParams& p,
                const NegotiateCredentials* credentials)
      : NegotiateContext(p), options_(options), credentials_(credentials) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    if (failed_ || complete_) {
      return Status(SEC_E_INVALID_TOKEN, "a Negotiate token after the handshake ended");
    }
    Result<rpc::UpdateResult> r = Status(E_UNEXPECTED, "");
    switch (state_) {
      case State::kStart:
        r = First();
        break;
      case State::kChoice:
        r = OnChoice(token);
        break;
      case State::kExchange:
        r = OnExchange(token);
        break;
      case State::kServerMic:
        r = OnServerMic(token);
        break;
    }
    if (!r.ok()) failed_ = true;
    return r;
  }

 private:
  enum class State { kStart, kChoice, kExchange, kServerMic };

  bool Use(Mech m) const {
    if (m == Mech::kKerberos) return options_.kerberos && (!credentials_ || credentials_->kerberos());
    return options_.ntlm && (!credentials_ || credentials_->ntlm());
  }
  std::shared_ptr<const rpc::Credentials> CredentialsFor(Mech m) const {
    if (!credentials_) return nullptr;
    return m == Mech::kKerberos ? credentials_->kerberos() : credentials_->ntlm();
  }

  // Kerberos first when a ticket for the target can be had (the first
  // token proves it), NTLM behind it or alone.
  Result<rpc::UpdateResult> First() {
    std::string why_not;
    std::optional<std::vector<uint8_t>> token;
    if (Use(Mech::kKerberos)) {
      auto context = options_.kerberos->Start(InnerParams(CredentialsFor(Mech::kKerberos)));
      if (context.ok()) {
        auto step = (*context)->Update({});
        if (step.ok()) {
          inner_ = std::move(*context);
          mech_ = Mech::kKerberos;
          token = std::move(step->output);
          if (options_.offer_ms_kerberos_oid) mechs_.push_back(MsKerberosOid());
          mechs_.push_back(KerberosOid());
        } else {
          why_not += "Kerberos: " + std::string(step.status().message());
        }
      } else {
        why_not += "Kerberos: " + std::string(context.status().message());
      }
    }
    if (Use(Mech::kNtlm)) {
      auto context = options_.ntlm->Start(InnerParams(CredentialsFor(Mech::kNtlm)));
      if (context.ok()) {
        ntlm_ = std::move(*context);
        mechs_.push_back(NtlmOid());
        if (!inner_) {
          COMSEC_ASSIGN_OR_RETURN(rpc::UpdateResult step, ntlm_->Update({}));
          inner_ = std::move(ntlm_);
          mech_ = Mech::kNtlm;
          token = std::move(step.output);
        }
      } else {
        why_not += std::string(why_not.empty() ? "" : "; ") + "NTLM: " +
                   std::string(context.status().message());
      }
    }
    if (!inner_) {
      return Status(SEC_E_NO_CREDENTIALS,
                    "Negotiate has no mechanism to offer" +
                        (why_not.empty() ? std::string(" (no Kerberos or NTLM credentials)")
                                         : " (" + why_not + ")"));
    }
    NegTokenInit init;
    init.mech_types = mechs_;
    init.mech_token = std::move(token);
    mech_types_der_ = EncodeMechTypeList(mechs_);
    state_ = State::kChoice;
    return rpc::UpdateResult{EncodeInitialToken(init), false};
  }

  // The server's choice: our first mechanism (its token answered), or
  // another of ours, which starts now.
  Result<rpc::UpdateResult> OnChoice(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(NegTokenResp in, DecodeNegTokenResp(token));
    if (in.neg_state == NegState::kReject) {
      return Refused("the server accepts none of the mechanisms offered (SPNEGO reject)");
    }
    if (!in.supported_mech) {
      return Status(SEC_E_INVALID_TOKEN, "the server's first NegTokenResp names no mechanism");
    }
    const Mech chosen = MechOf(*in.supported_mech);
    if (std::find(mechs_.begin(), mechs_.end(), *in.supported_mech) == mechs_.end()) {
      return Status(SEC_E_INVALID_TOKEN, "the server chose " + OidToString(*in.supported_mech) +
                                             ", which this client did not offer");
    }
    if (in.neg_state == NegState::kAcceptCompleted) {
      return Status(SEC_E_INVALID_TOKEN,
                    "the server claims completion before the mechanism ran its course");
    }
    if (chosen == mech_) {
      state_ = State::kExchange;
      return OnExchangeToken(in);
    }
    // Not our first mechanism: its context starts here, and the
    // optimistic token's goes.
    if (!ntlm_ || chosen != Mech::kNtlm) {
      return Status(SEC_E_INVALID_TOKEN, std::string("the server chose ") + MechName(chosen) +
                                             ", for which this client has no context");
    }
    if (in.response_token && !in.response_token->empty()) {
      return Status(SEC_E_INVALID_TOKEN,
                    "the server answered a token it never got (its chosen mechanism was not the "
                    "optimistic one)");
    }
    inner_ = std::move(ntlm_);
    mech_ = chosen;
    COMSEC_ASSIGN_OR_RETURN(rpc::UpdateResult step, inner_->Update({}));
    NegTokenResp out;
    out.response_token = std::move(step.output);
    state_ = State::kExchange;
    return rpc::UpdateResult{EncodeNegTokenResp(out), false};
  }

  Result<rpc::UpdateResult> OnExchange(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(NegTokenResp in, DecodeNegTokenResp(token));
    if (in.neg_state == NegState::kReject) return Refused("the server refused the logon (SPNEGO reject)");
    if (in.neg_state == NegState::kAcceptCompleted) {
      return Status(SEC_E_INVALID_TOKEN,
                    "the server claims completion before the mechanism ran its course");
    }
    return OnExchangeToken(in);
  }

  // Feeds the server's mechanism token; once the mechanism is complete on
  // our side, sends its last token with our mechListMIC.
  Result<rpc::UpdateResult> OnExchangeToken(const NegTokenResp& in) {
    if (!in.response_token || in.response_token->empty()) {
      return Status(SEC_E_INVALID_TOKEN, std::string("the server's NegTokenResp carries no ") +
                                             MechName(mech_) + " token");
    }
    COMSEC_ASSIGN_OR_RETURN(rpc::UpdateResult step, inner_->Update(*in.response_token));
    NegTokenResp out;
    if (!step.output.empty()) out.response_token = std::move(step.output);
    if (inner_->IsComplete()) {
      COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> mic, inner_->MakeMic(mech_types_der_));
      inner_->ResetAfterMechListMic(/*incoming=*/false);
      out.mech_list_mic = std::move(mic);
      state_ = State::kServerMic;
    }
    return rpc::UpdateResult{EncodeNegTokenResp(out), false};
  }

  // accept-completed with the server's mechListMIC, which proves the list
  // it saw is the one we sent.
  Result<rpc::UpdateResult> OnServerMic(std::span<const uint8_t> token) {
    COMSEC_ASSIGN_OR_RETURN(NegTokenResp in, DecodeNegTokenResp(token));
    if (in.neg_state != NegState::kAcceptCompleted) {
      return Refused("the server did not accept the logon (SPNEGO negState " +
                     std::to_string(in.neg_state ? int(*in.neg_state) : -1) + ")");
    }
    if (in.response_token && !in.response_token->empty()) {
      return Status(SEC_E_INVALID_TOKEN, "a mechanism token after the mechanism completed");
    }
    if (!in.mech_list_mic) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the server sent no mechListMIC, which this client requires to prove that "
                    "the mechanism list was not altered in transit");
    }
    if (Status s = inner_->VerifyMic(mech_types_der_, *in.mech_list_mic); !s.ok()) {
      return Status(SEC_E_MESSAGE_ALTERED,
                    "the server's mechListMIC does not match the mechanism list sent: " +
                        std::string(s.message()));
    }
    inner_->ResetAfterMechListMic(/*incoming=*/true);
    complete_ = true;
    return rpc::UpdateResult{{}, true};
  }

  const NegotiateOptions& options_;
  const NegotiateCredentials* credentials_;
  State state_ = State::kStart;
  std::vector<Oid> mechs_;
  // NTLM's context while Kerberos is the optimistic mechanism.
  std::unique_ptr<rpc::SecurityContext> ntlm_;
};

}  // namespace

Result<std::unique_ptr<rpc::SecurityContext>> NegotiatePackage::Start(
    const rpc::StartParams& params) {
  if (!options_.kerberos && !options_.ntlm) {
    return Status(SEC_E_NO_CREDENTIALS, "this Negotiate package has neither Kerberos nor NTLM");
  }
  if (params.role == rpc::Role::kServer) {
    return std::unique_ptr<rpc::SecurityContext>(new ServerContext(options_, params));
  }
  const NegotiateCredentials* credentials = nullptr;
  if (params.credentials) {
    credentials = dynamic_cast<const NegotiateCredentials*>(params.credentials.get());
    if (credentials == nullptr) {
      return Status(SEC_E_UNKNOWN_CREDENTIALS,
                    "the credentials given are not Negotiate credentials");
    }
  }
  // The context keeps params (and so the credentials) alive.
  return std::unique_ptr<rpc::SecurityContext>(new ClientContext(options_, params, credentials));
}

}  // namespace comsec::auth::negotiate
