// ThreadImpersonation: one thread takes on another Unix identity and gives
// it back; the process's other threads never change. As root the switch is
// real (nobody's uid); otherwise the refusal is exact and nothing changed.
#include "comsec/security/thread_impersonation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "comsec/base/hresult.h"

namespace comsec::security {
namespace {

UnixIdentity Nobody() {
  auto nobody = LookupUnixUserByName("nobody");
  if (nobody.ok()) return *nobody;
  UnixIdentity id;
  id.uid = 65534;
  id.gids = {65534};
  return id;
}

TEST(ThreadImpersonation, TheThreadsOwnIdentityNeedsNoSwitch) {
  const uid_t before = ::geteuid();
  UnixIdentity self;
  self.uid = before;
  self.gids = {::getegid()};
  auto t = ThreadImpersonation::Begin(self);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(::geteuid(), before);
  t->reset();
  EXPECT_EQ(::geteuid(), before);
}

TEST(ThreadImpersonation, OnlyTheCallingThreadChangesAndItRevertsExactly) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_SETUID) to switch identities";
  const UnixIdentity nobody = Nobody();
  std::mutex mu;
  std::condition_variable cv;
  bool switched = false, checked = false;
  uid_t inside = 0, after = 1;
  gid_t inside_gid = 0;
  std::thread worker([&] {
    auto t = ThreadImpersonation::Begin(nobody);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    inside = ::geteuid();
    inside_gid = ::getegid();
    {
      std::unique_lock<std::mutex> lock(mu);
      switched = true;
      cv.notify_all();
      cv.wait(lock, [&] { return checked; });
    }
    t->reset();
    after = ::geteuid();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return switched; });
    // The main thread is still root while the worker acts as nobody.
    EXPECT_EQ(::geteuid(), 0u);
    checked = true;
    cv.notify_all();
  }
  worker.join();
  EXPECT_EQ(inside, nobody.uid);
  if (!nobody.gids.empty()) {
    EXPECT_EQ(inside_gid, nobody.gids.front());
  }
  EXPECT_EQ(after, 0u);
  EXPECT_EQ(::geteuid(), 0u);
}

TEST(ThreadImpersonation, WithoutTheCapabilityItIsRefusedAndNothingChanges) {
  if (::geteuid() == 0) {
    // Drop to nobody on one thread (real switch), then ask from there for
    // another identity: that thread has no CAP_SETUID any more.
    std::thread([] {
      auto as_nobody = ThreadImpersonation::Begin(Nobody());
      ASSERT_TRUE(as_nobody.ok());
      UnixIdentity other;
      other.uid = 4242;
      other.gids = {4242};
      auto t = ThreadImpersonation::Begin(other);
      ASSERT_FALSE(t.ok());
      EXPECT_EQ(t.status().code(), E_ACCESSDENIED);
      EXPECT_NE(t.status().message().find("CAP_SETUID"), std::string::npos);
      EXPECT_EQ(::geteuid(), Nobody().uid);
    }).join();
    EXPECT_EQ(::geteuid(), 0u);
    return;
  }
  UnixIdentity other;
  other.uid = ::geteuid() == 4242 ? 4243 : 4242;
  other.gids = {4242};
  const uid_t before = ::geteuid();
  auto t = ThreadImpersonation::Begin(other);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), E_ACCESSDENIED);
  EXPECT_EQ(::geteuid(), before);
}

}  // namespace
}  // namespace comsec::security
