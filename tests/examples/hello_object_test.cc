// The hello example's object and class object in-process: the greeting,
// WhoAmI outside a call (RPC_E_NO_CONTEXT), the class factory (a new
// object per CreateInstance, aggregation refused with
// CLASS_E_NOAGGREGATION, E_NOINTERFACE), and the class object registered
// in a ClassTable as the server registers it.
#include "hello_object.h"

#include <gtest/gtest.h>

#include "comsec/com/class_table.h"

namespace comsec::examples {
namespace {

TEST(ComsecHello, GreetsFromItsServerAndNeedsACallForWhoAmI) {
  ComPtr<idl::IComsecHello> hello = MakeComsecHello(u"srv");
  std::optional<std::u16string> text;
  auto r = hello->Greet(u"ann", text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(text, u"Hello, ann, from srv");
  int32_t level = 0, imp = 0, uid = 0;
  r = hello->WhoAmI(text, level, imp, uid);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(static_cast<uint32_t>(*r), 0x8001011Eu);  // RPC_E_NO_CONTEXT
  ComPtr<idl::IComsecHello> child;
  ASSERT_TRUE(hello->GetChild(child).ok());
  ASSERT_TRUE(child);
  EXPECT_NE(child.get(), hello.get());
}

TEST(ComsecHelloFactory, CreatesObjectsAndRefusesAggregation) {
  ComPtr<ComsecHelloFactory> f = MakeComObject<ComsecHelloFactory>(u"srv");
  void* a = nullptr;
  void* b = nullptr;
  ASSERT_TRUE(f->CreateInstance(nullptr, idl::IID_IComsecHello, &a).Succeeded());
  ASSERT_TRUE(f->CreateInstance(nullptr, idl::IID_IComsecHello, &b).Succeeded());
  ComPtr<idl::IComsecHello> pa = ComPtr<idl::IComsecHello>::Adopt(static_cast<idl::IComsecHello*>(a));
  ComPtr<idl::IComsecHello> pb = ComPtr<idl::IComsecHello>::Adopt(static_cast<idl::IComsecHello*>(b));
  EXPECT_NE(pa.get(), pb.get());
  void* p = reinterpret_cast<void*>(1);
  EXPECT_EQ(f->CreateInstance(f->unknown(), idl::IID_IComsecHello, &p), CLASS_E_NOAGGREGATION);
  EXPECT_EQ(p, nullptr);
  const Guid lacking{0x01234567u, 0x89ab, 0xcdef, {1, 2, 3, 4, 5, 6, 7, 8}};
  EXPECT_EQ(f->CreateInstance(nullptr, lacking, &p), E_NOINTERFACE);
  EXPECT_EQ(f->CreateInstance(nullptr, idl::IID_IComsecHello, nullptr), E_POINTER);
  // The wire form.
  ComPtr<IUnknown> made;
  auto r = f->RemoteCreateInstance(idl::IID_IComsecHello, made);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
  EXPECT_TRUE(made);
  ASSERT_TRUE(f->RemoteLockServer(1).ok());
  EXPECT_EQ(f->locks(), 1);
  ASSERT_TRUE(f->RemoteLockServer(0).ok());
  EXPECT_EQ(f->locks(), 0);
}

TEST(ComsecHelloFactory, RegisteredAsTheServerDoesItIsServedToOthers) {
  com::ClassTable classes;
  ComPtr<ComsecHelloFactory> f = MakeComObject<ComsecHelloFactory>(u"srv");
  ASSERT_TRUE(classes.Register(kClsidComsecHello, f->unknown(), com::CLSCTX_LOCAL_SERVER,
                               com::REGCLS_MULTIPLEUSE)
                  .ok());
  EXPECT_EQ(classes.ClassesServedToOthers(), std::vector<Guid>{kClsidComsecHello});
  auto got = classes.Get(kClsidComsecHello, com::CLSCTX_LOCAL_SERVER);
  ASSERT_TRUE(got.ok());
  ComPtr<idl::IClassFactory> cf;
  ASSERT_TRUE(got->As(&cf).Succeeded());
  EXPECT_EQ(kClsidComsecHello.ToString(), "7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162");
  EXPECT_EQ(kAppIdComsecHello.ToString(), "7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162");
}

}  // namespace
}  // namespace comsec::examples
