#include "comsec/base/hresult.h"

#include <algorithm>
#include <cstdio>

namespace comsec {
namespace {

const HResultInfo* Find(uint32_t value) {
  size_t count = 0;
  const HResultInfo* table = internal::HResultTable(&count);
  const HResultInfo* end = table + count;
  const HResultInfo* it = std::lower_bound(
      table, end, value,
      [](const HResultInfo& e, uint32_t v) { return e.value < v; });
  return (it != end && it->value == value) ? it : nullptr;
}

}  // namespace

std::string_view HResult::Name() const {
  const HResultInfo* info = Find(value_);
  return info ? info->name : "";
}

std::string_view HResult::Message() const {
  const HResultInfo* info = Find(value_);
  return info ? info->message : "";
}

std::string HResult::Hex() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", value_);
  return buf;
}

std::string HResult::ToString() const {
  std::string_view name = Name();
  if (name.empty()) return Hex();
  std::string out(name);
  out += " (";
  out += Hex();
  out += ")";
  return out;
}

bool HResult::FromName(std::string_view name, HResult* out) {
  size_t count = 0;
  const HResultInfo* table = internal::HResultTable(&count);
  for (size_t i = 0; i < count; ++i) {
    if (name == table[i].name) {
      *out = HResult(table[i].value);
      return true;
    }
  }
  return false;
}

}  // namespace comsec
