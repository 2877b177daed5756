#include "comsec/ndr/type_serialization.h"

#include <string>

#include "comsec/base/win32_error.h"

namespace comsec::ndr {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kLittleEndian = 0x10;
constexpr uint8_t kBigEndian = 0x00;
constexpr uint16_t kCommonHeaderLength = 8;
constexpr uint32_t kCommonFiller = 0xCCCCCCCCu;
// Trailing bytes an ObjectBufferLength that excludes its pad leaves over.
constexpr size_t kMaxUncountedPad = 7;

void PutLe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t Get32(const uint8_t* p, bool little) {
  return little ? (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                   uint32_t{p[3]} << 24)
                : (uint32_t{p[3]} | uint32_t{p[2]} << 8 | uint32_t{p[1]} << 16 |
                   uint32_t{p[0]} << 24);
}

Status Malformed(HResult code, size_t offset, const std::string& what) {
  return Status(code, "type serialization stream: " + what + " (offset " +
                          std::to_string(offset) + ")");
}

}  // namespace

std::vector<uint8_t> PickleType(std::span<const uint8_t> ndr) {
  const size_t padded = (ndr.size() + 7) & ~size_t{7};
  std::vector<uint8_t> out;
  out.reserve(kTypeSerializationHeaderBytes + padded);
  out.push_back(kVersion);
  out.push_back(kLittleEndian);
  out.push_back(static_cast<uint8_t>(kCommonHeaderLength));
  out.push_back(static_cast<uint8_t>(kCommonHeaderLength >> 8));
  PutLe32(out, kCommonFiller);
  PutLe32(out, static_cast<uint32_t>(padded));
  PutLe32(out, 0);
  out.insert(out.end(), ndr.begin(), ndr.end());
  out.resize(kTypeSerializationHeaderBytes + padded, 0);
  return out;
}

Result<PickledType> UnpickleType(std::span<const uint8_t> stream) {
  if (stream.size() < kTypeSerializationHeaderBytes) {
    return Malformed(RPC_X_WRONG_ES_VERSION, 0,
                     std::to_string(stream.size()) +
                         " bytes cannot hold the common and private headers (16 bytes)");
  }
  // The common header is little-endian whatever the data's order.
  if (stream[0] != kVersion) {
    return Malformed(RPC_X_WRONG_ES_VERSION, 0,
                     "version " + std::to_string(stream[0]) + ", only version 1 is read");
  }
  if (stream[1] != kLittleEndian && stream[1] != kBigEndian) {
    return Malformed(RPC_X_WRONG_ES_VERSION, 1,
                     "endianness byte " + std::to_string(stream[1]) + " is neither 0x10 nor 0x00");
  }
  const uint16_t header_length = static_cast<uint16_t>(stream[2] | stream[3] << 8);
  if (header_length != kCommonHeaderLength) {
    return Malformed(RPC_X_WRONG_ES_VERSION, 2,
                     "CommonHeaderLength " + std::to_string(header_length) + ", must be 8");
  }
  PickledType out;
  out.rep.little_endian = stream[1] == kLittleEndian;
  const uint32_t length = Get32(stream.data() + 8, out.rep.little_endian);
  const size_t available = stream.size() - kTypeSerializationHeaderBytes;
  if (length > available) {
    return Malformed(RPC_X_BAD_STUB_DATA, 8,
                     "ObjectBufferLength " + std::to_string(length) + " exceeds the " +
                         std::to_string(available) + " bytes that follow the headers");
  }
  if (available - length > kMaxUncountedPad) {
    return Malformed(RPC_X_BAD_STUB_DATA, kTypeSerializationHeaderBytes + length,
                     std::to_string(available - length) +
                         " bytes follow the serialized type, more than its padding");
  }
  out.ndr = stream.subspan(kTypeSerializationHeaderBytes, length);
  return out;
}

}  // namespace comsec::ndr
