// Guid: a 128-bit identifier in the layout of [MS-DTYP] 2.3.4 — Data1
// (uint32), Data2, Data3 (uint16) and Data4 (8 bytes). On the wire and in
// security descriptors the first three fields are little-endian
// ([MS-DTYP] 2.3.4.2), which is what ToBytes/FromBytes produce.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "comsec/base/result.h"

namespace comsec {

struct Guid {
  uint32_t data1 = 0;
  uint16_t data2 = 0;
  uint16_t data3 = 0;
  std::array<uint8_t, 8> data4{};

  // Accepts "8-4-4-4-12" hex with or without surrounding braces, any case.
  static Result<Guid> Parse(std::string_view text);
  // The 16-byte little-endian form. REQUIRES: bytes has 16 elements.
  static Guid FromBytes(const uint8_t* bytes);

  std::array<uint8_t, 16> ToBytes() const;
  // Lowercase "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (UuidToString's form).
  std::string ToString() const;
  // Uppercase with braces, as the registry writes CLSIDs and AppIDs.
  std::string ToRegistryString() const;

  bool IsNil() const;

  friend bool operator==(const Guid&, const Guid&) = default;
  friend auto operator<=>(const Guid&, const Guid&) = default;
};

}  // namespace comsec
