// Issue 9 item 7: the per-connection state a peer can make the server hold
// is capped (server_connection.h, "Memory bound"), and each cap, when a
// peer tries to exceed it, answers exactly: a ninth unfinished handshake
// gets fault nca_s_proto_error and the connection closes (as the 2050th
// context does, case 22); a presentation context past the cap is rejected
// with provider_rejection reason local_limit_exceeded (3) and the
// association stays usable. Completed handshakes are not held to the
// unfinished cap.
#include <gtest/gtest.h>

#include "ntlm_peer.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using testing::Credentials;
using testing::Feed;
using testing::NtlmPeer;

class ConnectionLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pkg_ = testing::NtlmServerPackage(&accounts_);
    packages_.Add(server_pkg_.get());
  }
  std::unique_ptr<ServerConnection> NewConnection() {
    auto c = std::make_unique<ServerConnection>(&ifaces_.registry, ServerLimits{}, false, "135");
    c->SetPackages(&packages_);
    c->SetPeerDescription("203.0.113.5:6000");
    return c;
  }
  static std::vector<uint8_t> Bind(std::vector<uint16_t> context_ids,
                                   PduType type = PduType::kBind) {
    Pdu p;
    p.header.type = type;
    p.header.call_id = 1;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    for (uint16_t id : context_ids) b.contexts.push_back({id, testing::kEchoSyntax, {Ndr20Syntax()}});
    p.body = b;
    return EncodePdu(p);
  }

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
};

TEST_F(ConnectionLimits, NinthUnfinishedHandshakeIsAProtocolError) {
  const size_t cap = ServerLimits{}.max_unfinished_auth_contexts;
  ASSERT_EQ(cap, 8u);
  auto conn = NewConnection();
  std::vector<std::unique_ptr<NtlmPeer>> peers;
  // The bind's handshake, then alter_contexts each opening another, none
  // finished (NEGOTIATE only).
  for (uint32_t i = 0; i < cap; ++i) {
    peers.push_back(
        std::make_unique<NtlmPeer>(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity, 100 + i));
    auto r = Feed(*conn, peers.back()->Bind(testing::kEchoSyntax, 0,
                                            i == 0 ? PduType::kBind : PduType::kAlterContext));
    ASSERT_EQ(r.pdus.size(), 1u) << i;
    ASSERT_EQ(r.pdus[0].header.type, i == 0 ? PduType::kBindAck : PduType::kAlterContextResp)
        << i;
    ASSERT_TRUE(r.open) << i;
  }
  NtlmPeer ninth(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity, 100 + cap);
  auto r = Feed(*conn, ninth.Bind(testing::kEchoSyntax, 0, PduType::kAlterContext));
  ASSERT_EQ(r.pdus.size(), 1u);
  ASSERT_EQ(r.pdus[0].header.type, PduType::kFault);
  EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_proto_error);
  EXPECT_FALSE(r.open);
  EXPECT_NE(conn->close_reason().find("more than 8 unfinished authentication handshakes"),
            std::string::npos)
      << conn->close_reason();
  // A new connection is served.
  auto next = NewConnection();
  NtlmPeer alice(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity);
  alice.Authenticate(*next);
  auto ok = Feed(*next, alice.Request(3, {1}));
  ASSERT_EQ(ok.pdus.size(), 1u);
  EXPECT_EQ(ok.pdus[0].header.type, PduType::kResponse);
}

TEST_F(ConnectionLimits, CompletedHandshakesAreNotHeldToTheUnfinishedCap) {
  auto conn = NewConnection();
  std::vector<std::unique_ptr<NtlmPeer>> peers;
  peers.push_back(
      std::make_unique<NtlmPeer>(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity, 100));
  peers.back()->Authenticate(*conn);
  for (uint32_t i = 1; i < 20; ++i) {
    peers.push_back(
        std::make_unique<NtlmPeer>(Credentials("bob", "pw2"), AuthnLevel::kPktIntegrity, 100 + i));
    auto resp = Feed(*conn, peers.back()->Bind(testing::kEchoSyntax, 0, PduType::kAlterContext));
    ASSERT_EQ(resp.pdus.size(), 1u) << i;
    ASSERT_EQ(resp.pdus[0].header.type, PduType::kAlterContextResp) << i;
    auto none = Feed(*conn, peers.back()->Auth3(resp.pdus[0], 50 + i));
    ASSERT_TRUE(none.raw.empty()) << i;
    ASSERT_TRUE(none.open) << i;
  }
  EXPECT_FALSE(conn->handshake_pending());
  // Every context serves: the first and the last.
  auto r = Feed(*conn, peers.front()->Request(200, {1}));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_EQ(ifaces_.last.security.principal, "RPCDOM\\alice");
  r = Feed(*conn, peers.back()->Request(201, {1}));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_EQ(ifaces_.last.security.principal, "RPCDOM\\bob");
}

TEST_F(ConnectionLimits, PresentationContextPastTheCapIsRejectedLocalLimitExceeded) {
  const size_t cap = ServerLimits{}.max_presentation_contexts;
  ASSERT_EQ(cap, 256u);
  auto conn = NewConnection();
  // 100 contexts fit a 5840-byte fragment (44 bytes each).
  std::vector<uint16_t> ids;
  for (uint16_t i = 0; i < 100; ++i) ids.push_back(i);
  auto r = Feed(*conn, Bind(ids));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kBindAck);
  ids.clear();
  for (uint16_t i = 100; i < 200; ++i) ids.push_back(i);
  r = Feed(*conn, Bind(ids, PduType::kAlterContext));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kAlterContextResp);
  ids.clear();
  for (uint16_t i = 200; i < 258; ++i) ids.push_back(i);  // 56 fit, 2 do not
  r = Feed(*conn, Bind(ids, PduType::kAlterContext));
  ASSERT_EQ(r.pdus.size(), 1u);
  ASSERT_EQ(r.pdus[0].header.type, PduType::kAlterContextResp);
  EXPECT_TRUE(r.open);
  const auto& results = std::get<BindAckBody>(r.pdus[0].body).results;
  ASSERT_EQ(results.size(), 58u);
  for (size_t i = 0; i < results.size(); ++i) {
    if (i < 56) {
      EXPECT_EQ(results[i].result, ContextResult::kAcceptance) << i;
    } else {
      EXPECT_EQ(results[i].result, ContextResult::kProviderRejection) << i;
      EXPECT_EQ(results[i].reason, kReasonLocalLimitExceeded) << i;
    }
  }
  // Renegotiating an accepted context is still accepted; the refused one
  // does not exist, and the association serves its accepted contexts.
  r = Feed(*conn, Bind({0, 256}, PduType::kAlterContext));
  const auto& again = std::get<BindAckBody>(r.pdus[0].body).results;
  EXPECT_EQ(again[0].result, ContextResult::kAcceptance);
  EXPECT_EQ(again[1].reason, kReasonLocalLimitExceeded);
  r = Feed(*conn, NtlmPeer::Unverified(5, {1, 2}, 0, 255));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
  r = Feed(*conn, NtlmPeer::Unverified(6, {1, 2}, 0, 256));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kFault);
  EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_unknown_if);
  EXPECT_TRUE(r.open);
}

}  // namespace
}  // namespace comsec::rpc
