// Issue 9 item 6: an anonymous NTLM logon's keys derive from no secret, so
// its calls are credited at most RPC_C_AUTHN_LEVEL_CONNECT whatever level
// it bound at; minimum levels are enforced on that.
#include <gtest/gtest.h>

#include "ntlm_peer.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using testing::Feed;
using testing::NtlmPeer;

class AnonymousLevel : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pkg_ = testing::NtlmServerPackage(&accounts_, /*allow_anonymous=*/true);
    packages_.Add(server_pkg_.get());
  }
  std::unique_ptr<ServerConnection> NewConnection() {
    auto c = std::make_unique<ServerConnection>(&ifaces_.registry, ServerLimits{}, false, "135");
    c->SetPackages(&packages_);
    c->SetPeerDescription("203.0.113.5:6000");
    return c;
  }

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
};

TEST_F(AnonymousLevel, CreditedConnectAtEveryNegotiatedLevel) {
  for (AuthnLevel level : testing::kEveryAuthenticatedLevel) {
    SCOPED_TRACE(int(level));
    auto conn = NewConnection();
    NtlmPeer anonymous(testing::Credentials("", ""), level);
    anonymous.Authenticate(*conn);
    auto r = Feed(*conn, anonymous.Request(3, {1, 2}));
    ASSERT_EQ(r.pdus.size(), 1u);
    ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
    EXPECT_EQ(ifaces_.last.security.principal, "NT AUTHORITY\\ANONYMOUS LOGON");
    EXPECT_EQ(ifaces_.last.security.authn_level, AuthnLevel::kConnect);
    // The response is still protected as negotiated: the client expects it.
    EXPECT_EQ(r.pdus[0].auth.has_value(), level >= AuthnLevel::kCall);
  }
}

TEST_F(AnonymousLevel, BelowAnIntegrityMinimumEvenWhenBoundAtPrivacy) {
  auto conn = NewConnection();
  NtlmPeer anonymous(testing::Credentials("", ""), AuthnLevel::kPktPrivacy);
  anonymous.Authenticate(*conn, testing::RecordingInterfaces::kStrict);
  auto r = Feed(*conn, anonymous.Request(3, {}));
  ASSERT_EQ(r.pdus.size(), 1u);
  ASSERT_EQ(r.pdus[0].header.type, PduType::kFault);
  EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(r.open);
  EXPECT_EQ(ifaces_.invocations, 0);
  EXPECT_NE(conn->close_reason().find("at authentication level 2, below the interface's "
                                      "minimum 5"),
            std::string::npos)
      << conn->close_reason();
  // A named account at the same level is served on a new connection.
  auto next = NewConnection();
  NtlmPeer alice(testing::Credentials("alice", "pw"), AuthnLevel::kPktPrivacy);
  alice.Authenticate(*next, testing::RecordingInterfaces::kStrict);
  r = Feed(*next, alice.Request(3, {}));
  ASSERT_EQ(r.pdus.size(), 1u);
  EXPECT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_EQ(ifaces_.last.security.authn_level, AuthnLevel::kPktPrivacy);
}

}  // namespace
}  // namespace comsec::rpc
