// The verification trailer ([MS-RPCE] 2.2.2.13): commands a client appends
// to a request's stub so that a server can check, under the PDU's
// signature, that the header it acted on is the one the client sent
// (header2), that the presentation context is the one negotiated
// (pcontext), and what the client supports (bitmask1).
//
//   stub ... | pad to 4 | 8a e3 13 71 02 f4 36 71 | command... (last has END)
//   command: u16 type (0x3FFF type, 0x4000 END, 0x8000 MUST_PROCESS, as
//            Samba's dcerpc.idl and Wireshark read them),
//            u16 length, data
//
// The runtime does not parse stubs, so the trailer is found from the end:
// the last 4-aligned occurrence of the signature whose commands run exactly
// to the end of the stub, the last one flagged END.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/rpc/pdu.h"

namespace comsec::rpc {

inline constexpr uint16_t SEC_VT_COMMAND_BITMASK_1 = 0x0001;
inline constexpr uint16_t SEC_VT_COMMAND_PCONTEXT = 0x0002;
inline constexpr uint16_t SEC_VT_COMMAND_HEADER2 = 0x0003;
inline constexpr uint16_t SEC_VT_COMMAND_END = 0x4000;
inline constexpr uint16_t SEC_VT_MUST_PROCESS_COMMAND = 0x8000;
inline constexpr uint32_t SEC_VT_CLIENT_SUPPORTS_HEADER_SIGNING = 0x1;

struct VtHeader2 {
  uint8_t ptype = 0;
  std::array<uint8_t, 4> drep{};
  uint32_t call_id = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;
};

struct VerificationTrailer {
  size_t offset = 0;  // where it starts in the stub (after the stub's pad)
  size_t stub_length = 0;  // the stub without the trailer
  std::optional<uint32_t> bitmask1;
  std::optional<std::pair<SyntaxId, SyntaxId>> pcontext;
  std::optional<VtHeader2> header2;
  bool unknown_must_process = false;
};

// Empty when the stub has no trailer; an error when one starts but its
// commands are malformed.
Result<std::optional<VerificationTrailer>> FindVerificationTrailer(
    std::span<const uint8_t> stub);

// Appends a trailer with pcontext and header2 (and bitmask1 when
// `header_signing`) to a request stub.
void AppendVerificationTrailer(std::vector<uint8_t>& stub,
                               const SyntaxId& abstract,
                               const SyntaxId& transfer, const VtHeader2& h,
                               bool header_signing);

}  // namespace comsec::rpc
