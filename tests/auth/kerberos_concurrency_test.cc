// Kerberos under concurrency (issue 12; run under ThreadSanitizer by `make
// test-tsan`): one server package, whose acceptor credential (the keytab's
// keys) every handshake shares, and one client package, whose ccache every
// initiator reads, used by eight threads at once, each running whole
// three-leg handshakes against a real MIT KDC. Each must name alice, reach
// PKT_PRIVACY's features, and none may disturb another.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "../rpc/package_test_support.h"
#include "../support/krb_test_realm.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

constexpr const char* kSpn = "RPCSS/localhost";

comsec::testing::KrbTestRealm* Realm() { return comsec::testing::SharedRealm(); }

TEST(KerberosConcurrency, EightThreadsShareTheAcceptorCredentialAndTheCcache) {
  if (std::string missing = comsec::testing::KrbTestRealm::MissingTools(); !missing.empty()) {
    GTEST_SKIP() << "MIT KDC not installed (" << missing << " missing)";
  }
  ASSERT_TRUE(Realm()->up()) << "the test KDC did not start";
  auth::gssapi::KerberosServerOptions o;
  o.keytab = Realm()->dir() + "/service.keytab";
  o.spns = {kSpn};
  auto server_pkg = auth::gssapi::KerberosPackage::CreateServer(std::move(o));
  ASSERT_TRUE(server_pkg.ok()) << server_pkg.status().ToString();
  auth::gssapi::KerberosPackage client_pkg;
  const std::string alice = "alice@" + Realm()->realm();
  const uint32_t want = kFeatureMutualAuth | kFeatureSign | kFeatureSeal | kFeatureSessionKey;
  constexpr int kThreads = 8, kRounds = 6;
  std::atomic<int> good{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        TestConnection info;
        info.auth_level = security::AuthnLevel::kPktPrivacy;
        StartParams cp = ParamsFor(Role::kClient, info);
        cp.target_name = kSpn;
        auto client = client_pkg.Start(cp);
        auto server = StartServerContext(**server_pkg, info);
        if (!client.ok() || !server.ok()) {
          errors[t] = "start failed";
          return;
        }
        auto ap_req = (*client)->Update({});
        auto ap_rep = ap_req.ok() ? (*server)->Update(ap_req->output) : ap_req;
        auto last = ap_rep.ok() ? (*client)->Update(ap_rep->output) : ap_rep;
        auto done = last.ok() ? (*server)->Update(last->output) : last;
        if (!done.ok() || !done->done) {
          errors[t] = done.ok() ? "not done" : done.status().ToString();
          return;
        }
        if ((*server)->PeerName() != alice || ((*server)->features() & want) != want ||
            ((*client)->features() & want) != want) {
          errors[t] = "wrong peer or features: " + (*server)->PeerName();
          return;
        }
        ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  EXPECT_EQ(good.load(), kThreads * kRounds);
}

}  // namespace
}  // namespace comsec::rpc
