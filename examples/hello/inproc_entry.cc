// The hello example as an in-process server (issue 15, DllSurrogate):
// libcomsec_hello_inproc.so exports comsec's in-process server ABI
// (com/inproc_server.h) for ComsecHello (CLSID 7d2a5e11-…), the class
// comsec-hello-server serves, so that the SCM can run it in
// comsec-surrogate instead:
//
//   comcfg class register --clsid {7D2A5E11-…} --appid {7D2A5E12-…}
//          --inproc-server /usr/lib/…/libcomsec_hello_inproc.so
//   comcfg app set {7D2A5E12-…} DllSurrogate ""
//
// The library holds hello_object.cc and the IComsecHello proxy/stub
// generated from hello.idl; comsec itself it takes from the host, whose
// symbols it leaves undefined (see inproc_server.h). SERVER-PRINCIPAL, in
// Greet's answer, is the host process's account (the AppID's RunAs).
#include <atomic>
#include <new>

#include "comsec/base/hresult.h"
#include "comsec/base/utf16.h"
#include "comsec/com/inproc_server.h"
#include "hello_object.h"

extern "C" {

int32_t DllGetClassObject(const comsec::Guid* clsid, const comsec::Guid* iid, void** out) {
  using namespace comsec;
  if (out == nullptr) return static_cast<int32_t>(E_POINTER.value());
  *out = nullptr;
  if (clsid == nullptr || iid == nullptr) return static_cast<int32_t>(E_POINTER.value());
  if (*clsid != examples::kClsidComsecHello) {
    return static_cast<int32_t>(CLASS_E_CLASSNOTAVAILABLE.value());
  }
  try {
    ComPtr<examples::ComsecHelloFactory> factory = MakeComObject<examples::ComsecHelloFactory>(
        Utf8ToUtf16Lossy(examples::ProcessAccountName()));
    return static_cast<int32_t>(factory->QueryInterface(*iid, out).value());
  } catch (const std::bad_alloc&) {
    return static_cast<int32_t>(E_OUTOFMEMORY.value());
  }
}

// The library keeps no count of its objects: it never says it may go.
int32_t DllCanUnloadNow() { return static_cast<int32_t>(comsec::S_FALSE.value()); }

const comsec::rpc::ObjectInterfaceInfo* const* ComsecInterfaces(size_t* count) {
  static const comsec::rpc::ObjectInterfaceInfo* const kInterfaces[] = {
      &comsec::idl::IComsecHelloInfo()};
  *count = sizeof kInterfaces / sizeof kInterfaces[0];
  return kInterfaces;
}

}  // extern "C"
