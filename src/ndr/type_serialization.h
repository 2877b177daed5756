// Type serialization version 1 ([MS-RPCE] 2.2.6): one NDR-encoded type
// "pickled" outside any call, as MesEncode/MesDecode do — what the DCOM
// activation property blobs carry ([MS-DCOM] 2.2.22), each property its
// own stream.
//
// A stream is an 8-byte common type header (version 1, endianness,
// header length 8, filler), then for the type an 8-byte private header
// (ObjectBufferLength, filler) and the type's NDR, padded to a multiple
// of 8 bytes. The NDR is aligned relative to its own first byte, as a
// call's stub is; comidl's generated Pickle/Unpickle functions encode and
// decode the body with ndr::Encoder and ndr::Decoder.
//
// Exact in what we send: fillers 0xCCCCCCCC and 0, zero padding counted
// in ObjectBufferLength, as the specification says. Liberal in what we
// accept, as real peers differ: any filler values, and an
// ObjectBufferLength that leaves out up to 7 bytes of trailing pad of any
// value (impacket's streams do both; see ../shared/fixtures/dcom/README).
// Everything else that does not fit is refused before any byte of the
// body is read.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/ndr/data_rep.h"

namespace comsec::ndr {

inline constexpr size_t kTypeSerializationHeaderBytes = 16;

// One decoded stream: the type's NDR (its ObjectBufferLength bytes) and
// the data representation to decode it with.
struct PickledType {
  DataRep rep;
  std::span<const uint8_t> ndr;
};

// Wraps one type's NDR (little-endian, as ndr::Encoder writes) in a
// version 1 stream.
std::vector<uint8_t> PickleType(std::span<const uint8_t> ndr);

// Reads a version 1 stream holding one type. Fails with
// RPC_X_WRONG_ES_VERSION for another version or a malformed common
// header, RPC_X_BAD_STUB_DATA for a private header that does not fit the
// bytes; the message names the field and the offset.
Result<PickledType> UnpickleType(std::span<const uint8_t> stream);

}  // namespace comsec::ndr
