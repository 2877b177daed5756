#include "comsec/com/unknown_interface.h"

#include "comsec/base/win32_error.h"

namespace comsec::com {
namespace {

// The proxy of an IUnknown IPID: the proxy manager's identity's face.
class UnknownProxy final : public IUnknown {
 public:
  explicit UnknownProxy(rpc::ObjectChannel* channel) : channel_(channel) {}
  HResult QueryInterface(const Guid& iid, void** object) override {
    return channel_->identity()->QueryInterface(iid, object);
  }
  uint32_t AddRef() override { return channel_->identity()->AddRef(); }
  uint32_t Release() override { return channel_->identity()->Release(); }

 private:
  rpc::ObjectChannel* const channel_;
};

Result<std::vector<uint8_t>> InvokeUnknown(IUnknown*, uint16_t opnum, std::span<const uint8_t>,
                                           const rpc::CallContext&, rpc::InterfaceMarshaler*) {
  return Status(RPC_S_PROCNUM_OUT_OF_RANGE,
                "IUnknown has no methods on the wire (opnum " + std::to_string(opnum) +
                    "): its calls travel as IRemUnknown's");
}

rpc::ProxyPtr MakeUnknownProxy(rpc::ObjectChannel* channel) {
  return rpc::ProxyPtr(new UnknownProxy(channel), [](IUnknown* p) {
    delete static_cast<UnknownProxy*>(p);
  });
}

}  // namespace

const rpc::ObjectInterfaceInfo& UnknownInterfaceInfo() {
  static const rpc::ObjectInterfaceInfo info{IID_IUnknown, "IUnknown", &InvokeUnknown,
                                             &MakeUnknownProxy};
  return info;
}

}  // namespace comsec::com
