// What comidl's generated code needs beside Encoder and Decoder: Box<T>
// (a nullable, deep-copying owner for [unique] pointers to structures and
// unions, which may be recursive), Deref for correlation expressions
// (size_is(*pcb)), full-pointer referents, strings with their checks, and
// the encode-side errors. Generated code is the only intended user.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>

#include "comsec/base/result.h"
#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "comsec/ndr/type_serialization.h"

namespace comsec::ndr {

// The encode-side errors are in base/win32_error.h; MIDL's stubs raise
// RPC_X_INVALID_BOUND, which rpcnterr.h defines as RPC_S_INVALID_BOUND.
using ::comsec::RPC_S_INVALID_TAG;
using ::comsec::RPC_X_ENUM_VALUE_OUT_OF_RANGE;
inline constexpr HResult RPC_X_INVALID_BOUND = ::comsec::RPC_S_INVALID_BOUND;

// An owned, nullable value with value semantics (copy is deep, == compares
// values). Unlike std::optional it accepts an incomplete T, so a structure
// may point to its own type.
template <typename T>
class Box {
 public:
  Box() = default;
  Box(const Box& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Box(Box&&) noexcept = default;
  Box(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT: as optional
  Box& operator=(const Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Box& operator=(Box&&) noexcept = default;

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  T& emplace() {
    p_ = std::make_unique<T>();
    return *p_;
  }
  void reset() { p_.reset(); }
  T& operator*() const { return *p_; }
  T* operator->() const { return p_.get(); }

  friend bool operator==(const Box& a, const Box& b) {
    if (!a.p_ || !b.p_) return !a.p_ && !b.p_;
    return *a.p_ == *b.p_;
  }

 private:
  std::unique_ptr<T> p_;
};

// `*p` in a correlation expression: the value a [ref] parameter holds, or a
// [unique] one's value (0 when it is NULL).
template <typename T>
int64_t Deref(const T& v) {
  return static_cast<int64_t>(v);
}
template <typename T>
int64_t Deref(const std::optional<T>& v) {
  return v ? static_cast<int64_t>(*v) : 0;
}

// [range(lo, hi)] on a decoded integer.
template <typename T>
bool InRange(T v, int64_t lo, int64_t hi) {
  if constexpr (std::is_unsigned_v<T>) {
    return (lo < 0 || static_cast<uint64_t>(v) >= static_cast<uint64_t>(lo)) &&
           hi >= 0 && static_cast<uint64_t>(v) <= static_cast<uint64_t>(hi);
  } else {
    return static_cast<int64_t>(v) >= lo && static_cast<int64_t>(v) <= hi;
  }
}

// The object a full pointer's referent id names in this stub: the same
// object for every occurrence (aliasing kept). An id seen before with
// another type is refused: a hostile peer must not make one object two.
template <typename T>
Result<std::shared_ptr<T>> FullReferent(Decoder& d, uint32_t id) {
  Decoder::FullSlot& slot = d.FullObject(id);
  if (!slot.object) {
    slot.object = std::make_shared<T>();
    slot.type = &typeid(T);
    return std::static_pointer_cast<T>(slot.object);
  }
  if (*slot.type != typeid(T)) {
    return d.Error("full pointer referent id " + std::to_string(id) +
                   " names objects of two types");
  }
  return std::static_pointer_cast<T>(slot.object);
}

// Encode-side checks: the counts of an array to be sent (max_count,
// offset, actual_count from its size_is/first_is/length_is) against the
// elements the value holds.
Status CheckCounts(int64_t max_count, int64_t offset, int64_t actual, size_t held);
Status BadCount(int64_t count);
Status CheckEnum16(int64_t value);
Status SwitchMismatch();
Status NoUnionArm(int64_t discriminant);

// [string] char*/wchar_t*: refused when the value holds a NUL (the
// receiver would see a shorter string).
Status EncodeString(Encoder& e, const std::string& s);
Status EncodeString(Encoder& e, const std::u16string& s);
// [string] char a[N] / wchar_t a[N]: a varying array of N, NUL included.
Status EncodeFixedString(Encoder& e, const std::string& s, uint32_t n);
Status EncodeFixedString(Encoder& e, const std::u16string& s, uint32_t n);
Status DecodeFixedString(Decoder& d, std::string& s, uint32_t n);
Status DecodeFixedString(Decoder& d, std::u16string& s, uint32_t n);

// ==== type serialization version 1 ([MS-RPCE] 2.2.6) =======================
// One value of a generated type as a pickled stream; the headers are
// ndr/type_serialization.h's (exact out, liberal in: impacket's uncounted
// pad and fillers, either byte order).

template <typename T>
Result<std::vector<uint8_t>> EncodePickled(const T& value) {
  Encoder e;
  COMSEC_RETURN_IF_ERROR(Encode(e, value));
  return PickleType(e.bytes());
}

template <typename T>
Status DecodePickled(std::span<const uint8_t> stream, T& value, Limits limits = {}) {
  COMSEC_ASSIGN_OR_RETURN(PickledType pickled, UnpickleType(stream));
  Decoder d(pickled.ndr, pickled.rep, limits);
  COMSEC_RETURN_IF_ERROR(Decode(d, value));
  return d.ExpectEnd();
}

}  // namespace comsec::ndr
