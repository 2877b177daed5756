// Decoder: reads NDR20 (C706 chapter 14; [MS-RPCE] 2.2.5) from untrusted
// bytes, in the sender's data representation.
//
// The API follows the wire, so hand-written stubs stay short and every
// check is in one place:
//  * primitives align to their size, measured from the start of the stub;
//  * Conformance()/Variance() read array counts and refuse any count the
//    remaining bytes or the limits cannot hold, before the caller allocates;
//  * pointers return their referent id; embedded pointers' referents are
//    read later with Defer()/RunDeferred(), in the order NDR places them;
//  * Enter() bounds nesting depth.
// Every failure is RPC_X_BAD_STUB_DATA with the offset and what was wrong;
// after a failure the decoder must not be used further.
//
// Thread affinity: one thread. The bytes must outlive the decoder.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <memory>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/ndr/data_rep.h"
#include "comsec/ndr/limits.h"

namespace comsec::ndr {

// An RPC context handle on the wire ([MS-RPCE] 2.2.5.2.4.1).
struct ContextHandle {
  uint32_t attributes = 0;
  Guid uuid;
  bool IsNull() const { return attributes == 0 && uuid.IsNil(); }
  friend bool operator==(const ContextHandle&, const ContextHandle&) = default;
};

// Conformant-varying bounds (C706 14.3.3.4): elements [offset, offset +
// actual_count) of an array of max_count elements are on the wire.
struct Variance {
  uint32_t offset = 0;
  uint32_t actual_count = 0;
};

class Decoder {
 public:
  Decoder(std::span<const uint8_t> bytes, DataRep rep = DataRep::Native(),
          Limits limits = {});

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  const Limits& limits() const { return limits_; }

  // Skips padding to a multiple of `n` (1, 2, 4 or 8).
  Status Align(size_t n);
  // Moves forward to `offset` of the stub (a COM call's parameters start
  // after ORPCTHIS; alignment stays relative to the stub's start).
  Status SkipTo(size_t offset);

  Result<uint8_t> U8();
  Result<uint16_t> U16();
  Result<uint32_t> U32();
  Result<uint64_t> U64();
  Result<int32_t> I32() {
    COMSEC_ASSIGN_OR_RETURN(uint32_t v, U32());
    return static_cast<int32_t>(v);
  }
  // enum: a 16-bit value on the wire in NDR20 (C706 14.2.5).
  Result<uint16_t> Enum16() { return U16(); }
  Result<Guid> Uuid();
  Result<ContextHandle> Context();
  // `n` bytes with no alignment (the body of a byte array).
  Result<std::span<const uint8_t>> Bytes(size_t n);

  // The max_count of a conformant array whose elements take at least
  // `min_element_size` bytes each on the wire. Refused when the remaining
  // bytes cannot hold that many elements or it exceeds limits().max_elements.
  Result<uint32_t> Conformance(size_t min_element_size);
  // The offset and actual_count of a varying array; `max_count` is the
  // array's conformance (or its fixed size). offset + actual_count must not
  // exceed max_count, and the elements must fit in the remaining bytes.
  Result<Variance> VarianceOf(uint32_t max_count, size_t min_element_size);

  // [string] char* / wchar_t* as conformant-varying arrays with a NUL
  // terminator (C706 14.3.4): offset 0, actual_count including the NUL.
  Result<std::string> CString();
  Result<std::u16string> WString();

  // Pointers. The referent id is 0 for NULL; a [ref] pointer that is NULL
  // is RPC_X_NULL_REF_POINTER.
  Result<uint32_t> UniquePointer();
  Result<uint32_t> RefPointer();
  // A full ([ptr]) pointer: `first` is true the first time a referent id is
  // seen, when its referent follows; later occurrences alias it.
  struct FullPointer {
    uint32_t id = 0;
    bool first = false;
  };
  Result<FullPointer> PtrPointer();
  // The object decoded for a full pointer's referent id, shared by every
  // occurrence of the id in this stub (generated code's aliasing; see
  // ndr/idl_support.h FullReferent). `type` names the object's C++ type.
  struct FullSlot {
    std::shared_ptr<void> object;
    const std::type_info* type = nullptr;
  };
  FullSlot& FullObject(uint32_t id) { return full_objects_[id]; }
  // True the first time it is asked about `object`: its referent is to be
  // read now; later occurrences alias it.
  bool FirstFullReferent(const void* object) { return full_read_.insert(object).second; }

  // Queues the read of an embedded pointer's referent; RunDeferred() reads
  // them in queue order, including any that deferred reads queue themselves.
  void Defer(std::function<Status(Decoder&)> read);
  Status RunDeferred();

  // Bounds nesting: each Enter() must be matched by Leave().
  Status Enter();
  void Leave() { --depth_; }

  // Fails unless every byte was consumed; up to 7 trailing bytes of
  // alignment padding, of any value (real peers' pads are not all zero),
  // are allowed.
  Status ExpectEnd();

  // The RPC_X_BAD_STUB_DATA status with the current offset.
  Status Error(std::string_view what) const;

 private:
  Status Need(size_t n) const;
  uint32_t Load32(const uint8_t* p) const;

  std::span<const uint8_t> bytes_;
  DataRep rep_;
  Limits limits_;
  size_t offset_ = 0;
  size_t depth_ = 0;
  std::vector<std::function<Status(Decoder&)>> deferred_;
  std::unordered_set<uint32_t> full_referents_;
  std::unordered_map<uint32_t, FullSlot> full_objects_;
  std::unordered_set<const void*> full_read_;
};

}  // namespace comsec::ndr
