// Issue 9 item 12: association group ids are random 32-bit values, never 0,
// never one in use; a connection joins a group only on its creator's
// transport and as its creator's principal (or both unauthenticated).
// Refusals: a bind naming a group of the other transport, or an
// unauthenticated bind naming an authenticated creator's group, gets
// bind_nak reason 0 (Samba's answer to a group it will not hand out); a
// joiner whose authentication completes as another principal is answered
// as a refused auth3 is: no reply, then fault nca_s_fault_access_denied on
// its next request, then close. Every refusal leaves the group serving its
// owner.
#include <gtest/gtest.h>

#include <set>

#include "comsec/auth/peer_cred/local_package.h"
#include "ntlm_peer.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using testing::Credentials;
using testing::Feed;
using testing::NtlmPeer;

TEST(AssociationGroupIds, RandomNonZeroAndNeverOneInUse) {
  AssociationGroups groups;
  std::set<uint32_t> ids;
  uint32_t previous = 0;
  int sequential = 0;
  bool high_bit = false;
  for (int i = 0; i < 10000; ++i) {
    uint32_t id = groups.Create(AssociationGroups::Transport::kTcp);
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(ids.insert(id).second) << "id " << id << " handed out twice";
    if (id == previous + 1) ++sequential;
    high_bit |= (id & 0x80000000u) != 0;
    previous = id;
  }
  EXPECT_EQ(groups.size(), 10000u);
  // Sequential ids would let a peer guess a live group from its own.
  EXPECT_LT(sequential, 3);
  EXPECT_TRUE(high_bit);  // all 32 bits are used
  for (uint32_t id : ids) groups.Leave(id);
  EXPECT_EQ(groups.size(), 0u);
}

class AssociationGroupJoin : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pkg_ = testing::NtlmServerPackage(&accounts_);
    packages_.Add(server_pkg_.get());
    packages_.Add(&local_pkg_);
  }
  std::unique_ptr<ServerConnection> NewConnection(bool local = false, uint32_t uid = 1000) {
    auto c = std::make_unique<ServerConnection>(&ifaces_.registry, ServerLimits{}, local, "135");
    c->SetPackages(&packages_);
    c->SetAssociationGroups(&groups_);
    c->SetPeerDescription("203.0.113.5:6000");
    if (local) c->SetPeer(uid, uid, 4242);
    return c;
  }
  static std::vector<uint8_t> PlainBind(uint32_t group) {
    Pdu p;
    p.header.type = PduType::kBind;
    p.header.call_id = 1;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.assoc_group_id = group;
    b.contexts.push_back({0, testing::kEchoSyntax, {Ndr20Syntax()}});
    p.body = b;
    return EncodePdu(p);
  }
  static uint32_t GroupOf(const Pdu& ack) { return std::get<BindAckBody>(ack.body).assoc_group_id; }
  // alice creates a group over NTLM; the group's id.
  uint32_t AliceCreates() {
    creator_ = NewConnection();
    alice_ = std::make_unique<NtlmPeer>(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity);
    return GroupOf(alice_->Authenticate(*creator_));
  }
  // The creator still serves.
  void CreatorServes() {
    auto r = Feed(*creator_, alice_->Request(next_call_++, {1}));
    ASSERT_EQ(r.pdus.size(), 1u);
    EXPECT_EQ(r.pdus[0].header.type, PduType::kResponse);
  }

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  auth::LocalPackage local_pkg_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
  AssociationGroups groups_;
  std::unique_ptr<ServerConnection> creator_;
  std::unique_ptr<NtlmPeer> alice_;
  uint32_t next_call_ = 10;
};

TEST_F(AssociationGroupJoin, SamePrincipalJoins) {
  uint32_t group = AliceCreates();
  auto second = NewConnection();
  NtlmPeer alice(Credentials("alice", "pw"), AuthnLevel::kPktPrivacy);
  EXPECT_EQ(GroupOf(alice.Authenticate(*second, testing::kEchoSyntax, group)), group);
  auto r = Feed(*second, alice.Request(3, {1}));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kResponse);
  EXPECT_TRUE(r.open);
  CreatorServes();
}

TEST_F(AssociationGroupJoin, AnotherPrincipalIsRefusedWhenItsAuthenticationCompletes) {
  uint32_t group = AliceCreates();
  auto intruder = NewConnection();
  NtlmPeer bob(Credentials("bob", "pw2"), AuthnLevel::kPktIntegrity);
  // The bind is acknowledged (bob is not known yet) and auth3 has no reply.
  auto ack = Feed(*intruder, bob.Bind(testing::kEchoSyntax, group));
  ASSERT_EQ(ack.pdus[0].header.type, PduType::kBindAck);
  auto none = Feed(*intruder, bob.Auth3(ack.pdus[0]));
  EXPECT_TRUE(none.raw.empty());
  auto r = Feed(*intruder, bob.Request(3, {1}));
  ASSERT_EQ(r.pdus.size(), 1u);
  ASSERT_EQ(r.pdus[0].header.type, PduType::kFault);
  EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
  EXPECT_EQ(r.pdus[0].header.call_id, 3u);
  EXPECT_FALSE(r.open);
  EXPECT_EQ(ifaces_.invocations, 0);
  EXPECT_NE(intruder->close_reason().find("association group " + std::to_string(group) +
                                          " belongs to another principal"),
            std::string::npos)
      << intruder->close_reason();
  intruder.reset();
  CreatorServes();
  EXPECT_EQ(groups_.size(), 1u);
}

TEST_F(AssociationGroupJoin, UnauthenticatedBindCannotJoinAnAuthenticatedGroup) {
  uint32_t group = AliceCreates();
  auto intruder = NewConnection();
  auto r = Feed(*intruder, PlainBind(group));
  ASSERT_EQ(r.pdus.size(), 1u);
  ASSERT_EQ(r.pdus[0].header.type, PduType::kBindNak);
  EXPECT_EQ(std::get<BindNakBody>(r.pdus[0].body).reason, kNakReasonNotSpecified);
  EXPECT_FALSE(r.open);
  CreatorServes();
}

TEST_F(AssociationGroupJoin, AuthenticatedJoinerCannotTakeAnUnauthenticatedGroup) {
  auto creator = NewConnection();
  auto ack = Feed(*creator, PlainBind(0));
  uint32_t group = GroupOf(ack.pdus[0]);
  // Another unauthenticated connection joins.
  auto peer = NewConnection();
  ASSERT_EQ(Feed(*peer, PlainBind(group)).pdus[0].header.type, PduType::kBindAck);
  // alice's authenticated connection is another principal.
  auto alice_conn = NewConnection();
  NtlmPeer alice(Credentials("alice", "pw"), AuthnLevel::kPktIntegrity);
  auto a = Feed(*alice_conn, alice.Bind(testing::kEchoSyntax, group));
  ASSERT_EQ(a.pdus[0].header.type, PduType::kBindAck);
  Feed(*alice_conn, alice.Auth3(a.pdus[0]));
  auto r = Feed(*alice_conn, alice.Request(3, {1}));
  EXPECT_EQ(testing::FaultStatusOf(r.pdus[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(r.open);
}

TEST_F(AssociationGroupJoin, OtherTransportIsRefused) {
  auto tcp = NewConnection(/*local=*/false);
  uint32_t group = GroupOf(Feed(*tcp, PlainBind(0)).pdus[0]);
  auto local = NewConnection(/*local=*/true);
  auto r = Feed(*local, PlainBind(group));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kBindNak);
  EXPECT_EQ(std::get<BindNakBody>(r.pdus[0].body).reason, kNakReasonNotSpecified);
  EXPECT_NE(local->close_reason().find("other transport"), std::string::npos);
  // Still joinable from TCP by an unauthenticated peer, like its creator.
  auto again = NewConnection(false);
  EXPECT_EQ(GroupOf(Feed(*again, PlainBind(group)).pdus[0]), group);
}

// On ncalrpc the kernel's uid is part of the principal, even unauthenticated,
// and the local package completes in the bind, so the check is at bind.
TEST_F(AssociationGroupJoin, OnNcalrpcTheUidMustMatch) {
  auto creator = NewConnection(true, 1000);
  uint32_t group = GroupOf(Feed(*creator, PlainBind(0)).pdus[0]);
  auto other_user = NewConnection(true, 1001);
  auto r = Feed(*other_user, PlainBind(group));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kBindNak);
  EXPECT_EQ(std::get<BindNakBody>(r.pdus[0].body).reason, kNakReasonNotSpecified);
  auto same_user = NewConnection(true, 1000);
  EXPECT_EQ(GroupOf(Feed(*same_user, PlainBind(group)).pdus[0]), group);

  // With the local package: authenticated at bind, checked at bind.
  auto lcreator = NewConnection(true, 1000);
  Pdu bind = *DecodePdu(PlainBind(0));
  bind.auth = SecTrailer{RPC_C_AUTHN_KERNEL,
                         WireAuthnLevel(AuthnLevel::kPktPrivacy),
                         0,
                         0,
                         1,
                         std::vector<uint8_t>(auth::kLocalToken.begin(), auth::kLocalToken.end())};
  auto ack = Feed(*lcreator, EncodePdu(bind));
  ASSERT_EQ(ack.pdus[0].header.type, PduType::kBindAck);
  uint32_t lgroup = GroupOf(ack.pdus[0]);
  std::get<BindBody>(bind.body).assoc_group_id = lgroup;
  auto stranger = NewConnection(true, 1001);
  r = Feed(*stranger, EncodePdu(bind));
  ASSERT_EQ(r.pdus[0].header.type, PduType::kBindNak);
  EXPECT_EQ(std::get<BindNakBody>(r.pdus[0].body).reason, kNakReasonNotSpecified);
  auto owner = NewConnection(true, 1000);
  EXPECT_EQ(GroupOf(Feed(*owner, EncodePdu(bind)).pdus[0]), lgroup);
}

}  // namespace
}  // namespace comsec::rpc
