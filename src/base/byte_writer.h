// ByteWriter: appends little-endian (and, where a format needs it,
// big-endian) fields to a growing buffer. Encoding cannot fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace comsec {

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { buf_.reserve(reserve); }

  void U8(uint8_t v) { buf_.push_back(v); }
  void U16Le(uint16_t v) {
    buf_.push_back(static_cast<uint8_t>(v));
    buf_.push_back(static_cast<uint8_t>(v >> 8));
  }
  void U32Le(uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U48Be(uint64_t v) {
    for (int i = 5; i >= 0; --i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Bytes(std::span<const uint8_t> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }
  void Zeros(size_t n) { buf_.insert(buf_.end(), n, 0); }

  // Overwrites a field written earlier. REQUIRES: offset + 2/4 <= size().
  void PatchU16Le(size_t offset, uint16_t v) {
    buf_[offset] = static_cast<uint8_t>(v);
    buf_[offset + 1] = static_cast<uint8_t>(v >> 8);
  }
  void PatchU32Le(size_t offset, uint32_t v) {
    for (int i = 0; i < 4; ++i) buf_[offset + i] = static_cast<uint8_t>(v >> (8 * i));
  }

  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t> Take() && { return std::move(buf_); }

 private:
  std::vector<uint8_t> buf_;
};

}  // namespace comsec
