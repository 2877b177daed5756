// Fuzz target: comidl's generated decoders for a grammar-covering IDL
// (tests/comidl/constructs.idl), in both byte orders. Whatever decodes must
// encode, and decoding that encoding must give the same bytes again (pull →
// push → pull → push agree). The generated server stubs of a DCE and an
// [object] interface take the same bytes too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/base/com_object.h"
#include "constructs.h"

namespace {

using namespace comsec;
using namespace comsec::idl;

template <typename T>
void RoundTrip(std::span<const uint8_t> bytes, ndr::DataRep rep) {
  ndr::Decoder d(bytes, rep);
  T v{};
  if (!Decode(d, v).ok()) return;
  ndr::Encoder e1;
  if (!Encode(e1, v).ok()) abort();  // everything decoded is encodable
  ndr::Decoder again(e1.bytes());
  T w{};
  if (!Decode(again, w).ok()) abort();
  ndr::Encoder e2;
  if (!Encode(e2, w).ok() || e1.bytes() != e2.bytes()) abort();
}

// Owned by a shared_ptr for the DCE registration; never Released.
class Impl final : public Constructs, public ComObject<IFactory> {
 public:
  Result<int32_t> Sum(int32_t, const std::vector<int32_t>&, int64_t& total) override {
    total = 1;
    return 0;
  }
  Status Reverse(Tree&) override { return Status(); }
  Status Lengthy(int32_t n, std::vector<uint8_t>& buf, int32_t& got) override {
    got = n > 0 && n < 64 ? n : 0;
    buf.assign(got, 1);
    return Status();
  }
  Result<int32_t> Open(const std::string&, ndr::ContextHandle&) override { return 0; }
  Result<int32_t> Close(ndr::ContextHandle&) override { return 0; }
  Result<HRESULT> Area(int32_t, int32_t, int32_t& area) override {
    area = 0;
    return 0;
  }
  Result<HRESULT> Describe(Color, std::optional<std::u16string>& text) override {
    text = u"x";
    return 0;
  }
  Result<HRESULT> Make(int32_t, ComPtr<IShape>&) override { return 0; }
  Result<HRESULT> Query(const IID&, ComPtr<IUnknown>&) override { return 0; }
  Result<HRESULT> Take(const ComPtr<IShape>&, int32_t&) override { return 0; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ndr::DataRep rep{(data[0] & 0x80) == 0};
  std::span<const uint8_t> bytes(data + 1, size - 1);
  switch (data[0] & 0x0F) {
    case 0: RoundTrip<Aligned>(bytes, rep); break;
    case 1: RoundTrip<Fixed>(bytes, rep); break;
    case 2: RoundTrip<Conformant>(bytes, rep); break;
    case 3: RoundTrip<Varying>(bytes, rep); break;
    case 4: RoundTrip<Node>(bytes, rep); break;
    case 5: RoundTrip<Tree>(bytes, rep); break;
    case 6: RoundTrip<Aliased>(bytes, rep); break;
    case 7: RoundTrip<Encapsulated>(bytes, rep); break;
    case 8: RoundTrip<Tagged>(bytes, rep); break;
    case 9: RoundTrip<Outer>(bytes, rep); break;
    default: {
      static auto impl = std::make_shared<Impl>();
      static const rpc::InterfaceRegistration reg = ConstructsRegistration(impl);
      rpc::CallContext call;
      call.data_rep = rep;
      uint16_t op = (data[0] >> 4) & 0x07;
      if (op < reg.operations.size()) (void)reg.operations[op](bytes, call);
      (void)IFactoryInvoke(*impl, static_cast<uint16_t>(op + 3), bytes, call, nullptr);
      break;
    }
  }
  return 0;
}
