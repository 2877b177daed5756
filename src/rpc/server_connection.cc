#include "comsec/rpc/server_connection.h"

#include <algorithm>

#include "comsec/ndr/limits.h"
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
      max_recv_(limits.max_recv_frag) {}

ServerConnection::~ServerConnection() {
  if (groups_ && in_group_) groups_->Leave(assoc_group_id_);
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
  pending_.clear();
  pending_bytes_ = 0;
  return false;
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
      if (pdu->header.type == PduType::kOrphaned) {
        auto orphan = pending_.find(pdu->header.call_id);
        if (orphan != pending_.end()) {
          pending_bytes_ -= orphan->second.stub.size();
          pending_.erase(orphan);
        }
      }
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
  if (pdu.auth && !StepAuth(pdu, /*bind=*/true, &reply_auth, out)) return false;
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
  if (!bind_auth_context_ || auth_contexts_.at(*bind_auth_context_).complete) {
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
  if (pdu.auth && !StepAuth(pdu, /*bind=*/false, &reply_auth, out)) return false;
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

bool ServerConnection::HandleRequest(std::span<const uint8_t> fragment,
                                     const Pdu& pdu,
                                     std::vector<std::vector<uint8_t>>& out) {
  const PduHeader& h = pdu.header;
  const auto& req = std::get<RequestBody>(pdu.body);
  if (!bound_) {
    return FaultAndClose(h.call_id, 0, nca_s_proto_error, "request before bind",
                         out);
  }
  std::vector<uint8_t> stub = req.stub;
  if (!CheckRequestAuth(fragment, pdu, &stub, out)) return false;
  const bool first = h.pfc_flags & PFC_FIRST_FRAG;
  const bool last = h.pfc_flags & PFC_LAST_FRAG;
  auto it = pending_.find(h.call_id);
  if (first) {
    if (it != pending_.end()) {  // case 14: a second FIRST for a call
      return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                           "a second first fragment for call " +
                               std::to_string(h.call_id),
                           out);
    }
    if (!pending_.empty() && !conc_mpx_) {  // case 15
      return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                           "a new call started while call " +
                               std::to_string(pending_.begin()->first) +
                               " is still being received (no PFC_CONC_MPX)",
                           out);
    }
    if (pending_.size() >= limits_.max_concurrent_calls) {
      return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                           "more than " + std::to_string(limits_.max_concurrent_calls) +
                               " multiplexed calls in progress",
                           out);
    }
    if (h.pfc_flags & PFC_PENDING_CANCEL) {  // case 16
      return FaultAndClose(h.call_id, req.context_id, nca_s_fault_no_call_active,
                           "first fragment with PENDING_CANCEL", out);
    }
    if (req.alloc_hint > limits_.max_request_bytes) {  // case 12
      return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                           "alloc_hint " + std::to_string(req.alloc_hint) +
                               " exceeds the request limit",
                           out);
    }
    if (!contexts_.count(req.context_id)) {  // case 8
      Fault(h.call_id, req.context_id, nca_s_unknown_if, true, out);
      if (!last) {
        // The client may keep sending the call's fragments; treat it as a
        // protocol error rather than swallow them.
        close_reason_ = "fragmented request on an unknown context";
        return false;
      }
      return true;
    }
    PendingCall call{h.call_id, req.context_id, req.opnum, {}};
    call.drep = h.drep;
    if (pdu.auth) {
      call.authenticated = true;
      call.auth_context_id = pdu.auth->auth_context_id;
      call.auth_type = pdu.auth->auth_type;
      call.auth_level = pdu.auth->auth_level;
    } else if (bind_auth_context_) {
      const AuthContext& a = auth_contexts_.at(*bind_auth_context_);
      call.authenticated = true;
      call.auth_context_id = *bind_auth_context_;
      call.auth_type = a.type;
      call.auth_level = a.level;
      call.unsigned_request = true;
    }
    it = pending_.emplace(h.call_id, std::move(call)).first;
  } else if (it == pending_.end()) {  // case 14
    return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                         "continuation fragment for no call in progress", out);
  } else if (it->second.authenticated &&
             (it->second.unsigned_request
                  ? pdu.auth.has_value()
                  : (!pdu.auth ||
                     pdu.auth->auth_context_id != it->second.auth_context_id ||
                     pdu.auth->auth_level != it->second.auth_level ||
                     pdu.auth->auth_type != it->second.auth_type))) {
    // Case 26: every fragment of a call carries the first one's verifier.
    return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                         "a fragment's verifier differs from the call's first",
                         out);
  }
  PendingCall& pending = it->second;
  // Memory bound: the stubs of every call in progress together (case 12).
  if (stub.size() > limits_.max_request_bytes - pending_bytes_) {
    return FaultAndClose(h.call_id, pending.context_id,
                         nca_s_fault_access_denied,
                         "reassembled request exceeds the limit of " +
                             std::to_string(limits_.max_request_bytes) +
                             " bytes",
                         out);
  }
  pending.stub.insert(pending.stub.end(), stub.begin(), stub.end());
  pending_bytes_ += stub.size();
  if (!last) return true;
  PendingCall call = std::move(pending);
  pending_bytes_ -= call.stub.size();
  pending_.erase(it);
  bool close = false;
  Dispatch(std::move(call), out, &close);
  return !close;
}

void ServerConnection::Dispatch(PendingCall call,
                                std::vector<std::vector<uint8_t>>& out,
                                bool* close) {
  const Context& ctx = contexts_.at(call.context_id);
  const InterfaceRegistration& iface = *ctx.interface;
  CallContext cc;
  cc.call_id = call.call_id;
  cc.context_id = call.context_id;
  cc.opnum = call.opnum;
  cc.local = local_;
  cc.loopback = loopback_;
  if (call.authenticated) {
    const AuthContext& a = auth_contexts_.at(call.auth_context_id);
    cc.authn_level = ProvenLevel(call);
    cc.authn_svc = a.type;
    cc.principal = a.context->PeerName();
    cc.token = a.context->PeerToken();
  }
  cc.has_peer = peer_.known;
  cc.peer_uid = peer_.uid;
  cc.peer_gid = peer_.gid;
  cc.peer_pid = peer_.pid;
  cc.assoc_group_id = assoc_group_id_;
  cc.data_rep.little_endian = (call.drep[0] & 0xF0) == 0x10;  // 0x10 or 0x00
  if (call.opnum >= iface.operations.size()) {  // case 9
    Fault(call.call_id, call.context_id, nca_s_op_rng_error, true, out);
    return;
  }
  if (cc.authn_level < iface.min_authn_level) {  // case 17
    FaultAndClose(call.call_id, call.context_id, nca_s_fault_access_denied,
                  "call to interface " + ctx.abstract_syntax.uuid.ToString() +
                      " opnum " + std::to_string(call.opnum) + " by " +
                      (cc.principal.empty() ? "an unauthenticated caller"
                                            : cc.principal) +
                      " at authentication level " +
                      std::to_string(cc.authn_level) +
                      ", below the interface's minimum " +
                      std::to_string(iface.min_authn_level),
                  out);
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
         t.header2->context_id != call.context_id ||
         t.header2->opnum != call.opnum)) {
      bad = true;
    }
    if (bad) {
      Fault(call.call_id, call.context_id, nca_s_fault_access_denied, true, out);
      return;
    }
    call.stub.resize(t.stub_length);
  }
  if (iface.security_callback) {
    Status s = iface.security_callback(cc);
    if (!s.ok()) {
      Fault(call.call_id, call.context_id, nca_s_fault_access_denied, true, out);
      return;
    }
  }
  auto result = iface.operations[call.opnum](call.stub, cc);
  if (!result.ok()) {
    Fault(call.call_id, call.context_id, FaultStatusFor(result.status()), false,
          out);
    return;
  }
  // Fragment the response within max_xmit: 24 bytes of header per fragment.
  const std::vector<uint8_t>& stub = *result;
  size_t overhead = 24;
  if (call.authenticated && call.auth_level >= kAuthnLevelCall) {
    // sec_trailer, signature, and up to 3 bytes of padding.
    overhead += kSecTrailerSize + 3 +
                auth_contexts_.at(call.auth_context_id).context->SignatureSize();
  }
  const size_t chunk = max_xmit_ - overhead;
  size_t sent = 0;
  do {
    size_t n = std::min(chunk, stub.size() - sent);
    Pdu p;
    p.header.type = PduType::kResponse;
    p.header.call_id = call.call_id;
    p.header.pfc_flags = (sent == 0 ? PFC_FIRST_FRAG : 0) |
                         (sent + n == stub.size() ? PFC_LAST_FRAG : 0);
    ResponseBody r;
    r.alloc_hint = static_cast<uint32_t>(stub.size() - sent);
    r.context_id = call.context_id;
    r.stub.assign(stub.begin() + static_cast<ptrdiff_t>(sent),
                  stub.begin() + static_cast<ptrdiff_t>(sent + n));
    p.body = std::move(r);
    auto bytes = EncodeResponse(p, call);
    if (!bytes.ok()) {
      Fault(call.call_id, call.context_id, nca_s_fault_sec_pkg_error, false, out);
      return;
    }
    out.push_back(std::move(*bytes));
    sent += n;
  } while (sent < stub.size());
}

// ==== Authentication =======================================================
// Invariant: a context in auth_contexts_ keeps the type and level it was
// created with; a request is dispatched only under a complete context whose
// type and level its verifier repeats (Badlock, CVE-2021-1678 lessons).

uint32_t ServerConnection::ProvenLevel(const PendingCall& call) const {
  if (!call.authenticated) return kAuthnLevelNone;
  const AuthContext& a = auth_contexts_.at(call.auth_context_id);
  uint32_t level = call.unsigned_request ? kAuthnLevelConnect : a.level;
  // An anonymous logon's session key derives from no secret, so anyone can
  // compute its signing and sealing keys: its verifiers prove nothing about
  // who sent a PDU. Its calls are credited at most CONNECT, whatever level
  // it bound at (the token says anonymous; no package is consulted).
  auto token = a.context->PeerToken();
  if (token && token->IsAnonymous()) {
    level = std::min<uint32_t>(level, kAuthnLevelConnect);
  }
  return level;
}

ConnectionInfo ServerConnection::Info(uint8_t auth_level) const {
  ConnectionInfo i;
  i.local = local_;
  i.auth_level = auth_level;
  i.peer = peer_description_;
  i.has_peer = peer_.known;
  i.peer_uid = peer_.uid;
  i.peer_gid = peer_.gid;
  i.peer_pid = peer_.pid;
  return i;
}

void ServerConnection::NoteIfComplete(AuthContext& a) {
  if (a.complete || !a.context->IsComplete()) return;
  a.complete = true;
  --unfinished_auth_contexts_;
}

void ServerConnection::DropAuthContext(std::map<uint32_t, AuthContext>::iterator it) {
  if (!it->second.complete) --unfinished_auth_contexts_;
  if (bind_auth_context_ == it->first) bind_auth_context_.reset();
  auth_contexts_.erase(it);
}

std::string ServerConnection::PrincipalKey() const {
  // On ncalrpc the kernel names the caller even when it does not
  // authenticate: its uid is part of who it is.
  std::string key = peer_.known ? "uid " + std::to_string(peer_.uid) + ", " : "";
  if (!bind_auth_context_) return key + "unauthenticated";
  const AuthContext& a = auth_contexts_.at(*bind_auth_context_);
  auto token = a.context->PeerToken();
  return key + "package " + std::to_string(a.type) + ", " +
         (token ? token->user().ToString() : a.context->PeerName());
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
  return !bound_ || refused_auth_.has_value() || unfinished_auth_contexts_ > 0;
}

bool ServerConnection::StepAuth(const Pdu& pdu, bool bind,
                                std::optional<SecTrailer>* reply,
                                std::vector<std::vector<uint8_t>>& out) {
  const SecTrailer& t = *pdu.auth;
  const uint32_t call_id = pdu.header.call_id;
  auto refuse = [&](uint16_t reason, uint32_t fault, std::string why) {
    return bind ? BindNak(call_id, reason, std::move(why), out)
                : FaultAndClose(call_id, 0, fault, std::move(why), out);
  };
  // Case 19: levels outside CONNECT..PKT_PRIVACY are not levels.
  if (t.auth_level < kAuthnLevelConnect || t.auth_level > kAuthnLevelPktPrivacy) {
    return refuse(kNakReasonNotSpecified, nca_s_proto_error,
                  "authentication level " + std::to_string(t.auth_level) +
                      " is not valid");
  }
  SecurityPackage* package =
      packages_ && t.auth_type != RPC_C_AUTHN_NONE ? packages_->Find(t.auth_type)
                                                    : nullptr;
  if (package == nullptr) {
    return refuse(kNakAuthenticationTypeNotRecognized, nca_s_fault_sec_pkg_error,
                  "authentication type " + std::to_string(t.auth_type) +
                      " is not offered by this server");
  }
  auto existing = auth_contexts_.find(t.auth_context_id);
  if (existing != auth_contexts_.end()) {
    // Case 21: a context keeps its package and level.
    if (existing->second.type != t.auth_type) {
      return FaultAndClose(call_id, 0, nca_s_fault_sec_pkg_error,
                           "alter_context changes a context's package", out);
    }
    if (existing->second.level != t.auth_level) {
      return FaultAndClose(call_id, 0, nca_s_fault_access_denied,
                           "alter_context changes a context's level", out);
    }
    if (existing->second.context->IsComplete()) {
      return FaultAndClose(call_id, 0, nca_s_fault_access_denied,
                           "a completed authentication continued", out);
    }
  } else {
    if (auth_contexts_.size() >= limits_.max_auth_contexts) {  // case 22
      return refuse(kNakLocalLimitExceeded, nca_s_proto_error,
                    "more than " + std::to_string(limits_.max_auth_contexts) +
                        " authentication contexts");
    }
    // Refused as case 22 is (Samba's max_auth_states answer).
    if (unfinished_auth_contexts_ >= limits_.max_unfinished_auth_contexts) {
      return refuse(kNakLocalLimitExceeded, nca_s_proto_error,
                    "more than " +
                        std::to_string(limits_.max_unfinished_auth_contexts) +
                        " unfinished authentication handshakes");
    }
    auto context = package->NewServerContext(Info(t.auth_level));
    if (!context.ok()) {
      return refuse(kNakAuthenticationTypeNotRecognized, nca_s_fault_sec_pkg_error,
                    std::string(context.status().message()));
    }
    existing = auth_contexts_
                   .emplace(t.auth_context_id,
                            AuthContext{t.auth_type, t.auth_level, std::move(*context)})
                   .first;
    ++unfinished_auth_contexts_;
    if (bind) bind_auth_context_ = t.auth_context_id;
  }
  auto token = existing->second.context->Accept(t.auth_value);
  if (!token.ok()) {
    DropAuthContext(existing);
    return refuse(kNakReasonNotSpecified, nca_s_fault_access_denied,
                  "authentication failed: " + std::string(token.status().message()));
  }
  NoteIfComplete(existing->second);
  if (!bind && bind_auth_context_ == existing->first &&
      existing->second.complete) {
    std::string why;
    if (!SettleGroupPrincipal(&why)) {
      return FaultAndClose(call_id, 0, nca_s_fault_access_denied, std::move(why), out);
    }
  }
  SecTrailer r;
  r.auth_type = t.auth_type;
  r.auth_level = t.auth_level;
  r.auth_context_id = t.auth_context_id;
  r.auth_value = std::move(*token);
  *reply = std::move(r);
  return true;
}

bool ServerConnection::HandleAuth3(const Pdu& pdu,
                                   std::vector<std::vector<uint8_t>>& out) {
  const uint32_t call_id = pdu.header.call_id;
  if (!bound_ || !pdu.auth) {
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "auth3 without an authentication in progress", out);
  }
  auto it = auth_contexts_.find(pdu.auth->auth_context_id);
  if (it == auth_contexts_.end()) {
    return FaultAndClose(call_id, 0, nca_s_proto_error,
                         "auth3 for an unknown authentication context", out);
  }
  AuthContext& a = it->second;
  if (a.context->IsComplete()) {  // case 20
    return FaultAndClose(call_id, 0, nca_s_fault_access_denied,
                         "auth3 after the authentication completed", out);
  }
  if (a.type != pdu.auth->auth_type || a.level != pdu.auth->auth_level) {
    return FaultAndClose(call_id, 0, nca_s_fault_access_denied,
                         "auth3 changes the context's package or level", out);
  }
  auto token = a.context->Accept(pdu.auth->auth_value);
  if (!token.ok() || !a.context->IsComplete()) {
    // auth3 has no reply, not even for a refusal (Samba's dcesrv_auth3,
    // as Windows): the context is dropped and the refusal remembered, and
    // the connection's next PDU is answered with the fault (case 20's
    // sibling; conformance test RefusedAuth3.*).
    DropAuthContext(it);
    refused_auth_ = "authentication failed in auth3: " +
                    (token.ok() ? std::string("the handshake is incomplete")
                                : std::string(token.status().message()));
    return true;
  }
  NoteIfComplete(a);
  std::string why;
  if (bind_auth_context_ == it->first && !SettleGroupPrincipal(&why)) {
    refused_auth_ = std::move(why);  // answered like a refused auth3
  }
  return true;  // auth3 has no reply
}

bool ServerConnection::CheckRequestAuth(std::span<const uint8_t> fragment,
                                        const Pdu& pdu,
                                        std::vector<uint8_t>* stub,
                                        std::vector<std::vector<uint8_t>>& out) {
  const PduHeader& h = pdu.header;
  const auto& req = std::get<RequestBody>(pdu.body);
  if (auth_contexts_.empty()) {
    if (pdu.auth) {
      return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                           "request with a verifier on an unauthenticated "
                           "connection",
                           out);
    }
    return true;
  }
  if (!pdu.auth) {
    // Case 18: a request on an authenticated association carries a
    // verifier, except at CONNECT, where the bind alone was authenticated.
    // Without one at CALL and above it is refused, as Windows refuses it
    // (Samba treats it as an unauthenticated call and refuses it at any
    // interface with a minimum level): otherwise a request injected into
    // the victim's connection would run as the victim.
    if (!bind_auth_context_) {
      return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                           "request without a verifier on a connection whose "
                           "authentication began after an unauthenticated bind",
                           out, /*did_not_execute=*/false);
    }
    const AuthContext& a = auth_contexts_.at(*bind_auth_context_);
    if (!a.context->IsComplete()) {  // case 20
      return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                           "request before its authentication completed", out);
    }
    if (a.level == kAuthnLevelConnect) return true;
    if (a.level <= kAuthnLevelPkt && allow_unverified_requests_) {
      if (!warned_unsigned_ && log_) {
        warned_unsigned_ = true;
        log_("rpc: WEAK: " + peer_description_ + " (" + a.context->PeerName() +
             ") bound at level " + std::to_string(a.level) +
             " sends requests without a verifier; they are served as "
             "CONNECT-level calls because allow_unverified_requests is set");
      }
      return true;
    }
    return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                         "request without a verifier on a connection "
                         "authenticated as " + a.context->PeerName() +
                             " at level " + std::to_string(a.level),
                         out, /*did_not_execute=*/false);
  }
  auto it = auth_contexts_.find(pdu.auth->auth_context_id);
  if (it == auth_contexts_.end() || !it->second.context->IsComplete()) {
    // Case 20: no calls before the handshake completes.
    return FaultAndClose(h.call_id, 0, nca_s_proto_error,
                         "request before its authentication completed", out);
  }
  AuthContext& a = it->second;
  if (a.type != pdu.auth->auth_type || a.level != pdu.auth->auth_level) {
    // Case 18: a verifier may not downgrade its context's level.
    return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                         "request verifier of " + a.context->PeerName() +
                             " claims level " + std::to_string(pdu.auth->auth_level) +
                             " and package " + std::to_string(pdu.auth->auth_type) +
                             "; its context has level " + std::to_string(a.level) +
                             " and package " + std::to_string(a.type),
                         out);
  }
  if (a.level < kAuthnLevelCall) return true;  // R4: CALL is raised to PKT
  const size_t sig = pdu.header.auth_length;
  if (sig != a.context->SignatureSize()) {
    return FaultAndClose(h.call_id, req.context_id, nca_s_fault_access_denied,
                         "signature of the wrong size", out);
  }
  std::vector<uint8_t> copy(fragment.begin(), fragment.end());
  const size_t stub_begin = kHeaderSize + 8 + (req.object ? 16 : 0);
  const size_t stub_end = copy.size() - sig - kSecTrailerSize;
  // The signature stays in place: Verify unseals only the stub before it.
  std::span<const uint8_t> signature(copy.data() + copy.size() - sig, sig);
  Status s = a.context->Verify(copy, stub_begin, stub_end, a.level, signature);
  if (!s.ok()) {
    // Cases 24, 25: a bad signature or sequence closes the connection.
    return FaultAndClose(h.call_id, req.context_id, nca_s_fault_sec_pkg_error,
                         "verifier check failed for " + a.context->PeerName() + ": " +
                             std::string(s.message()),
                         out);
  }
  stub->assign(copy.begin() + static_cast<ptrdiff_t>(stub_begin),
               copy.begin() + static_cast<ptrdiff_t>(stub_end - pdu.auth->auth_pad_length));
  return true;
}

Result<std::vector<uint8_t>> ServerConnection::EncodeResponse(
    Pdu& pdu, const PendingCall& call) {
  if (!call.authenticated || call.auth_level < kAuthnLevelCall ||
      call.unsigned_request) {
    return EncodePdu(pdu);
  }
  AuthContext& a = auth_contexts_.at(call.auth_context_id);
  SecTrailer t;
  t.auth_type = a.type;
  t.auth_level = a.level;
  t.auth_context_id = call.auth_context_id;
  t.auth_value.assign(a.context->SignatureSize(), 0);
  pdu.auth = t;
  std::vector<uint8_t> bytes = EncodePdu(pdu);
  const size_t sig = t.auth_value.size();
  const size_t stub_end = bytes.size() - sig - kSecTrailerSize;
  std::span<uint8_t> signature(bytes.data() + bytes.size() - sig, sig);
  // A response the package cannot protect is never sent unprotected.
  COMSEC_RETURN_IF_ERROR(
      a.context->Protect(bytes, kHeaderSize + 8, stub_end, a.level, signature));
  return bytes;
}

}  // namespace comsec::rpc
