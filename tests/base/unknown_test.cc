// IUnknown, ComPtr and ComObject keep COM's rules (base/unknown.h): one
// identity per object, QueryInterface answering each interface and its
// bases, AddRef'd results, E_NOINTERFACE with a null out pointer, and
// destruction at the last Release, never before.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "comsec/base/com_object.h"

namespace comsec {
namespace {

constexpr Guid kIidA{0x11111111u, 0x1111, 0x1111, {1, 1, 1, 1, 1, 1, 1, 1}};
constexpr Guid kIidB{0x22222222u, 0x2222, 0x2222, {2, 2, 2, 2, 2, 2, 2, 2}};
constexpr Guid kIidC{0x33333333u, 0x3333, 0x3333, {3, 3, 3, 3, 3, 3, 3, 3}};

// As comidl generates them: kIid and BaseInterface.
class IA : public IUnknown {
 public:
  static constexpr Guid kIid = kIidA;
  using BaseInterface = IUnknown;
  virtual int A() = 0;
};
class IB : public IA {  // IB derives from IA
 public:
  static constexpr Guid kIid = kIidB;
  using BaseInterface = IA;
  virtual int B() = 0;
};
class IC : public IUnknown {
 public:
  static constexpr Guid kIid = kIidC;
  using BaseInterface = IUnknown;
  virtual int C() = 0;
};

int destroyed = 0;

class Both final : public ComObject<IB, IC> {
 public:
  int A() override { return 1; }
  int B() override { return 2; }
  int C() override { return 3; }
  ~Both() override { ++destroyed; }
};

class OnlyA final : public ComObject<IA> {
 public:
  int A() override { return 10; }
};

TEST(ComObject, QueryInterfaceAnswersInterfacesAndTheirBases) {
  ComPtr<Both> both = MakeComObject<Both>();
  ComPtr<IA> a;
  ComPtr<IB> b;
  ComPtr<IC> c;
  ASSERT_EQ(both.As(&a), HResult(0));
  ASSERT_EQ(both.As(&b), HResult(0));
  ASSERT_EQ(both.As(&c), HResult(0));
  EXPECT_EQ(a->A(), 1);
  EXPECT_EQ(b->B(), 2);
  EXPECT_EQ(c->C(), 3);
  // The base of IB answers as IB's own subobject: the same pointer.
  EXPECT_EQ(static_cast<IA*>(b.get()), a.get());
}

TEST(ComObject, OneIdentityWhicheverInterfaceAsks) {
  ComPtr<Both> both = MakeComObject<Both>();
  ComPtr<IC> c;
  ComPtr<IB> b;
  ASSERT_EQ(both.As(&c), HResult(0));
  ASSERT_EQ(both.As(&b), HResult(0));
  ComPtr<IUnknown> u1, u2;
  ASSERT_EQ(c.As(&u1), HResult(0));
  ASSERT_EQ(b.As(&u2), HResult(0));
  EXPECT_EQ(u1.get(), u2.get());
  EXPECT_TRUE(SameObject(c.get(), b.get()));
  ComPtr<OnlyA> other = MakeComObject<OnlyA>();
  EXPECT_FALSE(SameObject(c.get(), other.get()));
}

TEST(ComObject, MissingInterfaceIsENoInterfaceWithANullPointer) {
  ComPtr<OnlyA> a = MakeComObject<OnlyA>();
  void* out = reinterpret_cast<void*>(0x1);
  EXPECT_EQ(a->QueryInterface(kIidC, &out), E_NOINTERFACE);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(a->QueryInterface(kIidA, nullptr), E_POINTER);
  ComPtr<IB> b = nullptr;
  EXPECT_EQ(a.As(&b), E_NOINTERFACE);
  EXPECT_FALSE(b);
}

TEST(ComObject, LastReleaseDestroysNeverBefore) {
  destroyed = 0;
  ComPtr<IC> c;
  {
    ComPtr<Both> both = MakeComObject<Both>();
    EXPECT_EQ(both->AddRef(), 2u);  // counts as COM does
    EXPECT_EQ(both->Release(), 1u);
    ASSERT_EQ(both.As(&c), HResult(0));  // QueryInterface AddRefs
  }
  EXPECT_EQ(destroyed, 0);
  ComPtr<IC> copy = c;
  c.reset();
  EXPECT_EQ(destroyed, 0);
  copy.reset();
  EXPECT_EQ(destroyed, 1);
}

TEST(ComObject, AdoptDetachAndMoveKeepTheCount) {
  destroyed = 0;
  ComPtr<Both> both = MakeComObject<Both>();
  Both* raw = both.Detach();
  EXPECT_FALSE(both);
  ComPtr<Both> back = ComPtr<Both>::Adopt(raw);  // the reference Detach gave up
  ComPtr<IB> moved = std::move(back);
  EXPECT_FALSE(back);
  EXPECT_EQ(moved->AddRef(), 2u);
  moved->Release();
  moved = nullptr;
  EXPECT_EQ(destroyed, 1);
}

// Many threads AddRef and Release one object: the count stays exact and
// the object dies once (run under ThreadSanitizer by make test-tsan).
TEST(ComObject, ReferenceCountingFromManyThreads) {
  destroyed = 0;
  ComPtr<Both> both = MakeComObject<Both>();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([p = both] {
      for (int i = 0; i < 10000; ++i) {
        ComPtr<IC> c;
        ASSERT_EQ(p.As(&c), HResult(0));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(both->AddRef(), 2u);
  both->Release();
  both.reset();
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace comsec
