// Ace: one access control entry ([MS-DTYP] 2.4.4).
//
// Allow and deny ACEs (types 0 and 1) are what the access check evaluates.
// The other types Windows defines — audit and alarm, object ACEs, callback
// ACEs with application data, mandatory labels, resource attributes, scoped
// policy ids, trust labels, access filters — are decoded, kept and written
// back unchanged so that a descriptor survives a round trip through comsec.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/security/sid.h"

namespace comsec::security {

// [MS-DTYP] 2.4.4.1 AceType.
inline constexpr uint8_t ACCESS_ALLOWED_ACE_TYPE = 0x00;
inline constexpr uint8_t ACCESS_DENIED_ACE_TYPE = 0x01;
inline constexpr uint8_t SYSTEM_AUDIT_ACE_TYPE = 0x02;
inline constexpr uint8_t SYSTEM_ALARM_ACE_TYPE = 0x03;
inline constexpr uint8_t ACCESS_ALLOWED_COMPOUND_ACE_TYPE = 0x04;
inline constexpr uint8_t ACCESS_ALLOWED_OBJECT_ACE_TYPE = 0x05;
inline constexpr uint8_t ACCESS_DENIED_OBJECT_ACE_TYPE = 0x06;
inline constexpr uint8_t SYSTEM_AUDIT_OBJECT_ACE_TYPE = 0x07;
inline constexpr uint8_t SYSTEM_ALARM_OBJECT_ACE_TYPE = 0x08;
inline constexpr uint8_t ACCESS_ALLOWED_CALLBACK_ACE_TYPE = 0x09;
inline constexpr uint8_t ACCESS_DENIED_CALLBACK_ACE_TYPE = 0x0A;
inline constexpr uint8_t ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE = 0x0B;
inline constexpr uint8_t ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE = 0x0C;
inline constexpr uint8_t SYSTEM_AUDIT_CALLBACK_ACE_TYPE = 0x0D;
inline constexpr uint8_t SYSTEM_ALARM_CALLBACK_ACE_TYPE = 0x0E;
inline constexpr uint8_t SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE = 0x0F;
inline constexpr uint8_t SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE = 0x10;
inline constexpr uint8_t SYSTEM_MANDATORY_LABEL_ACE_TYPE = 0x11;
inline constexpr uint8_t SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE = 0x12;
inline constexpr uint8_t SYSTEM_SCOPED_POLICY_ID_ACE_TYPE = 0x13;
inline constexpr uint8_t SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE = 0x14;
inline constexpr uint8_t SYSTEM_ACCESS_FILTER_ACE_TYPE = 0x15;

// [MS-DTYP] 2.4.4.1 AceFlags.
inline constexpr uint8_t OBJECT_INHERIT_ACE = 0x01;
inline constexpr uint8_t CONTAINER_INHERIT_ACE = 0x02;
inline constexpr uint8_t NO_PROPAGATE_INHERIT_ACE = 0x04;
inline constexpr uint8_t INHERIT_ONLY_ACE = 0x08;
inline constexpr uint8_t INHERITED_ACE = 0x10;
inline constexpr uint8_t CRITICAL_ACE_FLAG = 0x20;
inline constexpr uint8_t SUCCESSFUL_ACCESS_ACE_FLAG = 0x40;
inline constexpr uint8_t FAILED_ACCESS_ACE_FLAG = 0x80;
// Shares the bit of CRITICAL_ACE_FLAG; meaningful on access filter ACEs.
inline constexpr uint8_t TRUST_PROTECTED_FILTER_ACE_FLAG = 0x40;

// [MS-DTYP] 2.4.4.3 object ACE Flags.
inline constexpr uint32_t ACE_OBJECT_TYPE_PRESENT = 0x1;
inline constexpr uint32_t ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2;

struct Ace {
  uint8_t type = ACCESS_ALLOWED_ACE_TYPE;
  uint8_t flags = 0;
  uint32_t mask = 0;
  Sid sid;
  // Object ACEs only ([MS-DTYP] 2.4.4.3).
  std::optional<Guid> object_type;
  std::optional<Guid> inherited_object_type;
  // Callback, resource-attribute and access-filter ACEs: the bytes after the
  // SID (conditional expression, claim, filter), kept opaque. Padding to the
  // ACE's 4-byte size is included as Windows wrote it.
  std::vector<uint8_t> application_data;

  static bool IsObjectType(uint8_t type);
  // Types whose body after the SID is application data.
  static bool HasApplicationData(uint8_t type);
  // Types that take part in the discretionary access check.
  bool IsAllow() const { return type == ACCESS_ALLOWED_ACE_TYPE; }
  bool IsDeny() const { return type == ACCESS_DENIED_ACE_TYPE; }

  // Reads one ACE whose header starts at the reader's offset; `index` names
  // it in errors. The reader must be limited to the ACL's bytes so an ACE
  // cannot overrun the ACL; AceSize is checked against it.
  static Result<Ace> Decode(ByteReader& reader, size_t index);
  size_t EncodedSize() const;
  void EncodeTo(ByteWriter& writer) const;

  friend bool operator==(const Ace&, const Ace&) = default;
};

}  // namespace comsec::security
