// The NDR data representation label (C706 14.1, "format label"): the byte
// order of integers, the character set and the floating-point format that
// the sender used. Receivers make it right (C706 14.2).
#pragma once

#include <array>
#include <cstdint>

#include "comsec/base/result.h"

namespace comsec::ndr {

struct DataRep {
  bool little_endian = true;

  // The four drep bytes of a PDU header: 0x10 0x00 0x00 0x00 for
  // little-endian, ASCII, IEEE floats.
  std::array<uint8_t, 4> ToBytes() const {
    return {static_cast<uint8_t>(little_endian ? 0x10 : 0x00), 0, 0, 0};
  }
  // Accepts ASCII characters and IEEE floats in either byte order; EBCDIC,
  // VAX, Cray and IBM floats are refused with RPC_S_UNSUPPORTED_TYPE, as no
  // peer comsec talks to sends them.
  static Result<DataRep> FromBytes(const uint8_t* drep);

  static DataRep Native() { return DataRep{true}; }
};

}  // namespace comsec::ndr
