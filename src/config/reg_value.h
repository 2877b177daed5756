// RegValue: one typed registry value, stored exactly as Windows stores it —
// the type number and the raw data bytes (strings in UTF-16LE with their
// terminating NUL, DWORDs as 4 little-endian bytes). Keeping the raw bytes
// is what lets `.reg` export and import reproduce every value byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/base/utf16.h"

namespace comsec::config {

// winnt.h REG_* value types.
enum class RegType : uint32_t {
  kNone = 0,              // REG_NONE
  kSz = 1,                // REG_SZ
  kExpandSz = 2,          // REG_EXPAND_SZ
  kBinary = 3,            // REG_BINARY
  kDword = 4,             // REG_DWORD (little-endian)
  kDwordBigEndian = 5,    // REG_DWORD_BIG_ENDIAN
  kLink = 6,              // REG_LINK
  kMultiSz = 7,           // REG_MULTI_SZ
  kResourceList = 8,      // REG_RESOURCE_LIST
  kFullResourceDescriptor = 9,
  kResourceRequirementsList = 10,
  kQword = 11,            // REG_QWORD (little-endian)
};

// "REG_SZ", "REG_DWORD", ...; "REG_0x1234" for types without a name.
std::string RegTypeName(RegType type);
// Accepts the names above (case-insensitive); E_INVALIDARG otherwise.
Result<RegType> ParseRegTypeName(std::string_view name);

struct RegValue {
  // "" is the default (unnamed) value, written "@" in .reg files.
  std::string name;  // UTF-8
  RegType type = RegType::kNone;
  std::vector<uint8_t> data;

  // Builders; strings are UTF-8 and stored as UTF-16LE plus a NUL. The
  // builders cannot fail, so bytes that are not UTF-8 become U+FFFD; check
  // untrusted text with Utf8ToUtf16Le (base/utf16.h) first. MultiString
  // ends the list with the empty string (a second NUL), so an empty list
  // is a single NUL.
  static RegValue String(std::string name, std::string_view utf8,
                         RegType type = RegType::kSz);
  static RegValue MultiString(std::string name,
                              const std::vector<std::string>& utf8);
  static RegValue Dword(std::string name, uint32_t value);
  static RegValue Qword(std::string name, uint64_t value);
  static RegValue Binary(std::string name, std::vector<uint8_t> bytes);

  // Typed readers. Each fails with E_INVALIDARG-class status naming the
  // value when the type differs or the data is malformed (odd-length
  // UTF-16, a DWORD that is not 4 bytes, ...). A REG_SZ without its
  // terminating NUL is read as Windows's RegGetValue does: up to the end.
  Result<std::string> AsString() const;  // REG_SZ or REG_EXPAND_SZ
  Result<std::vector<std::string>> AsMultiString() const;
  Result<uint32_t> AsDword() const;
  Result<uint64_t> AsQword() const;

  friend bool operator==(const RegValue&, const RegValue&) = default;
};

}  // namespace comsec::config
