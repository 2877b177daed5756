// Connection-oriented PDU framing (C706 12.6, [MS-RPCE] 2.2.2) and the
// malformed headers of conformance case 7.
#include "comsec/base/win32_error.h"
#include "comsec/rpc/pdu_codec.h"

#include <gtest/gtest.h>

#include "comsec/base/hex.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("60a15ec5-4de8-11d7-a637-005056a20182"), 1, 0};

Pdu Bind() {
  Pdu p;
  p.header.type = PduType::kBind;
  p.header.call_id = 1;
  BindBody b;
  b.max_xmit_frag = 4280;
  b.max_recv_frag = 4280;
  b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
  p.body = b;
  return p;
}

TEST(PduCodec, BindLayout) {
  std::vector<uint8_t> bytes = EncodePdu(Bind());
  ASSERT_EQ(bytes.size(), 72u);  // header 16 + 12 + one context of 44
  EXPECT_EQ(ToHex(std::span(bytes).first(16)), "05000b03100000004800000001000000");
  EXPECT_EQ(bytes[24], 1);  // n_context_elem
  auto pdu = DecodePdu(bytes);
  ASSERT_TRUE(pdu.ok()) << pdu.status().ToString();
  const auto& b = std::get<BindBody>(pdu->body);
  EXPECT_EQ(b.max_xmit_frag, 4280);
  ASSERT_EQ(b.contexts.size(), 1u);
  EXPECT_EQ(b.contexts[0].abstract_syntax, kEcho);
  EXPECT_EQ(b.contexts[0].transfer_syntaxes[0], Ndr20Syntax());
}

TEST(PduCodec, BindAckRoundTrip) {
  Pdu p;
  p.header.type = PduType::kBindAck;
  BindAckBody b;
  b.max_xmit_frag = b.max_recv_frag = 4280;
  b.assoc_group_id = 0x1234;
  b.secondary_address = "49669";
  b.results.push_back({ContextResult::kAcceptance, 0, Ndr20Syntax()});
  b.results.push_back({ContextResult::kProviderRejection,
                       kReasonTransferSyntaxesNotSupported, SyntaxId{}});
  p.body = b;
  auto back = DecodePdu(EncodePdu(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const auto& a = std::get<BindAckBody>(back->body);
  EXPECT_EQ(a.secondary_address, "49669");
  ASSERT_EQ(a.results.size(), 2u);
  EXPECT_EQ(a.results[1].reason, kReasonTransferSyntaxesNotSupported);
  EXPECT_EQ(a.assoc_group_id, 0x1234u);
}

TEST(PduCodec, BindNakListsVersions) {
  Pdu p;
  p.header.type = PduType::kBindNak;
  p.body = BindNakBody{kNakProtocolVersionNotSupported, {{5, 0}}};
  auto back = DecodePdu(EncodePdu(p));
  ASSERT_TRUE(back.ok());
  const auto& n = std::get<BindNakBody>(back->body);
  EXPECT_EQ(n.reason, kNakProtocolVersionNotSupported);
  ASSERT_EQ(n.versions.size(), 1u);
  EXPECT_EQ(n.versions[0].first, 5);
}

TEST(PduCodec, RequestWithObjectAndAuthTrailer) {
  Pdu p;
  p.header.type = PduType::kRequest;
  p.header.pfc_flags |= PFC_OBJECT_UUID;
  p.header.call_id = 7;
  RequestBody r;
  r.alloc_hint = 5;
  r.context_id = 1;
  r.opnum = 2;
  r.object = *Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21");
  r.stub = {1, 2, 3, 4, 5};
  p.body = r;
  SecTrailer s;
  s.auth_type = 10;
  s.auth_level = 6;
  s.auth_context_id = 79231;
  s.auth_value.assign(16, 0xAB);
  p.auth = s;
  std::vector<uint8_t> bytes = EncodePdu(p);
  auto back = DecodePdu(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->header.auth_length, 16);
  EXPECT_EQ(back->auth->auth_pad_length, 3);  // 16+24+5 -> pad to 48
  EXPECT_EQ((bytes.size() - 16 - 8) % 4, 0u);
  const auto& b = std::get<RequestBody>(back->body);
  EXPECT_EQ(b.stub, r.stub);
  EXPECT_EQ(b.object, r.object);
  EXPECT_EQ(b.opnum, 2);
  EXPECT_EQ(back->auth->auth_context_id, 79231u);
}

TEST(PduCodec, FaultAndResponse) {
  Pdu f;
  f.header.type = PduType::kFault;
  f.header.pfc_flags |= PFC_DID_NOT_EXECUTE;
  FaultBody fb;
  fb.status = nca_s_unknown_if;
  f.body = fb;
  std::vector<uint8_t> bytes = EncodePdu(f);
  EXPECT_EQ(bytes.size(), 32u);
  auto back = DecodePdu(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<FaultBody>(back->body).status, nca_s_unknown_if);
  Pdu r;
  r.header.type = PduType::kResponse;
  r.body = ResponseBody{3, 0, 0, {9, 9, 9}};
  auto rb = DecodePdu(EncodePdu(r));
  EXPECT_EQ(std::get<ResponseBody>(rb->body).stub, (std::vector<uint8_t>{9, 9, 9}));
}

TEST(PduCodec, BigEndianHeaderAndBody) {
  // A request from a big-endian sender: drep 0x00.
  auto bytes = *FromHex("05000003" "00000000" "0020" "0000" "00000009"
                        "00000004" "0001" "0003" "deadbeef" "cafebabe");
  bytes.resize(32);
  auto pdu = DecodePdu(bytes);
  ASSERT_TRUE(pdu.ok()) << pdu.status().ToString();
  EXPECT_EQ(pdu->header.call_id, 9u);
  const auto& r = std::get<RequestBody>(pdu->body);
  EXPECT_EQ(r.context_id, 1);
  EXPECT_EQ(r.opnum, 3);
}

// A bind from a big-endian sender (drep 0x00), packed by hand: every
// integer in its order, UUIDs' integer fields too, and each syntax version
// one u_int32 with the major version in its low half (C706 12.6.3.1), so
// that v1.2 is 00 02 00 01 on the wire.
TEST(PduCodec, BigEndianBind) {
  auto bytes = *FromHex(
      "05000b03" "00000000" "0048" "0000" "0000002a"       // header, call 42
      "10b8" "0ff8" "12345678"                             // 4280, 4088, group
      "01000000"                                           // one context
      "0003" "01" "00"                                     // id 3, 1 syntax
      "60a15ec5" "4de8" "11d7" "a637005056a20182" "00020001"  // rpcecho v1.2
      "8a885d04" "1ceb" "11c9" "9fe808002b104860" "00000002");  // NDR v2.0
  auto pdu = DecodePdu(bytes);
  ASSERT_TRUE(pdu.ok()) << pdu.status().ToString();
  EXPECT_EQ(pdu->header.drep[0], 0x00);
  EXPECT_EQ(pdu->header.frag_length, 72);
  EXPECT_EQ(pdu->header.call_id, 42u);
  const auto& b = std::get<BindBody>(pdu->body);
  EXPECT_EQ(b.max_xmit_frag, 4280);
  EXPECT_EQ(b.max_recv_frag, 4088);
  EXPECT_EQ(b.assoc_group_id, 0x12345678u);
  ASSERT_EQ(b.contexts.size(), 1u);
  EXPECT_EQ(b.contexts[0].context_id, 3);
  EXPECT_EQ(b.contexts[0].abstract_syntax,
            (SyntaxId{kEcho.uuid, 1, 2}));
  ASSERT_EQ(b.contexts[0].transfer_syntaxes.size(), 1u);
  EXPECT_EQ(b.contexts[0].transfer_syntaxes[0], Ndr20Syntax());
}

// The same bind little-endian reads the same; the version's halves are where
// each byte order puts them.
TEST(PduCodec, SyntaxVersionIsOneWordInEitherOrder) {
  Pdu p = Bind();
  std::get<BindBody>(p.body).contexts[0].abstract_syntax.minor = 2;
  std::vector<uint8_t> le = EncodePdu(p);
  // abstract syntax version at 16 + 12 + 4 + 16 = 48: 01 00 02 00.
  EXPECT_EQ(ToHex(std::span(le).subspan(48, 4)), "01000200");
  auto back = DecodePdu(le);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<BindBody>(back->body).contexts[0].abstract_syntax,
            (SyntaxId{kEcho.uuid, 1, 2}));
}

// A big-endian request with an object UUID and an auth trailer: the
// trailer's auth_context_id and the padding rule read in the sender's order.
TEST(PduCodec, BigEndianRequestWithObjectAndAuthTrailer) {
  auto bytes = *FromHex(
      "05000083" "00000000" "0048" "0010" "00000007"       // object flag
      "00000005" "0001" "0002"                             // hint, ctx, opnum
      "4b2f6d5e" "8c1a" "4f3b" "9e2d7c6a5b4e3d21"          // object UUID
      "0102030405" "000000"                                // stub + 3 padding
      "0a" "06" "03" "00" "0001357f"                       // sec_trailer
      "abababababababababababababababab");                 // verifier
  auto pdu = DecodePdu(bytes);
  ASSERT_TRUE(pdu.ok()) << pdu.status().ToString();
  EXPECT_EQ(pdu->header.auth_length, 16);
  EXPECT_EQ(pdu->header.call_id, 7u);
  const auto& r = std::get<RequestBody>(pdu->body);
  EXPECT_EQ(r.alloc_hint, 5u);
  EXPECT_EQ(r.context_id, 1);
  EXPECT_EQ(r.opnum, 2);
  EXPECT_EQ(r.object, *Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"));
  EXPECT_EQ(r.stub, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  ASSERT_TRUE(pdu->auth.has_value());
  EXPECT_EQ(pdu->auth->auth_type, 10);
  EXPECT_EQ(pdu->auth->auth_level, 6);
  EXPECT_EQ(pdu->auth->auth_context_id, 79231u);
  EXPECT_EQ(pdu->auth->auth_value, std::vector<uint8_t>(16, 0xAB));
}

// The auth_verifier's level byte is converted at this boundary only: each
// level has Windows's number, and a byte that names no level a verifier may
// carry (DEFAULT, NONE, past PKT_PRIVACY) converts to none (case 19).
TEST(PduCodec, AuthLevelByteConvertsAtTheBoundary) {
  using security::AuthnLevel;
  EXPECT_EQ(WireAuthnLevel(AuthnLevel::kConnect), 2);
  EXPECT_EQ(WireAuthnLevel(AuthnLevel::kCall), 3);
  EXPECT_EQ(WireAuthnLevel(AuthnLevel::kPkt), 4);
  EXPECT_EQ(WireAuthnLevel(AuthnLevel::kPktIntegrity), 5);
  EXPECT_EQ(WireAuthnLevel(AuthnLevel::kPktPrivacy), 6);
  for (AuthnLevel level : {AuthnLevel::kConnect, AuthnLevel::kCall, AuthnLevel::kPkt,
                           AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    EXPECT_EQ(PduAuthnLevel(WireAuthnLevel(level)), level);
  }
  for (int byte : {0, 1, 7, 8, 0x80, 255}) {
    EXPECT_EQ(PduAuthnLevel(static_cast<uint8_t>(byte)), std::nullopt) << byte;
  }
}

// What a big-endian server answers: bind_ack and a fault.
TEST(PduCodec, BigEndianBindAckAndFault) {
  auto ack = *FromHex(
      "05000c03" "00000000" "0054" "0000" "0000002a"
      "10b8" "10b8" "0000beef"                             // frags, group
      "0006" "343936363900"                                // "49669", at 32
      "02000000"                                           // two results
      "0000" "0000" "8a885d04" "1ceb" "11c9" "9fe808002b104860" "00000002"
      "0002" "0002" "00000000" "0000" "0000" "0000000000000000" "00000000");
  auto pdu = DecodePdu(ack);
  ASSERT_TRUE(pdu.ok()) << pdu.status().ToString();
  const auto& a = std::get<BindAckBody>(pdu->body);
  EXPECT_EQ(a.assoc_group_id, 0xbeefu);
  EXPECT_EQ(a.secondary_address, "49669");
  ASSERT_EQ(a.results.size(), 2u);
  EXPECT_EQ(a.results[0].result, ContextResult::kAcceptance);
  EXPECT_EQ(a.results[0].transfer_syntax, Ndr20Syntax());
  EXPECT_EQ(a.results[1].result, ContextResult::kProviderRejection);
  EXPECT_EQ(a.results[1].reason, kReasonTransferSyntaxesNotSupported);

  auto fault = *FromHex("05000303" "00000000" "0020" "0000" "00000009"
                        "00000000" "0000" "00" "00" "1c010003" "00000000");
  auto f = DecodePdu(fault);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(std::get<FaultBody>(f->body).status, nca_s_unknown_if);
}

TEST(PduCodec, BindTimeFeatureNegotiation) {
  SyntaxId btfn{*Guid::Parse("6cb71c2c-9812-4540-0300-000000000000"), 1, 0};
  uint64_t bits = 0;
  EXPECT_TRUE(IsBindTimeFeatureNegotiation(btfn, &bits));
  EXPECT_EQ(bits, 3u);
  EXPECT_FALSE(IsBindTimeFeatureNegotiation(Ndr20Syntax(), nullptr));
}

// Case 1: a version other than 5.0 is read, so the server can bind_nak it,
// but refused by validation.
TEST(PduCodec, WrongVersionIsPeekableButInvalid) {
  std::vector<uint8_t> bytes = EncodePdu(Bind());
  bytes[1] = 1;
  auto h = PeekHeader(bytes);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rpc_vers_minor, 1);
  EXPECT_FALSE(ValidateHeader(*h, bytes.size()).ok());
  EXPECT_FALSE(DecodePdu(bytes).ok());
}

// Case 7: malformed headers are typed errors, never crashes.
TEST(PduCodec, MalformedHeadersAreProtocolErrors) {
  std::vector<uint8_t> good = EncodePdu(Bind());
  struct Case {
    const char* what;
    size_t offset;
    uint8_t value;
  } cases[] = {
      {"rpc_vers 4", 0, 4},
      {"frag_length below 16", 8, 15},
      {"frag_length larger than the bytes", 8, 73},
      {"frag_length smaller than the bytes", 8, 71},
      {"auth_length beyond frag_length", 10, 80},
      {"auth_length 8 without room for a trailer", 10, 60},
      {"drep[1] nonzero", 5, 1},
      {"drep[3] nonzero", 7, 1},
      {"EBCDIC", 4, 0x11},
      {"n_context_elem too large", 24, 2},
      {"n_transfer_syn too large", 30, 5},
      {"a datagram PDU type", 2, 1},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> b = good;
    b[c.offset] = c.value;
    auto pdu = DecodePdu(b);
    ASSERT_FALSE(pdu.ok()) << c.what;
    EXPECT_EQ(pdu.status().code(), RPC_S_PROTOCOL_ERROR) << c.what;
  }
  EXPECT_FALSE(DecodePdu(std::vector<uint8_t>(15, 0)).ok());
}

TEST(PduCodec, AuthPadLongerThanTheStubIsRefused) {
  Pdu p;
  p.header.type = PduType::kRequest;
  p.body = RequestBody{0, 0, 0, std::nullopt, {1, 2, 3, 4}};
  p.auth = SecTrailer{10, 5, 0, 0, 1, std::vector<uint8_t>(16)};
  std::vector<uint8_t> b = EncodePdu(p);
  b[b.size() - 16 - 8 + 2] = 200;  // auth_pad_length
  EXPECT_FALSE(DecodePdu(b).ok());
}

// Found by the fuzz target: a context with no transfer syntaxes is 24 bytes,
// and a bind holding one must re-encode to bytes that decode again.
TEST(PduCodec, ContextWithoutTransferSyntaxesRoundTrips) {
  Pdu p = Bind();
  auto& b = std::get<BindBody>(p.body);
  b.contexts.push_back({1, kEcho, {}});
  std::vector<uint8_t> once = EncodePdu(p);
  auto back = DecodePdu(once);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(std::get<BindBody>(back->body).contexts[1].transfer_syntaxes.empty());
  EXPECT_EQ(EncodePdu(*back), once);
}

TEST(PduCodec, EveryTruncationFails) {
  std::vector<uint8_t> good = EncodePdu(Bind());
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> prefix(good.begin(), good.begin() + n);
    // frag_length still says 72: every prefix is refused.
    EXPECT_FALSE(DecodePdu(prefix).ok()) << n;
  }
}

}  // namespace
}  // namespace comsec::rpc
