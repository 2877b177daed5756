#include "comsec/com/standard_marshal.h"

#include <string>
#include <utility>

#include "comsec/base/com_object.h"

namespace comsec::com {
namespace {

class StandardMarshal final : public ComObject<IMarshal> {
 public:
  // `object` is the bound object's identity (may be null).
  StandardMarshal(ComRuntime* runtime, ComPtr<IUnknown> object)
      : runtime_(runtime), object_(std::move(object)) {}

  Result<Guid> GetUnmarshalClass(const Guid& iid, IUnknown* object, uint32_t dest_context,
                                 MarshalFlags flags) override {
    (void)iid;
    (void)object;
    (void)flags;
    COMSEC_RETURN_IF_ERROR(runtime_->ResolverBindingsFor(dest_context).status());
    return CLSID_StdMarshal;
  }

  Result<uint32_t> GetMarshalSizeMax(const Guid& iid, IUnknown* object, uint32_t dest_context,
                                     MarshalFlags flags) override {
    COMSEC_ASSIGN_OR_RETURN(IUnknown * target, Target(object));
    return runtime_->GetMarshalSizeMax(iid, target, flags, dest_context);
  }

  Result<std::vector<uint8_t>> MarshalInterface(const Guid& iid, IUnknown* object,
                                                uint32_t dest_context,
                                                MarshalFlags flags) override {
    COMSEC_ASSIGN_OR_RETURN(IUnknown * target, Target(object));
    return runtime_->MarshalInterface(iid, target, flags, dest_context);
  }

  Result<ComPtr<IUnknown>> UnmarshalInterface(std::span<const uint8_t> objref,
                                              const Guid& iid) override {
    return runtime_->UnmarshalInterface(objref, iid);
  }

  Status ReleaseMarshalData(std::span<const uint8_t> objref) override {
    return runtime_->ReleaseMarshalData(objref);
  }

  Status DisconnectObject(uint32_t reserved) override {
    if (reserved != 0) {
      return Status(E_INVALIDARG, "IMarshal::DisconnectObject: dwReserved must be 0");
    }
    if (object_) runtime_->DisconnectObject(object_.get());
    return Status::Ok();
  }

 private:
  // The object a marshaling method works on: the one given, else the
  // bound one.
  Result<IUnknown*> Target(IUnknown* given) const {
    if (given != nullptr) return given;
    if (object_) return object_.get();
    return Status(E_INVALIDARG,
                  "IMarshal: no object to marshal (the standard marshaler was made for none)");
  }

  ComRuntime* const runtime_;
  const ComPtr<IUnknown> object_;
};

}  // namespace

Result<ComPtr<IMarshal>> CoGetStandardMarshal(ComRuntime& runtime, const Guid& iid,
                                              IUnknown* object, uint32_t dest_context,
                                              MarshalFlags flags) {
  (void)iid;
  (void)flags;
  COMSEC_RETURN_IF_ERROR(runtime.ResolverBindingsFor(dest_context).status());
  ComPtr<IUnknown> identity;
  if (object != nullptr) {
    void* u = nullptr;
    HResult hr = object->QueryInterface(IUnknown::kIid, &u);
    if (hr.Failed()) return Status(E_INVALIDARG, "the object does not answer IUnknown");
    identity = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(u));
  }
  ComPtr<StandardMarshal> marshal = MakeComObject<StandardMarshal>(&runtime, std::move(identity));
  return ComPtr<IMarshal>(marshal);
}

}  // namespace comsec::com
