// IUnknown and ComPtr: COM's object model in C++ ([MS-DCOM] 1.3.1; the
// contract of unknwn.h). Every [object] interface comidl generates derives
// from this IUnknown, so objects, proxies and the COM runtime share one
// identity and one reference count per object, as COM's rules require:
//   * QueryInterface for the same IID always gives the same pointer, and
//     for IID_IUnknown the object's identity (one pointer per object);
//   * AddRef/Release count references; the object goes away when the count
//     reaches zero, never before;
//   * a pointer obtained from QueryInterface is already AddRef'd.
// ComPtr<T> holds one reference (intrusive, like Microsoft's
// Microsoft::WRL::ComPtr and Wine's IUnknown handling), so code never calls
// AddRef/Release by hand. ComObject (base/com_object.h) implements the three
// methods for a class.
//
// Thread-safety: AddRef and Release are safe from any thread (atomic in
// ComObject); a ComPtr itself is a value, like std::shared_ptr: one ComPtr
// is not written from two threads at once.
#pragma once

#include <cstdint>
#include <utility>

#include "comsec/base/guid.h"
#include "comsec/base/hresult.h"

namespace comsec {

class IUnknown {
 public:
  // 00000000-0000-0000-c000-000000000046
  static constexpr Guid kIid{0x00000000u, 0x0000, 0x0000,
                             {0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46}};

  // S_OK with an AddRef'd pointer of interface `iid` in *object, or
  // E_NOINTERFACE with *object null (E_POINTER when object is null).
  virtual HResult QueryInterface(const Guid& iid, void** object) = 0;
  // The new count; meant for tests and diagnostics only, as in COM.
  virtual uint32_t AddRef() = 0;
  virtual uint32_t Release() = 0;

 protected:
  // Objects are destroyed by their last Release, never by `delete`.
  virtual ~IUnknown() = default;
};

inline constexpr Guid IID_IUnknown = IUnknown::kIid;

template <class T>
class ComPtr {
 public:
  ComPtr() = default;
  ComPtr(std::nullptr_t) {}  // NOLINT: a null interface pointer, as in COM
  // Takes a new reference to `p`.
  explicit ComPtr(T* p) : p_(p) {
    if (p_) p_->AddRef();
  }
  // Adopts a reference the caller already holds (QueryInterface's result,
  // a factory's new object) without adding one.
  static ComPtr Adopt(T* p) {
    ComPtr c;
    c.p_ = p;
    return c;
  }
  ComPtr(const ComPtr& o) : ComPtr(o.p_) {}
  ComPtr(ComPtr&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  // From a pointer to a derived class (ComPtr<IShape> from ComPtr<Shape>).
  template <class U>
  ComPtr(const ComPtr<U>& o) : ComPtr(static_cast<T*>(o.get())) {}  // NOLINT
  template <class U>
  ComPtr(ComPtr<U>&& o) : p_(static_cast<T*>(o.Detach())) {}  // NOLINT
  ComPtr& operator=(ComPtr o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~ComPtr() { reset(); }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  void reset() {
    if (T* p = std::exchange(p_, nullptr)) p->Release();
  }
  // Gives up the reference without releasing it.
  T* Detach() { return std::exchange(p_, nullptr); }

  // QueryInterface for U: S_OK and *out set, or the failure with *out null.
  template <class U>
  HResult As(ComPtr<U>* out) const {
    *out = nullptr;
    if (!p_) return E_POINTER;
    void* v = nullptr;
    HResult hr = p_->QueryInterface(U::kIid, &v);
    if (hr.Succeeded()) *out = ComPtr<U>::Adopt(static_cast<U*>(v));
    return hr;
  }

  friend bool operator==(const ComPtr& a, const ComPtr& b) { return a.p_ == b.p_; }
  friend bool operator==(const ComPtr& a, std::nullptr_t) { return a.p_ == nullptr; }

 private:
  T* p_ = nullptr;
};

// Whether two interface pointers name the same object: COM's identity rule
// (compare their IUnknowns).
bool SameObject(IUnknown* a, IUnknown* b);

}  // namespace comsec
