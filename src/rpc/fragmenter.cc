#include "comsec/rpc/fragmenter.h"

#include <algorithm>

namespace comsec::rpc {

Status Fragment(const FragmentPlan& plan, std::span<const uint8_t> stub,
                const std::function<Status(std::vector<uint8_t>)>& emit) {
  const size_t overhead = FragmentOverhead(plan.auth, plan.request,
                                           plan.object.has_value(), plan.max_frag);
  if (plan.max_frag <= overhead + 8) {
    return Status(E_INVALIDARG, "fragment size " + std::to_string(plan.max_frag) +
                                    " leaves no room for a stub");
  }
  const size_t chunk = plan.max_frag - overhead;
  size_t sent = 0;
  do {
    size_t n = std::min(chunk, stub.size() - sent);
    // `chunk` assumed the signature of a max_frag-sized stub; a package
    // whose signature grows as the stub shrinks (block padding) would
    // overrun max_frag with some pieces, so each piece shrinks until its
    // fragment fits (at most a cipher block's worth of steps).
    while (n > 0 && FragmentSize(plan.auth, plan.request, plan.object.has_value(), n) >
                        plan.max_frag) {
      --n;
    }
    if (n == 0 && sent < stub.size()) {
      return Status(E_INVALIDARG, "fragment size " + std::to_string(plan.max_frag) +
                                      " leaves no room for a stub under this signature");
    }
    Pdu p;
    p.header.call_id = plan.call_id;
    p.header.pfc_flags = (sent == 0 ? PFC_FIRST_FRAG : 0) |
                         (sent + n == stub.size() ? PFC_LAST_FRAG : 0);
    const auto piece = stub.subspan(sent, n);
    if (plan.request) {
      p.header.type = PduType::kRequest;
      p.header.pfc_flags |= plan.extra_flags;
      if (plan.object) p.header.pfc_flags |= PFC_OBJECT_UUID;
      RequestBody r;
      r.alloc_hint = static_cast<uint32_t>(stub.size() - sent);
      r.context_id = plan.context_id;
      r.opnum = plan.opnum;
      r.object = plan.object;
      r.stub.assign(piece.begin(), piece.end());
      p.body = std::move(r);
    } else {
      p.header.type = PduType::kResponse;
      ResponseBody r;
      r.alloc_hint = static_cast<uint32_t>(stub.size() - sent);
      r.context_id = plan.context_id;
      r.stub.assign(piece.begin(), piece.end());
      p.body = std::move(r);
    }
    PduAuth none;
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            EncodeProtected(p, plan.auth ? *plan.auth : none));
    COMSEC_RETURN_IF_ERROR(emit(std::move(bytes)));
    sent += n;
  } while (sent < stub.size());
  return Status::Ok();
}

}  // namespace comsec::rpc
