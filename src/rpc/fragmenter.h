// One fragmenter for client and server: a request or response stub split
// into fragments within the negotiated size, each protected under the
// call's authentication context (C706 12.6.3.7; [MS-RPCE] 3.3.1.5.1). The
// fragments are produced in order, which is also the order in which a
// package's sequence numbers advance: a caller sends them as produced.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/rpc/pdu_protection.h"

namespace comsec::rpc {

struct FragmentPlan {
  bool request = true;  // request or response
  uint32_t call_id = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;               // requests
  std::optional<Guid> object;       // requests: PFC_OBJECT_UUID
  uint16_t max_frag = 5840;
  const PduAuth* auth = nullptr;    // null: unauthenticated
  uint8_t extra_flags = 0;          // e.g. PFC_CONC_MPX on requests
};

// Calls `emit` with each fragment, first to last; stops at the first
// failure (of protection or of `emit`).
Status Fragment(const FragmentPlan& plan, std::span<const uint8_t> stub,
                const std::function<Status(std::vector<uint8_t>)>& emit);

}  // namespace comsec::rpc
