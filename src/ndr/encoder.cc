#include "comsec/ndr/encoder.h"

namespace comsec::ndr {

void Encoder::Uuid(const Guid& g) {
  U32(g.data1);
  U16(g.data2);
  U16(g.data3);
  Bytes(g.data4);
}

void Encoder::CString(std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size() + 1);
  Conformance(n);
  VarianceOf({0, n});
  Bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  U8(0);
}

void Encoder::WString(std::u16string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size() + 1);
  Conformance(n);
  VarianceOf({0, n});
  for (char16_t c : s) U16(static_cast<uint16_t>(c));
  U16(0);
}

void Encoder::RunDeferred() {
  for (size_t i = 0; i < deferred_.size(); ++i) {
    auto write = std::move(deferred_[i]);
    write(*this);
  }
  deferred_.clear();
}

}  // namespace comsec::ndr
