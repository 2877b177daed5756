// ByteReader: a forward-only, bounds-checked view over untrusted bytes.
// Every read either succeeds completely or returns a Status naming the
// offset and what was missing; it never reads past the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "comsec/base/result.h"

namespace comsec {

class ByteReader {
 public:
  // `what` names the structure in error messages ("security descriptor").
  // The bytes must outlive the reader.
  ByteReader(std::span<const uint8_t> bytes, std::string_view what)
      : bytes_(bytes), what_(what) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }
  size_t size() const { return bytes_.size(); }
  std::span<const uint8_t> rest() const { return bytes_.subspan(offset_); }

  Result<uint8_t> U8();
  Result<uint16_t> U16Le();
  Result<uint32_t> U32Le();
  Result<uint16_t> U16Be();
  Result<uint32_t> U32Be();
  Result<uint64_t> U48Be();
  // The next `n` bytes; the span points into the reader's buffer.
  Result<std::span<const uint8_t>> Bytes(size_t n);
  Status Skip(size_t n);

  // An E_INVALIDARG-class error at the current offset, with `code`.
  Status Error(HResult code, std::string_view message) const;

 private:
  Status Need(size_t n) const;

  std::span<const uint8_t> bytes_;
  std::string_view what_;
  size_t offset_ = 0;
};

}  // namespace comsec
