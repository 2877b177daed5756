#include "comsec/base/byte_reader.h"

#include <cstdio>
#include <string>

namespace comsec {
namespace {

std::string HexOffset(size_t offset) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%zx", offset);
  return buf;
}

}  // namespace

Status ByteReader::Error(HResult code, std::string_view message) const {
  std::string m(what_);
  m += ": ";
  m += message;
  m += " at offset ";
  m += HexOffset(offset_);
  return Status(code, std::move(m)).WithPosition(offset_);
}

Status ByteReader::Need(size_t n) const {
  if (n <= remaining()) return Status();
  return Error(E_INVALIDARG, "truncated: " + std::to_string(n) +
                                 " bytes needed, " +
                                 std::to_string(remaining()) + " left");
}

Result<uint8_t> ByteReader::U8() {
  COMSEC_RETURN_IF_ERROR(Need(1));
  return bytes_[offset_++];
}

Result<uint16_t> ByteReader::U16Le() {
  COMSEC_RETURN_IF_ERROR(Need(2));
  uint16_t v = static_cast<uint16_t>(bytes_[offset_] | bytes_[offset_ + 1] << 8);
  offset_ += 2;
  return v;
}

Result<uint32_t> ByteReader::U32Le() {
  COMSEC_RETURN_IF_ERROR(Need(4));
  const uint8_t* p = bytes_.data() + offset_;
  uint32_t v = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
               uint32_t{p[3]} << 24;
  offset_ += 4;
  return v;
}

Result<uint16_t> ByteReader::U16Be() {
  COMSEC_RETURN_IF_ERROR(Need(2));
  uint16_t v = static_cast<uint16_t>(bytes_[offset_] << 8 | bytes_[offset_ + 1]);
  offset_ += 2;
  return v;
}

Result<uint32_t> ByteReader::U32Be() {
  COMSEC_RETURN_IF_ERROR(Need(4));
  const uint8_t* p = bytes_.data() + offset_;
  uint32_t v = uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 |
               uint32_t{p[2]} << 8 | uint32_t{p[3]};
  offset_ += 4;
  return v;
}

Result<uint64_t> ByteReader::U48Be() {
  COMSEC_RETURN_IF_ERROR(Need(6));
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = v << 8 | bytes_[offset_ + i];
  offset_ += 6;
  return v;
}

Result<std::span<const uint8_t>> ByteReader::Bytes(size_t n) {
  COMSEC_RETURN_IF_ERROR(Need(n));
  auto s = bytes_.subspan(offset_, n);
  offset_ += n;
  return s;
}

Status ByteReader::Skip(size_t n) {
  COMSEC_RETURN_IF_ERROR(Need(n));
  offset_ += n;
  return Status();
}

}  // namespace comsec
