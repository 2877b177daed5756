// Issue 9 item 5: a request without a verifier on an association
// authenticated at CALL, PKT, PKT_INTEGRITY or PKT_PRIVACY is refused with
// fault nca_s_fault_access_denied (no PFC_DID_NOT_EXECUTE, as Samba's
// dcesrv_auth_pkt_pull failure path sends it) and the connection closes;
// impacket's habit of sending them is served only under the explicit
// allow_unverified_requests option, as CONNECT-level calls, and logged.
// Whatever the association negotiated, a handler's authn_level is what
// the request proved.
#include <gtest/gtest.h>

#include "ntlm_peer.h"
#include "../base/captured_log.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using testing::Credentials;
using testing::Feed;
using testing::NtlmPeer;

class UnverifiedRequest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pkg_ = testing::NtlmServerPackage(&accounts_);
    packages_.Add(server_pkg_.get());
  }
  std::unique_ptr<ServerConnection> NewConnection(bool allow_unverified = false) {
    auto c = std::make_unique<ServerConnection>(&ifaces_.registry, ServerLimits{}, false, "135");
    c->SetPackages(&packages_);
    c->SetPeerDescription("203.0.113.5:6000");
    c->SetLogger(log_.logger());
    c->AllowUnverifiedRequests(allow_unverified);
    return c;
  }

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
  CapturedLog log_;
};

TEST_F(UnverifiedRequest, RefusedAtEveryLevelAboveConnectByDefault) {
  for (AuthnLevel level :
       {AuthnLevel::kCall, AuthnLevel::kPkt, AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    SCOPED_TRACE(int(level));
    auto conn = NewConnection();
    NtlmPeer alice(Credentials("alice", "pw"), level);
    alice.Authenticate(*conn);
    auto r = Feed(*conn, NtlmPeer::Unverified(3, {9}));
    ASSERT_EQ(r.pdus.size(), 1u);
    ASSERT_EQ(r.pdus[0].header.type, PduType::kFault);
    EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
    EXPECT_EQ(r.pdus[0].header.call_id, 3u);
    EXPECT_EQ(r.pdus[0].header.pfc_flags & PFC_DID_NOT_EXECUTE, 0);
    EXPECT_FALSE(r.open);
    EXPECT_EQ(ifaces_.invocations, 0);
    EXPECT_NE(conn->close_reason().find("without a verifier"), std::string::npos)
        << conn->close_reason();
    EXPECT_NE(conn->close_reason().find("RPCDOM\\alice"), std::string::npos)
        << conn->close_reason();
  }
  // The server still serves: a new association whose requests carry
  // verifiers is credited its level.
  for (AuthnLevel level :
       {AuthnLevel::kCall, AuthnLevel::kPkt, AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    SCOPED_TRACE(int(level));
    auto conn = NewConnection();
    NtlmPeer alice(Credentials("alice", "pw"), level);
    alice.Authenticate(*conn);
    auto r = Feed(*conn, alice.Request(3, {1, 2, 3}));
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(r.pdus[0].header.type, PduType::kResponse);
    EXPECT_TRUE(r.open);
    EXPECT_EQ(ifaces_.last.security.authn_level, level);
    EXPECT_EQ(ifaces_.last.security.principal, "RPCDOM\\alice");
  }
}

TEST_F(UnverifiedRequest, ConnectLevelNeedsNoVerifierAndIsCreditedConnect) {
  auto conn = NewConnection();
  NtlmPeer alice(Credentials("alice", "pw"), AuthnLevel::kConnect);
  alice.Authenticate(*conn);
  auto r = Feed(*conn, NtlmPeer::Unverified(3, {9}));
  ASSERT_EQ(r.pdus.size(), 1u);
  EXPECT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_EQ(ifaces_.last.security.authn_level, AuthnLevel::kConnect);
}

TEST_F(UnverifiedRequest, OptionServesCallAndPktAsConnectAndLogsIt) {
  for (AuthnLevel level : {AuthnLevel::kCall, AuthnLevel::kPkt}) {
    SCOPED_TRACE(int(level));
    log_.Clear();
    auto conn = NewConnection(/*allow_unverified=*/true);
    NtlmPeer alice(Credentials("alice", "pw"), level);
    alice.Authenticate(*conn);
    auto r = Feed(*conn, NtlmPeer::Unverified(3, {9}));
    ASSERT_EQ(r.pdus.size(), 1u);
    ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
    EXPECT_FALSE(r.pdus[0].auth.has_value());
    EXPECT_EQ(ifaces_.last.security.authn_level, AuthnLevel::kConnect);
    EXPECT_EQ(ifaces_.last.security.principal, "RPCDOM\\alice");
    EXPECT_EQ(log_.events(),
              std::vector<LogEvent>{
                  LogEvent("rpc.weak_setting", LogSeverity::kWarning,
                           "WEAK: 203.0.113.5:6000 (RPCDOM\\alice) bound at level " +
                               std::to_string(security::ToNumber(level)) +
                               " sends requests without a verifier; they are served as "
                               "CONNECT-level calls because allow_unverified_requests is set")
                      .Peer("203.0.113.5:6000")
                      .Principal("RPCDOM\\alice")
                      .AuthnLevel(security::ToNumber(level), security::AuthnLevelName(level))
                      .Reason("allow_unverified_requests")});
    log_.Clear();
    // An interface whose minimum is PKT_INTEGRITY refuses it: the level
    // enforced is the proven one.
    auto strict = NewConnection(true);
    NtlmPeer again(Credentials("alice", "pw"), level);
    again.Authenticate(*strict, testing::RecordingInterfaces::kStrict);
    int before = ifaces_.invocations;
    r = Feed(*strict, NtlmPeer::Unverified(3, {}));
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
    EXPECT_FALSE(r.open);
    EXPECT_EQ(ifaces_.invocations, before);
    // Logged: the weak setting in use, then the refusal at the level proved.
    const std::string why = "authentication level below the interface's minimum 5";
    const SyntaxId& strict_syntax = testing::RecordingInterfaces::kStrict;
    const auto events = log_.events();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].name, "rpc.weak_setting");
    EXPECT_EQ(events[1],
              LogEvent("rpc.call_denied", LogSeverity::kWarning,
                       "a call was refused before it ran: " + why)
                  .Peer("203.0.113.5:6000")
                  .AuthnLevel(2, "RPC_C_AUTHN_LEVEL_CONNECT")
                  .Principal("RPCDOM\\alice")
                  .Interface(strict_syntax.uuid, strict_syntax.major, strict_syntax.minor)
                  .Opnum(0)
                  .Reason(why)
                  .Hresult(E_ACCESSDENIED));
  }
  // The option never covers PKT_INTEGRITY and PKT_PRIVACY.
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    auto conn = NewConnection(true);
    NtlmPeer alice(Credentials("alice", "pw"), level);
    alice.Authenticate(*conn);
    auto r = Feed(*conn, NtlmPeer::Unverified(3, {9}));
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
    EXPECT_FALSE(r.open);
  }
}

}  // namespace
}  // namespace comsec::rpc
