// ClassTable: CoRegisterClassObject / CoRevokeClassObject /
// CoResumeClassObjects and the lookups of this process and of outside
// activations, with REGCLS's semantics (issue 13).
#include "comsec/com/class_table.h"

#include <gtest/gtest.h>

#include "comsec/base/com_object.h"
#include "comsec/base/hresult.h"

namespace comsec::com {
namespace {

class IThing : public IUnknown {
 public:
  static constexpr Guid kIid{0x11111111u, 0x2222, 0x3333, {4, 4, 5, 5, 6, 6, 7, 7}};
  using BaseInterface = IUnknown;
};
class Factory final : public ComObject<IThing> {};

const Guid kClsid{0x7d2a5e11u, 0x3c4b, 0x4f6a, {0x9b, 0x8c, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x62}};
const Guid kOther{0x7d2a5e11u, 0x3c4b, 0x4f6a, {0x9b, 0x8c, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x63}};

TEST(ClassTable, MultipleUseServesEveryOutsideActivationAndThisProcessToo) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  auto cookie = t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE);
  ASSERT_TRUE(cookie.ok());
  EXPECT_NE(*cookie, 0u);
  for (int i = 0; i < 3; ++i) {
    auto got = t.Get(kClsid, CLSCTX_LOCAL_SERVER);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->get(), f->unknown());
  }
  // MULTIPLEUSE with LOCAL_SERVER implies INPROC_SERVER.
  EXPECT_TRUE(t.Get(kClsid, CLSCTX_INPROC_SERVER).ok());
  EXPECT_EQ(t.ClassesServedToOthers(), std::vector<Guid>{kClsid});
}

TEST(ClassTable, MultiSeparateKeepsTheContextsApart) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  ASSERT_TRUE(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTI_SEPARATE).ok());
  EXPECT_TRUE(t.Get(kClsid, CLSCTX_LOCAL_SERVER).ok());
  auto inproc = t.Get(kClsid, CLSCTX_INPROC_SERVER);
  ASSERT_FALSE(inproc.ok());
  EXPECT_EQ(inproc.status().code(), REGDB_E_CLASSNOTREG);
  // A separate in-process registration of the same class is allowed.
  ComPtr<Factory> g = MakeComObject<Factory>();
  ASSERT_TRUE(t.Register(kClsid, g->unknown(), CLSCTX_INPROC_SERVER, REGCLS_MULTI_SEPARATE).ok());
  EXPECT_EQ(t.Get(kClsid, CLSCTX_INPROC_SERVER)->get(), g->unknown());
  EXPECT_EQ(t.Get(kClsid, CLSCTX_LOCAL_SERVER)->get(), f->unknown());
}

TEST(ClassTable, SingleUseIsHandedToOneOutsideActivationOnly) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  ASSERT_TRUE(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_SINGLEUSE).ok());
  // Single use does not imply in-process registration.
  EXPECT_EQ(t.Get(kClsid, CLSCTX_INPROC_SERVER).status().code(), REGDB_E_CLASSNOTREG);
  EXPECT_TRUE(t.Get(kClsid, CLSCTX_LOCAL_SERVER).ok());
  auto second = t.Get(kClsid, CLSCTX_LOCAL_SERVER);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), REGDB_E_CLASSNOTREG);
  EXPECT_TRUE(t.ClassesServedToOthers().empty());
}

TEST(ClassTable, SuspendedIsHiddenFromOthersUntilResumed) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  ASSERT_TRUE(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER,
                         REGCLS_MULTIPLEUSE | REGCLS_SUSPENDED)
                  .ok());
  EXPECT_EQ(t.Get(kClsid, CLSCTX_LOCAL_SERVER).status().code(), REGDB_E_CLASSNOTREG);
  EXPECT_TRUE(t.ClassesServedToOthers().empty());
  // This process sees it at once.
  EXPECT_TRUE(t.Get(kClsid, CLSCTX_INPROC_SERVER).ok());
  t.ResumeAll();
  EXPECT_TRUE(t.Get(kClsid, CLSCTX_LOCAL_SERVER).ok());
}

TEST(ClassTable, RevokeReleasesTheClassObjectAndUnknownCookiesAreCoEObjNotReg) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  auto cookie = t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE);
  ASSERT_TRUE(cookie.ok());
  EXPECT_EQ(f->AddRef(), 3u);  // ours, the table's, this one
  f->Release();
  ASSERT_TRUE(t.Revoke(*cookie).ok());
  EXPECT_EQ(f->AddRef(), 2u);  // the table let go
  f->Release();
  EXPECT_EQ(t.Revoke(*cookie).code(), CO_E_OBJNOTREG);
  EXPECT_EQ(t.Revoke(12345).code(), CO_E_OBJNOTREG);
  EXPECT_EQ(t.Get(kClsid, CLSCTX_LOCAL_SERVER).status().code(), REGDB_E_CLASSNOTREG);
  // Cookies are not reused.
  auto again = t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *cookie);
}

TEST(ClassTable, RefusalsAreExact) {
  ClassTable t;
  ComPtr<Factory> f = MakeComObject<Factory>();
  EXPECT_EQ(t.Register(kClsid, nullptr, CLSCTX_LOCAL_SERVER, 1).status().code(), E_INVALIDARG);
  EXPECT_EQ(t.Register(kClsid, f->unknown(), 0, 1).status().code(), E_INVALIDARG);
  EXPECT_EQ(t.Register(kClsid, f->unknown(), 0x8000, 1).status().code(), E_INVALIDARG);
  EXPECT_EQ(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, 0x100).status().code(),
            E_INVALIDARG);
  EXPECT_EQ(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER,
                       REGCLS_MULTIPLEUSE | REGCLS_MULTI_SEPARATE)
                .status()
                .code(),
            E_INVALIDARG);
  ASSERT_TRUE(t.Register(kClsid, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE).ok());
  auto dup = t.Register(kClsid, f->unknown(), CLSCTX_INPROC_SERVER, REGCLS_MULTI_SEPARATE);
  ASSERT_FALSE(dup.ok());  // MULTIPLEUSE already covers in-process
  EXPECT_EQ(dup.status().code(), CO_E_OBJISREG);
  // Another class is independent.
  EXPECT_TRUE(t.Register(kOther, f->unknown(), CLSCTX_LOCAL_SERVER, REGCLS_MULTIPLEUSE).ok());
  EXPECT_EQ(t.Get(kOther, CLSCTX_INPROC_SERVER)->get(), f->unknown());
}

}  // namespace
}  // namespace comsec::com
