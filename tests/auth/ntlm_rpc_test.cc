// NTLM inside DCE/RPC: the server state machine fed with PDUs that our
// NTLM client context protects, and an attacker's edits to them
// (conformance cases 17, 18, 24, 25, 26, 27), plus our client and server
// over real sockets at every level on both transports, and a server whose
// signatures are corrupted (our client must refuse its responses).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/rpc/server_connection.h"
#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using auth::ntlm::AccountRecord;
using auth::ntlm::AccountSource;
using auth::ntlm::ClientCredentials;
using auth::ntlm::NtlmPackage;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
const SyntaxId kStrict{*Guid::Parse("11111111-2222-3333-4444-555555555555"), 1, 0};
constexpr uint32_t kCtxId = 79231;

class OneAccount : public AccountSource {
 public:
  std::string DomainName() const override { return "RPCDOM"; }
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override {
    if (user != "alice") return std::optional<AccountRecord>();
    AccountRecord a;
    a.name = "alice";
    a.nt_hash = auth::ntlm::NtHash(u"pw");
    a.user_sid = security::Sid(5, {21, 9, 9, 9, 1000});
    return std::optional<AccountRecord>(a);
  }
};

ClientCredentials Alice() {
  ClientCredentials c;
  c.user = "alice";
  c.password = "pw";
  return c;
}

// ==== The state machine ====================================================

class NtlmConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    auto count = [this](std::span<const uint8_t> stub, const CallContext& c)
        -> Result<std::vector<uint8_t>> {
      ++invocations_;
      last_level_ = c.security.authn_level;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    };
    InterfaceRegistration echo;
    echo.syntax = kEcho;
    echo.operations = {count, count};
    registry_.Register(std::move(echo));
    InterfaceRegistration strict;
    strict.syntax = kStrict;
    strict.min_authn_level = AuthnLevel::kPktIntegrity;
    strict.operations = {count};
    registry_.Register(std::move(strict));
    auth::ntlm::ServerOptions o;
    o.validator = &validator_;
    server_pkg_ = std::make_unique<NtlmPackage>(o);
    packages_.Add(server_pkg_.get());
    Reset();
  }

  // A fresh connection, as a new client would open.
  void Reset() {
    conn_ = std::make_unique<ServerConnection>(&registry_, ServerLimits{}, false, "135");
    conn_->SetPackages(&packages_);
    conn_->SetPeerDescription("203.0.113.5:6000");
    invocations_ = 0;
    open_ = true;
  }

  std::vector<Pdu> Send(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    open_ = conn_->OnFragment(bytes, out);
    std::vector<Pdu> r;
    raw_replies_ = out;
    for (const auto& f : out) r.push_back(*DecodePdu(f));
    return r;
  }

  // bind (NEGOTIATE) → bind_ack (CHALLENGE) → auth3 (AUTHENTICATE).
  void Authenticate(AuthnLevel level, const SyntaxId& syntax = kEcho, bool header_sign = true) {
    level_ = level;
    rpc::testing::TestConnection info;
    info.auth_level = level;
    info.local_address = "203.0.113.5:6000";
    client_pkg_ = std::make_unique<NtlmPackage>(Alice());
    client_ = std::move(*StartClientContext(*client_pkg_, info));
    Pdu bind;
    bind.header.type = PduType::kBind;
    bind.header.call_id = 1;
    if (header_sign) bind.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, syntax, {Ndr20Syntax()}});
    bind.body = b;
    bind.auth =
        SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(level), 0, 0, kCtxId, *Leg(*client_, {})};
    auto ack = Send(EncodePdu(bind));
    ASSERT_EQ(ack.size(), 1u);
    ASSERT_EQ(ack[0].header.type, PduType::kBindAck);
    header_signing_echoed_ = ack[0].header.pfc_flags & PFC_SUPPORT_HEADER_SIGN;
    auto authenticate = Leg(*client_, ack[0].auth->auth_value);
    ASSERT_TRUE(authenticate.ok()) << authenticate.status().ToString();
    Pdu auth3;
    auth3.header.type = PduType::kAuth3;
    auth3.header.call_id = 2;
    auth3.body = EmptyBody{};
    auth3.auth = SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(level), 0, 0, kCtxId, *authenticate};
    EXPECT_TRUE(Send(EncodePdu(auth3)).empty());
    ASSERT_TRUE(open_);
  }

  // A request our client protects at the context's level.
  std::vector<uint8_t> Request(uint32_t call_id, std::vector<uint8_t> stub,
                               uint16_t opnum = 0, uint8_t flags = PFC_FIRST_FRAG | PFC_LAST_FRAG) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = flags;
    p.body = RequestBody{0, 0, opnum, std::nullopt, std::move(stub)};
    p.auth = SecTrailer{RPC_C_AUTHN_WINNT,          WireAuthnLevel(level_), 0, 0, kCtxId,
                        std::vector<uint8_t>(16, 0)};
    auto bytes = EncodePdu(p);
    std::span<uint8_t> sig(bytes.data() + bytes.size() - 16, 16);
    EXPECT_TRUE(ProtectPdu(*client_, bytes, kHeaderSize + 8, bytes.size() - 16 - kSecTrailerSize,
                                 level_, sig)
                    .ok());
    return bytes;
  }

  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  CapturedLog log_;
  OneAccount accounts_;
  auth::ntlm::LocalLogonValidator validator_{&accounts_, {}};
  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<NtlmPackage> server_pkg_, client_pkg_;
  std::unique_ptr<ServerConnection> conn_;
  std::unique_ptr<SecurityContext> client_;
  std::vector<std::vector<uint8_t>> raw_replies_;
  AuthnLevel level_ = AuthnLevel::kNone;
  bool open_ = true;
  bool header_signing_echoed_ = false;
  int invocations_ = 0;
  AuthnLevel last_level_ = AuthnLevel::kNone;
};

TEST_F(NtlmConnection, SignedCallRoundTripsAndTheResponseVerifies) {
  Authenticate(AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(header_signing_echoed_);  // case 27: PFC_SUPPORT_HEADER_SIGN echoed
  auto r = Send(Request(3, {1, 2, 3, 4, 5}));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(invocations_, 1);
  EXPECT_EQ(last_level_, AuthnLevel::kPktIntegrity);
  // Our client context verifies the server's signature.
  auto bytes = raw_replies_[0];
  std::vector<uint8_t> sig(bytes.end() - 16, bytes.end());
  EXPECT_TRUE(VerifyPdu(*client_, bytes, kHeaderSize + 8, bytes.size() - 16 - kSecTrailerSize,
                        AuthnLevel::kPktIntegrity, sig)
                  .ok());
}

TEST_F(NtlmConnection, SealedCallRoundTrips) {
  Authenticate(AuthnLevel::kPktPrivacy);
  std::vector<uint8_t> secret = {'s', 'e', 'c', 'r', 'e', 't', '!', '!'};
  auto req = Request(3, secret);
  // The stub is not on the wire in clear.
  EXPECT_EQ(std::search(req.begin(), req.end(), secret.begin(), secret.end()), req.end());
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  auto bytes = raw_replies_[0];
  EXPECT_EQ(std::search(bytes.begin(), bytes.end(), secret.begin(), secret.end()), bytes.end());
  std::vector<uint8_t> sig(bytes.end() - 16, bytes.end());
  ASSERT_TRUE(VerifyPdu(*client_, bytes, kHeaderSize + 8, bytes.size() - 16 - kSecTrailerSize,
                        AuthnLevel::kPktPrivacy, sig)
                  .ok());
  EXPECT_TRUE(std::equal(secret.begin(), secret.end(), bytes.begin() + kHeaderSize + 8));
}

TEST_F(NtlmConnection, Case17ConnectLevelBindToAnIntegrityInterface) {
  Authenticate(AuthnLevel::kConnect, kStrict);
  Pdu p;
  p.header.type = PduType::kRequest;
  p.header.call_id = 3;
  p.body = RequestBody{0, 0, 0, std::nullopt, {}};
  auto r = Send(EncodePdu(p));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
  const std::string why = conn_->close_reason();
  EXPECT_NE(why.find(kStrict.uuid.ToString()), std::string::npos) << why;
  EXPECT_NE(why.find("level 2"), std::string::npos) << why;
  EXPECT_NE(why.find("RPCDOM\\alice"), std::string::npos) << why;
}

TEST_F(NtlmConnection, Case18DowngradedRequestsAreRefused) {
  Authenticate(AuthnLevel::kPktIntegrity);
  // No verifier at all.
  Pdu p;
  p.header.type = PduType::kRequest;
  p.header.call_id = 3;
  p.body = RequestBody{0, 0, 0, std::nullopt, {9}};
  auto r = Send(EncodePdu(p));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
  // A verifier claiming CONNECT.
  Reset();
  Authenticate(AuthnLevel::kPktIntegrity);
  p.auth = SecTrailer{RPC_C_AUTHN_WINNT,       WireAuthnLevel(AuthnLevel::kConnect), 0, 0, kCtxId,
                      std::vector<uint8_t>(16)};
  r = Send(EncodePdu(p));
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

TEST_F(NtlmConnection, Case24FlippedStubByteIsRefused) {
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    Reset();
    Authenticate(level);
    auto req = Request(3, std::vector<uint8_t>(40, 0x33));
    req[kHeaderSize + 8 + 5] ^= 0x01;
    auto r = Send(req);
    ASSERT_EQ(r.size(), 1u) << int(level);
    EXPECT_EQ(r[0].header.type, PduType::kFault);
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 0);
  }
}

TEST_F(NtlmConnection, Case25ReplayAndReorderAreRefused) {
  Authenticate(AuthnLevel::kPktIntegrity);
  auto first = Request(3, {1});
  ASSERT_EQ(Send(first)[0].header.type, PduType::kResponse);
  auto r = Send(first);  // the exact bytes again
  EXPECT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_NE(conn_->close_reason().find("sequence"), std::string::npos) << conn_->close_reason();
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 1);

  Reset();
  Authenticate(AuthnLevel::kPktIntegrity);
  auto a = Request(3, {1});
  auto b = Request(4, {2});
  r = Send(b);  // b before a
  EXPECT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

TEST_F(NtlmConnection, Case26EveryFragmentCarriesTheSameVerifier) {
  Authenticate(AuthnLevel::kPktIntegrity);
  EXPECT_TRUE(Send(Request(3, std::vector<uint8_t>(100, 1), 0, PFC_FIRST_FRAG)).empty());
  // The last fragment without a verifier.
  Pdu last;
  last.header.type = PduType::kRequest;
  last.header.call_id = 3;
  last.header.pfc_flags = PFC_LAST_FRAG;
  last.body = RequestBody{0, 0, 0, std::nullopt, {2}};
  auto r = Send(EncodePdu(last));
  EXPECT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_FALSE(open_);
  EXPECT_EQ(invocations_, 0);
}

TEST_F(NtlmConnection, Case27HeaderFieldsAreSigned) {
  struct Edit {
    const char* what;
    size_t offset;
  };
  // call_id at 12, context_id at 20, opnum at 22 of a request.
  for (Edit e : {Edit{"call_id", 12}, Edit{"context_id", 20}, Edit{"opnum", 22}}) {
    Reset();
    Authenticate(AuthnLevel::kPktIntegrity);
    auto req = Request(3, {7, 7, 7, 7});
    req[e.offset] ^= 0x01;
    auto r = Send(req);
    ASSERT_EQ(r.size(), 1u) << e.what;
    EXPECT_EQ(r[0].header.type, PduType::kFault) << e.what;
    EXPECT_FALSE(open_) << e.what;
    EXPECT_EQ(invocations_, 0) << e.what;
  }
}

// Several auth contexts on one association: an alter_context with a new
// auth_context_id runs a second NTLM handshake (NEGOTIATE in the
// alter_context, CHALLENGE in its response, AUTHENTICATE in auth3), and
// requests may then use either context.
TEST_F(NtlmConnection, SecondAuthContextByAlterContext) {
  Authenticate(AuthnLevel::kPktIntegrity);
  constexpr uint32_t kSecond = 2;
  rpc::testing::TestConnection info;
  info.auth_level = AuthnLevel::kPktPrivacy;
  info.local_address = "203.0.113.5:6000";
  auto second = std::move(*StartClientContext(*client_pkg_, info));
  Pdu alter;
  alter.header.type = PduType::kAlterContext;
  alter.header.call_id = 3;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = 5840;
  b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
  alter.body = b;
  alter.auth = SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(AuthnLevel::kPktPrivacy), 0, 0, kSecond,
                          *Leg(*second, {})};
  auto resp = Send(EncodePdu(alter));
  ASSERT_EQ(resp.size(), 1u);
  ASSERT_EQ(resp[0].header.type, PduType::kAlterContextResp);
  auto authenticate = Leg(*second, resp[0].auth->auth_value);
  ASSERT_TRUE(authenticate.ok());
  Pdu auth3;
  auth3.header.type = PduType::kAuth3;
  auth3.header.call_id = 4;
  auth3.body = EmptyBody{};
  auth3.auth = SecTrailer{RPC_C_AUTHN_WINNT, WireAuthnLevel(AuthnLevel::kPktPrivacy), 0, 0, kSecond,
                          *authenticate};
  EXPECT_TRUE(Send(EncodePdu(auth3)).empty());
  ASSERT_TRUE(open_);
  // A sealed request on the second context.
  Pdu p;
  p.header.type = PduType::kRequest;
  p.header.call_id = 5;
  p.body = RequestBody{0, 0, 0, std::nullopt, {1, 2, 3, 4}};
  p.auth =
      SecTrailer{RPC_C_AUTHN_WINNT,          WireAuthnLevel(AuthnLevel::kPktPrivacy), 0, 0, kSecond,
                 std::vector<uint8_t>(16, 0)};
  auto bytes = EncodePdu(p);
  std::span<uint8_t> sig(bytes.data() + bytes.size() - 16, 16);
  ASSERT_TRUE(
      ProtectPdu(*second, bytes, kHeaderSize + 8, bytes.size() - 24, AuthnLevel::kPktPrivacy, sig)
          .ok());
  auto r = Send(bytes);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(last_level_, AuthnLevel::kPktPrivacy);
  // And the first context still works.
  r = Send(Request(6, {9}));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(last_level_, AuthnLevel::kPktIntegrity);
  EXPECT_EQ(invocations_, 2);
}

// Only with ServerOptions::allow_unverified_requests; refused by default
// (tests/rpc/unverified_request_test.cc).
TEST_F(NtlmConnection, ImpacketStyleUnsignedRequestsAtPktCountAsConnect) {
  conn_->AllowUnverifiedRequests(true);
  Authenticate(AuthnLevel::kPkt);
  Pdu p;
  p.header.type = PduType::kRequest;
  p.header.call_id = 3;
  p.body = RequestBody{0, 0, 0, std::nullopt, {9}};
  auto r = Send(EncodePdu(p));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(last_level_, AuthnLevel::kConnect);
  EXPECT_FALSE(r[0].auth.has_value());
  // A signed request on the same association has PKT's protection.
  auto signed_req = Request(4, {1});
  r = Send(signed_req);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(last_level_, AuthnLevel::kPkt);
}

// ==== Real sockets: our client and server ==================================

class NtlmLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.min_authn_level = AuthnLevel::kConnect;
    r.operations.push_back([this](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::lock_guard<std::mutex> lock(mu_);
      principal_ = c.security.principal;
      level_ = c.security.authn_level;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    auth::ntlm::ServerOptions o;
    o.validator = &validator_;
    o.logger = log_.logger();
    server_pkg_ = std::make_unique<NtlmPackage>(o);
    misbehaving_ = std::make_unique<MisbehavingPackage>(server_pkg_.get(), Misbehaviour{});
    packages_.Add(misbehaving_.get());
    ServerOptions options;
    options.packages = &packages_;
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&registry_, options);
    // A private directory: ncalrpc refuses one others may write, as /tmp.
    std::string dir = "/tmp/comsec-ntlm-XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    path_ = dir + "/ntlm.sock";
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + path_));
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(std::filesystem::path(path_).parent_path());
  }

  CapturedLog log_;
  OneAccount accounts_;
  auth::ntlm::LocalLogonValidator validator_{&accounts_, {}};
  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<NtlmPackage> server_pkg_;
  std::unique_ptr<MisbehavingPackage> misbehaving_;
  std::unique_ptr<Server> server_;
  std::string path_;
  StringBinding local_, tcp_;
  std::mutex mu_;
  std::string principal_;
  AuthnLevel level_ = AuthnLevel::kNone;
};

TEST_F(NtlmLoopback, EveryLevelOnBothTransports) {
  NtlmPackage client_pkg(Alice());
  for (const StringBinding& binding : {tcp_, local_}) {
    for (AuthnLevel level : testing::kEveryAuthenticatedLevel) {
      auto client = Client::Connect(binding);
      ASSERT_TRUE(client.ok());
      ClientAuth a{&client_pkg, level};
      ASSERT_TRUE((*client)->Bind(kEcho, &a).ok()) << binding.ToString() << " " << int(level);
      std::vector<uint8_t> big(50000);
      for (size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<uint8_t>(i * 7 + security::ToNumber(level));
      for (int call = 0; call < 3; ++call) {
        auto r = (*client)->Call(0, big);
        ASSERT_TRUE(r.ok()) << binding.ToString() << " level " << int(level) << ": "
                            << r.status().ToString();
        EXPECT_EQ(*r, big);
      }
      std::lock_guard<std::mutex> lock(mu_);
      EXPECT_EQ(principal_, "RPCDOM\\alice");
      EXPECT_EQ(level_, level);
    }
  }
}

TEST_F(NtlmLoopback, ClientRefusesACorruptedServerSignature) {
  Misbehaviour hooks;
  hooks.corrupt_signature_after = 1;  // the second response is corrupted
  misbehaving_->set(hooks);
  NtlmPackage client_pkg(Alice());
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    auto client = Client::Connect(tcp_);
    ClientAuth a{&client_pkg, level};
    ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());
    EXPECT_TRUE((*client)->Call(0, std::vector<uint8_t>{1, 2}).ok());
    auto r = (*client)->Call(0, std::vector<uint8_t>{3, 4});
    ASSERT_FALSE(r.ok()) << int(level);
    EXPECT_EQ(r.status().code(), SEC_E_MESSAGE_ALTERED) << r.status().ToString();
  }
}

TEST_F(NtlmLoopback, WrongPasswordIsRefusedAndLoggedWithThePeer) {
  ClientCredentials c = Alice();
  c.password = "nope";
  NtlmPackage client_pkg(c);
  auto client = Client::Connect(tcp_);
  ClientAuth a{&client_pkg, AuthnLevel::kPktPrivacy};
  ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());  // auth3 has no reply
  auto r = (*client)->Call(0, std::vector<uint8_t>{1});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_ACCESSDENIED) << r.status().ToString();
  server_->Stop();
  // The package's warning that it has no reflection registry (from when
  // it was made), its refusal, then the connection's close, each naming
  // the peer; the server's log holds nothing else.
  const auto refused = log_.Named("ntlm.logon_refused");
  ASSERT_EQ(refused.size(), 1u);
  ASSERT_TRUE(refused[0].peer && refused[0].peer->starts_with("127.0.0.1:"));
  const std::string peer = *refused[0].peer;
  const std::string wrong = "wrong password (the NTLMv2 proof does not match the account's hash)";
  const std::string why =
      "authentication failed in auth3: logon of RPCDOM\\alice refused: " + wrong;
  EXPECT_EQ(log_.events(),
            (std::vector<LogEvent>{
                LogEvent("ntlm.no_reflection_registry", LogSeverity::kWarning,
                         "this server has no reflection registry: an AUTHENTICATE relayed "
                         "from a client in this process would not be recognized (MS08-068)"),
                LogEvent("ntlm.logon_refused", LogSeverity::kWarning,
                         "logon of RPCDOM\\alice refused: " + wrong)
                    .Peer(peer)
                    .Principal("RPCDOM\\alice")
                    .AuthnLevel(6, "RPC_C_AUTHN_LEVEL_PKT_PRIVACY")
                    .Reason(wrong)
                    .Hresult(SEC_E_LOGON_DENIED),
                LogEvent("rpc.connection_closed", LogSeverity::kNotice,
                         "closing connection from " + peer + ": " + why)
                    .Peer(peer)
                    .Reason(why)}));
}

}  // namespace
}  // namespace comsec::rpc
