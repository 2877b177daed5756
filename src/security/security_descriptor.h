// SecurityDescriptor: owner, group, DACL and SACL with their control flags
// ([MS-DTYP] 2.4.6), and the self-relative binary form that COM stores in
// LaunchPermission, AccessPermission and the machine-wide Ole values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/acl.h"
#include "comsec/security/sid.h"

namespace comsec::security {

// [MS-DTYP] 2.4.6 Control.
inline constexpr uint16_t SE_OWNER_DEFAULTED = 0x0001;
inline constexpr uint16_t SE_GROUP_DEFAULTED = 0x0002;
inline constexpr uint16_t SE_DACL_PRESENT = 0x0004;
inline constexpr uint16_t SE_DACL_DEFAULTED = 0x0008;
inline constexpr uint16_t SE_SACL_PRESENT = 0x0010;
inline constexpr uint16_t SE_SACL_DEFAULTED = 0x0020;
inline constexpr uint16_t SE_DACL_TRUSTED = 0x0040;
inline constexpr uint16_t SE_SERVER_SECURITY = 0x0080;
inline constexpr uint16_t SE_DACL_AUTO_INHERIT_REQ = 0x0100;
inline constexpr uint16_t SE_SACL_AUTO_INHERIT_REQ = 0x0200;
inline constexpr uint16_t SE_DACL_AUTO_INHERITED = 0x0400;
inline constexpr uint16_t SE_SACL_AUTO_INHERITED = 0x0800;
inline constexpr uint16_t SE_DACL_PROTECTED = 0x1000;
inline constexpr uint16_t SE_SACL_PROTECTED = 0x2000;
inline constexpr uint16_t SE_RM_CONTROL_VALID = 0x4000;
inline constexpr uint16_t SE_SELF_RELATIVE = 0x8000;

// The binary form is limited so that a hostile registry value or packet
// cannot make comsec allocate without bound: two 64 KiB ACLs plus two SIDs
// and the header is the most a valid descriptor can need.
inline constexpr size_t kMaxSecurityDescriptorBytes = 20 + 2 * 0xFFFF + 2 * 68;

// A value: copyable, no virtual methods. The DACL and SACL are present when
// the matching SE_*_PRESENT bit is set in `control`; a present DACL without
// an Acl is the NULL DACL, which grants everything ([MS-DTYP] 2.4.6).
struct SecurityDescriptor {
  uint16_t control = SE_SELF_RELATIVE;
  // Sbz1; the resource-manager control bits when SE_RM_CONTROL_VALID is set.
  uint8_t rm_control = 0;
  std::optional<Sid> owner;
  std::optional<Sid> group;
  std::optional<Acl> dacl;
  std::optional<Acl> sacl;

  bool DaclPresent() const { return control & SE_DACL_PRESENT; }
  bool SaclPresent() const { return control & SE_SACL_PRESENT; }
  bool HasNullDacl() const { return DaclPresent() && !dacl; }

  void SetDacl(Acl acl);
  void SetNullDacl();
  void RemoveDacl();
  void SetSacl(Acl acl);

  // Decodes a self-relative descriptor. Every offset and size is checked
  // against the buffer; the buffer must end where the furthest part ends (no
  // trailing bytes). Errors name the offset.
  static Result<SecurityDescriptor> Decode(std::span<const uint8_t> bytes);

  // The self-relative form, laid out as Windows lays it out: header, SACL,
  // DACL, owner, group. REQUIRES: CheckEncodable().ok().
  std::vector<uint8_t> Encode() const;
  // Fails when an ACL would exceed the 16-bit AclSize.
  Status CheckEncodable() const;

  friend bool operator==(const SecurityDescriptor&,
                         const SecurityDescriptor&) = default;
};

}  // namespace comsec::security
