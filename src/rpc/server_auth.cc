#include "comsec/rpc/server_auth.h"

#include <algorithm>

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

Refusal Refuse(bool bind, uint16_t nak_reason, uint32_t fault, std::string why) {
  Refusal r;
  r.bind_nak = bind;
  r.nak_reason = nak_reason;
  r.fault_status = fault;
  r.why = std::move(why);
  return r;
}

Refusal Fault(uint32_t status, std::string why, uint16_t context_id = 0,
              bool did_not_execute = true) {
  return FaultRefusal(status, std::move(why), context_id, did_not_execute);
}

}  // namespace

Refusal FaultRefusal(uint32_t status, std::string why, uint16_t context_id,
                     bool did_not_execute) {
  Refusal r;
  r.fault_status = status;
  r.context_id = context_id;
  r.did_not_execute = did_not_execute;
  r.why = std::move(why);
  return r;
}

// ==== Handshakes ============================================================
// Invariant: unfinished_ counts the contexts in contexts_ whose handshake
// has not completed.

void ServerAuth::NoteIfComplete(Context& c) {
  if (c.complete || !c.context->IsComplete()) return;
  c.complete = true;
  --unfinished_;
}

void ServerAuth::Drop(Contexts::iterator it) {
  if (!it->second.complete) --unfinished_;
  if (bind_context_ == it->first) bind_context_.reset();
  contexts_.erase(it);
}

bool ServerAuth::BindContextComplete() const {
  return bind_context_ && contexts_.at(*bind_context_).complete;
}

bool ServerAuth::Step(const SecTrailer& t, bool bind, uint32_t /*call_id*/,
                      SecTrailer* reply, Refusal* refusal,
                      bool* bind_context_completed) {
  *bind_context_completed = false;
  // Case 19: levels outside CONNECT..PKT_PRIVACY are not levels.
  const std::optional<AuthnLevel> level = PduAuthnLevel(t.auth_level);
  if (!level) {
    *refusal = Refuse(bind, kNakReasonNotSpecified, nca_s_proto_error,
                      "authentication level " + std::to_string(t.auth_level) +
                          " is not valid");
    return false;
  }
  SecurityPackage* package = options_.packages && t.auth_type != RPC_C_AUTHN_NONE
                                 ? options_.packages->Find(t.auth_type)
                                 : nullptr;
  if (package == nullptr) {
    *refusal = Refuse(bind, kNakAuthenticationTypeNotRecognized, nca_s_fault_sec_pkg_error,
                      "authentication type " + std::to_string(t.auth_type) +
                          " is not offered by this server");
    return false;
  }
  auto it = contexts_.find(t.auth_context_id);
  if (it != contexts_.end()) {
    // Case 21: a context keeps its package and level.
    if (it->second.type != t.auth_type) {
      *refusal = Fault(nca_s_fault_sec_pkg_error, "alter_context changes a context's package");
      return false;
    }
    if (it->second.level != *level) {
      *refusal = Fault(nca_s_fault_access_denied, "alter_context changes a context's level");
      return false;
    }
    if (it->second.context->IsComplete()) {
      *refusal = Fault(nca_s_fault_access_denied, "a completed authentication continued");
      return false;
    }
  } else {
    if (contexts_.size() >= options_.max_auth_contexts) {  // case 22
      *refusal = Refuse(bind, kNakLocalLimitExceeded, nca_s_proto_error,
                        "more than " + std::to_string(options_.max_auth_contexts) +
                            " authentication contexts");
      return false;
    }
    // Refused as case 22 is (Samba's max_auth_states answer).
    if (unfinished_ >= options_.max_unfinished_auth_contexts) {
      *refusal = Refuse(bind, kNakLocalLimitExceeded, nca_s_proto_error,
                        "more than " +
                            std::to_string(options_.max_unfinished_auth_contexts) +
                            " unfinished authentication handshakes");
      return false;
    }
    StartParams params;
    params.role = Role::kServer;
    params.auth_level = *level;
    params.connection = options_.connection;
    auto context = package->Start(params);
    if (!context.ok()) {
      *refusal = Refuse(bind, kNakAuthenticationTypeNotRecognized, nca_s_fault_sec_pkg_error,
                        std::string(context.status().message()));
      return false;
    }
    it = contexts_
             .emplace(t.auth_context_id, Context{t.auth_type, *level, std::move(*context), false})
             .first;
    ++unfinished_;
    if (bind) bind_context_ = t.auth_context_id;
  }
  auto step = it->second.context->Update(t.auth_value);
  if (!step.ok()) {
    Drop(it);
    *refusal = Refuse(bind, kNakReasonNotSpecified, nca_s_fault_access_denied,
                      "authentication failed: " + std::string(step.status().message()));
    return false;
  }
  NoteIfComplete(it->second);
  *bind_context_completed = bind_context_ == it->first && it->second.complete;
  reply->auth_type = t.auth_type;
  reply->auth_level = t.auth_level;
  reply->auth_context_id = t.auth_context_id;
  reply->auth_value = std::move(step->output);
  return true;
}

bool ServerAuth::Auth3(const SecTrailer& t, std::optional<std::string>* refused,
                       Refusal* refusal, bool* bind_context_completed) {
  *bind_context_completed = false;
  auto it = contexts_.find(t.auth_context_id);
  if (it == contexts_.end()) {
    *refusal = Fault(nca_s_proto_error, "auth3 for an unknown authentication context");
    return false;
  }
  Context& c = it->second;
  if (c.context->IsComplete()) {  // case 20
    *refusal = Fault(nca_s_fault_access_denied, "auth3 after the authentication completed");
    return false;
  }
  if (c.type != t.auth_type || WireAuthnLevel(c.level) != t.auth_level) {
    *refusal = Fault(nca_s_fault_access_denied, "auth3 changes the context's package or level");
    return false;
  }
  auto step = c.context->Update(t.auth_value);
  if (!step.ok() || !c.context->IsComplete() || !step->output.empty()) {
    // auth3 has no reply, not even for a refusal (Samba's dcesrv_auth3,
    // as Windows): the context is dropped and the refusal remembered, and
    // the connection's next PDU is answered with the fault.
    Drop(it);
    *refused = "authentication failed in auth3: " +
               (!step.ok() ? std::string(step.status().message())
                           : std::string("the handshake is incomplete"));
    return true;
  }
  NoteIfComplete(c);
  *bind_context_completed = bind_context_ == it->first;
  return true;
}

// ==== Requests ==============================================================

bool ServerAuth::CheckRequest(std::span<const uint8_t> fragment, const Pdu& pdu,
                              bool header_signing, RequestAuth* auth, std::vector<uint8_t>* stub,
                              Refusal* refusal) {
  const auto& req = std::get<RequestBody>(pdu.body);
  *auth = RequestAuth{};
  if (contexts_.empty()) {
    if (pdu.auth) {
      *refusal = Fault(nca_s_fault_access_denied,
                       "request with a verifier on an unauthenticated connection",
                       req.context_id);
      return false;
    }
    *stub = req.stub;
    return true;
  }
  if (!pdu.auth) {
    // Case 18: a request on an authenticated association carries a
    // verifier, except at CONNECT, where the bind alone was authenticated.
    // Without one at CALL and above it is refused, as Windows refuses it:
    // otherwise a request injected into the victim's connection would run
    // as the victim.
    if (!bind_context_) {
      *refusal = Fault(nca_s_fault_access_denied,
                       "request without a verifier on a connection whose "
                       "authentication began after an unauthenticated bind",
                       req.context_id, /*did_not_execute=*/false);
      return false;
    }
    const Context& c = contexts_.at(*bind_context_);
    if (!c.context->IsComplete()) {  // case 20
      *refusal = Fault(nca_s_proto_error, "request before its authentication completed");
      return false;
    }
    if (c.level != AuthnLevel::kConnect) {
      if (!(c.level <= AuthnLevel::kPkt && options_.allow_unverified_requests)) {
        *refusal = Fault(nca_s_fault_access_denied,
                         "request without a verifier on a connection authenticated as " +
                             c.context->PeerName() + " at level " +
                             std::to_string(security::ToNumber(c.level)),
                         req.context_id, /*did_not_execute=*/false);
        return false;
      }
      if (!warned_unsigned_ && options_.logger) {
        warned_unsigned_ = true;
        options_.logger->Log(
            LogEvent("rpc.weak_setting", LogSeverity::kWarning,
                     "WEAK: " + options_.connection.peer + " (" + c.context->PeerName() +
                         ") bound at level " + std::to_string(security::ToNumber(c.level)) +
                         " sends requests without a verifier; they are served as "
                         "CONNECT-level calls because allow_unverified_requests is set")
                .Peer(options_.connection.peer)
                .Principal(c.context->PeerName())
                .AuthnLevel(security::ToNumber(c.level), security::AuthnLevelName(c.level))
                .Reason("allow_unverified_requests"));
      }
    }
    *auth = RequestAuth{true, *bind_context_, c.type, c.level, /*unsigned=*/true};
    *stub = req.stub;
    return true;
  }
  auto it = contexts_.find(pdu.auth->auth_context_id);
  if (it == contexts_.end() || !it->second.context->IsComplete()) {
    // Case 20: no calls before the handshake completes.
    *refusal = Fault(nca_s_proto_error, "request before its authentication completed");
    return false;
  }
  Context& c = it->second;
  if (c.type != pdu.auth->auth_type || WireAuthnLevel(c.level) != pdu.auth->auth_level) {
    // Case 18: a verifier may not downgrade its context's level.
    *refusal = Fault(nca_s_fault_access_denied,
                     "request verifier of " + c.context->PeerName() + " claims level " +
                         std::to_string(pdu.auth->auth_level) + " and package " +
                         std::to_string(pdu.auth->auth_type) + "; its context has level " +
                         std::to_string(security::ToNumber(c.level)) + " and package " +
                         std::to_string(c.type),
                     req.context_id);
    return false;
  }
  *auth = RequestAuth{true, it->first, c.type, c.level, false};
  if (c.level < AuthnLevel::kCall) {  // R4: CALL is raised to PKT
    *stub = req.stub;
    return true;
  }
  PduAuth protection{c.context.get(), c.type, c.level, it->first, header_signing};
  auto verified = VerifyProtected(fragment, pdu, protection);
  if (!verified.ok()) {
    // Cases 24, 25: a bad signature or sequence closes the connection.
    *refusal = Fault(nca_s_fault_sec_pkg_error,
                     "verifier check failed for " + c.context->PeerName() + ": " +
                         std::string(verified.status().message()),
                     req.context_id);
    return false;
  }
  *stub = std::move(*verified);
  return true;
}

CallSecurity ServerAuth::SecurityFor(const RequestAuth& auth) const {
  CallSecurity s;
  if (!auth.authenticated) return s;
  const Context& c = contexts_.at(auth.context_id);
  AuthnLevel level = auth.unsigned_request ? AuthnLevel::kConnect : c.level;
  auto token = c.context->PeerToken();
  // An anonymous logon's session key derives from no secret, so anyone can
  // compute its signing and sealing keys: its verifiers prove nothing about
  // who sent a PDU. Its calls are credited at most CONNECT.
  if (token && token->IsAnonymous()) level = std::min(level, AuthnLevel::kConnect);
  s.authn_level = level;
  s.authn_svc = c.type;
  s.imp_level = c.context->imp_level();
  s.principal = c.context->PeerName();
  s.token = std::move(token);
  s.delegated = c.context->Delegated();
  s.peer_evidence = c.context->Evidence();
  return s;
}

PduAuth ServerAuth::ProtectionFor(const RequestAuth& auth, bool header_signing) {
  if (!auth.authenticated || auth.unsigned_request) return PduAuth{};
  Context& c = contexts_.at(auth.context_id);
  return PduAuth{c.context.get(), c.type, c.level, auth.context_id, header_signing};
}

std::string ServerAuth::PrincipalKey() const {
  if (!bind_context_) return "unauthenticated";
  const Context& c = contexts_.at(*bind_context_);
  auto token = c.context->PeerToken();
  return "package " + std::to_string(c.type) + ", " +
         (token ? token->user().ToString() : c.context->PeerName());
}

}  // namespace comsec::rpc
