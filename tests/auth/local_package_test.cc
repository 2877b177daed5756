// The security framework of the RPC server, driven through the local
// (ncalrpc) package: conformance cases 17–22, 24 and 26 at the level of
// verifiers and contexts. NTLM brings the cryptographic halves of 24/25.
#include "comsec/auth/peer_cred/local_package.h"

#include <gtest/gtest.h>

#include "comsec/rpc/server_connection.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
const SyntaxId kStrict{*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};

class Auth : public ::testing::Test {
 protected:
  void SetUp() override { Reset(true); }

  void Reset(bool local, size_t max_contexts = 2049) {
    registry_ = std::make_unique<InterfaceRegistry>();
    InterfaceRegistration echo;
    echo.syntax = kEcho;
    echo.operations.push_back([this](std::span<const uint8_t> stub, const CallContext& c)
                                  -> Result<std::vector<uint8_t>> {
      ++invocations_;
      last_ = c;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_->Register(std::move(echo));
    InterfaceRegistration strict;
    strict.syntax = kStrict;
    strict.min_authn_level = AuthnLevel::kPktIntegrity;
    strict.operations.push_back([this](std::span<const uint8_t>, const CallContext&)
                                    -> Result<std::vector<uint8_t>> {
      ++invocations_;
      return std::vector<uint8_t>{};
    });
    registry_->Register(std::move(strict));
    packages_.Add(&local_);
    ServerLimits limits;
    limits.max_auth_contexts = max_contexts;
    conn_ = std::make_unique<ServerConnection>(registry_.get(), limits, local, "x");
    conn_->SetPackages(&packages_);
    if (local) conn_->SetPeer(0, 0, 1234);
    open_ = true;
    invocations_ = 0;
  }

  std::vector<Pdu> Send(const Pdu& p) { return SendBytes(EncodePdu(p)); }
  std::vector<Pdu> SendBytes(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    open_ = conn_->OnFragment(bytes, out);
    std::vector<Pdu> replies;
    for (const auto& f : out) replies.push_back(*DecodePdu(f));
    return replies;
  }

  // sig == 0 gives a handshake verifier (the local token); otherwise a
  // per-PDU verifier with a `sig`-byte zero signature. `level` is the
  // auth_level byte as sent, valid or not.
  static SecTrailer WireVerifier(uint8_t level, uint32_t context_id = 1,
                                 uint8_t type = RPC_C_AUTHN_KERNEL, size_t sig = 0) {
    std::vector<uint8_t> value(sig, 0);
    if (sig == 0) value.assign(auth::kLocalToken.begin(), auth::kLocalToken.end());
    return SecTrailer{type, level, 0, 0, context_id, value};
  }
  static SecTrailer Verifier(AuthnLevel level, uint32_t context_id = 1,
                             uint8_t type = RPC_C_AUTHN_KERNEL, size_t sig = 0) {
    return WireVerifier(WireAuthnLevel(level), context_id, type, sig);
  }
  static Pdu Bind(const SyntaxId& s, std::optional<SecTrailer> auth,
                  PduType type = PduType::kBind, uint16_t context_id = 0) {
    Pdu p;
    p.header.type = type;
    p.header.call_id = 1;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 4280;
    b.contexts.push_back({context_id, s, {Ndr20Syntax()}});
    p.body = b;
    p.auth = std::move(auth);
    return p;
  }
  static Pdu Request(uint32_t call_id, std::optional<SecTrailer> auth,
                     std::vector<uint8_t> stub = {1, 2, 3},
                     uint8_t flags = PFC_FIRST_FRAG | PFC_LAST_FRAG) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = flags;
    p.body = RequestBody{0, 0, 0, std::nullopt, std::move(stub)};
    p.auth = std::move(auth);
    return p;
  }
  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  std::unique_ptr<InterfaceRegistry> registry_;
  auth::LocalPackage local_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<ServerConnection> conn_;
  bool open_ = true;
  int invocations_ = 0;
  CallContext last_;
};

TEST_F(Auth, PrivacyCallsCarryVerifiersBothWays) {
  auto ack = Send(Bind(kEcho, Verifier(AuthnLevel::kPktPrivacy)));
  ASSERT_EQ(ack[0].header.type, PduType::kBindAck);
  ASSERT_TRUE(ack[0].auth.has_value());
  EXPECT_EQ(ack[0].auth->auth_type, RPC_C_AUTHN_KERNEL);
  EXPECT_EQ(ack[0].auth->auth_context_id, 1u);
  auto r = Send(Request(2, Verifier(AuthnLevel::kPktPrivacy, 1, RPC_C_AUTHN_KERNEL, 16)));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(std::get<ResponseBody>(r[0].body).stub, (std::vector<uint8_t>{1, 2, 3}));
  ASSERT_TRUE(r[0].auth.has_value());
  EXPECT_EQ(r[0].auth->auth_level, 6);  // RPC_C_AUTHN_LEVEL_PKT_PRIVACY on the wire
  EXPECT_EQ(r[0].auth->auth_value.size(), 16u);
  EXPECT_EQ(last_.security.authn_level, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(last_.security.authn_svc, RPC_C_AUTHN_KERNEL);
  EXPECT_EQ(last_.security.principal, "unix:root");
}

TEST_F(Auth, LocalPackageRefusesTcp) {
  Reset(/*local=*/false);
  auto r = Send(Bind(kEcho, Verifier(AuthnLevel::kPktPrivacy)));
  EXPECT_EQ(std::get<BindNakBody>(r[0].body).reason, kNakAuthenticationTypeNotRecognized);
  EXPECT_FALSE(open_);
}

// Case 19.
TEST_F(Auth, Case19InvalidLevelsAndTypes) {
  // Bytes that name no level a verifier may carry: DEFAULT, NONE, and past
  // PKT_PRIVACY.
  for (uint8_t level : {0, 1, 7, 255}) {
    Reset(true);
    auto r = Send(Bind(kEcho, WireVerifier(level)));
    EXPECT_EQ(std::get<BindNakBody>(r[0].body).reason, kNakReasonNotSpecified) << int(level);
  }
  Reset(true);
  auto none = Send(Bind(kEcho, Verifier(AuthnLevel::kConnect, 1, RPC_C_AUTHN_NONE)));
  EXPECT_EQ(std::get<BindNakBody>(none[0].body).reason, kNakAuthenticationTypeNotRecognized);
  Reset(true);
  auto unknown = Send(Bind(kEcho, Verifier(AuthnLevel::kConnect, 1, 0x7F)));
  EXPECT_EQ(std::get<BindNakBody>(unknown[0].body).reason, kNakAuthenticationTypeNotRecognized);
}

// Case 17: a CONNECT-level bind to an interface that needs PKT_INTEGRITY.
TEST_F(Auth, Case17BelowTheInterfaceMinimum) {
  Send(Bind(kStrict, Verifier(AuthnLevel::kConnect)));
  auto r = Send(Request(2, std::nullopt));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
  // At PKT_INTEGRITY the same call runs.
  Reset(true);
  Send(Bind(kStrict, Verifier(AuthnLevel::kPktIntegrity)));
  auto ok = Send(Request(2, Verifier(AuthnLevel::kPktIntegrity, 1, RPC_C_AUTHN_KERNEL, 16)));
  EXPECT_EQ(ok[0].header.type, PduType::kResponse);
  EXPECT_EQ(invocations_, 1);
}

// Case 18: after an integrity bind, a request claiming CONNECT or carrying
// no verifier.
TEST_F(Auth, Case18DowngradedRequests) {
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  auto down = Send(Request(2, Verifier(AuthnLevel::kConnect)));
  EXPECT_EQ(FaultStatus(down[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  Reset(true);
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  auto none = Send(Request(2, std::nullopt));
  EXPECT_EQ(FaultStatus(none[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

// The local package's version of case 24: a verifier that is not its own.
TEST_F(Auth, Case24AlteredVerifier) {
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  SecTrailer bad = Verifier(AuthnLevel::kPktIntegrity, 1, RPC_C_AUTHN_KERNEL, 16);
  bad.auth_value[3] = 0xFF;
  auto r = Send(Request(2, bad));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

// Case 20: auth3 after completion.
TEST_F(Auth, Case20Auth3AfterCompletion) {
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  Pdu auth3;
  auth3.header.type = PduType::kAuth3;
  auth3.header.call_id = 3;
  auth3.auth = Verifier(AuthnLevel::kPktIntegrity);
  auto r = Send(auth3);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
}

// Case 21: alter_context may not change a context's level or package.
TEST_F(Auth, Case21AlterChangesContext) {
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  auto level = Send(Bind(kEcho, Verifier(AuthnLevel::kPktPrivacy), PduType::kAlterContext));
  EXPECT_EQ(FaultStatus(level[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  Reset(true);
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity)));
  auto type = Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, 1, RPC_C_AUTHN_WINNT),
                        PduType::kAlterContext));
  EXPECT_EQ(FaultStatus(type[0]), nca_s_fault_sec_pkg_error);
  EXPECT_FALSE(open_);
}

// Case 22: new contexts through alter_context up to the limit, then refused.
TEST_F(Auth, Case22AuthContextLimit) {
  Reset(true, /*max_contexts=*/4);
  Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, 1)));
  for (uint32_t id = 2; id <= 4; ++id) {
    auto r = Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, id), PduType::kAlterContext));
    ASSERT_EQ(r[0].header.type, PduType::kAlterContextResp) << id;
    auto call =
        Send(Request(10 + id, Verifier(AuthnLevel::kPktIntegrity, id, RPC_C_AUTHN_KERNEL, 16)));
    EXPECT_EQ(call[0].header.type, PduType::kResponse) << id;
  }
  auto over = Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, 5), PduType::kAlterContext));
  EXPECT_EQ(FaultStatus(over[0]), nca_s_proto_error);
  EXPECT_FALSE(open_);
}

// Case 26: every fragment carries the first fragment's verifier.
TEST_F(Auth, Case26FragmentVerifiersMustMatch) {
  struct Variant {
    const char* what;
    std::optional<SecTrailer> last;
  } variants[] = {
      {"no verifier", std::nullopt},
      {"another context", Verifier(AuthnLevel::kPktIntegrity, 2, RPC_C_AUTHN_KERNEL, 16)},
      {"another level", Verifier(AuthnLevel::kPktPrivacy, 1, RPC_C_AUTHN_KERNEL, 16)},
  };
  for (const Variant& v : variants) {
    Reset(true);
    Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, 1)));
    Send(Bind(kEcho, Verifier(AuthnLevel::kPktIntegrity, 2), PduType::kAlterContext));
    auto first = Send(Request(7, Verifier(AuthnLevel::kPktIntegrity, 1, RPC_C_AUTHN_KERNEL, 16),
                              {1}, PFC_FIRST_FRAG));
    EXPECT_TRUE(first.empty()) << v.what;
    auto last = Send(Request(7, v.last, {2}, PFC_LAST_FRAG));
    ASSERT_FALSE(last.empty()) << v.what;
    EXPECT_EQ(last[0].header.type, PduType::kFault) << v.what;
    EXPECT_FALSE(open_) << v.what;
    EXPECT_EQ(invocations_, 0) << v.what;
  }
}

// CONNECT level: requests may omit the verifier; the call runs at CONNECT.
TEST_F(Auth, ConnectLevelCallsNeedNoVerifier) {
  Send(Bind(kEcho, Verifier(AuthnLevel::kConnect)));
  auto r = Send(Request(2, std::nullopt));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_FALSE(r[0].auth.has_value());
  EXPECT_EQ(last_.security.authn_level, AuthnLevel::kConnect);
}

}  // namespace
}  // namespace comsec::rpc

namespace comsec::rpc {
namespace {

// The server's view of a client granting `granted`, from the tokens alone.
Result<security::ImpLevel> ServerSees(std::vector<uint8_t> client_token) {
  auth::LocalPackage package;
  StartParams s;
  s.role = Role::kServer;
  s.connection.local = true;
  s.connection.has_peer = true;
  s.connection.peer_uid = 0;
  COMSEC_ASSIGN_OR_RETURN(auto server, package.Start(s));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult answer, server->Update(client_token));
  if (!answer.done) return Status(E_UNEXPECTED, "the server's one leg did not complete");
  return server->imp_level();
}

std::vector<uint8_t> ClientToken(security::ImpLevel granted) {
  auth::LocalPackage package;
  StartParams c;
  c.role = Role::kClient;
  c.imp_level = granted;
  c.connection.local = true;
  auto client = package.Start(c);
  EXPECT_TRUE(client.ok());
  auto first = (*client)->Update({});
  EXPECT_TRUE(first.ok());
  return first->output;
}

// R109 needs the client's grant to reach the server: IDENTIFY and
// ANONYMOUS travel as a ninth byte, IMPERSONATE and DELEGATE keep the
// original 8-byte token (IMPERSONATE on the server: the local package
// cannot delegate beyond the machine).
TEST(LocalPackage, R109_TheClientsImpersonationLevelReachesTheServer) {
  using security::ImpLevel;
  EXPECT_EQ(ClientToken(ImpLevel::kImpersonate).size(), auth::kLocalToken.size());
  EXPECT_EQ(*ServerSees(ClientToken(ImpLevel::kImpersonate)), ImpLevel::kImpersonate);
  EXPECT_EQ(*ServerSees(ClientToken(ImpLevel::kDelegate)), ImpLevel::kImpersonate);
  EXPECT_EQ(*ServerSees(ClientToken(ImpLevel::kIdentify)), ImpLevel::kIdentify);
  EXPECT_EQ(*ServerSees(ClientToken(ImpLevel::kAnonymous)), ImpLevel::kAnonymous);
}

TEST(LocalPackage, AMalformedLevelByteIsRefused) {
  std::vector<uint8_t> token(auth::kLocalToken.begin(), auth::kLocalToken.end());
  for (uint8_t bad : {0, 3, 4, 5, 255}) {
    std::vector<uint8_t> t = token;
    t.push_back(bad);
    EXPECT_EQ(ServerSees(t).status().code(), SEC_E_INVALID_TOKEN) << int(bad);
  }
  std::vector<uint8_t> longer = token;
  longer.insert(longer.end(), {2, 2});
  EXPECT_EQ(ServerSees(longer).status().code(), SEC_E_INVALID_TOKEN);
  EXPECT_EQ(ServerSees({token.begin(), token.end() - 1}).status().code(), SEC_E_INVALID_TOKEN);
}

}  // namespace
}  // namespace comsec::rpc
