#include "comsec/ndr/idl_support.h"


namespace comsec::ndr {

Status CheckCounts(int64_t max_count, int64_t offset, int64_t actual, size_t held) {
  if (max_count < 0 || max_count > int64_t{0xFFFFFFFF} || offset < 0 || actual < 0 ||
      offset + actual > max_count) {
    return Status(RPC_X_INVALID_BOUND,
                  "NDR: array bounds max_count " + std::to_string(max_count) + ", offset " +
                      std::to_string(offset) + ", actual_count " + std::to_string(actual) +
                      " are inconsistent");
  }
  if (static_cast<uint64_t>(actual) != held) {
    return Status(RPC_X_INVALID_BOUND, "NDR: the array holds " + std::to_string(held) +
                                           " elements but its size/length attribute says " +
                                           std::to_string(actual));
  }
  return Status();
}

Status BadCount(int64_t count) {
  return Status(RPC_X_INVALID_BOUND, "NDR: array size " + std::to_string(count) +
                                         " is out of range");
}

Status CheckEnum16(int64_t value) {
  if (value >= 0 && value <= 0xFFFF) return Status();
  return Status(RPC_X_ENUM_VALUE_OUT_OF_RANGE,
                "NDR: enum value " + std::to_string(value) + " does not fit 16 bits");
}

Status SwitchMismatch() {
  return Status(RPC_S_INVALID_TAG, "NDR: a union's tag differs from its switch_is value");
}

Status NoUnionArm(int64_t discriminant) {
  return Status(RPC_S_INVALID_TAG,
                "NDR: the union has no arm for discriminant " + std::to_string(discriminant));
}

Status EncodeString(Encoder& e, const std::string& s) {
  if (s.find('\0') != std::string::npos) {
    return Status(RPC_X_INVALID_BOUND, "NDR: a [string] holds a NUL before its end");
  }
  e.CString(s);
  return Status();
}

Status EncodeString(Encoder& e, const std::u16string& s) {
  if (s.find(u'\0') != std::u16string::npos) {
    return Status(RPC_X_INVALID_BOUND, "NDR: a [string] holds a NUL before its end");
  }
  e.WString(s);
  return Status();
}

namespace {

template <typename S>
Status EncodeFixed(Encoder& e, const S& s, uint32_t n) {
  if (s.size() + 1 > n || s.find(typename S::value_type{0}) != S::npos) {
    return Status(RPC_X_INVALID_BOUND, "NDR: a [string] of " + std::to_string(s.size()) +
                                           " characters does not fit its array of " +
                                           std::to_string(n));
  }
  e.VarianceOf({0, static_cast<uint32_t>(s.size() + 1)});
  for (auto c : s) {
    if constexpr (sizeof(c) == 1) {
      e.U8(static_cast<uint8_t>(c));
    } else {
      e.U16(static_cast<uint16_t>(c));
    }
  }
  if constexpr (sizeof(typename S::value_type) == 1) {
    e.U8(0);
  } else {
    e.U16(0);
  }
  return Status();
}

template <typename S>
Status DecodeFixed(Decoder& d, S& s, uint32_t n) {
  constexpr size_t kSize = sizeof(typename S::value_type);
  COMSEC_ASSIGN_OR_RETURN(Variance v, d.VarianceOf(n, kSize));
  if (v.offset != 0) return d.Error("string offset must be 0");
  if (v.actual_count == 0) return d.Error("string without its terminating NUL");
  s.clear();
  for (uint32_t i = 0; i < v.actual_count; ++i) {
    uint16_t c = 0;
    if constexpr (kSize == 1) {
      COMSEC_ASSIGN_OR_RETURN(c, d.U8());
    } else {
      COMSEC_ASSIGN_OR_RETURN(c, d.U16());
    }
    if ((c == 0) != (i + 1 == v.actual_count)) {
      return d.Error(c == 0 ? "string has a NUL before its end" : "string does not end with NUL");
    }
    if (c != 0) s.push_back(static_cast<typename S::value_type>(c));
  }
  return Status();
}

}  // namespace

Status EncodeFixedString(Encoder& e, const std::string& s, uint32_t n) { return EncodeFixed(e, s, n); }
Status EncodeFixedString(Encoder& e, const std::u16string& s, uint32_t n) {
  return EncodeFixed(e, s, n);
}
Status DecodeFixedString(Decoder& d, std::string& s, uint32_t n) { return DecodeFixed(d, s, n); }
Status DecodeFixedString(Decoder& d, std::u16string& s, uint32_t n) {
  return DecodeFixed(d, s, n);
}

}  // namespace comsec::ndr
