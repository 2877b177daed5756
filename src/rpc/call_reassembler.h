// CallReassembler: the request fragments of one connection's calls put
// back together (C706 12.6.3.7), within limits, as Windows and Samba
// bound them: one call at a time unless the bind negotiated PFC_CONC_MPX,
// then up to max_concurrent_calls interleaved ones; a reassembled stub,
// over every call in progress together, of at most max_request_bytes
// (cases 12–16). Every fragment of a call carries its first fragment's
// authentication (case 26).
//
// Thread affinity: the connection's thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/rpc/pdu.h"
#include "comsec/rpc/server_auth.h"

namespace comsec::rpc {

// A call whose last fragment arrived.
struct AssembledCall {
  uint32_t call_id = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;
  std::optional<Guid> object;
  std::array<uint8_t, 4> drep{};
  RequestAuth auth;
  std::vector<uint8_t> stub;
};

class CallReassembler {
 public:
  CallReassembler(size_t max_request_bytes, size_t max_concurrent_calls)
      : max_request_bytes_(max_request_bytes), max_concurrent_calls_(max_concurrent_calls) {}

  void set_multiplexed(bool m) { multiplexed_ = m; }

  enum class Outcome { kMore, kComplete, kRejected, kRefused };
  // Adds one request fragment whose verifier checked (`auth`, `stub`).
  // kComplete fills `done`; kRefused fills `refusal` (the connection
  // closes); kRejected fills it too, but only the call is refused. `context_known` is whether the fragment's presentation
  // context was negotiated: a first fragment on an unknown one is refused
  // with nca_s_unknown_if (case 8), the connection kept when it is the
  // call's only fragment.
  Outcome Add(const Pdu& pdu, const RequestAuth& auth, std::vector<uint8_t> stub,
              bool context_known, AssembledCall* done, Refusal* refusal);
  // Drops a call the client orphaned.
  void Orphan(uint32_t call_id);
  void Clear() {
    pending_.clear();
    bytes_ = 0;
  }

 private:
  size_t max_request_bytes_;
  size_t max_concurrent_calls_;
  bool multiplexed_ = false;
  std::map<uint32_t, AssembledCall> pending_;
  size_t bytes_ = 0;
};

}  // namespace comsec::rpc
