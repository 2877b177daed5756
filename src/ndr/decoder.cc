#include "comsec/ndr/decoder.h"

#include <cstdio>

#include "comsec/base/win32_error.h"

namespace comsec::ndr {

Decoder::Decoder(std::span<const uint8_t> bytes, DataRep rep, Limits limits)
    : bytes_(bytes), rep_(rep), limits_(limits) {}

Status Decoder::SkipTo(size_t offset) {
  if (offset < offset_ || offset > bytes_.size()) return Error("a stub offset outside the stub");
  offset_ = offset;
  return Status();
}

Status Decoder::Error(std::string_view what) const {
  char at[32];
  std::snprintf(at, sizeof at, " at stub offset 0x%zx", offset_);
  return Status(RPC_X_BAD_STUB_DATA, "NDR: " + std::string(what) + at)
      .WithPosition(offset_);
}

Status Decoder::Need(size_t n) const {
  if (n <= remaining()) return Status();
  return Error("truncated: " + std::to_string(n) + " bytes needed, " +
               std::to_string(remaining()) + " left");
}

Status Decoder::Align(size_t n) {
  size_t pad = (n - offset_ % n) % n;
  COMSEC_RETURN_IF_ERROR(Need(pad));
  offset_ += pad;
  return Status();
}

uint32_t Decoder::Load32(const uint8_t* p) const {
  return rep_.little_endian
             ? uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                   uint32_t{p[3]} << 24
             : uint32_t{p[3]} | uint32_t{p[2]} << 8 | uint32_t{p[1]} << 16 |
                   uint32_t{p[0]} << 24;
}

Result<uint8_t> Decoder::U8() {
  COMSEC_RETURN_IF_ERROR(Need(1));
  return bytes_[offset_++];
}

Result<uint16_t> Decoder::U16() {
  COMSEC_RETURN_IF_ERROR(Align(2));
  COMSEC_RETURN_IF_ERROR(Need(2));
  const uint8_t* p = bytes_.data() + offset_;
  offset_ += 2;
  return rep_.little_endian ? static_cast<uint16_t>(p[0] | p[1] << 8)
                            : static_cast<uint16_t>(p[1] | p[0] << 8);
}

Result<uint32_t> Decoder::U32() {
  COMSEC_RETURN_IF_ERROR(Align(4));
  COMSEC_RETURN_IF_ERROR(Need(4));
  uint32_t v = Load32(bytes_.data() + offset_);
  offset_ += 4;
  return v;
}

Result<uint64_t> Decoder::U64() {
  COMSEC_RETURN_IF_ERROR(Align(8));
  COMSEC_RETURN_IF_ERROR(Need(8));
  const uint8_t* p = bytes_.data() + offset_;
  uint64_t lo = Load32(rep_.little_endian ? p : p + 4);
  uint64_t hi = Load32(rep_.little_endian ? p + 4 : p);
  offset_ += 8;
  return hi << 32 | lo;
}

Result<Guid> Decoder::Uuid() {
  // A UUID is a structure {u32, u16, u16, u8[8]}, aligned to 4.
  Guid g;
  COMSEC_ASSIGN_OR_RETURN(g.data1, U32());
  COMSEC_ASSIGN_OR_RETURN(g.data2, U16());
  COMSEC_ASSIGN_OR_RETURN(g.data3, U16());
  COMSEC_ASSIGN_OR_RETURN(auto tail, Bytes(8));
  for (size_t i = 0; i < 8; ++i) g.data4[i] = tail[i];
  return g;
}

Result<ContextHandle> Decoder::Context() {
  ContextHandle h;
  COMSEC_ASSIGN_OR_RETURN(h.attributes, U32());
  COMSEC_ASSIGN_OR_RETURN(h.uuid, Uuid());
  return h;
}

Result<std::span<const uint8_t>> Decoder::Bytes(size_t n) {
  COMSEC_RETURN_IF_ERROR(Need(n));
  auto s = bytes_.subspan(offset_, n);
  offset_ += n;
  return s;
}

Result<uint32_t> Decoder::Conformance(size_t min_element_size) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, U32());
  if (max_count > limits_.max_elements) {
    return Error("conformance " + std::to_string(max_count) +
                 " exceeds the limit of " +
                 std::to_string(limits_.max_elements) + " elements");
  }
  // Divide rather than multiply: no overflow for any count.
  if (min_element_size != 0 && max_count > remaining() / min_element_size) {
    return Error("conformance " + std::to_string(max_count) + " needs " +
                 std::to_string(max_count) + " x " +
                 std::to_string(min_element_size) + " bytes; " +
                 std::to_string(remaining()) + " remain");
  }
  return max_count;
}

Result<Variance> Decoder::VarianceOf(uint32_t max_count,
                                     size_t min_element_size) {
  Variance v;
  COMSEC_ASSIGN_OR_RETURN(v.offset, U32());
  COMSEC_ASSIGN_OR_RETURN(v.actual_count, U32());
  if (v.offset > max_count || v.actual_count > max_count - v.offset) {
    return Error("varying array offset " + std::to_string(v.offset) +
                 " + actual_count " + std::to_string(v.actual_count) +
                 " exceeds max_count " + std::to_string(max_count));
  }
  if (min_element_size != 0 &&
      v.actual_count > remaining() / min_element_size) {
    return Error("actual_count " + std::to_string(v.actual_count) +
                 " needs more bytes than remain");
  }
  return v;
}

Result<std::string> Decoder::CString() {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, Conformance(0));
  COMSEC_ASSIGN_OR_RETURN(Variance v, VarianceOf(max_count, 1));
  if (v.offset != 0) return Error("string offset must be 0");
  if (v.actual_count == 0) return Error("string without its terminating NUL");
  COMSEC_ASSIGN_OR_RETURN(auto bytes, Bytes(v.actual_count));
  if (bytes.back() != 0) return Error("string does not end with NUL");
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == 0) return Error("string has a NUL before its end");
  }
  return std::string(bytes.begin(), bytes.end() - 1);
}

Result<std::u16string> Decoder::WString() {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, Conformance(0));
  COMSEC_ASSIGN_OR_RETURN(Variance v, VarianceOf(max_count, 2));
  if (v.offset != 0) return Error("string offset must be 0");
  if (v.actual_count == 0) return Error("string without its terminating NUL");
  std::u16string out;
  out.reserve(v.actual_count - 1);
  for (uint32_t i = 0; i < v.actual_count; ++i) {
    COMSEC_ASSIGN_OR_RETURN(uint16_t c, U16());
    if (i + 1 == v.actual_count) {
      if (c != 0) return Error("string does not end with NUL");
    } else {
      if (c == 0) return Error("string has a NUL before its end");
      out.push_back(static_cast<char16_t>(c));
    }
  }
  return out;
}

Result<uint32_t> Decoder::UniquePointer() { return U32(); }

Result<uint32_t> Decoder::RefPointer() {
  COMSEC_ASSIGN_OR_RETURN(uint32_t id, U32());
  if (id == 0) {
    return Status(RPC_X_NULL_REF_POINTER,
                  "NDR: a [ref] pointer is NULL at stub offset " +
                      std::to_string(offset_ - 4))
        .WithPosition(offset_ - 4);
  }
  return id;
}

Result<Decoder::FullPointer> Decoder::PtrPointer() {
  FullPointer p;
  COMSEC_ASSIGN_OR_RETURN(p.id, U32());
  if (p.id == 0) return p;
  if (full_referents_.count(p.id)) return p;
  if (full_referents_.size() >= limits_.max_referents) {
    return Error("more full-pointer referents than the limit allows");
  }
  full_referents_.insert(p.id);
  p.first = true;
  return p;
}

void Decoder::Defer(std::function<Status(Decoder&)> read) {
  deferred_.push_back(std::move(read));
}

Status Decoder::RunDeferred() {
  // Referents deferred while reading referents come after them (C706
  // 14.3.12.3): process the queue front to back as it grows.
  for (size_t i = 0; i < deferred_.size(); ++i) {
    auto read = std::move(deferred_[i]);
    COMSEC_RETURN_IF_ERROR(read(*this));
  }
  deferred_.clear();
  return Status();
}

Status Decoder::Enter() {
  if (depth_ >= limits_.max_depth) {
    return Error("nesting deeper than " + std::to_string(limits_.max_depth) +
                 " levels");
  }
  ++depth_;
  return Status();
}

Status Decoder::ExpectEnd() {
  // Up to 7 bytes of alignment padding may end a stub, whatever their
  // value: impacket fills pads with 0xAA, 0xBF or 0xFA, Windows with
  // zeros, and NDR gives pad bytes no meaning.
  if (remaining() < 8) return Status();
  return Error(std::to_string(remaining()) + " bytes follow the stub data");
}

}  // namespace comsec::ndr
