#include "comsec/security/security_descriptor.h"

#include <algorithm>
#include <string>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/check.h"
#include "comsec/base/win32_error.h"

namespace comsec::security {
namespace {

Status SdError(size_t offset, std::string message) {
  return Status(ERROR_INVALID_SECURITY_DESCR,
                "security descriptor: " + std::move(message))
      .WithPosition(offset);
}

// Reads the part at `offset`, which must lie inside the buffer and after the
// 20-byte header. `end` grows to the end of what was read.
template <typename T, typename DecodeFn>
Result<T> ReadPart(std::span<const uint8_t> bytes, uint32_t offset,
                   const char* what, size_t& end, DecodeFn decode) {
  if (offset < 20 || offset >= bytes.size()) {
    return SdError(offset, std::string(what) + " offset " +
                               std::to_string(offset) +
                               " lies outside the descriptor's " +
                               std::to_string(bytes.size()) + " bytes");
  }
  ByteReader r(bytes, what);
  (void)r.Skip(offset);
  auto part = decode(r);
  if (!part.ok()) {
    return Status(part.status().code(),
                  "security descriptor: " + std::string(what) + ": " +
                      std::string(part.status().message()))
        .WithPosition(part.status().position().value_or(offset));
  }
  end = std::max(end, r.offset());
  return part;
}

}  // namespace

void SecurityDescriptor::SetDacl(Acl acl) {
  control |= SE_DACL_PRESENT;
  dacl = std::move(acl);
}

void SecurityDescriptor::SetNullDacl() {
  control |= SE_DACL_PRESENT;
  dacl.reset();
}

void SecurityDescriptor::RemoveDacl() {
  control &= static_cast<uint16_t>(~SE_DACL_PRESENT);
  dacl.reset();
}

void SecurityDescriptor::SetSacl(Acl acl) {
  control |= SE_SACL_PRESENT;
  sacl = std::move(acl);
}

Result<SecurityDescriptor> SecurityDescriptor::Decode(
    std::span<const uint8_t> bytes) {
  if (bytes.size() < 20) {
    return SdError(0, "truncated: the header needs 20 bytes, " +
                          std::to_string(bytes.size()) + " given");
  }
  if (bytes.size() > kMaxSecurityDescriptorBytes) {
    return SdError(0, std::to_string(bytes.size()) +
                          " bytes is more than any valid descriptor needs");
  }
  ByteReader header(bytes, "security descriptor");
  uint8_t revision = *header.U8();
  SecurityDescriptor sd;
  sd.rm_control = *header.U8();
  sd.control = *header.U16Le();
  uint32_t owner_offset = *header.U32Le();
  uint32_t group_offset = *header.U32Le();
  uint32_t sacl_offset = *header.U32Le();
  uint32_t dacl_offset = *header.U32Le();
  if (revision != 1) {
    return SdError(0, "revision " + std::to_string(revision) +
                          "; only 1 exists");
  }
  if (!(sd.control & SE_SELF_RELATIVE)) {
    return SdError(2, "not in self-relative form (SE_SELF_RELATIVE is clear)");
  }
  size_t end = 20;
  if (owner_offset != 0) {
    COMSEC_ASSIGN_OR_RETURN(
        sd.owner, ReadPart<Sid>(bytes, owner_offset, "owner SID", end,
                                [](ByteReader& r) { return Sid::Decode(r); }));
  }
  if (group_offset != 0) {
    COMSEC_ASSIGN_OR_RETURN(
        sd.group, ReadPart<Sid>(bytes, group_offset, "group SID", end,
                                [](ByteReader& r) { return Sid::Decode(r); }));
  }
  // An ACL whose PRESENT bit is clear is ignored, as Windows ignores it.
  if (sd.SaclPresent() && sacl_offset != 0) {
    COMSEC_ASSIGN_OR_RETURN(
        sd.sacl, ReadPart<Acl>(bytes, sacl_offset, "SACL", end,
                               [](ByteReader& r) { return Acl::Decode(r); }));
  }
  if (sd.DaclPresent() && dacl_offset != 0) {
    COMSEC_ASSIGN_OR_RETURN(
        sd.dacl, ReadPart<Acl>(bytes, dacl_offset, "DACL", end,
                               [](ByteReader& r) { return Acl::Decode(r); }));
  }
  if (end < bytes.size()) {
    return SdError(end, std::to_string(bytes.size() - end) +
                            " bytes follow the end of the descriptor at "
                            "offset " + std::to_string(end));
  }
  return sd;
}

Status SecurityDescriptor::CheckEncodable() const {
  if (dacl && dacl->EncodedSize() > kMaxAclBytes) {
    return SdError(0, "the DACL needs " + std::to_string(dacl->EncodedSize()) +
                          " bytes; an ACL holds at most 65535");
  }
  if (sacl && sacl->EncodedSize() > kMaxAclBytes) {
    return SdError(0, "the SACL needs " + std::to_string(sacl->EncodedSize()) +
                          " bytes; an ACL holds at most 65535");
  }
  return Status();
}

std::vector<uint8_t> SecurityDescriptor::Encode() const {
  COMSEC_CHECK(CheckEncodable().ok(), "encoding an oversized descriptor");
  const bool write_sacl = SaclPresent() && sacl.has_value();
  const bool write_dacl = DaclPresent() && dacl.has_value();
  size_t size = 20 + (write_sacl ? sacl->EncodedSize() : 0) +
                (write_dacl ? dacl->EncodedSize() : 0) +
                (owner ? owner->EncodedSize() : 0) +
                (group ? group->EncodedSize() : 0);
  ByteWriter w(size);
  w.U8(1);
  w.U8(rm_control);
  w.U16Le(control | SE_SELF_RELATIVE);
  w.Zeros(16);  // offsets, patched below
  if (write_sacl) {
    w.PatchU32Le(12, static_cast<uint32_t>(w.size()));
    sacl->EncodeTo(w);
  }
  if (write_dacl) {
    w.PatchU32Le(16, static_cast<uint32_t>(w.size()));
    dacl->EncodeTo(w);
  }
  if (owner) {
    w.PatchU32Le(4, static_cast<uint32_t>(w.size()));
    owner->EncodeTo(w);
  }
  if (group) {
    w.PatchU32Le(8, static_cast<uint32_t>(w.size()));
    group->EncodeTo(w);
  }
  return std::move(w).Take();
}

}  // namespace comsec::security
