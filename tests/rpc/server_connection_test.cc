// The server's protocol state machine against hand-built PDUs: conformance
// cases 1, 3–6, 8–12 and 14–16 of reference/rpc-conformance-cases.md, each
// naming its case, plus a fragmented call in both directions.
#include "comsec/rpc/server_connection.h"

#include <gtest/gtest.h>

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

class Server : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back([this](std::span<const uint8_t> stub, const CallContext&)
                               -> Result<std::vector<uint8_t>> {
      ++invocations_;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    r.operations.push_back([this](std::span<const uint8_t>, const CallContext&)
                               -> Result<std::vector<uint8_t>> {
      ++invocations_;
      return Status(E_ACCESSDENIED, "no");
    });
    registry_.Register(std::move(r));
    InterfaceRegistration strict;
    strict.syntax = {*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};
    strict.min_authn_level = security::AuthnLevel::kPktIntegrity;
    strict.operations.push_back([this](std::span<const uint8_t>, const CallContext&)
                                    -> Result<std::vector<uint8_t>> {
      ++invocations_;
      return std::vector<uint8_t>{};
    });
    registry_.Register(std::move(strict));
    conn_ = std::make_unique<ServerConnection>(&registry_, ServerLimits{}, false,
                                               "49669");
  }

  // Sends one PDU; returns the decoded replies.
  std::vector<Pdu> Send(const Pdu& p) { return SendBytes(EncodePdu(p)); }
  std::vector<Pdu> SendBytes(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    open_ = conn_->OnFragment(bytes, out);
    std::vector<Pdu> replies;
    for (const auto& f : out) {
      auto d = DecodePdu(f);
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      if (d.ok()) replies.push_back(std::move(*d));
    }
    return replies;
  }

  static Pdu MakeBind(std::vector<ContextElement> contexts, uint16_t xmit = 4280,
                      uint16_t recv = 4280, PduType type = PduType::kBind) {
    Pdu p;
    p.header.type = type;
    p.header.call_id = 1;
    BindBody b;
    b.max_xmit_frag = xmit;
    b.max_recv_frag = recv;
    b.contexts = std::move(contexts);
    p.body = b;
    return p;
  }
  static Pdu MakeRequest(uint32_t call_id, uint16_t ctx, uint16_t opnum,
                         std::vector<uint8_t> stub,
                         uint8_t flags = PFC_FIRST_FRAG | PFC_LAST_FRAG,
                         uint32_t alloc_hint = 0) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = flags;
    p.body = RequestBody{alloc_hint, ctx, opnum, std::nullopt, std::move(stub)};
    return p;
  }
  void BindEcho() {
    auto r = Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}));
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].header.type, PduType::kBindAck);
  }
  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  InterfaceRegistry registry_;
  std::unique_ptr<ServerConnection> conn_;
  int invocations_ = 0;
  bool open_ = true;
};

TEST_F(Server, BindAndEcho) {
  BindEcho();
  auto r = Send(MakeRequest(2, 0, 0, {1, 2, 3}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(std::get<ResponseBody>(r[0].body).stub, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_TRUE(open_);
  EXPECT_EQ(invocations_, 1);
}

// Case 1: another protocol version gets bind_nak reason 4 listing 5.0.
TEST_F(Server, Case1WrongVersionBindNak) {
  auto bytes = EncodePdu(MakeBind({{0, kEcho, {Ndr20Syntax()}}}));
  bytes[1] = 1;
  auto r = SendBytes(bytes);
  ASSERT_EQ(r.size(), 1u);
  const auto& nak = std::get<BindNakBody>(r[0].body);
  EXPECT_EQ(nak.reason, kNakProtocolVersionNotSupported);
  ASSERT_EQ(nak.versions.size(), 1u);
  EXPECT_EQ(nak.versions[0], std::make_pair(uint8_t{5}, uint8_t{0}));
  EXPECT_FALSE(open_);
}

// Case 1, second half: undefined pfc_flags are accepted, answered FIRST|LAST.
TEST_F(Server, Case1AnyPfcFlagsAccepted) {
  Pdu b = MakeBind({{0, kEcho, {Ndr20Syntax()}}});
  b.header.pfc_flags = PFC_FIRST_FRAG | PFC_LAST_FRAG | PFC_RESERVED_1;
  auto r = Send(b);
  ASSERT_EQ(r[0].header.type, PduType::kBindAck);
  EXPECT_EQ(r[0].header.pfc_flags & (PFC_FIRST_FRAG | PFC_LAST_FRAG),
            PFC_FIRST_FRAG | PFC_LAST_FRAG);
}

// Case 2: auth_length 8 with no sec_trailer behind it.
TEST_F(Server, Case2AuthLengthWithoutTrailer) {
  auto bytes = EncodePdu(MakeBind({{0, kEcho, {Ndr20Syntax()}}}));
  bytes[10] = 8;  // auth_length
  auto r = SendBytes(bytes);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(std::get<BindNakBody>(r[0].body).reason, kNakProtocolVersionNotSupported);
  EXPECT_FALSE(open_);
}

// Association groups: 0 creates one, a known id joins it, an unknown id is
// refused; the group ends with its last connection.
TEST(AssociationGroupsTest, CreateJoinRefuse) {
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  r.operations.push_back([](std::span<const uint8_t>, const CallContext&)
                             -> Result<std::vector<uint8_t>> { return std::vector<uint8_t>{}; });
  registry.Register(std::move(r));
  AssociationGroups groups;
  auto bind = [&](ServerConnection& c, uint32_t group) {
    Pdu p;
    p.header.type = PduType::kBind;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 4280;
    b.assoc_group_id = group;
    b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
    p.body = b;
    std::vector<std::vector<uint8_t>> out;
    c.OnFragment(EncodePdu(p), out);
    return *DecodePdu(out.at(0));
  };
  uint32_t id = 0;
  {
    ServerConnection first(&registry, ServerLimits{}, false, "");
    first.SetAssociationGroups(&groups);
    Pdu ack = bind(first, 0);
    id = std::get<BindAckBody>(ack.body).assoc_group_id;
    EXPECT_NE(id, 0u);
    ServerConnection second(&registry, ServerLimits{}, false, "");
    second.SetAssociationGroups(&groups);
    EXPECT_EQ(std::get<BindAckBody>(bind(second, id).body).assoc_group_id, id);
    ServerConnection stranger(&registry, ServerLimits{}, false, "");
    stranger.SetAssociationGroups(&groups);
    EXPECT_EQ(bind(stranger, id + 12345).header.type, PduType::kBindNak);
    EXPECT_EQ(groups.size(), 1u);
  }
  EXPECT_EQ(groups.size(), 0u);
  ServerConnection late(&registry, ServerLimits{}, false, "");
  late.SetAssociationGroups(&groups);
  EXPECT_EQ(bind(late, id).header.type, PduType::kBindNak);
}

// Case 3: no contexts in bind (bind_nak) and alter_context (proto_error).
TEST_F(Server, Case3NoContexts) {
  auto r = Send(MakeBind({}));
  EXPECT_EQ(r[0].header.type, PduType::kBindNak);
  EXPECT_FALSE(open_);
  SetUp();
  BindEcho();
  auto a = Send(MakeBind({}, 4280, 4280, PduType::kAlterContext));
  EXPECT_EQ(FaultStatus(a[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

// Case 4: a second bind on a bound connection.
TEST_F(Server, Case4SecondBind) {
  BindEcho();
  auto r = Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}));
  EXPECT_EQ(std::get<BindNakBody>(r[0].body).reason, kNakReasonNotSpecified);
  EXPECT_FALSE(open_);
}

// Case 5: fragment sizes.
TEST_F(Server, Case5FragmentNegotiation) {
  struct {
    uint16_t xmit, recv, expected;
  } cases[] = {{0xFFFF, 0xFFFF, 5840}, {0, 0, 2048}, {3199, 0xFFFF, 3192}};
  for (const auto& c : cases) {
    SetUp();
    auto r = Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}, c.xmit, c.recv));
    const auto& ack = std::get<BindAckBody>(r[0].body);
    EXPECT_EQ(ack.max_xmit_frag, c.expected);
    EXPECT_EQ(ack.max_recv_frag, c.expected);
  }
  // alter_context leaves them unchanged.
  auto a = Send(MakeBind({{1, kEcho, {Ndr20Syntax()}}}, 5840, 5840,
                         PduType::kAlterContext));
  EXPECT_EQ(std::get<BindAckBody>(a[0].body).max_xmit_frag, 3192);
}

// Case 6: a fragment of exactly N bytes works, N+1 is a protocol error.
TEST_F(Server, Case6FragmentLimit) {
  Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}, 2048, 2048));
  auto exact = Send(MakeRequest(2, 0, 0, std::vector<uint8_t>(2048 - 24, 7)));
  EXPECT_EQ(exact[0].header.type, PduType::kResponse);
  auto over = Send(MakeRequest(3, 0, 0, std::vector<uint8_t>(2048 - 23, 7)));
  EXPECT_EQ(FaultStatus(over[0]), nca_s_proto_error);
  EXPECT_EQ(std::get<FaultBody>(over[0].body).context_id, 0);
  EXPECT_FALSE(open_);
}

// Case 8: an unknown context id faults with DID_NOT_EXECUTE; the
// connection stays usable.
TEST_F(Server, Case8UnknownContext) {
  BindEcho();
  auto r = Send(MakeRequest(2, 9, 0, {1}));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_unknown_if);
  EXPECT_TRUE(r[0].header.pfc_flags & PFC_DID_NOT_EXECUTE);
  EXPECT_TRUE(open_);
  auto ok = Send(MakeRequest(3, 0, 0, {1}));
  EXPECT_EQ(ok[0].header.type, PduType::kResponse);
}

// Case 9: an opnum beyond the interface.
TEST_F(Server, Case9OpnumOutOfRange) {
  BindEcho();
  auto r = Send(MakeRequest(2, 0, 7, {}));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_op_rng_error);
  EXPECT_TRUE(open_);
  EXPECT_EQ(invocations_, 0);
}

// Case 10: unknown abstract syntax, and NDR64 only.
TEST_F(Server, Case10ContextRejections) {
  SyntaxId unknown{*Guid::Parse("99999999-9999-9999-9999-999999999999"), 1, 0};
  auto r = Send(MakeBind({{0, unknown, {Ndr20Syntax()}}, {1, kEcho, {Ndr64Syntax()}},
                          {2, kEcho, {Ndr64Syntax(), Ndr20Syntax()}}}));
  const auto& ack = std::get<BindAckBody>(r[0].body);
  ASSERT_EQ(ack.results.size(), 3u);
  EXPECT_EQ(ack.results[0].result, ContextResult::kProviderRejection);
  EXPECT_EQ(ack.results[0].reason, kReasonAbstractSyntaxNotSupported);
  EXPECT_EQ(ack.results[1].reason, kReasonTransferSyntaxesNotSupported);
  EXPECT_EQ(ack.results[2].result, ContextResult::kAcceptance);
  EXPECT_EQ(ack.results[2].transfer_syntax, Ndr20Syntax());
}

// Bind-time feature negotiation is answered, not accepted as a context.
TEST_F(Server, BindTimeFeatureNegotiation) {
  SyntaxId btfn{*Guid::Parse("6cb71c2c-9812-4540-0300-000000000000"), 1, 0};
  auto r = Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}, {1, kEcho, {btfn}}}));
  const auto& ack = std::get<BindAckBody>(r[0].body);
  EXPECT_EQ(ack.results[1].result, ContextResult::kNegotiateAck);
  EXPECT_EQ(ack.results[1].reason, 3);
}

// Case 11: alter_context that changes an existing context's syntax.
TEST_F(Server, Case11AlterChangesContext) {
  BindEcho();
  SyntaxId other{*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};
  auto r = Send(MakeBind({{0, other, {Ndr20Syntax()}}}, 4280, 4280,
                         PduType::kAlterContext));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

// Case 12: an alloc_hint over 4 MiB, and fragments that add up past it.
TEST_F(Server, Case12ReassemblyCap) {
  BindEcho();
  auto r = Send(MakeRequest(2, 0, 0, {1}, PFC_FIRST_FRAG, 0x400001));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  SetUp();
  Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}, 0xFFFF, 0xFFFF));
  std::vector<uint8_t> chunk(5840 - 24, 1);
  bool refused = false;
  for (int i = 0; i < 800 && !refused; ++i) {
    auto f = Send(MakeRequest(2, 0, 0, chunk, i == 0 ? PFC_FIRST_FRAG : 0));
    if (!f.empty()) {
      EXPECT_EQ(FaultStatus(f[0]), nca_s_fault_access_denied);
      refused = true;
      EXPECT_LE(static_cast<size_t>(i) * chunk.size(), size_t{4 * 1024 * 1024} + chunk.size());
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

// Case 13: max-size fragments with a small alloc_hint, sent until the
// running total would pass the cap, are refused at the cap; the total is
// compared by subtraction, so no counter can wrap (UBSan runs this too).
TEST_F(Server, Case13WrapAroundAttemptStopsAtTheCap) {
  Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}, 0xFFFF, 0xFFFF));
  std::vector<uint8_t> chunk(5840 - 24, 0xEE);
  size_t sent = 0;
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    auto f = Send(MakeRequest(3, 0, 0, chunk, i == 0 ? PFC_FIRST_FRAG : 0, 16));
    sent += chunk.size();
    if (!f.empty()) {
      refused = true;
      EXPECT_EQ(FaultStatus(f[0]), nca_s_fault_access_denied);
    }
  }
  EXPECT_TRUE(refused);
  EXPECT_GT(sent, size_t{4} * 1024 * 1024);
  EXPECT_LT(sent, size_t{4} * 1024 * 1024 + 2 * chunk.size());
  EXPECT_EQ(invocations_, 0);
}

// Case 14: continuation without a call, and a second FIRST.
TEST_F(Server, Case14StrayFragments) {
  BindEcho();
  auto cont = Send(MakeRequest(5, 0, 0, {1}, PFC_LAST_FRAG));
  EXPECT_EQ(FaultStatus(cont[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
  SetUp();
  BindEcho();
  Send(MakeRequest(5, 0, 0, {1}, PFC_FIRST_FRAG));
  auto again = Send(MakeRequest(5, 0, 0, {1}, PFC_FIRST_FRAG));
  EXPECT_EQ(FaultStatus(again[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

// Case 15: interleaved calls without CONC_MPX.
TEST_F(Server, Case15Interleaving) {
  BindEcho();
  Send(MakeRequest(5, 0, 0, {1}, PFC_FIRST_FRAG));
  auto other = Send(MakeRequest(6, 0, 0, {1}, PFC_FIRST_FRAG));
  EXPECT_EQ(FaultStatus(other[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

// Case 16: PENDING_CANCEL on a first fragment; co_cancel/orphaned ignored.
TEST_F(Server, Case16Cancels) {
  BindEcho();
  Pdu cancel;
  cancel.header.type = PduType::kCoCancel;
  cancel.header.call_id = 77;
  EXPECT_TRUE(Send(cancel).empty());
  EXPECT_TRUE(open_);
  Pdu orphan = cancel;
  orphan.header.type = PduType::kOrphaned;
  EXPECT_TRUE(Send(orphan).empty());
  EXPECT_TRUE(open_);
  auto r = Send(MakeRequest(2, 0, 0, {1}, PFC_FIRST_FRAG | PFC_LAST_FRAG | PFC_PENDING_CANCEL));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_no_call_active);
  EXPECT_TRUE(r[0].header.pfc_flags & PFC_DID_NOT_EXECUTE);
  EXPECT_FALSE(open_);
}

// Concurrent multiplexing: negotiated in the bind (echoed in bind_ack),
// interleaved fragments of two calls reassemble separately; without it,
// interleaving stays case 15's protocol error.
TEST_F(Server, ConcMpxInterleavedCalls) {
  Pdu bind = MakeBind({{0, kEcho, {Ndr20Syntax()}}});
  bind.header.pfc_flags |= PFC_CONC_MPX;
  auto ack = Send(bind);
  ASSERT_EQ(ack[0].header.type, PduType::kBindAck);
  EXPECT_TRUE(ack[0].header.pfc_flags & PFC_CONC_MPX);
  EXPECT_TRUE(conn_->multiplexed());
  EXPECT_TRUE(Send(MakeRequest(2, 0, 0, {1, 1}, PFC_FIRST_FRAG)).empty());
  EXPECT_TRUE(Send(MakeRequest(3, 0, 0, {3, 3}, PFC_FIRST_FRAG)).empty());
  auto r3 = Send(MakeRequest(3, 0, 0, {4}, PFC_LAST_FRAG));
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_EQ(r3[0].header.call_id, 3u);
  EXPECT_EQ(std::get<ResponseBody>(r3[0].body).stub, (std::vector<uint8_t>{3, 3, 4}));
  auto r2 = Send(MakeRequest(2, 0, 0, {2}, PFC_LAST_FRAG));
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].header.call_id, 2u);
  EXPECT_EQ(std::get<ResponseBody>(r2[0].body).stub, (std::vector<uint8_t>{1, 1, 2}));
  EXPECT_TRUE(open_);
  // A second FIRST for a call in progress is still case 14.
  EXPECT_TRUE(Send(MakeRequest(5, 0, 0, {1}, PFC_FIRST_FRAG)).empty());
  auto dup = Send(MakeRequest(5, 0, 0, {1}, PFC_FIRST_FRAG));
  EXPECT_EQ(FaultStatus(dup[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

TEST_F(Server, ConcMpxBoundsCallsAndMemory) {
  ServerLimits limits;
  limits.max_concurrent_calls = 3;
  limits.max_request_bytes = 10000;
  conn_ = std::make_unique<ServerConnection>(&registry_, limits, false, "49669");
  Pdu bind = MakeBind({{0, kEcho, {Ndr20Syntax()}}});
  bind.header.pfc_flags |= PFC_CONC_MPX;
  Send(bind);
  for (uint32_t id = 2; id < 5; ++id) {
    EXPECT_TRUE(Send(MakeRequest(id, 0, 0, std::vector<uint8_t>(3000, 1), PFC_FIRST_FRAG)).empty());
  }
  auto r = Send(MakeRequest(9, 0, 0, {1}, PFC_FIRST_FRAG));  // a fourth call
  EXPECT_EQ(FaultStatus(r[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
  // The stubs of all calls in progress count against one cap.
  conn_ = std::make_unique<ServerConnection>(&registry_, limits, false, "49669");
  open_ = true;
  Send(bind);
  EXPECT_TRUE(Send(MakeRequest(2, 0, 0, std::vector<uint8_t>(4000, 1), PFC_FIRST_FRAG)).empty());
  EXPECT_TRUE(Send(MakeRequest(3, 0, 0, std::vector<uint8_t>(4000, 1), PFC_FIRST_FRAG)).empty());
  r = Send(MakeRequest(3, 0, 0, std::vector<uint8_t>(2500, 1), 0));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
}

// Case 17 (without packages yet): an interface whose minimum is
// PKT_INTEGRITY refuses an unauthenticated call; no stub runs.
TEST_F(Server, Case17MinimumLevelRefusesWithoutRunningTheStub) {
  SyntaxId strict{*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};
  Send(MakeBind({{0, strict, {Ndr20Syntax()}}}));
  auto r = Send(MakeRequest(2, 0, 0, {}));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

// Case 19 until packages exist: any verifier in a bind is refused, reason 8.
TEST_F(Server, BindWithUnknownAuthIsRefused) {
  Pdu b = MakeBind({{0, kEcho, {Ndr20Syntax()}}});
  b.auth = SecTrailer{0x7F, 2, 0, 0, 1, std::vector<uint8_t>(8)};
  auto r = Send(b);
  EXPECT_EQ(std::get<BindNakBody>(r[0].body).reason, kNakAuthenticationTypeNotRecognized);
  EXPECT_FALSE(open_);
}

TEST_F(Server, HandlerFailureBecomesAFault) {
  BindEcho();
  auto r = Send(MakeRequest(2, 0, 1, {}));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(r[0].header.pfc_flags & PFC_DID_NOT_EXECUTE);
  EXPECT_TRUE(open_);
}

// A fragmented request reassembles; a large response fragments within the
// negotiated size, alloc_hint counting down.
TEST_F(Server, FragmentationBothWays) {
  Send(MakeBind({{0, kEcho, {Ndr20Syntax()}}}, 2048, 2048));
  std::vector<uint8_t> part(2000, 0x5A);
  EXPECT_TRUE(Send(MakeRequest(4, 0, 0, part, PFC_FIRST_FRAG, 6000)).empty());
  EXPECT_TRUE(Send(MakeRequest(4, 0, 0, part, 0)).empty());
  auto r = Send(MakeRequest(4, 0, 0, part, PFC_LAST_FRAG));
  ASSERT_EQ(r.size(), 3u);  // 6000 bytes in chunks of 2024
  size_t total = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_LE(EncodePdu(r[i]).size(), 2048u);
    const auto& body = std::get<ResponseBody>(r[i].body);
    EXPECT_EQ(body.alloc_hint, 6000 - total);
    total += body.stub.size();
    EXPECT_EQ(bool(r[i].header.pfc_flags & PFC_FIRST_FRAG), i == 0);
    EXPECT_EQ(bool(r[i].header.pfc_flags & PFC_LAST_FRAG), i + 1 == r.size());
  }
  EXPECT_EQ(total, 6000u);
}

// Case 7 at the connection: garbage is a proto_error fault and a close.
TEST_F(Server, Case7GarbageClosesWithProtoError) {
  auto r = SendBytes({5, 0, 0, 3, 0x10, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

}  // namespace
}  // namespace comsec::rpc
