#include "comsec/config/reg_value.h"

#include <array>
#include <cstdio>
#include <utility>

#include "comsec/base/hex.h"

namespace comsec::config {
namespace {

struct TypeNameEntry {
  RegType type;
  std::string_view name;
};

constexpr std::array<TypeNameEntry, 12> kTypeNames = {{
    {RegType::kNone, "REG_NONE"},
    {RegType::kSz, "REG_SZ"},
    {RegType::kExpandSz, "REG_EXPAND_SZ"},
    {RegType::kBinary, "REG_BINARY"},
    {RegType::kDword, "REG_DWORD"},
    {RegType::kDwordBigEndian, "REG_DWORD_BIG_ENDIAN"},
    {RegType::kLink, "REG_LINK"},
    {RegType::kMultiSz, "REG_MULTI_SZ"},
    {RegType::kResourceList, "REG_RESOURCE_LIST"},
    {RegType::kFullResourceDescriptor, "REG_FULL_RESOURCE_DESCRIPTOR"},
    {RegType::kResourceRequirementsList, "REG_RESOURCE_REQUIREMENTS_LIST"},
    {RegType::kQword, "REG_QWORD"},
}};

bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// The builders cannot fail, so they encode what they can and substitute
// U+FFFD for each bad byte; callers that must reject bad input call
// Utf8ToUtf16Le first.
void AppendUtf8AsUtf16LeLossy(std::string_view utf8, std::vector<uint8_t>* out) {
  const std::vector<uint8_t> units = Utf8ToUtf16LeLossy(utf8);
  out->insert(out->end(), units.begin(), units.end());
}

// "value \"Name\"" or "the default value", for error messages.
std::string Describe(const RegValue& v) {
  if (v.name.empty()) return "the default value";
  return "value \"" + v.name + "\"";
}

Status WrongType(const RegValue& v, std::string_view wanted) {
  return Status(E_INVALIDARG, Describe(v) + " is " + RegTypeName(v.type) +
                                  ", not " + std::string(wanted));
}

}  // namespace

std::string RegTypeName(RegType type) {
  for (const TypeNameEntry& e : kTypeNames) {
    if (e.type == type) return std::string(e.name);
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "REG_0x%x", static_cast<uint32_t>(type));
  return buf;
}

Result<RegType> ParseRegTypeName(std::string_view name) {
  for (const TypeNameEntry& e : kTypeNames) {
    if (EqualsIgnoringAsciiCase(name, e.name)) return e.type;
  }
  // winnt.h spells the little-endian forms out as aliases.
  if (EqualsIgnoringAsciiCase(name, "REG_DWORD_LITTLE_ENDIAN")) {
    return RegType::kDword;
  }
  if (EqualsIgnoringAsciiCase(name, "REG_QWORD_LITTLE_ENDIAN")) {
    return RegType::kQword;
  }
  // The "REG_0x1234" form RegTypeName produces for unnamed types, so that
  // every name it prints parses back.
  if (name.size() > 6 && name.size() <= 14 &&
      EqualsIgnoringAsciiCase(name.substr(0, 6), "REG_0X")) {
    auto v = ParseUnsigned(name.substr(6), NumberBase::kHex, 0xFFFFFFFFu);
    if (v.ok()) return static_cast<RegType>(*v);
  }
  return Status(E_INVALIDARG,
                "unknown registry value type \"" + std::string(name) +
                    "\"; use REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, "
                    "REG_MULTI_SZ, REG_QWORD, ... or REG_0x<hex>");
}

RegValue RegValue::String(std::string name, std::string_view utf8,
                          RegType type) {
  RegValue v;
  v.name = std::move(name);
  v.type = type;
  AppendUtf8AsUtf16LeLossy(utf8, &v.data);
  v.data.push_back(0);
  v.data.push_back(0);
  return v;
}

RegValue RegValue::MultiString(std::string name,
                               const std::vector<std::string>& utf8) {
  RegValue v;
  v.name = std::move(name);
  v.type = RegType::kMultiSz;
  for (const std::string& s : utf8) {
    AppendUtf8AsUtf16LeLossy(s, &v.data);
    v.data.push_back(0);
    v.data.push_back(0);
  }
  // The empty string that ends the list.
  v.data.push_back(0);
  v.data.push_back(0);
  return v;
}

RegValue RegValue::Dword(std::string name, uint32_t value) {
  RegValue v;
  v.name = std::move(name);
  v.type = RegType::kDword;
  for (int i = 0; i < 4; ++i) {
    v.data.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  return v;
}

RegValue RegValue::Qword(std::string name, uint64_t value) {
  RegValue v;
  v.name = std::move(name);
  v.type = RegType::kQword;
  for (int i = 0; i < 8; ++i) {
    v.data.push_back(static_cast<uint8_t>(value >> (8 * i)));
  }
  return v;
}

RegValue RegValue::Binary(std::string name, std::vector<uint8_t> bytes) {
  RegValue v;
  v.name = std::move(name);
  v.type = RegType::kBinary;
  v.data = std::move(bytes);
  return v;
}

Result<std::string> RegValue::AsString() const {
  if (type != RegType::kSz && type != RegType::kExpandSz) {
    return WrongType(*this, "REG_SZ or REG_EXPAND_SZ");
  }
  if (data.size() % 2 != 0) {
    return Status(E_INVALIDARG, Describe(*this) + " holds " +
                                    std::to_string(data.size()) +
                                    " bytes, which is not whole UTF-16 "
                                    "characters");
  }
  // A C reader of the value stops at the first NUL, and so do we; without
  // one the string runs to the end of the data, as RegGetValue reads it.
  size_t end = 0;
  while (end < data.size() && (data[end] != 0 || data[end + 1] != 0)) {
    end += 2;
  }
  auto text = Utf16LeToUtf8(data.data(), end);
  if (!text.ok()) {
    return std::move(text).TakeStatus().Prefixed(Describe(*this));
  }
  return text;
}

Result<std::vector<std::string>> RegValue::AsMultiString() const {
  if (type != RegType::kMultiSz) return WrongType(*this, "REG_MULTI_SZ");
  if (data.size() % 2 != 0) {
    return Status(E_INVALIDARG, Describe(*this) + " holds " +
                                    std::to_string(data.size()) +
                                    " bytes, which is not whole UTF-16 "
                                    "characters");
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = start;
    while (end < data.size() && (data[end] != 0 || data[end + 1] != 0)) {
      end += 2;
    }
    // An empty string ends the list (the double NUL), as Windows's
    // readers of REG_MULTI_SZ treat it; anything after it is ignored.
    if (end == start) break;
    auto s = Utf16LeToUtf8(data.data() + start, end - start);
    if (!s.ok()) {
      return std::move(s).TakeStatus().Prefixed(Describe(*this) + ", string " +
                                                std::to_string(out.size() + 1));
    }
    out.push_back(std::move(*s));
    start = end + 2;
  }
  return out;
}

Result<uint32_t> RegValue::AsDword() const {
  if (type != RegType::kDword && type != RegType::kDwordBigEndian) {
    return WrongType(*this, "REG_DWORD");
  }
  if (data.size() != 4) {
    return Status(E_INVALIDARG, Describe(*this) + " holds " +
                                    std::to_string(data.size()) +
                                    " bytes; a DWORD is 4");
  }
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    const int shift = type == RegType::kDword ? 8 * i : 8 * (3 - i);
    v |= static_cast<uint32_t>(data[i]) << shift;
  }
  return v;
}

Result<uint64_t> RegValue::AsQword() const {
  if (type != RegType::kQword) return WrongType(*this, "REG_QWORD");
  if (data.size() != 8) {
    return Status(E_INVALIDARG, Describe(*this) + " holds " +
                                    std::to_string(data.size()) +
                                    " bytes; a QWORD is 8");
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(data[i]) << (8 * i);
  return v;
}

}  // namespace comsec::config
