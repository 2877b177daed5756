// Access masks ([MS-DTYP] 2.4.3): the standard, generic and special bits, the
// composite rights SDDL names, and generic-right mapping.
#pragma once

#include <cstdint>

namespace comsec::security {

inline constexpr uint32_t DELETE = 0x00010000;
inline constexpr uint32_t READ_CONTROL = 0x00020000;
inline constexpr uint32_t WRITE_DAC = 0x00040000;
inline constexpr uint32_t WRITE_OWNER = 0x00080000;
inline constexpr uint32_t SYNCHRONIZE = 0x00100000;
inline constexpr uint32_t ACCESS_SYSTEM_SECURITY = 0x01000000;
inline constexpr uint32_t MAXIMUM_ALLOWED = 0x02000000;
inline constexpr uint32_t GENERIC_ALL = 0x10000000;
inline constexpr uint32_t GENERIC_EXECUTE = 0x20000000;
inline constexpr uint32_t GENERIC_WRITE = 0x40000000;
inline constexpr uint32_t GENERIC_READ = 0x80000000;
inline constexpr uint32_t kGenericBits =
    GENERIC_ALL | GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ;

// Directory-service rights, the names SDDL gives the low bits.
inline constexpr uint32_t ADS_RIGHT_DS_CREATE_CHILD = 0x1;     // CC
inline constexpr uint32_t ADS_RIGHT_DS_DELETE_CHILD = 0x2;     // DC
inline constexpr uint32_t ADS_RIGHT_ACTRL_DS_LIST = 0x4;       // LC
inline constexpr uint32_t ADS_RIGHT_DS_SELF = 0x8;             // SW
inline constexpr uint32_t ADS_RIGHT_DS_READ_PROP = 0x10;       // RP
inline constexpr uint32_t ADS_RIGHT_DS_WRITE_PROP = 0x20;      // WP
inline constexpr uint32_t ADS_RIGHT_DS_DELETE_TREE = 0x40;     // DT
inline constexpr uint32_t ADS_RIGHT_DS_LIST_OBJECT = 0x80;     // LO
inline constexpr uint32_t ADS_RIGHT_DS_CONTROL_ACCESS = 0x100; // CR

// File and registry composites (SDDL FA FR FW FX KA KR KW KX).
inline constexpr uint32_t FILE_ALL_ACCESS = 0x001F01FF;
inline constexpr uint32_t FILE_GENERIC_READ = 0x00120089;
inline constexpr uint32_t FILE_GENERIC_WRITE = 0x00120116;
inline constexpr uint32_t FILE_GENERIC_EXECUTE = 0x001200A0;
inline constexpr uint32_t KEY_ALL_ACCESS = 0x000F003F;
inline constexpr uint32_t KEY_READ = 0x00020019;
inline constexpr uint32_t KEY_WRITE = 0x00020006;
inline constexpr uint32_t KEY_EXECUTE = 0x00020019;

// Mandatory label policy (SDDL NW NR NX), meaningful in ML ACEs.
inline constexpr uint32_t SYSTEM_MANDATORY_LABEL_NO_WRITE_UP = 0x1;
inline constexpr uint32_t SYSTEM_MANDATORY_LABEL_NO_READ_UP = 0x2;
inline constexpr uint32_t SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP = 0x4;

// GENERIC_MAPPING: what each generic bit means for one kind of object.
struct GenericMapping {
  uint32_t generic_read = 0;
  uint32_t generic_write = 0;
  uint32_t generic_execute = 0;
  uint32_t generic_all = 0;

  // MapGenericMask: replaces generic bits by their specific rights.
  constexpr uint32_t Map(uint32_t mask) const {
    if (!(mask & kGenericBits)) return mask;
    uint32_t out = mask & ~kGenericBits;
    if (mask & GENERIC_READ) out |= generic_read;
    if (mask & GENERIC_WRITE) out |= generic_write;
    if (mask & GENERIC_EXECUTE) out |= generic_execute;
    if (mask & GENERIC_ALL) out |= generic_all;
    return out;
  }
};

}  // namespace comsec::security
