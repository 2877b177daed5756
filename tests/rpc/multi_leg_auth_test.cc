// Handshakes of any number of legs and several authentication contexts,
// end to end through rpc::Client and rpc::Server on loopback TCP:
//   - the four-leg test package (test_package.h) at PKT_INTEGRITY and
//     PKT_PRIVACY, its legs seen on the wire as bind, bind_ack,
//     alter_context, alter_context_resp (no auth3) by a relay between
//     client and server, the handler told authn_svc 0xF0 and the
//     principal, the client's context reporting kFeatureMutualAuth;
//   - mutual authentication wanted from NTLM refused, before NTLM's
//     AUTHENTICATE goes to a server that proved nothing;
//   - a server that cannot prove itself refused in leg 2 with
//     SEC_E_MUTUAL_AUTH_FAILED, before the client's proof is sent;
//   - several authentication contexts on one association (NTLM as alice,
//     NTLM as bob, the test package), calls choosing theirs with
//     CallOptions::auth_context_id, one after another and at once;
//   - CallOptions::object reaching the handler.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/win32_error.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/server.h"
#include "test_package.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;
using security::ImpLevel;

using auth::ntlm::AccountRecord;
using auth::ntlm::AccountSource;
using auth::ntlm::ClientCredentials;
using auth::ntlm::NtlmCredentials;
using auth::ntlm::NtlmPackage;
using testing::kTestAuthType;
using testing::SharedSecretCredentials;
using testing::SharedSecretPackage;
using testing::SharedSecretServerOptions;

const SyntaxId kWho{*Guid::Parse("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d"), 1, 0};
const security::Sid kAliceSid(5, {21, 4, 4, 4, 1001});

// ==== A relay that records the PDUs between client and server ============

struct Recorded {
  bool from_client = false;
  PduType type = PduType::kRequest;
  std::optional<uint8_t> auth_type;
  std::vector<uint8_t> bytes;
};

// Accepts on 127.0.0.1 and forwards each connection to the server,
// fragment by fragment, recording each. Thread-safety: pdus() and
// WaitClosed() from the test's thread.
class RecordingRelay {
 public:
  explicit RecordingRelay(uint16_t server_port) : server_port_(server_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(listen_fd_, 8), 0);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~RecordingRelay() {
    shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    close(listen_fd_);
    WaitClosed();
  }

  StringBinding binding() const {
    return *StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[" + std::to_string(port_) + "]");
  }
  // Waits until every connection relayed so far has closed on both sides.
  // REQUIRES: their clients are gone (or the wait does not end).
  void WaitClosed() {
    std::vector<std::thread> pumps;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pumps.swap(pumps_);
    }
    for (auto& t : pumps) t.join();
  }
  std::vector<Recorded> pdus() {
    std::lock_guard<std::mutex> lock(mu_);
    return pdus_;
  }
  std::vector<PduType> types() {
    std::vector<PduType> t;
    for (const auto& r : pdus()) t.push_back(r.type);
    return t;
  }

 private:
  void AcceptLoop() {
    for (;;) {
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;
      int server = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(server_port_);
      if (connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(client);
        close(server);
        continue;
      }
      // Each pump owns the descriptor it reads; it closes that one when
      // its peer has closed and tells the other side it will send no more.
      int client_dup = dup(client), server_dup = dup(server);
      std::lock_guard<std::mutex> lock(mu_);
      pumps_.emplace_back([this, client, server_dup] { Pump(client, server_dup, true); });
      pumps_.emplace_back([this, server, client_dup] { Pump(server, client_dup, false); });
    }
  }

  static bool ReadExactly(int fd, uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t got = recv(fd, p, n, 0);
      if (got <= 0) return false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  void Pump(int from, int to, bool from_client) {
    for (;;) {
      std::vector<uint8_t> f(kHeaderSize);
      if (!ReadExactly(from, f.data(), kHeaderSize)) break;
      const size_t length = f[8] | (f[9] << 8);  // little-endian peers here
      if (length < kHeaderSize) break;
      f.resize(length);
      if (!ReadExactly(from, f.data() + kHeaderSize, length - kHeaderSize)) break;
      Recorded r;
      r.from_client = from_client;
      r.type = static_cast<PduType>(f[2]);
      auto pdu = DecodePdu(f);
      if (pdu.ok() && pdu->auth) r.auth_type = pdu->auth->auth_type;
      r.bytes = f;
      {
        std::lock_guard<std::mutex> lock(mu_);
        pdus_.push_back(std::move(r));
      }
      if (send(to, f.data(), f.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(f.size())) break;
    }
    shutdown(to, SHUT_WR);
    close(to);
    close(from);
  }

  uint16_t server_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::vector<Recorded> pdus_;
};

// ==== Accounts, packages, server ============================================

class TwoAccounts : public AccountSource {
 public:
  std::string DomainName() const override { return "RPCDOM"; }
  Result<std::optional<AccountRecord>> Lookup(std::string_view user) override {
    if (user != "alice" && user != "bob") return std::optional<AccountRecord>();
    AccountRecord a;
    a.name = std::string(user);
    a.nt_hash = auth::ntlm::NtHash(user == "alice" ? u"alice-pw" : u"bob-pw");
    a.user_sid = security::Sid(5, {21, 9, 9, 9, user == "alice" ? 1000u : 1001u});
    return std::optional<AccountRecord>(a);
  }
};

ClientCredentials NtlmUser(std::string user, std::string password) {
  ClientCredentials c;
  c.user = std::move(user);
  c.password = std::move(password);
  return c;
}

// Counts the legs the server's NTLM contexts were given.
class CountingPackage : public SecurityPackage {
 public:
  explicit CountingPackage(SecurityPackage* inner) : inner_(inner) {}
  uint8_t auth_type() const override { return inner_->auth_type(); }
  const char* name() const override { return inner_->name(); }
  Result<std::unique_ptr<SecurityContext>> Start(const StartParams& params) override {
    auto inner = inner_->Start(params);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<SecurityContext>(new Context(std::move(*inner), &legs_));
  }
  int legs() const { return legs_.load(); }

 private:
  class Context : public SecurityContext {
   public:
    Context(std::unique_ptr<SecurityContext> inner, std::atomic<int>* legs)
        : inner_(std::move(inner)), legs_(legs) {}
    Result<UpdateResult> Update(std::span<const uint8_t> input) override {
      ++*legs_;
      return inner_->Update(input);
    }
    bool IsComplete() const override { return inner_->IsComplete(); }
    uint32_t features() const override { return inner_->features(); }
    ImpLevel imp_level() const override { return inner_->imp_level(); }
    size_t SignatureSize(size_t n) const override { return inner_->SignatureSize(n); }
    Status Verify(const PduRegion& r) override { return inner_->Verify(r); }
    Status Protect(const PduRegion& r) override { return inner_->Protect(r); }
    std::string PeerName() const override { return inner_->PeerName(); }
    std::shared_ptr<const security::Token> PeerToken() const override {
      return inner_->PeerToken();
    }

   private:
    std::unique_ptr<SecurityContext> inner_;
    std::atomic<int>* legs_;
  };
  SecurityPackage* inner_;
  std::atomic<int> legs_{0};
};

SharedSecretServerOptions TestServerWithAliceSecret(std::string secret) {
  SharedSecretServerOptions o;
  o.accounts["alice"] = testing::SharedSecretAccount{std::move(secret), kAliceSid};
  return o;
}

// The handler answers with what it saw, so that each call checks its own:
// "<principal>|<authn_svc>|<authn_level>|<object or ->|<stub bytes>".
std::string Seen(const CallContext& c, std::span<const uint8_t> stub) {
  return c.security.principal + "|" + std::to_string(c.security.authn_svc) + "|" +
         std::to_string(security::ToNumber(c.security.authn_level)) + "|" +
         (c.object ? c.object->ToString() : std::string("-")) + "|" +
         std::string(stub.begin(), stub.end());
}

std::string AsString(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }
std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }
// A stub of a multiple of 4 bytes, as NDR stubs are: an authenticated
// request's verification trailer starts 4-aligned after the stub, so a
// handler sees the stub with its alignment padding ([MS-RPCE] 2.2.2.13).
std::string Aligned(std::string s) {
  while (s.size() % 4) s.push_back('_');
  return s;
}

class MultiLegAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kWho;
    r.min_authn_level = AuthnLevel::kConnect;
    r.operations.push_back([](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> { return Bytes(Seen(c, stub)); });
    registry_.Register(std::move(r));
    auth::ntlm::ServerOptions o;
    o.validator = &validator_;
    ntlm_server_ = std::make_unique<NtlmPackage>(o);
    counting_ntlm_ = std::make_unique<CountingPackage>(ntlm_server_.get());
    Serve(TestServerWithAliceSecret("alice-secret"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // (Re)starts the server with the test package configured as given.
  void Serve(SharedSecretServerOptions test_options) {
    if (server_) server_->Stop();
    server_.reset();
    test_server_ = std::make_unique<SharedSecretPackage>(std::move(test_options));
    packages_ = SecurityPackageRegistry();
    packages_.Add(counting_ntlm_.get());
    packages_.Add(test_server_.get());
    ServerOptions options;
    options.packages = &packages_;
    server_ = std::make_unique<Server>(&registry_, options);
    auto bound = server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    binding_ = *bound;
  }
  uint16_t port() const { return *binding_.Port(); }

  TwoAccounts accounts_;
  auth::ntlm::LocalLogonValidator validator_{&accounts_, {}};
  InterfaceRegistry registry_;
  std::unique_ptr<NtlmPackage> ntlm_server_;
  std::unique_ptr<CountingPackage> counting_ntlm_;
  std::unique_ptr<SharedSecretPackage> test_server_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<Server> server_;
  StringBinding binding_;

  SharedSecretPackage test_client_{
      std::make_shared<SharedSecretCredentials>("alice", "alice-secret")};
  NtlmPackage ntlm_client_{NtlmUser("alice", "alice-pw")};
};

// ==== Four legs end to end ==================================================

TEST_F(MultiLegAuth, FourLegsAtIntegrityAndPrivacyBindBindAckAlterContextAlterContextResp) {
  const std::string marker = "plaintext-marker-0123456789";
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    RecordingRelay relay(port());
    {
      auto client = Client::Connect(relay.binding());
      ASSERT_TRUE(client.ok()) << client.status().ToString();
      ClientAuth a{&test_client_, level};
      a.target_name = "testserver";
      a.wanted = kFeatureMutualAuth;
      a.context_id = 77;
      Status bound = (*client)->Bind(kWho, &a);
      ASSERT_TRUE(bound.ok()) << int(level) << ": " << bound.ToString();
      const SecurityContext* context = (*client)->auth_context(77);
      ASSERT_NE(context, nullptr);
      EXPECT_TRUE(context->features() & kFeatureMutualAuth);
      EXPECT_EQ(context->PeerName(), "testserver");

      // Stubs of many lengths: the signature's size follows each one at
      // PKT_PRIVACY; the large ones span several fragments.
      for (size_t n : {28, 32, 36, 40, 4100, 20012}) {
        std::string stub = Aligned(marker);
        for (size_t i = 0; stub.size() < n; ++i) stub.push_back(static_cast<char>('a' + i % 26));
        auto r = (*client)->Call(0, Bytes(stub));
        ASSERT_TRUE(r.ok()) << int(level) << " stub " << n << ": " << r.status().ToString();
        EXPECT_TRUE(AsString(*r) == "TESTREALM\\alice|240|" +
                                        std::to_string(security::ToNumber(level)) + "|-|" + stub)
            << int(level) << " stub " << n << ": " << AsString(*r).substr(0, 60);
      }
    }
    relay.WaitClosed();
    auto pdus = relay.pdus();
    ASSERT_GE(pdus.size(), 6u);
    const std::vector<PduType> handshake = {PduType::kBind, PduType::kBindAck,
                                            PduType::kAlterContext, PduType::kAlterContextResp};
    for (size_t i = 0; i < handshake.size(); ++i) {
      EXPECT_EQ(pdus[i].type, handshake[i]) << int(level) << " PDU " << i;
      EXPECT_EQ(pdus[i].from_client, i % 2 == 0);
      EXPECT_EQ(pdus[i].auth_type, std::optional<uint8_t>(kTestAuthType)) << i;
    }
    bool marker_on_wire = false;
    for (size_t i = handshake.size(); i < pdus.size(); ++i) {
      EXPECT_TRUE(pdus[i].type == PduType::kRequest || pdus[i].type == PduType::kResponse)
          << PduTypeName(pdus[i].type);  // no auth3, no fault
      EXPECT_EQ(pdus[i].auth_type, std::optional<uint8_t>(kTestAuthType));
      const auto& b = pdus[i].bytes;
      if (std::search(b.begin(), b.end(), marker.begin(), marker.end()) != b.end()) {
        marker_on_wire = true;
      }
    }
    EXPECT_EQ(marker_on_wire, level == AuthnLevel::kPktIntegrity);
  }
}

// ==== Refusals ==============================================================

// NTLM never proves the server: a client that wants mutual authentication
// refuses it once NTLM is done, and NTLM's AUTHENTICATE (a response an
// impostor could attack offline) never leaves: the wire shows bind and
// bind_ack only, and the server's NTLM saw one leg.
TEST_F(MultiLegAuth, MutualAuthenticationWantedFromNtlmIsRefusedBeforeAuthenticateIsSent) {
  RecordingRelay relay(port());
  {
    auto client = Client::Connect(relay.binding());
    ASSERT_TRUE(client.ok());
    ClientAuth a{&ntlm_client_, AuthnLevel::kPktIntegrity};
    a.wanted = kFeatureMutualAuth;
    Status s = (*client)->Bind(kWho, &a);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), RPC_S_SEC_PKG_ERROR) << s.ToString();
    EXPECT_EQ(s.message(),
              "mutual authentication was required, but the NTLM package did not prove the "
              "server's identity");
  }
  relay.WaitClosed();
  EXPECT_EQ(relay.types(), (std::vector<PduType>{PduType::kBind, PduType::kBindAck}));
  EXPECT_EQ(counting_ntlm_->legs(), 1);
}

// The server's account for alice has another secret: it cannot prove that
// it knows alice's, and the client refuses in leg 2 with
// SEC_E_MUTUAL_AUTH_FAILED, sending nothing more (no alter_context with its
// own proof).
TEST_F(MultiLegAuth, ServerThatCannotProveItselfIsRefusedInLegTwo) {
  Serve(TestServerWithAliceSecret("an impostor's guess"));
  RecordingRelay relay(port());
  {
    auto client = Client::Connect(relay.binding());
    ASSERT_TRUE(client.ok());
    ClientAuth a{&test_client_, AuthnLevel::kPktPrivacy};
    a.wanted = kFeatureMutualAuth;
    Status s = (*client)->Bind(kWho, &a);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), testing::SEC_E_MUTUAL_AUTH_FAILED) << s.ToString();
    EXPECT_EQ(s.code().value(), 0x80090363u);
    EXPECT_NE(s.message().find("did not prove that it knows alice's secret"),
              std::string_view::npos)
        << s.ToString();
    EXPECT_EQ((*client)->auth_context(a.context_id), nullptr);
  }
  relay.WaitClosed();
  EXPECT_EQ(relay.types(), (std::vector<PduType>{PduType::kBind, PduType::kBindAck}));
}

// A client that expects another server (its target name) is refused by
// the server in leg 1, before the server proves anything: bind_nak.
TEST_F(MultiLegAuth, WrongTargetNameIsRefusedByTheServer) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  ClientAuth a{&test_client_, AuthnLevel::kPktIntegrity};
  a.target_name = "not-this-server";
  Status s = (*client)->Bind(kWho, &a);
  ASSERT_FALSE(s.ok());
  // bind_nak, reason 0 (authentication failed), as for any refused bind leg.
  EXPECT_EQ(s.code(), RPC_S_PROTOCOL_ERROR) << s.ToString();
  EXPECT_NE(s.message().find("bind_nak reason 0"), std::string_view::npos) << s.ToString();
}

// ==== Several authentication contexts on one association ===================

TEST_F(MultiLegAuth, SeveralAuthContextsOnOneAssociationEachCallUnderItsOwn) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  constexpr uint32_t kAlice = 1, kBob = 2, kFourLeg = 3;
  ClientAuth alice{&ntlm_client_, AuthnLevel::kPktIntegrity};
  alice.context_id = kAlice;
  ASSERT_TRUE((*client)->Bind(kWho, &alice).ok());
  ClientAuth bob{&ntlm_client_, AuthnLevel::kPktPrivacy};
  bob.credentials = std::make_shared<NtlmCredentials>(NtlmUser("bob", "bob-pw"));
  bob.context_id = kBob;
  Status added = (*client)->AddAuthContext(bob);
  ASSERT_TRUE(added.ok()) << added.ToString();
  // A four-leg handshake on a bound association: every leg in
  // alter_context / alter_context_resp.
  ClientAuth four{&test_client_, AuthnLevel::kPktPrivacy};
  four.wanted = kFeatureMutualAuth;
  four.context_id = kFourLeg;
  added = (*client)->AddAuthContext(four);
  ASSERT_TRUE(added.ok()) << added.ToString();
  EXPECT_EQ((*client)->AddAuthContext(bob).code(), E_INVALIDARG);  // id in use

  EXPECT_FALSE((*client)->auth_context(kAlice)->features() & kFeatureMutualAuth);
  EXPECT_TRUE((*client)->auth_context(kFourLeg)->features() & kFeatureMutualAuth);

  struct Expect {
    std::optional<uint32_t> context;
    std::string seen;
  };
  const std::vector<Expect> expected = {
      {kAlice, "RPCDOM\\alice|10|5"},     {kBob, "RPCDOM\\bob|10|6"},
      {kFourLeg, "TESTREALM\\alice|240|6"}, {std::nullopt, "RPCDOM\\alice|10|5"},
  };
  // One after another, alternating.
  for (int round = 0; round < 3; ++round) {
    for (const Expect& e : expected) {
      CallOptions o;
      o.auth_context_id = e.context;
      const std::string stub = Aligned("round " + std::to_string(round));
      auto r = (*client)->Call(o, 0, Bytes(stub));
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(AsString(*r), e.seen + "|-|" + stub);
    }
  }
  // At once, multiplexed on the one connection.
  ASSERT_TRUE((*client)->multiplexed());
  std::vector<std::future<Result<std::vector<uint8_t>>>> futures;
  for (int i = 0; i < 24; ++i) {
    CallOptions o;
    o.auth_context_id = expected[i % expected.size()].context;
    futures.push_back((*client)->CallAsync(o, 0, Bytes(Aligned("call " + std::to_string(i)))));
  }
  for (int i = 0; i < 24; ++i) {
    auto r = futures[i].get();
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(AsString(*r),
              expected[i % expected.size()].seen + "|-|" + Aligned("call " + std::to_string(i)));
  }
  // A context the association does not have.
  CallOptions unknown;
  unknown.auth_context_id = 99;
  EXPECT_EQ((*client)->Call(unknown, 0, Bytes("x")).status().code(), E_INVALIDARG);
}

// ==== Object UUIDs ==========================================================

TEST_F(MultiLegAuth, CallOptionsObjectReachesTheHandler) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  ClientAuth a{&test_client_, AuthnLevel::kPktPrivacy};
  ASSERT_TRUE((*client)->Bind(kWho, &a).ok());
  const Guid ipid = *Guid::Parse("00000000-1111-4222-8333-444455556666");
  CallOptions o;
  o.object = ipid;
  for (size_t n : {4, 9000}) {  // one fragment, several
    std::string stub(n, 'o');
    auto r = (*client)->Call(o, 0, Bytes(stub));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(AsString(*r) == "TESTREALM\\alice|240|6|" + ipid.ToString() + "|" + stub)
        << n << ": " << AsString(*r).substr(0, 80);
  }
  auto r = (*client)->Call(0, Bytes("none"));  // 4 bytes
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(AsString(*r), "TESTREALM\\alice|240|6|-|none");
}

}  // namespace
}  // namespace comsec::rpc
