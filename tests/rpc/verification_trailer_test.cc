// The verification trailer ([MS-RPCE] 2.2.2.13): parsing, and the server's
// checks of conformance cases 27 (header2 without header signing) and 28.
#include "comsec/rpc/verification_trailer.h"

#include <gtest/gtest.h>

#include "comsec/rpc/server_connection.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
const SyntaxId kOther{*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};

VtHeader2 Header(uint32_t call_id, uint16_t opnum = 0) {
  VtHeader2 h;
  h.ptype = 0;
  h.drep = {0x10, 0, 0, 0};
  h.call_id = call_id;
  h.opnum = opnum;
  return h;
}

TEST(VerificationTrailer, AppendAndFind) {
  std::vector<uint8_t> stub = {1, 2, 3, 4, 5};
  AppendVerificationTrailer(stub, kEcho, Ndr20Syntax(), Header(9, 2), true);
  auto vt = FindVerificationTrailer(stub);
  ASSERT_TRUE(vt.ok());
  ASSERT_TRUE(vt->has_value());
  EXPECT_EQ((*vt)->stub_length, 8u);  // 5 bytes + 3 of alignment
  EXPECT_EQ((*vt)->pcontext->first, kEcho);
  EXPECT_EQ((*vt)->header2->call_id, 9u);
  EXPECT_EQ((*vt)->header2->opnum, 2);
  EXPECT_EQ(*(*vt)->bitmask1, SEC_VT_CLIENT_SUPPORTS_HEADER_SIGNING);
}

TEST(VerificationTrailer, AbsentAndMalformed) {
  std::vector<uint8_t> plain(64, 0x11);
  EXPECT_FALSE(FindVerificationTrailer(plain)->has_value());
  std::vector<uint8_t> stub;
  AppendVerificationTrailer(stub, kEcho, Ndr20Syntax(), Header(1), false);
  std::vector<uint8_t> truncated(stub.begin(), stub.end() - 1);
  // A signature whose commands do not parse is an error, never ignored.
  EXPECT_FALSE(FindVerificationTrailer(truncated).ok());
  std::vector<uint8_t> bad_len = stub;
  bad_len[8 + 2] = 41;  // pcontext length
  EXPECT_FALSE(FindVerificationTrailer(bad_len).ok());
}

class VtServer : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back([this](std::span<const uint8_t> stub, const CallContext&)
                               -> Result<std::vector<uint8_t>> {
      ++invocations_;
      last_stub_.assign(stub.begin(), stub.end());
      return std::vector<uint8_t>{};
    });
    registry_.Register(std::move(r));
    conn_ = std::make_unique<ServerConnection>(&registry_, ServerLimits{}, false, "");
    Pdu bind;
    bind.header.type = PduType::kBind;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 4280;
    b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
    bind.body = b;
    std::vector<std::vector<uint8_t>> out;
    conn_->OnFragment(EncodePdu(bind), out);
  }
  // Sends a request whose stub is {7,7,7,7} plus `trailer_bytes`.
  Pdu Call(const std::vector<uint8_t>& stub, uint32_t call_id = 5) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.body = RequestBody{0, 0, 0, std::nullopt, stub};
    std::vector<std::vector<uint8_t>> out;
    conn_->OnFragment(EncodePdu(p), out);
    return *DecodePdu(out.at(0));
  }
  static std::vector<uint8_t> Stub() { return {7, 7, 7, 7}; }

  InterfaceRegistry registry_;
  std::unique_ptr<ServerConnection> conn_;
  int invocations_ = 0;
  std::vector<uint8_t> last_stub_;
};

TEST_F(VtServer, ValidTrailerIsCheckedAndRemoved) {
  auto stub = Stub();
  AppendVerificationTrailer(stub, kEcho, Ndr20Syntax(), Header(5), false);
  EXPECT_EQ(Call(stub).header.type, PduType::kResponse);
  EXPECT_EQ(last_stub_, Stub());
}

// Case 28: pcontext naming another interface.
TEST_F(VtServer, Case28OtherInterface) {
  auto stub = Stub();
  AppendVerificationTrailer(stub, kOther, Ndr20Syntax(), Header(5), false);
  Pdu r = Call(stub);
  EXPECT_EQ(std::get<FaultBody>(r.body).status, nca_s_fault_access_denied);
  EXPECT_EQ(invocations_, 0);
}

// Case 28: bitmask1 claims header signing that was not negotiated.
TEST_F(VtServer, Case28HeaderSigningNotNegotiated) {
  auto stub = Stub();
  AppendVerificationTrailer(stub, kEcho, Ndr20Syntax(), Header(5), true);
  EXPECT_EQ(std::get<FaultBody>(Call(stub).body).status, nca_s_fault_access_denied);
}

// Case 27: header2 disagrees with the header (opnum, call id).
TEST_F(VtServer, Case27Header2Mismatch) {
  auto stub = Stub();
  AppendVerificationTrailer(stub, kEcho, Ndr20Syntax(), Header(5, 3), false);
  EXPECT_EQ(std::get<FaultBody>(Call(stub).body).status, nca_s_fault_access_denied);
  auto other_call = Stub();
  AppendVerificationTrailer(other_call, kEcho, Ndr20Syntax(), Header(99), false);
  EXPECT_EQ(std::get<FaultBody>(Call(other_call, 6).body).status,
            nca_s_fault_access_denied);
  EXPECT_EQ(invocations_, 0);
}

// Case 28: unknown commands — refused with MUST_PROCESS, ignored without.
TEST_F(VtServer, Case28UnknownCommands) {
  // Stub() followed by a trailer: the signature, then one command 0x77 with
  // a 4-byte value. Written out whole rather than appended piecemeal.
  auto with_unknown = [](uint16_t flags) {
    const uint16_t cmd = static_cast<uint16_t>(0x0077 | flags | SEC_VT_COMMAND_END);
    return std::vector<uint8_t>{
        7, 7, 7, 7,                                      // Stub()
        0x8a, 0xe3, 0x13, 0x71, 0x02, 0xf4, 0x36, 0x71,  // SEC_VT_SIGNATURE
        static_cast<uint8_t>(cmd), static_cast<uint8_t>(cmd >> 8),
        4, 0,  // length
        1, 2, 3, 4};
  };
  EXPECT_EQ(std::get<FaultBody>(Call(with_unknown(SEC_VT_MUST_PROCESS_COMMAND)).body).status,
            nca_s_fault_access_denied);
  EXPECT_EQ(Call(with_unknown(0), 6).header.type, PduType::kResponse);
  EXPECT_EQ(last_stub_, Stub());
}

}  // namespace
}  // namespace comsec::rpc
