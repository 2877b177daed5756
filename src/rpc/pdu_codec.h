// Reading and writing connection-oriented PDUs (C706 12.6; [MS-RPCE] 2.2.2).
//
// DecodePdu takes exactly one fragment — the bytes the transport framed by
// frag_length — and checks every length against the fragment before it
// reads: the header's frag_length and auth_length, each body's counts, the
// auth trailer's place and auth_pad_length. Failures are
// RPC_S_PROTOCOL_ERROR with the offset and the field; the caller answers
// them with bind_nak or a proto_error fault and closes (conformance case 7).
// Both byte orders are read; comsec writes little-endian.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/base/win32_error.h"
#include "comsec/rpc/pdu.h"

namespace comsec::rpc {

// Reads the 16-byte common header without judging it, so that a server can
// answer a wrong version with bind_nak reason 4 (case 1).
Result<PduHeader> PeekHeader(std::span<const uint8_t> bytes);

// Checks a header against the fragment it came with: version 5.0, a data
// representation comsec reads, frag_length equal to the fragment size and
// at least 16, and room for the auth trailer auth_length announces.
Status ValidateHeader(const PduHeader& header, size_t fragment_size);

// Decodes one whole fragment.
Result<Pdu> DecodePdu(std::span<const uint8_t> fragment);

// Encodes a PDU; frag_length and auth_length are computed, as is the
// auth_pad_length that puts the trailer on a 4-byte boundary.
std::vector<uint8_t> EncodePdu(const Pdu& pdu);

}  // namespace comsec::rpc
