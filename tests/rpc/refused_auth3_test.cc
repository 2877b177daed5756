// Issue 9 item 16: auth3 has no reply, not even a refusal (Windows; Samba's
// dcesrv_auth3). A refused auth3 is remembered and the connection's next
// PDU is answered with fault nca_s_fault_access_denied on that request's
// call and context, without PFC_DID_NOT_EXECUTE, then the connection
// closes (Samba raw_protocol.py test_spnego_auth3), so the client learns of
// the refusal at once instead of at its own timeout. The server goes on
// serving new connections.
#include <gtest/gtest.h>

#include "ntlm_peer.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using testing::Credentials;
using testing::Feed;
using testing::NtlmPeer;

class RefusedAuth3 : public ::testing::Test {
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

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
};

TEST_F(RefusedAuth3, NoReplyThenTheNextRequestGetsAccessDeniedAndTheConnectionCloses) {
  for (bool signed_request : {true, false}) {
    SCOPED_TRACE(signed_request);
    auto conn = NewConnection();
    NtlmPeer mallory(Credentials("alice", "wrong"), AuthnLevel::kPktPrivacy);
    // Context 1, so that the fault's context_id is seen to be the request's.
    auto ack = Feed(*conn, mallory.Bind(testing::kEchoSyntax, 0, PduType::kBind, 1));
    ASSERT_EQ(ack.pdus.size(), 1u);
    ASSERT_EQ(ack.pdus[0].header.type, PduType::kBindAck);
    auto auth3 = Feed(*conn, mallory.Auth3(ack.pdus[0]));
    EXPECT_TRUE(auth3.raw.empty());  // no reply to auth3
    EXPECT_TRUE(auth3.open);
    EXPECT_TRUE(conn->handshake_pending());  // the handshake deadline applies
    auto r = Feed(*conn, signed_request ? mallory.Request(7, {1, 2}, 0, 1)
                                        : NtlmPeer::Unverified(7, {1, 2}, 0, 1));
    ASSERT_EQ(r.pdus.size(), 1u);
    const Pdu& fault = r.pdus[0];
    ASSERT_EQ(fault.header.type, PduType::kFault);
    EXPECT_EQ(testing::FaultStatusOf(fault), nca_s_fault_access_denied);
    EXPECT_EQ(fault.header.call_id, 7u);
    EXPECT_EQ(std::get<FaultBody>(fault.body).context_id, 1);
    EXPECT_EQ(fault.header.pfc_flags, PFC_FIRST_FRAG | PFC_LAST_FRAG);
    EXPECT_FALSE(r.open);
    EXPECT_EQ(ifaces_.invocations, 0);
    EXPECT_EQ(conn->close_reason().rfind("authentication failed in auth3: ", 0), 0u)
        << conn->close_reason();
  }
  // A new connection with the right password is served.
  auto conn = NewConnection();
  NtlmPeer alice(Credentials("alice", "pw"), AuthnLevel::kPktPrivacy);
  alice.Authenticate(*conn);
  EXPECT_FALSE(conn->handshake_pending());
  auto r = Feed(*conn, alice.Request(3, {5}));
  ASSERT_EQ(r.pdus.size(), 1u);
  EXPECT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_EQ(ifaces_.last.security.principal, "RPCDOM\\alice");
}

// The same over a socket: the fault arrives for the request, then EOF; a
// new connection is served.
TEST_F(RefusedAuth3, OverTcpTheClientLearnsAtOnceAndTheServerServesOn) {
  ServerOptions options;
  options.packages = &packages_;
  Server server(&ifaces_.registry, options);
  auto bound = server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(bound.ok());
  auto socket = Socket::Connect(*bound, 5000);
  ASSERT_TRUE(socket.ok());
  NtlmPeer mallory(Credentials("alice", "wrong"), AuthnLevel::kPktIntegrity);
  ASSERT_TRUE(socket->WriteAll(mallory.Bind(testing::kEchoSyntax)).ok());
  auto ack = socket->ReadFragment(10000);
  ASSERT_TRUE(ack.ok());
  auto ack_pdu = DecodePdu(*ack);
  ASSERT_TRUE(ack_pdu.ok());
  ASSERT_TRUE(socket->WriteAll(mallory.Auth3(*ack_pdu)).ok());
  ASSERT_TRUE(socket->WriteAll(mallory.Request(3, {1})).ok());
  auto fault = socket->ReadFragment(10000);
  ASSERT_TRUE(fault.ok()) << fault.status().ToString();
  auto fault_pdu = DecodePdu(*fault);
  ASSERT_TRUE(fault_pdu.ok());
  ASSERT_EQ(fault_pdu->header.type, PduType::kFault);
  EXPECT_EQ(fault_pdu->header.call_id, 3u);  // the request's, not auth3's
  EXPECT_EQ(testing::FaultStatusOf(*fault_pdu), nca_s_fault_access_denied);
  auto eof = socket->ReadFragment(10000);
  ASSERT_FALSE(eof.ok());
  EXPECT_NE(eof.status().message().find("closed"), std::string::npos)
      << eof.status().ToString();

  auth::ntlm::NtlmPackage good(Credentials("alice", "pw"));
  auto client = Client::Connect(*bound);
  ASSERT_TRUE(client.ok());
  ClientAuth a{&good, AuthnLevel::kPktIntegrity};
  ASSERT_TRUE((*client)->Bind(testing::kEchoSyntax, &a).ok());
  auto r = (*client)->Call(0, std::vector<uint8_t>{4, 2, 4, 2});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<uint8_t>{4, 2, 4, 2}));
  server.Stop();
}

}  // namespace
}  // namespace comsec::rpc
