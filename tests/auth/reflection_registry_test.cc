// The NTLM reflection registry (MS08-068): a challenge one of our clients
// received is refused on any connection but the one it arrived on, the
// registry forgets after its lifetime and holds no more than its bound,
// unknown ends fail closed, and it is safe from many threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "comsec/auth/ntlm/reflection_registry.h"
#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"

namespace comsec::auth::ntlm {
namespace {

using rpc::TransportEndpoint;
using rpc::testing::Ipv4;

ReflectionRegistry::Challenge C(uint8_t n) { return {n, 1, 2, 3, 4, 5, 6, 7}; }

// Our client's connection to a server: its end and the server's.
const TransportEndpoint kClient = Ipv4(192, 0, 2, 7, 50000);
const TransportEndpoint kServer = Ipv4(192, 0, 2, 1, 135);

TransportEndpoint Unix(std::string path, uint32_t pid) {
  TransportEndpoint e;
  e.family = TransportEndpoint::Family::kUnix;
  e.path = std::move(path);
  e.pid = pid;
  return e;
}

class Reflection : public ::testing::Test {
 protected:
  ReflectionRegistry::Clock clock() {
    return [this] { return now_; };
  }
  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  CapturedLog log_;
};

TEST_F(Reflection, TheSameConnectionSeenFromTheServerIsAllowed) {
  ReflectionRegistry r({}, {}, clock());
  r.RememberReceived(C(1), kClient, kServer);
  // The server's ends are the client's, swapped.
  EXPECT_FALSE(r.IsReflected(C(1), /*local=*/kServer, /*peer=*/kClient));
}

TEST_F(Reflection, AnotherConnectionIsRefused) {
  ReflectionRegistry r({}, {}, clock());
  r.RememberReceived(C(1), kClient, kServer);
  // The attacker's connection to our server.
  EXPECT_TRUE(r.IsReflected(C(1), kServer, Ipv4(198, 51, 100, 9, 5000)));
  // One end matching is not the same connection: another listener of ours
  // with our client's end copied, and the client's end not swapped.
  EXPECT_TRUE(r.IsReflected(C(1), Ipv4(192, 0, 2, 1, 4444), kClient));
  EXPECT_TRUE(r.IsReflected(C(1), kClient, kServer));
}

TEST_F(Reflection, AChallengeNoClientReceivedIsNoReflection) {
  ReflectionRegistry r({}, {}, clock());
  r.RememberReceived(C(1), kClient, kServer);
  EXPECT_FALSE(r.IsReflected(C(2), kServer, Ipv4(198, 51, 100, 9, 5000)));
}

TEST_F(Reflection, UnknownEndsFailClosed) {
  ReflectionRegistry r({}, {}, clock());
  // A client that could not name its connection: no server connection,
  // not even one as unknown, proves to be it.
  r.RememberReceived(C(1), TransportEndpoint{}, TransportEndpoint{});
  EXPECT_TRUE(r.IsReflected(C(1), TransportEndpoint{}, TransportEndpoint{}));
  EXPECT_TRUE(r.IsReflected(C(1), kServer, kClient));
  // A server that cannot name its ends refuses a known client's challenge.
  r.RememberReceived(C(2), kClient, kServer);
  EXPECT_TRUE(r.IsReflected(C(2), TransportEndpoint{}, kClient));
  EXPECT_TRUE(r.IsReflected(C(2), kServer, TransportEndpoint{}));
}

TEST_F(Reflection, NcalrpcConnectionsAreTheSocketAndTheProcesses) {
  ReflectionRegistry r({}, {}, clock());
  const TransportEndpoint client = Unix("", 4000);
  const TransportEndpoint server = Unix("/run/comsec/echo", 4000);
  r.RememberReceived(C(1), client, server);
  EXPECT_FALSE(r.IsReflected(C(1), server, client));
  // Another local process (the attacker) connected to our server.
  EXPECT_TRUE(r.IsReflected(C(1), server, Unix("", 4001)));
  // Our client connected to the attacker's socket; the AUTHENTICATE comes
  // to our server from the attacker.
  r.RememberReceived(C(2), client, Unix("/tmp/evil", 4001));
  EXPECT_TRUE(r.IsReflected(C(2), server, Unix("", 4001)));
}

TEST_F(Reflection, ForgottenAfterItsLifetime) {
  ReflectionLimits limits;
  limits.lifetime = std::chrono::seconds(30);
  ReflectionRegistry r(limits, {}, clock());
  r.RememberReceived(C(1), kClient, kServer);
  const TransportEndpoint attacker = Ipv4(198, 51, 100, 9, 5000);
  now_ += std::chrono::seconds(30);
  EXPECT_TRUE(r.IsReflected(C(1), kServer, attacker));  // the last moment
  now_ += std::chrono::seconds(1);
  EXPECT_FALSE(r.IsReflected(C(1), kServer, attacker));
  EXPECT_EQ(r.size(), 1u);  // dropped by the next RememberReceived
  r.RememberReceived(C(2), kClient, kServer);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.IsReflected(C(2), kServer, attacker));
}

TEST_F(Reflection, BoundedAndTheOverflowIsLoggedOncePerBurst) {
  ReflectionLimits limits;
  limits.max_entries = 3;
  ReflectionRegistry r(limits, log_.logger(), clock());
  const TransportEndpoint attacker = Ipv4(198, 51, 100, 9, 5000);
  for (uint8_t i = 1; i <= 5; ++i) r.RememberReceived(C(i), kClient, kServer);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_FALSE(r.IsReflected(C(1), kServer, attacker));  // the oldest went first
  EXPECT_FALSE(r.IsReflected(C(2), kServer, attacker));
  for (uint8_t i = 3; i <= 5; ++i) EXPECT_TRUE(r.IsReflected(C(i), kServer, attacker));
  const LogEvent full =
      LogEvent("ntlm.reflection_registry_full", LogSeverity::kWarning,
               "the reflection registry is full (3 challenges received within their "
               "lifetime); the oldest are forgotten, so a reflection of one of them would "
               "not be recognized (MS08-068)")
          .Extra("max_entries", "3");
  EXPECT_EQ(log_.events(), std::vector<LogEvent>{full});
  // Once there is room again (entries expired), a new burst is logged anew.
  now_ += std::chrono::minutes(6);
  r.RememberReceived(C(6), kClient, kServer);
  EXPECT_EQ(r.size(), 1u);
  for (uint8_t i = 7; i <= 9; ++i) r.RememberReceived(C(i), kClient, kServer);
  EXPECT_EQ(log_.events(), (std::vector<LogEvent>{full, full}));
}

TEST_F(Reflection, ManyThreadsAtOnce) {
  // Room for every challenge of the run: an eviction by another thread
  // between remembering and asking would make the answer depend on timing.
  ReflectionLimits limits;
  limits.max_entries = 4 * 500;
  ReflectionRegistry r(limits);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const TransportEndpoint mine = Ipv4(10, 0, 0, static_cast<uint8_t>(t + 1), 40000);
      for (int i = 0; i < 500; ++i) {
        ReflectionRegistry::Challenge c = {static_cast<uint8_t>(t), static_cast<uint8_t>(i),
                                           static_cast<uint8_t>(i >> 8), 9, 9, 9, 9, 9};
        r.RememberReceived(c, mine, kServer);
        // Just remembered, so present: allowed on its own connection,
        // refused on another.
        if (r.IsReflected(c, kServer, mine)) ++wrong;
        if (!r.IsReflected(c, kServer, kClient)) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(r.size(), 4u * 500u);
}

}  // namespace
}  // namespace comsec::auth::ntlm
