#include "comsec/rpc/server_connection.h"

#include <algorithm>
#include <new>

#include "comsec/base/win32_error.h"
#include "comsec/ndr/limits.h"
#include "comsec/rpc/fragmenter.h"
#include "comsec/rpc/verification_trailer.h"

namespace comsec::rpc {
namespace {

// Bind-time feature negotiation bits ([MS-RPCE] 2.2.2.14) comsec honours:
// security context multiplexing (0x1) and keep connection on orphan (0x2).
constexpr uint64_t kSupportedFeatures = 0x3;

// Maps a handler's failure to the fault status the client sees.
uint32_t FaultStatusFor(const Status& s) {
  HResult hr = s.code();
  if (hr == ndr::RPC_X_BAD_STUB_DATA) return nca_s_fault_ndr;
  if (hr == E_ACCESSDENIED) return nca_s_fault_access_denied;
  if (hr == RPC_S_PROCNUM_OUT_OF_RANGE) return nca_s_op_rng_error;
  if (hr.Facility() == 7) return hr.Code();  // FACILITY_WIN32
  return hr.value();
}

}  // namespace

ServerConnection::ServerConnection(const InterfaceRegistry* registry,
                                   ServerLimits limits, bool local,
                                   std::string secondary_address)
    : registry_(registry),
      limits_(limits),
      local_(local),
      secondary_address_(std::move(secondary_address)),
      max_xmit_(limits.max_recv_frag),
      max_recv_(limits.max_recv_frag),
      reassembler_(limits.max_request_bytes, limits.max_concurrent_calls) {}

ServerConnection::~ServerConnection() {
  // Answers that come after this are dropped.
  completions_->Close();
  if (groups_ && in_group_) groups_->Leave(assoc_group_id_);
}

ServerAuth& ServerConnection::Auth() {
  if (!auth_) {
    ServerAuthOptions o;
    o.packages = packages_;
    o.max_auth_contexts = limits_.max_auth_contexts;
    o.max_unfinished_auth_contexts = limits_.max_unfinished_auth_contexts;
    o.allow_unverified_requests = allow_unverified_requests_;
    o.connection.local = local_;
    o.connection.peer = peer_description_;
    o.connection.has_peer = peer_.known;
    o.connection.peer_uid = peer_.uid;
    o.connection.peer_gid = peer_.gid;
    o.connection.peer_pid = peer_.pid;
    o.connection.local_endpoint = local_endpoint_;
    o.connection.peer_endpoint = peer_endpoint_;
    o.logger = logger_;
    auth_.emplace(std::move(o));
  }
  return *auth_;
}

// ==== Replies =============================================================

bool ServerConnection::BindNak(uint32_t call_id, uint16_t reason,
                               std::string why,
                               std::vector<std::vector<uint8_t>>& out) {
  Pdu p;
  p.header.type = PduType::kBindNak;
  p.header.call_id = call_id;
  BindNakBody b;
  b.reason = reason;
  b.versions = {{5, 0}};
  p.body = b;
  out.push_back(EncodePdu(p));
  if (logger_ && logger_->Enabled(LogSeverity::kWarning)) {
    logger_->Log(LogEvent("rpc.bind_refused", LogSeverity::kWarning,
                          "bind_nak (reason " + std::to_string(reason) + ") to " +
                              peer_description_ + ": " + why)
                     .Peer(peer_description_)
                     .Reason(why)
                     .Extra("nak_reason", std::to_string(reason)));
  }
  close_reason_ = std::move(why);
  return false;
}

void ServerConnection::Fault(uint32_t call_id, uint16_t context_id,
                             uint32_t status, bool did_not_execute,
                             std::vector<std::vector<uint8_t>>& out) {
  Pdu p;
  p.header.type = PduType::kFault;
  p.header.call_id = call_id;
  if (did_not_execute) p.header.pfc_flags |= PFC_DID_NOT_EXECUTE;
  FaultBody f;
  f.context_id = context_id;
  f.status = status;
  p.body = f;
  out.push_back(EncodePdu(p));
}

bool ServerConnection::FaultAndClose(uint32_t call_id, uint16_t context_id,
                                     uint32_t status, std::string why,
                                     std::vector<std::vector<uint8_t>>& out,
                                     bool did_not_execute) {
  Fault(call_id, context_id, status, did_not_execute, out);
  close_reason_ = std::move(why);
  reassembler_.Clear();
  return false;
}

bool ServerConnection::Refuse(uint32_t call_id, const Refusal& r,
                              std::vector<std::vector<uint8_t>>& out) {
  if (r.bind_nak) return BindNak(call_id, r.nak_reason, r.why, out);
  return FaultAndClose(call_id, r.context_id, r.fault_status, r.why, out,
                       r.did_not_execute);
}

// ==== Fragments ===========================================================
// Invariant: every path either answers and keeps the connection in a
// consistent state, or answers and returns false to close it.

bool ServerConnection::OnFragment(std::span<const uint8_t> fragment,
                                  std::vector<std::vector<uint8_t>>& out) {
  auto header = PeekHeader(fragment);
  if (!header.ok()) {
    return FaultAndClose(0, 0, nca_s_proto_error,
                         std::string(header.status().message()), out);
  }
  if (header->rpc_vers != 5 || header->rpc_vers_minor != 0) {
    // Case 1: a bind with another version gets bind_nak reason 4 listing 5.0.
    if (header->type == PduType::kBind) {
      return BindNak(header->call_id, kNakProtocolVersionNotSupported,
                     "protocol version not supported", out);
    }
    return FaultAndClose(header->call_id, 0, nca_s_proto_error,
                         "protocol version not supported", out);
  }
  // Case 6: a fragment larger than negotiated.
  if (fragment.size() > max_recv_) {
    return FaultAndClose(header->call_id, 0, nca_s_proto_error,
                         "fragment of " + std::to_string(fragment.size()) +
                             " bytes exceeds the negotiated " +
                             std::to_string(max_recv_),
                         out);
  }
  auto pdu = DecodePdu(fragment);
  if (!pdu.ok()) {
    // Cases 2 and 7: a bind that does not parse (a verifier that is not
    // there, counts that do not fit) is refused as Samba and Windows refuse
    // malformed binds: reason 4.
    if (header->type == PduType::kBind && !bound_) {
      return BindNak(header->call_id, kNakProtocolVersionNotSupported,
                     std::string(pdu.status().message()), out);
    }
    return FaultAndClose(header->call_id, 0, nca_s_proto_error,
                         std::string(pdu.status().message()), out);
  }
  // Before the bind only a bind may come. Samba's dcesrv_bind takes the
  // first PDU as the bind and naks any other type with reason 4; so do we.
  // (A co_cancel or orphaned PDU no longer keeps an unbound connection
  // alive; the handlers' own "before bind" checks stay as re-checks.) A
  // malformed one is a protocol error first (case 7).
  if (!bound_ && header->type != PduType::kBind) {
    return BindNak(header->call_id, kNakProtocolVersionNotSupported,
                   std::string("a ") + PduTypeName(header->type) +
                       " PDU before bind",
                   out);
  }
  if (refused_auth_) {
    // After a refused auth3 (which had no reply) the next PDU learns of the
    // refusal: fault access denied, without DID_NOT_EXECUTE, on the
    // request's context, then close — Samba's answer (raw_protocol.py
    // test_spnego_auth3), so that the client never waits for a timeout.
    const uint16_t context_id =
        pdu->header.type == PduType::kRequest
            ? std::get<RequestBody>(pdu->body).context_id
            : uint16_t{0};
    return FaultAndClose(pdu->header.call_id, context_id,
                         nca_s_fault_access_denied, *refused_auth_, out,
                         /*did_not_execute=*/false);
  }
  switch (pdu->header.type) {
    case PduType::kBind:
      return HandleBind(*pdu, out);
    case PduType::kAlterContext:
      return HandleAlter(*pdu, out);
    case PduType::kRequest:
      return HandleRequest(fragment, *pdu, out);
    case PduType::kCoCancel:
    case PduType::kOrphaned:
      // Case 16: for no call they are ignored; an orphaned call is dropped.
      if (pdu->header.type == PduType::kOrphaned) reassembler_.Orphan(pdu->header.call_id);
      return true;
    case PduType::kAuth3:
      return HandleAuth3(*pdu, out);
    default:
      return FaultAndClose(pdu->header.call_id, 0, nca_s_proto_error,
                           std::string("a client may not send ") +
                               PduTypeName(pdu->header.type),
                           out);
  }
}

// ==== Bind and alter_context ==============================================

std::vector<ContextResultEntry> ServerConnection::Negotiate(
    const BindBody& body, bool* protocol_error) {
  std::vector<ContextResultEntry> results;
  for (const ContextElement& c : body.contexts) {
    ContextResultEntry r;
    uint64_t features = 0;
    bool btfn = false;
    for (const SyntaxId& t : c.transfer_syntaxes) {
      if (IsBindTimeFeatureNegotiation(t, &features)) btfn = true;
    }
    if (btfn) {
      r.result = ContextResult::kNegotiateAck;
      r.reason = static_cast<uint16_t>(features & kSupportedFeatures);
      results.push_back(r);
      continue;
    }
    const InterfaceRegistration* iface = registry_->Find(c.abstract_syntax);
    if (iface == nullptr) {
      r.result = ContextResult::kProviderRejection;
      r.reason = kReasonAbstractSyntaxNotSupported;
      results.push_back(r);
      continue;
    }
    bool ndr20 = std::find(c.transfer_syntaxes.begin(),
                           c.transfer_syntaxes.end(),
                           Ndr20Syntax()) != c.transfer_syntaxes.end();
    if (!ndr20) {
      r.result = ContextResult::kProviderRejection;
      r.reason = kReasonTransferSyntaxesNotSupported;
      results.push_back(r);
      continue;
    }
    auto existing = contexts_.find(c.context_id);
    if (existing != contexts_.end() &&
        !(existing->second.abstract_syntax == c.abstract_syntax)) {
      // Case 11: a context id may not change its syntax.
      *protocol_error = true;
      return {};
    }
    if (existing == contexts_.end() &&
        contexts_.size() >= limits_.max_presentation_contexts) {
      // C706 p_provider_reason_t local_limit_exceeded: this context is
      // refused, the association and its other contexts stay.
      r.result = ContextResult::kProviderRejection;
      r.reason = kReasonLocalLimitExceeded;
      results.push_back(r);
      continue;
    }
    contexts_[c.context_id] = {iface, c.abstract_syntax, Ndr20Syntax()};
    r.result = ContextResult::kAcceptance;
    r.transfer_syntax = Ndr20Syntax();
    results.push_back(r);
  }
  return results;
}

bool ServerConnection::HandleBind(const Pdu& pdu,
                                  std::vector<std::vector<uint8_t>>& out) {
  const uint32_t call_id = pdu.header.call_id;
  if (bound_) {  // case 4
    return BindNak(call_id, kNakReasonNotSpecified, "second bind", out);
  }
  std::optional<SecTrailer> reply_auth;
  if (pdu.auth) {
    Refusal refusal;
    bool completed = false;
    reply_auth.emplace();
    if (!Auth().Step(*pdu.auth, /*bind=*/true, call_id, &*reply_auth, &refusal, &completed)) {
      return Refuse(call_id, refusal, out);
    }
  }
  const auto& body = std::get<BindBody>(pdu.body);
  if (body.contexts.empty()) {  // case 3
    return BindNak(call_id, kNakProtocolVersionNotSupported,
                   "bind without presentation contexts", out);
  }
  // Case 5: the client's smaller size, at least 2048, at most ours, a
  // multiple of 8.
  uint32_t requested = std::min(body.max_xmit_frag, body.max_recv_frag);
  requested = std::max<uint32_t>(requested, 2048);
  uint16_t negotiated = static_cast<uint16_t>(
      std::min<uint32_t>(requested, limits_.max_recv_frag) & 0xFFF8);
  max_xmit_ = max_recv_ = negotiated;
  bool protocol_error = false;
  auto results = Negotiate(body, &protocol_error);
  if (protocol_error) {
    return BindNak(call_id, kNakReasonNotSpecified, "bad contexts", out);
  }
  // Association groups: 0 starts one; a known id joins it; an unknown id,
  // or a group of the other transport, is refused with bind_nak reason 0,
  // Samba's answer (dcesrv_bind after a failed assoc_group find).
  const auto transport = local_ ? AssociationGroups::Transport::kLocal
                                : AssociationGroups::Transport::kTcp;
  if (body.assoc_group_id == 0) {
    assoc_group_id_ = groups_ ? groups_->Create(transport) : 0x53f0;
    in_group_ = groups_ != nullptr;
    group_creator_ = true;
  } else if (!groups_) {
    return BindNak(call_id, kNakReasonNotSpecified,
                   "association group " + std::to_string(body.assoc_group_id) +
                       " does not exist on this server",
                   out);
  } else {
    switch (groups_->Join(body.assoc_group_id, transport)) {
      case AssociationGroups::JoinResult::kJoined:
        break;
      case AssociationGroups::JoinResult::kNoSuchGroup:
        return BindNak(call_id, kNakReasonNotSpecified,
                       "association group " + std::to_string(body.assoc_group_id) +
                           " does not exist on this server",
                       out);
      case AssociationGroups::JoinResult::kOtherTransport:
        return BindNak(call_id, kNakReasonNotSpecified,
                       "association group " + std::to_string(body.assoc_group_id) +
                           " belongs to the other transport",
                       out);
    }
    assoc_group_id_ = body.assoc_group_id;
    in_group_ = true;
  }
  // The principal is known now for an unauthenticated bind and for a
  // package that completes in one leg; otherwise when the handshake ends.
  if (!Auth().bind_context() || Auth().BindContextComplete()) {
    std::string why;
    if (!SettleGroupPrincipal(&why)) {
      return BindNak(call_id, kNakReasonNotSpecified, std::move(why), out);
    }
  }
  bound_ = true;
  Pdu ack;
  ack.header.type = PduType::kBindAck;
  ack.header.call_id = call_id;
  ack.header.pfc_flags = PFC_FIRST_FRAG | PFC_LAST_FRAG;
  // Concurrent multiplexing is the client's to ask for; comsec accepts it
  // and reassembles interleaved calls, running each as it completes.
  if (pdu.header.pfc_flags & PFC_CONC_MPX) {
    conc_mpx_ = true;
    reassembler_.set_multiplexed(true);
    ack.header.pfc_flags |= PFC_CONC_MPX;
  }
  // [MS-RPCE] 3.3.1.5.2.1: header signing is offered in an authenticated
  // bind and accepted by echoing the flag (case 27).
  if (pdu.auth && (pdu.header.pfc_flags & PFC_SUPPORT_HEADER_SIGN)) {
    header_signing_ = true;
    ack.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
  }
  BindAckBody b;
  b.max_xmit_frag = max_xmit_;
  b.max_recv_frag = max_recv_;
  b.assoc_group_id = assoc_group_id_;
  b.secondary_address = secondary_address_;
  b.results = std::move(results);
  ack.body = std::move(b);
  ack.auth = std::move(reply_auth);
  out.push_back(EncodePdu(ack));
  return true;
}

bool ServerConnection::HandleAlter(const Pdu& pdu,
                                   std::vector<std::vector<uint8_t>>& out) {
  const uint32_t call_id = pdu.header.call_id;
  if (!bound_) {
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "alter_context before bind", out);
  }
  std::optional<SecTrailer> reply_auth;
  if (pdu.auth) {
    Refusal refusal;
    bool completed = false;
    reply_auth.emplace();
    if (!Auth().Step(*pdu.auth, /*bind=*/false, call_id, &*reply_auth, &refusal,
                     &completed)) {
      return Refuse(call_id, refusal, out);
    }
    std::string why;
    if (completed && !SettleGroupPrincipal(&why)) {
      return FaultAndClose(call_id, 0, nca_s_fault_access_denied, std::move(why), out);
    }
  }
  const auto& body = std::get<BindBody>(pdu.body);
  if (body.contexts.empty()) {  // case 3
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "alter_context without presentation contexts", out);
  }
  bool protocol_error = false;
  auto results = Negotiate(body, &protocol_error);
  if (protocol_error) {  // case 11
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "alter_context changes an existing context", out);
  }
  Pdu resp;
  resp.header.type = PduType::kAlterContextResp;
  resp.header.call_id = call_id;
  BindAckBody b;
  b.max_xmit_frag = max_xmit_;  // case 5: unchanged by alter_context
  b.max_recv_frag = max_recv_;
  b.assoc_group_id = assoc_group_id_;
  b.results = std::move(results);
  resp.body = std::move(b);
  resp.auth = std::move(reply_auth);
  out.push_back(EncodePdu(resp));
  return true;
}

// ==== Requests ============================================================
// Invariant: a call is dispatched once, after its last fragment and every
// check; in_flight_ holds it until its answer is sent.

bool ServerConnection::HandleRequest(std::span<const uint8_t> fragment,
                                     const Pdu& pdu,
                                     std::vector<std::vector<uint8_t>>& out) {
  const PduHeader& h = pdu.header;
  const auto& req = std::get<RequestBody>(pdu.body);
  if (!bound_) {
    return FaultAndClose(h.call_id, 0, nca_s_proto_error, "request before bind", out);
  }
  RequestAuth auth;
  std::vector<uint8_t> stub;
  Refusal refusal;
  if (!Auth().CheckRequest(fragment, pdu, header_signing_, &auth, &stub, &refusal)) {
    return Refuse(h.call_id, refusal, out);
  }
  if ((h.pfc_flags & PFC_FIRST_FRAG) && in_flight_.count(h.call_id)) {
    return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                         "call " + std::to_string(h.call_id) + " is already in progress", out);
  }
  if ((h.pfc_flags & PFC_FIRST_FRAG) &&
      in_flight_.size() >= limits_.max_concurrent_calls) {
    return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                         "more than " + std::to_string(limits_.max_concurrent_calls) +
                             " calls in progress",
                         out);
  }
  AssembledCall call;
  switch (reassembler_.Add(pdu, auth, std::move(stub), contexts_.count(req.context_id) > 0,
                           &call, &refusal)) {
    case CallReassembler::Outcome::kMore:
      return true;
    case CallReassembler::Outcome::kRejected:
      Fault(h.call_id, refusal.context_id, refusal.fault_status, true, out);
      return true;
    case CallReassembler::Outcome::kRefused:
      return Refuse(h.call_id, refusal, out);
    case CallReassembler::Outcome::kComplete:
      break;
  }
  bool close = false;
  Dispatch(std::move(call), out, &close);
  return !close;
}

void ServerConnection::Dispatch(AssembledCall call,
                                std::vector<std::vector<uint8_t>>& out, bool* close) {
  const Context& ctx = contexts_.at(call.context_id);
  const InterfaceRegistration& iface = *ctx.interface;
  CallContext cc;
  cc.call_id = call.call_id;
  cc.context_id = call.context_id;
  cc.opnum = call.opnum;
  cc.object = call.object;
  cc.interface = ctx.abstract_syntax;
  cc.data_rep.little_endian = (call.drep[0] & 0xF0) == 0x10;  // 0x10 or 0x00
  cc.security = Auth().SecurityFor(call.auth);
  cc.local = local_;
  cc.loopback = loopback_;
  cc.peer = peer_description_;
  cc.has_peer = peer_.known;
  cc.peer_uid = peer_.uid;
  cc.peer_gid = peer_.gid;
  cc.peer_pid = peer_.pid;
  cc.assoc_group_id = assoc_group_id_;
  if (!iface.async_handler && call.opnum >= iface.operations.size()) {  // case 9
    Fault(call.call_id, call.context_id, nca_s_op_rng_error, true, out);
    return;
  }
  if (cc.security.authn_level < iface.min_authn_level) {  // case 17
    const std::string why =
        "call to interface " + ctx.abstract_syntax.uuid.ToString() + " opnum " +
        std::to_string(call.opnum) + " by " +
        (cc.security.principal.empty() ? "an unauthenticated caller" : cc.security.principal) +
        " at authentication level " + std::to_string(security::ToNumber(cc.security.authn_level)) +
        ", below the interface's minimum " +
        std::to_string(security::ToNumber(iface.min_authn_level));
    LogDenied(cc, "authentication level below the interface's minimum " +
                      std::to_string(security::ToNumber(iface.min_authn_level)));
    FaultAndClose(call.call_id, call.context_id, nca_s_fault_access_denied, why, out);
    *close = true;
    return;
  }
  // [MS-RPCE] 2.2.2.13: check and remove the verification trailer
  // (cases 27, 28).
  auto vt = FindVerificationTrailer(call.stub);
  if (!vt.ok()) {
    Fault(call.call_id, call.context_id, nca_s_fault_access_denied, true, out);
    return;
  }
  if (*vt) {
    const VerificationTrailer& t = **vt;
    bool bad = t.unknown_must_process;
    if (t.pcontext && !(t.pcontext->first == ctx.abstract_syntax &&
                        t.pcontext->second == ctx.transfer_syntax)) {
      bad = true;
    }
    if (t.bitmask1 && (*t.bitmask1 & SEC_VT_CLIENT_SUPPORTS_HEADER_SIGNING) &&
        !header_signing_) {
      bad = true;
    }
    if (t.header2 &&
        (t.header2->ptype != static_cast<uint8_t>(PduType::kRequest) ||
         t.header2->drep != call.drep || t.header2->call_id != call.call_id ||
         t.header2->context_id != call.context_id || t.header2->opnum != call.opnum)) {
      bad = true;
    }
    if (bad) {
      LogDenied(cc, "the verification trailer does not match the call");
      Fault(call.call_id, call.context_id, nca_s_fault_access_denied, true, out);
      return;
    }
    call.stub.resize(t.stub_length);
  }
  if (iface.security_callback) {
    Status s = iface.security_callback(cc);
    if (!s.ok()) {
      LogDenied(cc, "the interface's security callback refused it: " + std::string(s.message()));
      Fault(call.call_id, call.context_id, nca_s_fault_access_denied, true, out);
      return;
    }
  }
  in_flight_[call.call_id] = InFlight{call.context_id, call.auth};
  if (iface.async_handler) {
    IncomingCall incoming{std::move(cc), std::move(call.stub),
                          CallResponder(completions_, call.call_id)};
    try {
      iface.async_handler(std::move(incoming));
    } catch (...) {
      // The responder went with the handler's copy of the call and, if
      // unanswered, faulted it with RPC_E_SERVERFAULT as it unwound.
      LogHandlerThrew(ctx.abstract_syntax, call.opnum, call.auth);
    }
  } else {
    Result<std::vector<uint8_t>> result = Status(RPC_E_SERVERFAULT, "");
    try {
      result = iface.operations[call.opnum](call.stub, cc);
    } catch (const std::bad_alloc&) {
      // STYLE.md: out of memory in user code is E_OUTOFMEMORY (fault
      // status 14, ERROR_NOT_ENOUGH_MEMORY), not a server fault.
      result = Status(E_OUTOFMEMORY, "the server's handler ran out of memory");
    } catch (...) {
      // Case 41: an exception becomes RPC_E_SERVERFAULT and the server
      // keeps serving.
      result = Status(RPC_E_SERVERFAULT, "the server's handler threw");
      LogHandlerThrew(ctx.abstract_syntax, call.opnum, call.auth);
    }
    SendAnswer(call.call_id, std::move(result), out);
  }
  TakeAnswers(out);
}

void ServerConnection::TakeAnswers(std::vector<std::vector<uint8_t>>& out) {
  for (auto& [call_id, result] : completions_->Take()) {
    SendAnswer(call_id, std::move(result), out);
  }
}

void ServerConnection::SendAnswer(uint32_t call_id, Result<std::vector<uint8_t>> result,
                                  std::vector<std::vector<uint8_t>>& out) {
  auto it = in_flight_.find(call_id);
  if (it == in_flight_.end()) return;
  const InFlight call = it->second;
  in_flight_.erase(it);
  if (!result.ok()) {
    Fault(call_id, call.context_id, FaultStatusFor(result.status()), false, out);
    return;
  }
  FragmentPlan plan;
  plan.request = false;
  plan.call_id = call_id;
  plan.context_id = call.context_id;
  plan.max_frag = max_xmit_;
  PduAuth protection = Auth().ProtectionFor(call.auth, header_signing_);
  plan.auth = &protection;
  std::vector<std::vector<uint8_t>> fragments;
  Status s = Fragment(plan, *result, [&](std::vector<uint8_t> f) {
    fragments.push_back(std::move(f));
    return Status::Ok();
  });
  if (!s.ok()) {
    // A response the package cannot protect is never sent unprotected.
    Fault(call_id, call.context_id, nca_s_fault_sec_pkg_error, false, out);
    return;
  }
  for (auto& f : fragments) out.push_back(std::move(f));
}

void ServerConnection::LogDenied(const CallContext& call, const std::string& why) {
  if (!logger_ || !logger_->Enabled(LogSeverity::kWarning)) return;
  LogEvent e("rpc.call_denied", LogSeverity::kWarning,
             "a call was refused before it ran: " + why);
  e.Peer(call.peer).AuthnLevel(security::ToNumber(call.security.authn_level),
                               security::AuthnLevelName(call.security.authn_level));
  if (!call.security.principal.empty()) e.Principal(call.security.principal);
  e.Interface(call.interface.uuid, call.interface.major, call.interface.minor)
      .Opnum(call.opnum)
      .Reason(why)
      .Hresult(E_ACCESSDENIED);
  logger_->Log(e);
}

void ServerConnection::LogHandlerThrew(const SyntaxId& interface, uint16_t opnum,
                                       const RequestAuth& auth) {
  if (!logger_ || !logger_->Enabled(LogSeverity::kError)) return;
  const CallSecurity proved = Auth().SecurityFor(auth);
  LogEvent e("rpc.handler_threw", LogSeverity::kError,
             "the handler of interface " + interface.uuid.ToString() + " opnum " +
                 std::to_string(opnum) + " threw; the call fails with RPC_E_SERVERFAULT");
  e.Peer(peer_description_)
      .AuthnLevel(security::ToNumber(proved.authn_level),
                  security::AuthnLevelName(proved.authn_level));
  if (!proved.principal.empty()) e.Principal(proved.principal);
  e.Interface(interface.uuid, interface.major, interface.minor)
      .Opnum(opnum)
      .Reason("the handler threw")
      .Hresult(RPC_E_SERVERFAULT);
  logger_->Log(e);
}

// ==== Authentication state ================================================

std::string ServerConnection::PrincipalKey() {
  // On ncalrpc the kernel names the caller even when it does not
  // authenticate: its uid is part of who it is.
  std::string key = peer_.known ? "uid " + std::to_string(peer_.uid) + ", " : "";
  return key + Auth().PrincipalKey();
}

bool ServerConnection::SettleGroupPrincipal(std::string* why) {
  if (!groups_ || !in_group_ || group_settled_) return true;
  group_settled_ = true;
  const std::string principal = PrincipalKey();
  if (group_creator_) {
    groups_->SetOwner(assoc_group_id_, principal);
    return true;
  }
  if (groups_->IsOwner(assoc_group_id_, principal)) return true;
  *why = "association group " + std::to_string(assoc_group_id_) +
         " belongs to another principal than " + principal;
  return false;
}

bool ServerConnection::handshake_pending() const {
  return !bound_ || refused_auth_.has_value() || (auth_ && auth_->handshake_pending());
}

bool ServerConnection::HandleAuth3(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out) {
  const uint32_t call_id = pdu.header.call_id;
  if (!bound_ || !pdu.auth) {
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "auth3 without an authentication in progress", out);
  }
  Refusal refusal;
  bool completed = false;
  if (!Auth().Auth3(*pdu.auth, &refused_auth_, &refusal, &completed)) {
    return Refuse(call_id, refusal, out);
  }
  std::string why;
  if (completed && !SettleGroupPrincipal(&why)) {
    refused_auth_ = std::move(why);  // answered like a refused auth3
  }
  return true;  // auth3 has no reply
}

}  // namespace comsec::rpc
