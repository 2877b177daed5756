#include "comsec/base/unknown.h"

namespace comsec {

bool SameObject(IUnknown* a, IUnknown* b) {
  if (a == nullptr || b == nullptr) return a == b;
  void* ua = nullptr;
  void* ub = nullptr;
  if (a->QueryInterface(IUnknown::kIid, &ua).Failed()) return false;
  ComPtr<IUnknown> ia = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(ua));
  if (b->QueryInterface(IUnknown::kIid, &ub).Failed()) return false;
  ComPtr<IUnknown> ib = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(ub));
  return ia.get() == ib.get();
}

}  // namespace comsec
