#include "comsec/rpc/call_reassembler.h"

#include "comsec/rpc/server_connection.h"

namespace comsec::rpc {
namespace {

Refusal Fault(uint32_t status, std::string why, uint16_t context_id = 0) {
  return FaultRefusal(status, std::move(why), context_id);
}

}  // namespace

void CallReassembler::Orphan(uint32_t call_id) {
  auto it = pending_.find(call_id);
  if (it == pending_.end()) return;
  bytes_ -= it->second.stub.size();
  pending_.erase(it);
}

CallReassembler::Outcome CallReassembler::Add(const Pdu& pdu, const RequestAuth& auth,
                                              std::vector<uint8_t> stub,
                                              bool context_known, AssembledCall* done,
                                              Refusal* refusal) {
  const PduHeader& h = pdu.header;
  const auto& req = std::get<RequestBody>(pdu.body);
  const bool first = h.pfc_flags & PFC_FIRST_FRAG;
  const bool last = h.pfc_flags & PFC_LAST_FRAG;
  auto it = pending_.find(h.call_id);
  if (first) {
    if (it != pending_.end()) {  // case 14: a second FIRST for a call
      *refusal = Fault(nca_s_proto_error,
                       "a second first fragment for call " + std::to_string(h.call_id));
      return Outcome::kRefused;
    }
    if (!pending_.empty() && !multiplexed_) {  // case 15
      *refusal = Fault(nca_s_proto_error,
                       "a new call started while call " +
                           std::to_string(pending_.begin()->first) +
                           " is still being received (no PFC_CONC_MPX)");
      return Outcome::kRefused;
    }
    if (pending_.size() >= max_concurrent_calls_) {
      *refusal = Fault(nca_s_proto_error, "more than " + std::to_string(max_concurrent_calls_) +
                                              " multiplexed calls in progress");
      return Outcome::kRefused;
    }
    if (h.pfc_flags & PFC_PENDING_CANCEL) {  // case 16
      *refusal = Fault(nca_s_fault_no_call_active, "first fragment with PENDING_CANCEL",
                       req.context_id);
      return Outcome::kRefused;
    }
    if (req.alloc_hint > max_request_bytes_) {  // case 12
      *refusal = Fault(nca_s_fault_access_denied,
                       "alloc_hint " + std::to_string(req.alloc_hint) +
                           " exceeds the request limit",
                       req.context_id);
      return Outcome::kRefused;
    }
    if (!context_known) {  // case 8
      *refusal = Fault(nca_s_unknown_if, "fragmented request on an unknown context",
                       req.context_id);
      // A whole call is answered and the connection kept; a client that
      // would go on sending the call's fragments is cut off rather than
      // its fragments swallowed.
      return last ? Outcome::kRejected : Outcome::kRefused;
    }
    AssembledCall call;
    call.call_id = h.call_id;
    call.context_id = req.context_id;
    call.opnum = req.opnum;
    call.object = req.object;
    call.drep = h.drep;
    call.auth = auth;
    it = pending_.emplace(h.call_id, std::move(call)).first;
  } else if (it == pending_.end()) {  // case 14
    *refusal = Fault(nca_s_proto_error, "continuation fragment for no call in progress");
    return Outcome::kRefused;
  } else if (!(it->second.auth == auth)) {
    // Case 26: every fragment of a call carries the first one's verifier.
    *refusal = Fault(nca_s_proto_error, "a fragment's verifier differs from the call's first");
    return Outcome::kRefused;
  }
  AssembledCall& pending = it->second;
  // Memory bound: the stubs of every call in progress together (case 12).
  if (stub.size() > max_request_bytes_ - bytes_) {
    *refusal = Fault(nca_s_fault_access_denied,
                     "reassembled request exceeds the limit of " +
                         std::to_string(max_request_bytes_) + " bytes",
                     pending.context_id);
    return Outcome::kRefused;
  }
  bytes_ += stub.size();
  if (pending.stub.empty()) {
    pending.stub = std::move(stub);
  } else {
    pending.stub.insert(pending.stub.end(), stub.begin(), stub.end());
  }
  if (!last) return Outcome::kMore;
  *done = std::move(pending);
  bytes_ -= done->stub.size();
  pending_.erase(it);
  return Outcome::kComplete;
}

}  // namespace comsec::rpc
