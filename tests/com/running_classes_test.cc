// RunningClassTable: the SCM's table of the class objects running
// processes offered (CoRegisterClassObject with CLSCTX_LOCAL_SERVER), with
// REGCLS's single- and multiple-use semantics, ownership and staleness
// (issue 15).
#include "comsec/com/running_classes.h"

#include <gtest/gtest.h>

#include <thread>

#include "comsec/com/class_table.h"

namespace comsec::com {
namespace {

const Guid kClsid{0x7d2a5e11u, 0x3c4b, 0x4f6a, {0x9b, 0x8c, 0x1d, 0x2e, 0x3f, 0x40, 0x51, 0x62}};
const OxidOwner kA{1000, 41};
const OxidOwner kB{1001, 42};
auto Usable = [](const ClassRegistration&) { return true; };

TEST(RunningClasses, AMultipleUseClassServesEveryActivation) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).ok());
  for (int i = 0; i < 3; ++i) {
    auto e = t.Take(kClsid, std::nullopt, Usable);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->oxid, 7u);
    EXPECT_TRUE(e->multiple_use);
  }
  EXPECT_EQ(t.size(), 1u);
}

TEST(RunningClasses, ASingleUseClassServesOneActivation) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_SINGLEUSE).ok());
  EXPECT_TRUE(t.Take(kClsid, std::nullopt, Usable).has_value());
  EXPECT_FALSE(t.Take(kClsid, std::nullopt, Usable).has_value());
  EXPECT_EQ(t.size(), 0u);
}

TEST(RunningClasses, RestorePutsBackASingleUseEntryTheScmCouldNotUse) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_SINGLEUSE).ok());
  auto e = t.Take(kClsid, std::nullopt, Usable);
  ASSERT_TRUE(e.has_value());
  t.Restore(*e);
  EXPECT_TRUE(t.Take(kClsid, std::nullopt, Usable).has_value());
}

TEST(RunningClasses, OnlyTheRegisteringProcessRevokes) {
  RunningClassTable t;
  auto cookie = t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE);
  ASSERT_TRUE(cookie.ok());
  EXPECT_EQ(t.Revoke(kB, *cookie).code(), E_ACCESSDENIED);
  EXPECT_TRUE(t.Revoke(kA, *cookie).ok());
  EXPECT_EQ(t.Revoke(kA, *cookie).code(), CO_E_OBJNOTREG);
}

TEST(RunningClasses, StaleEntriesAreDroppedNotChosen) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).ok());
  ASSERT_TRUE(t.Register(kB, 8, kClsid, REGCLS_MULTIPLEUSE).ok());
  // OXID 8 is gone (its process died): the most recent entry is skipped.
  auto e = t.Take(kClsid, std::nullopt, [](const ClassRegistration& r) { return r.oxid != 8; });
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->oxid, 7u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(RunningClasses, AnIdentityOnlyGetsItsOwnUsersServer) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).ok());
  EXPECT_FALSE(t.Take(kClsid, kB.uid, Usable).has_value());
  EXPECT_TRUE(t.Take(kClsid, kA.uid, Usable).has_value());
  EXPECT_EQ(t.size(), 1u);  // kept for its own user
}

TEST(RunningClasses, ForgetOxidTakesItsClassesAlong) {
  RunningClassTable t;
  ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).ok());
  t.ForgetOxid(7);
  EXPECT_FALSE(t.Take(kClsid, std::nullopt, Usable).has_value());
}

TEST(RunningClasses, WaitForSeesALaunchedServersRegistration) {
  RunningClassTable t;
  std::thread server([&t] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (void)t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE);
  });
  auto e = t.WaitFor(kClsid, kA.pid, std::chrono::steady_clock::now() + std::chrono::seconds(10),
                     Usable);
  server.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->owner, kA);
  // Another process's registration does not end the wait.
  EXPECT_FALSE(t.WaitFor(kClsid, 99, std::chrono::steady_clock::now(), Usable).has_value());
}

TEST(RunningClasses, BadRegistrationsAreRefused) {
  RunningClassTable t;
  EXPECT_EQ(t.Register(kA, 7, Guid{}, REGCLS_MULTIPLEUSE).status().code(), E_INVALIDARG);
  for (size_t i = 0; i < RunningClassTable::kMaxPerProcess; ++i) {
    ASSERT_TRUE(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).ok());
  }
  EXPECT_EQ(t.Register(kA, 7, kClsid, REGCLS_MULTIPLEUSE).status().code(), E_OUTOFMEMORY);
  EXPECT_TRUE(t.Register(kB, 8, kClsid, REGCLS_MULTIPLEUSE).ok());
}

}  // namespace
}  // namespace comsec::com
