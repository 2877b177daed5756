#include "comsec/security/ace.h"

#include <string>

#include "comsec/base/win32_error.h"

namespace comsec::security {
namespace {

Status AceError(const ByteReader& r, size_t index, std::string_view what) {
  return r.Error(ERROR_INVALID_ACL,
                 "ACE " + std::to_string(index) + " " + std::string(what));
}

}  // namespace

bool Ace::IsObjectType(uint8_t type) {
  switch (type) {
    case ACCESS_ALLOWED_OBJECT_ACE_TYPE:
    case ACCESS_DENIED_OBJECT_ACE_TYPE:
    case SYSTEM_AUDIT_OBJECT_ACE_TYPE:
    case SYSTEM_ALARM_OBJECT_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE:
    case SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE:
    case SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE:
      return true;
    default:
      return false;
  }
}

bool Ace::HasApplicationData(uint8_t type) {
  switch (type) {
    case ACCESS_ALLOWED_CALLBACK_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE:
    case SYSTEM_AUDIT_CALLBACK_ACE_TYPE:
    case SYSTEM_ALARM_CALLBACK_ACE_TYPE:
    case SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE:
    case SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE:
    case SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE:
    case SYSTEM_ACCESS_FILTER_ACE_TYPE:
      return true;
    default:
      return false;
  }
}

Result<Ace> Ace::Decode(ByteReader& reader, size_t index) {
  const size_t start = reader.offset();
  if (reader.remaining() < 4) {
    return AceError(reader, index, "header is truncated: " +
                                       std::to_string(reader.remaining()) +
                                       " bytes left in the ACL");
  }
  Ace ace;
  ace.type = *reader.U8();
  ace.flags = *reader.U8();
  uint16_t size = *reader.U16Le();
  if (ace.type == ACCESS_ALLOWED_COMPOUND_ACE_TYPE ||
      ace.type > SYSTEM_ACCESS_FILTER_ACE_TYPE) {
    return AceError(reader, index,
                    "has unknown type " + std::to_string(ace.type));
  }
  // Every ACE holds at least the header, a mask and an 8-byte SID header.
  if (size < 16) {
    return AceError(reader, index,
                    "has AceSize " + std::to_string(size) +
                        ", smaller than the 16 bytes any ACE needs");
  }
  if (size % 4 != 0) {
    return AceError(reader, index,
                    "has AceSize " + std::to_string(size) +
                        ", not a multiple of 4");
  }
  if (size - 4u > reader.remaining()) {
    return AceError(reader, index,
                    "overruns the ACL by " +
                        std::to_string(size - 4u - reader.remaining()) +
                        " bytes");
  }
  // Decode the body inside exactly AceSize bytes.
  ByteReader body(*reader.Bytes(size - 4u), "ACE");
  ace.mask = *body.U32Le();
  if (IsObjectType(ace.type)) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t object_flags, body.U32Le());
    if (object_flags & ~(ACE_OBJECT_TYPE_PRESENT |
                         ACE_INHERITED_OBJECT_TYPE_PRESENT)) {
      return AceError(reader, index, "has undefined object flags");
    }
    if (object_flags & ACE_OBJECT_TYPE_PRESENT) {
      auto bytes = body.Bytes(16);
      if (!bytes.ok()) return AceError(reader, index, "object type truncated");
      ace.object_type = Guid::FromBytes(bytes->data());
    }
    if (object_flags & ACE_INHERITED_OBJECT_TYPE_PRESENT) {
      auto bytes = body.Bytes(16);
      if (!bytes.ok()) {
        return AceError(reader, index, "inherited object type truncated");
      }
      ace.inherited_object_type = Guid::FromBytes(bytes->data());
    }
  }
  auto sid = Sid::Decode(body);
  if (!sid.ok()) {
    return Status(sid.status().code(),
                  "ACE " + std::to_string(index) + " at offset " +
                      std::to_string(start) + ": " +
                      std::string(sid.status().message()))
        .WithPosition(start);
  }
  ace.sid = *sid;
  if (HasApplicationData(ace.type)) {
    auto rest = body.rest();
    ace.application_data.assign(rest.begin(), rest.end());
  } else if (body.remaining() != 0) {
    // Windows never writes slack inside these ACEs; accepting it would make
    // the descriptor change size on re-encoding.
    return AceError(reader, index,
                    "has " + std::to_string(body.remaining()) +
                        " unused bytes after its SID");
  }
  return ace;
}

size_t Ace::EncodedSize() const {
  size_t n = 8 + sid.EncodedSize();
  if (IsObjectType(type)) {
    n += 4;
    if (object_type) n += 16;
    if (inherited_object_type) n += 16;
  }
  n += application_data.size();
  return (n + 3) & ~size_t{3};
}

void Ace::EncodeTo(ByteWriter& w) const {
  const size_t start = w.size();
  const size_t size = EncodedSize();
  w.U8(type);
  w.U8(flags);
  w.U16Le(static_cast<uint16_t>(size));
  w.U32Le(mask);
  if (IsObjectType(type)) {
    uint32_t object_flags = (object_type ? ACE_OBJECT_TYPE_PRESENT : 0) |
                            (inherited_object_type
                                 ? ACE_INHERITED_OBJECT_TYPE_PRESENT
                                 : 0);
    w.U32Le(object_flags);
    if (object_type) w.Bytes(object_type->ToBytes());
    if (inherited_object_type) w.Bytes(inherited_object_type->ToBytes());
  }
  sid.EncodeTo(w);
  w.Bytes(application_data);
  w.Zeros(size - (w.size() - start));
}

}  // namespace comsec::security
