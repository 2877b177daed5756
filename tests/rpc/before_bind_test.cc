// Issue 9 item 3: before the bind only a bind may come. Any other PDU
// (request, alter_context, auth3, co_cancel, orphaned) gets bind_nak reason
// 4, protocol_version_not_supported, and the connection closes — Samba's
// dcesrv_bind takes the first PDU as the bind and naks any other type so —
// so that no PDU keeps an unbound connection alive. A malformed one is a
// protocol error first (case 7).
#include <gtest/gtest.h>

#include "comsec/rpc/server_connection.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

TEST(BeforeBind, EveryOtherPduGetsBindNakReason4AndCloses) {
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  int invocations = 0;
  r.operations.push_back([&](std::span<const uint8_t> stub, const CallContext&)
                             -> Result<std::vector<uint8_t>> {
    ++invocations;
    return std::vector<uint8_t>(stub.begin(), stub.end());
  });
  registry.Register(std::move(r));

  std::vector<Pdu> pdus;
  Pdu request;
  request.header.type = PduType::kRequest;
  request.body = RequestBody{0, 0, 0, std::nullopt, {1}};
  pdus.push_back(request);
  Pdu alter;
  alter.header.type = PduType::kAlterContext;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = 5840;
  b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
  alter.body = b;
  pdus.push_back(alter);
  Pdu auth3;
  auth3.header.type = PduType::kAuth3;
  auth3.body = EmptyBody{};
  auth3.auth = SecTrailer{10, 6, 0, 0, 1, {1, 2, 3}};
  pdus.push_back(auth3);
  for (PduType t : {PduType::kCoCancel, PduType::kOrphaned}) {
    Pdu p;
    p.header.type = t;
    p.body = EmptyBody{};
    pdus.push_back(p);
  }
  for (Pdu& p : pdus) {
    SCOPED_TRACE(PduTypeName(p.header.type));
    p.header.call_id = 9;
    ServerConnection conn(&registry, ServerLimits{}, false, "135");
    std::vector<std::vector<uint8_t>> out;
    EXPECT_FALSE(conn.OnFragment(EncodePdu(p), out));
    ASSERT_EQ(out.size(), 1u);
    auto reply = DecodePdu(out[0]);
    ASSERT_TRUE(reply.ok());
    ASSERT_EQ(reply->header.type, PduType::kBindNak);
    EXPECT_EQ(reply->header.call_id, 9u);
    EXPECT_EQ(std::get<BindNakBody>(reply->body).reason, kNakProtocolVersionNotSupported);
    EXPECT_NE(conn.close_reason().find("before bind"), std::string::npos) << conn.close_reason();
  }
  EXPECT_EQ(invocations, 0);
  // A bind is served as ever.
  ServerConnection conn(&registry, ServerLimits{}, false, "135");
  Pdu bind = alter;
  bind.header.type = PduType::kBind;
  std::vector<std::vector<uint8_t>> out;
  EXPECT_TRUE(conn.OnFragment(EncodePdu(bind), out));
  EXPECT_EQ(DecodePdu(out.at(0))->header.type, PduType::kBindAck);
}

}  // namespace
}  // namespace comsec::rpc
