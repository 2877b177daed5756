// ComObject: IUnknown implemented for a class that implements interfaces.
//
//   class Shape final : public ComObject<IShape> { ... IShape's methods ... };
//   ComPtr<Shape> shape = MakeComObject<Shape>(4);
//
// QueryInterface answers the listed interfaces, every interface they
// derive from (each generated interface names its base as BaseInterface),
// and IUnknown with one identity (the first listed interface's IUnknown).
// The count starts at zero; MakeComObject takes the first reference. The
// last Release deletes the object (through its virtual destructor).
//
// Thread-safety: AddRef, Release and QueryInterface are safe from any
// thread.
#pragma once

#include <atomic>
#include <type_traits>
#include <utility>

#include "comsec/base/unknown.h"

namespace comsec {
namespace internal {

// Finds `iid` among I and its bases.
template <class I, class Self>
bool FindInterface(Self* self, const Guid& iid, void** out) {
  if constexpr (std::is_same_v<I, IUnknown>) {
    return false;
  } else {
    if (iid == I::kIid) {
      *out = static_cast<I*>(self);
      return true;
    }
    return FindInterface<typename I::BaseInterface>(static_cast<I*>(self), iid, out);
  }
}

template <class First, class... Rest>
struct FirstOf {
  using type = First;
};

}  // namespace internal

template <class... Interfaces>
class ComObject : public Interfaces... {
 public:
  static_assert(sizeof...(Interfaces) > 0, "a COM object implements an interface");

  HResult QueryInterface(const Guid& iid, void** object) override {
    if (object == nullptr) return E_POINTER;
    *object = nullptr;
    using First = typename internal::FirstOf<Interfaces...>::type;
    if (iid == IUnknown::kIid) {
      *object = static_cast<IUnknown*>(static_cast<First*>(this));
    } else if (!(internal::FindInterface<Interfaces>(this, iid, object) || ...)) {
      return E_NOINTERFACE;
    }
    AddRef();
    return HResult(0);
  }
  // The object as IUnknown (its first interface's), for calls that take
  // an IUnknown*: with several interfaces, the conversion is ambiguous.
  IUnknown* unknown() {
    using First = typename internal::FirstOf<Interfaces...>::type;
    return static_cast<IUnknown*>(static_cast<First*>(this));
  }

  uint32_t AddRef() override { return refs_.fetch_add(1, std::memory_order_relaxed) + 1; }
  uint32_t Release() override {
    uint32_t left = refs_.fetch_sub(1, std::memory_order_acq_rel) - 1;
    if (left == 0) delete this;
    return left;
  }

 protected:
  ComObject() = default;
  ~ComObject() override = default;
  ComObject(const ComObject&) = delete;
  ComObject& operator=(const ComObject&) = delete;

 private:
  std::atomic<uint32_t> refs_{0};
};

// A new object of T holding its first reference.
template <class T, class... Args>
ComPtr<T> MakeComObject(Args&&... args) {
  return ComPtr<T>(new T(std::forward<Args>(args)...));
}

}  // namespace comsec
