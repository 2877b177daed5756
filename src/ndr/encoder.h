// Encoder: writes NDR20 in the native (little-endian) representation. It
// mirrors Decoder: primitives align to their size, arrays write their
// counts, pointers write referent ids (allocated here, unique per stub) and
// embedded referents are written after their container with
// Defer()/RunDeferred(). Encoding cannot fail.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/ndr/decoder.h"

namespace comsec::ndr {

class Encoder {
 public:
  Encoder() = default;

  void Align(size_t n) {
    while (buf_.size() % n != 0) buf_.push_back(0);
  }
  void U8(uint8_t v) { buf_.push_back(v); }
  void U16(uint16_t v) {
    Align(2);
    buf_.push_back(static_cast<uint8_t>(v));
    buf_.push_back(static_cast<uint8_t>(v >> 8));
  }
  void U32(uint32_t v) {
    Align(4);
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    Align(8);
    for (int i = 0; i < 8; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void I32(int32_t v) { U32(static_cast<uint32_t>(v)); }
  void Enum16(uint16_t v) { U16(v); }
  void Uuid(const Guid& g);
  void Context(const ContextHandle& h) {
    U32(h.attributes);
    Uuid(h.uuid);
  }
  void Bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }

  void Conformance(uint32_t max_count) { U32(max_count); }
  void VarianceOf(Variance v) {
    U32(v.offset);
    U32(v.actual_count);
  }
  // [string] char* and wchar_t*, NUL included in the counts.
  void CString(std::string_view s);
  void WString(std::u16string_view s);

  // Writes a referent id for a non-null pointer (0 for NULL) and returns it.
  uint32_t Pointer(bool non_null) {
    uint32_t id = non_null ? next_referent_ : 0;
    if (non_null) next_referent_ += 4;
    U32(id);
    return id;
  }

  // A full ([ptr]) pointer's referent id: 0 for NULL, the same id for
  // every occurrence of one object (C706 14.3.12.1 aliasing).
  uint32_t FullPointerId(const void* object) {
    if (object == nullptr) return 0;
    auto [it, added] = full_ids_.emplace(object, next_referent_);
    if (added) next_referent_ += 4;
    return it->second;
  }
  // True the first time it is asked about `object`: its referent is
  // written there and only there.
  bool FirstFullReferent(const void* object) { return full_written_.insert(object).second; }

  void Defer(std::function<void(Encoder&)> write) {
    deferred_.push_back(std::move(write));
  }
  void RunDeferred();

  // Makes room for `more` bytes beyond what is written, growing
  // geometrically, so that a large array costs one copy into the stub.
  void Reserve(size_t more) {
    size_t want = buf_.size() + more;
    if (want > buf_.capacity()) buf_.reserve(std::max(want, 2 * buf_.capacity()));
  }

  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> Take() && { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
  // Windows starts referent ids at 0x00020000 and steps by 4; any nonzero
  // unique value is valid, and matching Windows makes captures comparable.
  uint32_t next_referent_ = 0x00020000;
  std::vector<std::function<void(Encoder&)>> deferred_;
  std::unordered_map<const void*, uint32_t> full_ids_;
  std::unordered_set<const void*> full_written_;
};

}  // namespace comsec::ndr
