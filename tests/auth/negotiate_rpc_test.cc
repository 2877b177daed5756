// Negotiate (auth_type 9, SPNEGO) against a real MIT KDC that this test
// process starts on loopback (tests/support/krb_test_kdc.sh), over our
// Kerberos and NTLM packages: the four legs choosing Kerberos (both of its
// OIDs), NTLM when the client has no ticket, NTLM when the server has no
// keytab (an extra leg), the mechListMIC in both directions — tampered,
// missing, or contradicting a mechanism list altered in transit (a
// downgrade) — refused with SEC_E_MESSAGE_ALTERED and a
// negotiate.logon_refused event; then our client and server over real
// sockets at every level on TCP and ncalrpc, and the refusals there with
// the server serving on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <mutex>

#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"
#include "../support/krb_test_realm.h"
#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/negotiate/spnego_token.h"
#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

using auth::gssapi::KerberosClientCredentials;
using auth::gssapi::KerberosPackage;
using auth::gssapi::KerberosServerOptions;
using auth::negotiate::DecodeInitialToken;
using auth::negotiate::DecodeNegTokenResp;
using auth::negotiate::EncodeInitialToken;
using auth::negotiate::EncodeNegTokenResp;
using auth::negotiate::NegotiateOptions;
using auth::negotiate::NegotiatePackage;
using auth::ntlm::AccountRecord;
using auth::ntlm::AccountSource;
using auth::ntlm::NtlmPackage;
using security::AuthnLevel;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
constexpr const char* kSpn = "RPCSS/localhost";

comsec::testing::KrbTestRealm* Realm() {
  return comsec::testing::SharedRealm("");
}

#define REQUIRE_REALM()                                                                        \
  do {                                                                                         \
    if (std::string missing = comsec::testing::KrbTestRealm::MissingTools(); !missing.empty()) \
      GTEST_SKIP() << "MIT KDC not installed (" << missing                                     \
                   << " missing); scripts/install-deps.sh installs it";                        \
    ASSERT_TRUE(Realm()->up()) << "the test KDC did not start";                                \
  } while (0)

std::string Alice() { return "alice@" + Realm()->realm(); }

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

auth::ntlm::ClientCredentials NtlmAlice() {
  auth::ntlm::ClientCredentials c;
  c.user = "alice";
  c.password = "pw";
  return c;
}

// Everything both sides need: the server's Kerberos (optional) and NTLM
// packages under a server Negotiate, and a client Negotiate over a
// Kerberos client (the realm's ccache, or an empty one) and an NTLM client.
struct Sides {
  explicit Sides(bool server_keytab = true, bool client_ticket = true,
                 const Logger* logger = nullptr, bool ms_oid = true)
      : krb_client(client_ticket ? KerberosClientCredentials{}
                                 : KerberosClientCredentials{
                                       "FILE:" + Realm()->dir() + "/empty.ccache", "", ""}),
        ntlm_client(NtlmAlice()) {
    if (server_keytab) {
      KerberosServerOptions o;
      o.keytab = Realm()->dir() + "/service.keytab";
      o.spns = {kSpn};
      o.logger = logger;
      auto p = KerberosPackage::CreateServer(std::move(o));
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (p.ok()) krb_server = std::move(*p);
    }
    auth::ntlm::ServerOptions n;
    n.validator = &validator;
    n.logger = logger;
    ntlm_server = std::make_unique<NtlmPackage>(n);
    NegotiateOptions so;
    so.kerberos = krb_server.get();
    so.ntlm = ntlm_server.get();
    so.logger = logger;
    server = std::make_unique<NegotiatePackage>(so);
    NegotiateOptions co;
    co.kerberos = &krb_client;
    co.ntlm = &ntlm_client;
    co.offer_ms_kerberos_oid = ms_oid;
    client = std::make_unique<NegotiatePackage>(co);
  }

  OneAccount accounts;
  auth::ntlm::LocalLogonValidator validator{&accounts, {}};
  std::unique_ptr<KerberosPackage> krb_server;
  std::unique_ptr<NtlmPackage> ntlm_server;
  std::unique_ptr<NegotiatePackage> server;
  KerberosPackage krb_client;
  NtlmPackage ntlm_client;
  std::unique_ptr<NegotiatePackage> client;
};

// An attacker on the wire: edits the n-th token (0 = the client's first).
using Edit = std::function<void(int leg, std::vector<uint8_t>& token)>;

struct Handshake {
  Status status = Status::Ok();
  // Which side failed: "client" or "server".
  std::string failed;
  std::vector<std::vector<uint8_t>> tokens;
};

Handshake RunHandshake(SecurityContext& client, SecurityContext& server, const Edit& edit = {}) {
  Handshake h;
  std::vector<uint8_t> in;
  for (int leg = 0; leg < 12; leg += 2) {
    auto c = client.Update(in);
    if (!c.ok()) {
      h.status = c.status();
      h.failed = "client";
      return h;
    }
    if (c->done && c->output.empty()) return h;
    if (edit) edit(leg, c->output);
    h.tokens.push_back(c->output);
    auto s = server.Update(c->output);
    if (!s.ok()) {
      h.status = s.status();
      h.failed = "server";
      return h;
    }
    if (edit) edit(leg + 1, s->output);
    h.tokens.push_back(s->output);
    in = s->output;
  }
  h.status = Status(E_FAIL, "the handshake did not end");
  return h;
}

struct Pair {
  std::unique_ptr<SecurityContext> client, server;
};
Pair Start(Sides& sides, AuthnLevel level = AuthnLevel::kPktPrivacy) {
  TestConnection info;
  info.auth_level = level;
  info.peer = "203.0.113.5:6000";
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  Pair p;
  p.client = std::move(*sides.client->Start(cp));
  p.server = std::move(*StartServerContext(*sides.server, info));
  return p;
}

// Flips a bit of the mechListMIC in a NegTokenResp.
void TamperMic(std::vector<uint8_t>& token) {
  auto resp = DecodeNegTokenResp(token);
  ASSERT_TRUE(resp.ok() && resp->mech_list_mic && !resp->mech_list_mic->empty());
  resp->mech_list_mic->back() ^= 0x01;
  token = EncodeNegTokenResp(*resp);
}

// ==== The package on its own ================================================

TEST(NegotiatePackageTest, ChoosesKerberosInFourLegs) {
  REQUIRE_REALM();
  Sides sides;
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server);
  ASSERT_TRUE(h.status.ok()) << h.failed << ": " << h.status.ToString();
  ASSERT_EQ(h.tokens.size(), 4u);
  auto init = DecodeInitialToken(h.tokens[0]);
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  ASSERT_EQ(init->mech_types.size(), 3u);
  EXPECT_EQ(init->mech_types[0], auth::negotiate::MsKerberosOid());
  EXPECT_EQ(init->mech_types[1], auth::negotiate::KerberosOid());
  EXPECT_EQ(init->mech_types[2], auth::negotiate::NtlmOid());
  ASSERT_TRUE(init->mech_token);
  EXPECT_EQ((*init->mech_token)[0], 0x6e);  // a raw AP-REQ (DCE style)
  auto choice = DecodeNegTokenResp(h.tokens[1]);
  ASSERT_TRUE(choice.ok());
  EXPECT_EQ(*choice->supported_mech, auth::negotiate::MsKerberosOid());  // echoed as sent
  EXPECT_EQ(*choice->neg_state, auth::negotiate::NegState::kAcceptIncomplete);
  auto third = DecodeNegTokenResp(h.tokens[2]);
  ASSERT_TRUE(third.ok() && third->mech_list_mic && third->response_token);
  auto last = DecodeNegTokenResp(h.tokens[3]);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last->neg_state, auth::negotiate::NegState::kAcceptCompleted);
  EXPECT_TRUE(last->mech_list_mic);
  EXPECT_FALSE(last->response_token);

  EXPECT_TRUE(p.client->IsComplete() && p.server->IsComplete());
  const uint32_t want = kFeatureMutualAuth | kFeatureDceStyle | kFeatureSign | kFeatureSeal;
  EXPECT_EQ(p.client->features() & want, want);
  EXPECT_EQ(p.server->PeerName(), Alice());
  EXPECT_EQ(p.client->SignatureSize(64), 76u);  // the Kerberos wrap token
  // The sequence numbers the MICs used line up with the PDUs' after them.
  std::vector<uint8_t> pdu(24 + 16 + kSecTrailerSize + 76, 0x11);
  PduRegion r = Region(pdu, 24, 40, AuthnLevel::kPktPrivacy, std::span<uint8_t>(pdu.data() + 48, 76));
  r.header_signing = true;
  ASSERT_TRUE(p.client->Protect(r).ok());
  EXPECT_TRUE(p.server->Verify(r).ok());
}

TEST(NegotiatePackageTest, AcceptsTheRfcKerberosOid) {
  REQUIRE_REALM();
  Sides sides(true, true, nullptr, /*ms_oid=*/false);
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server);
  ASSERT_TRUE(h.status.ok()) << h.status.ToString();
  EXPECT_EQ(*DecodeNegTokenResp(h.tokens[1])->supported_mech, auth::negotiate::KerberosOid());
  EXPECT_EQ(p.server->PeerName(), Alice());
}

TEST(NegotiatePackageTest, ChoosesNtlmWhenTheClientHasNoTicket) {
  REQUIRE_REALM();
  Sides sides(/*server_keytab=*/true, /*client_ticket=*/false);
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server);
  ASSERT_TRUE(h.status.ok()) << h.failed << ": " << h.status.ToString();
  ASSERT_EQ(h.tokens.size(), 4u);
  auto init = DecodeInitialToken(h.tokens[0]);
  ASSERT_EQ(init->mech_types.size(), 1u);
  EXPECT_EQ(init->mech_types[0], auth::negotiate::NtlmOid());
  EXPECT_EQ(p.server->PeerName(), "RPCDOM\\alice");
  EXPECT_EQ(p.client->features() & kFeatureMutualAuth, 0u);
  EXPECT_EQ(p.client->SignatureSize(64), 16u);  // the NTLM signature
  // The MICs left the RC4 handles where the first PDU expects them
  // ([MS-SPNG] 3.3.5.1), in both directions.
  for (int i = 0; i < 2; ++i) {
    SecurityContext& from = i == 0 ? *p.client : *p.server;
    SecurityContext& to = i == 0 ? *p.server : *p.client;
    std::vector<uint8_t> pdu(24 + 16 + kSecTrailerSize + 16, 0x22);
    PduRegion r = Region(pdu, 24, 40, AuthnLevel::kPktPrivacy, std::span<uint8_t>(pdu.data() + 48, 16));
    ASSERT_TRUE(from.Protect(r).ok());
    EXPECT_TRUE(to.Verify(r).ok()) << i;
  }
}

TEST(NegotiatePackageTest, ChoosesNtlmWhenTheServerHasNoKeytab) {
  REQUIRE_REALM();
  Sides sides(/*server_keytab=*/false, /*client_ticket=*/true);
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server);
  ASSERT_TRUE(h.status.ok()) << h.failed << ": " << h.status.ToString();
  // The optimistic AP-REQ goes unanswered; NTLM starts in an extra leg.
  ASSERT_EQ(h.tokens.size(), 6u);
  auto choice = DecodeNegTokenResp(h.tokens[1]);
  EXPECT_EQ(*choice->supported_mech, auth::negotiate::NtlmOid());
  EXPECT_FALSE(choice->response_token);
  EXPECT_EQ(p.server->PeerName(), "RPCDOM\\alice");
}

TEST(NegotiatePackageTest, NoCommonMechanismIsRefused) {
  REQUIRE_REALM();
  CapturedLog log;
  Sides sides(/*server_keytab=*/true, /*client_ticket=*/false, log.logger());
  NegotiateOptions server_options;
  server_options.kerberos = sides.krb_server.get();  // no NTLM
  server_options.logger = log.logger();
  NegotiatePackage kerberos_only(server_options);
  TestConnection info;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  auto client = sides.client->Start(cp);
  auto server = StartServerContext(kerberos_only, info);
  Handshake h = RunHandshake(**client, **server);
  EXPECT_EQ(h.failed, "server");
  EXPECT_EQ(h.status.code(), SEC_E_UNSUPPORTED_FUNCTION) << h.status.ToString();
  auto events = log.Named("negotiate.logon_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, "no_common_mechanism");
}

// A client's mechListMIC altered in transit: the server refuses, for
// either mechanism, and says why.
TEST(NegotiatePackageTest, TamperedClientMechListMicIsRefused) {
  REQUIRE_REALM();
  for (bool ticket : {true, false}) {
    CapturedLog log;
    Sides sides(true, ticket, log.logger());
    Pair p = Start(sides);
    Handshake h = RunHandshake(*p.client, *p.server, [](int leg, std::vector<uint8_t>& t) {
      if (leg == 2) TamperMic(t);
    });
    EXPECT_EQ(h.failed, "server") << ticket;
    EXPECT_EQ(h.status.code(), SEC_E_MESSAGE_ALTERED) << h.status.ToString();
    EXPECT_FALSE(p.server->IsComplete());
    auto events = log.Named("negotiate.logon_refused");
    ASSERT_EQ(events.size(), 1u) << ticket;
    EXPECT_EQ(events[0].reason, "bad_mech_list_mic");
    EXPECT_EQ(events[0].hresult, SEC_E_MESSAGE_ALTERED);
    EXPECT_EQ(events[0].peer, "203.0.113.5:6000");
  }
}

TEST(NegotiatePackageTest, MissingClientMechListMicIsRefused) {
  REQUIRE_REALM();
  CapturedLog log;
  Sides sides(true, true, log.logger());
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server, [](int leg, std::vector<uint8_t>& t) {
    if (leg != 2) return;
    auto resp = *DecodeNegTokenResp(t);
    resp.mech_list_mic.reset();
    t = EncodeNegTokenResp(resp);
  });
  EXPECT_EQ(h.failed, "server");
  EXPECT_EQ(h.status.code(), SEC_E_MESSAGE_ALTERED) << h.status.ToString();
  ASSERT_EQ(log.Named("negotiate.logon_refused").size(), 1u);
  EXPECT_EQ(log.Named("negotiate.logon_refused")[0].reason, "missing_mech_list_mic");
}

TEST(NegotiatePackageTest, TamperedServerMechListMicIsRefusedByTheClient) {
  REQUIRE_REALM();
  for (bool ticket : {true, false}) {
    Sides sides(true, ticket);
    Pair p = Start(sides);
    Handshake h = RunHandshake(*p.client, *p.server, [](int leg, std::vector<uint8_t>& t) {
      if (leg == 3) TamperMic(t);
    });
    EXPECT_EQ(h.failed, "client") << ticket;
    EXPECT_EQ(h.status.code(), SEC_E_MESSAGE_ALTERED) << h.status.ToString();
    EXPECT_FALSE(p.client->IsComplete());
    EXPECT_EQ(p.client->features(), 0u);
  }
}

// A man in the middle strips Kerberos from the client's list (and its
// token) so that the server settles for NTLM: the client goes along, but
// its MIC covers the list it sent, and the server's check fails.
TEST(NegotiatePackageTest, DowngradeToNtlmIsCaughtByTheMechListMic) {
  REQUIRE_REALM();
  CapturedLog log;
  Sides sides(true, true, log.logger());
  Pair p = Start(sides);
  Handshake h = RunHandshake(*p.client, *p.server, [](int leg, std::vector<uint8_t>& t) {
    if (leg != 0) return;
    auto init = *DecodeInitialToken(t);
    init.mech_types = {auth::negotiate::NtlmOid()};
    init.mech_token.reset();
    t = EncodeInitialToken(init);
  });
  EXPECT_EQ(h.failed, "server");
  EXPECT_EQ(h.status.code(), SEC_E_MESSAGE_ALTERED) << h.status.ToString();
  EXPECT_NE(h.status.message().find("downgrade"), std::string::npos);
  EXPECT_FALSE(p.server->IsComplete());
  auto events = log.Named("negotiate.logon_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, "bad_mech_list_mic");
}

TEST(NegotiatePackageTest, GarbageTokensAreRefused) {
  REQUIRE_REALM();
  CapturedLog log;
  Sides sides(true, true, log.logger());
  for (std::vector<uint8_t> junk : {std::vector<uint8_t>{}, std::vector<uint8_t>{0x60, 0x80},
                                    std::vector<uint8_t>{0xa1, 0x03, 0x30, 0x01, 0x00}}) {
    Pair p = Start(sides);
    auto r = p.server->Update(junk);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN) << r.status().ToString();
  }
  EXPECT_EQ(log.Named("negotiate.logon_refused").size(), 3u);
  EXPECT_EQ(log.Named("negotiate.logon_refused")[0].reason, "malformed_token");
}

// ==== Our client and server over sockets ====================================

// Rewrites the client's tokens on their way out (the attacker between
// the client's package and the wire); everything else is the real
// context's.
class TamperingPackage : public SecurityPackage {
 public:
  TamperingPackage(SecurityPackage* inner, Edit edit) : inner_(inner), edit_(std::move(edit)) {}
  uint8_t auth_type() const override { return inner_->auth_type(); }
  const char* name() const override { return inner_->name(); }
  Result<std::unique_ptr<SecurityContext>> Start(const StartParams& params) override {
    auto inner = inner_->Start(params);
    if (!inner.ok()) return inner.status();
    return std::unique_ptr<SecurityContext>(new Context(std::move(*inner), edit_));
  }

 private:
  class Context : public SecurityContext {
   public:
    Context(std::unique_ptr<SecurityContext> inner, Edit edit)
        : inner_(std::move(inner)), edit_(std::move(edit)) {}
    Result<UpdateResult> Update(std::span<const uint8_t> input) override {
      auto r = inner_->Update(input);
      if (r.ok() && !r->output.empty()) edit_(leg_, r->output);
      leg_ += 2;
      return r;
    }
    bool IsComplete() const override { return inner_->IsComplete(); }
    uint32_t features() const override { return inner_->features(); }
    size_t SignatureSize(size_t n) const override { return inner_->SignatureSize(n); }
    Status Verify(const PduRegion& r) override { return inner_->Verify(r); }
    Status Protect(const PduRegion& r) override { return inner_->Protect(r); }
    std::string PeerName() const override { return inner_->PeerName(); }
    std::shared_ptr<const security::Token> PeerToken() const override { return inner_->PeerToken(); }

   private:
    std::unique_ptr<SecurityContext> inner_;
    Edit edit_;
    int leg_ = 0;
  };
  SecurityPackage* inner_;
  Edit edit_;
};

class NegotiateLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_REALM();
    auto who = [this](std::span<const uint8_t> stub,
                      const CallContext& c) -> Result<std::vector<uint8_t>> {
      std::lock_guard<std::mutex> lock(mu_);
      principal_ = c.security.principal;
      level_ = c.security.authn_level;
      svc_ = c.security.authn_svc;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    };
    InterfaceRegistration echo;
    echo.syntax = kEcho;
    echo.operations = {who};
    registry_.Register(std::move(echo));
    sides_ = std::make_unique<Sides>(true, true, log_.logger());
    packages_.Add(sides_->server.get());
    ServerOptions options;
    options.packages = &packages_;
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&registry_, options);
    dir_ = "/tmp/comsec-spnego-sock-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + dir_ + "/spnego.sock"));
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Binds and calls three times with 50000 bytes; "" or what failed.
  void BindAndCall(SecurityPackage* package, const StringBinding& binding, uint8_t level) {
    auto client = Client::Connect(binding);
    ASSERT_TRUE(client.ok());
    ClientAuth a{package, *security::AuthnLevelFromNumber(level)};
    a.target_name = kSpn;
    Status bound = (*client)->Bind(kEcho, &a);
    ASSERT_TRUE(bound.ok()) << binding.ToString() << " " << int(level) << ": " << bound.ToString();
    std::vector<uint8_t> big(50000);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + level);
    for (int call = 0; call < 3; ++call) {
      auto r = (*client)->Call(0, big);
      ASSERT_TRUE(r.ok()) << binding.ToString() << " level " << int(level) << ": "
                          << r.status().ToString();
      EXPECT_EQ(*r, big);
    }
  }

  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<Sides> sides_;
  std::unique_ptr<Server> server_;
  std::string dir_;
  StringBinding local_, tcp_;
  std::mutex mu_;
  std::string principal_;
  AuthnLevel level_ = AuthnLevel::kDefault;
  uint32_t svc_ = 0;
  CapturedLog log_;
};

TEST_F(NegotiateLoopback, KerberosAtEveryLevelOnBothTransports) {
  for (const StringBinding& binding : {tcp_, local_}) {
    for (uint8_t level = 2; level <= 6; ++level) {
      BindAndCall(sides_->client.get(), binding, level);
      std::lock_guard<std::mutex> lock(mu_);
      EXPECT_EQ(principal_, Alice());
      EXPECT_EQ(security::ToNumber(level_), level);
      EXPECT_EQ(svc_, RPC_C_AUTHN_GSS_NEGOTIATE);
    }
  }
}

TEST_F(NegotiateLoopback, NtlmAtEveryLevelOnBothTransportsWithoutATicket) {
  KerberosPackage no_ticket(
      KerberosClientCredentials{"FILE:" + Realm()->dir() + "/empty.ccache", "", ""});
  NegotiateOptions o;
  o.kerberos = &no_ticket;
  o.ntlm = &sides_->ntlm_client;
  NegotiatePackage client(o);
  for (const StringBinding& binding : {tcp_, local_}) {
    for (uint8_t level = 2; level <= 6; ++level) {
      BindAndCall(&client, binding, level);
      std::lock_guard<std::mutex> lock(mu_);
      EXPECT_EQ(principal_, "RPCDOM\\alice");
      EXPECT_EQ(security::ToNumber(level_), level);
      EXPECT_EQ(svc_, RPC_C_AUTHN_GSS_NEGOTIATE);
    }
  }
}

// The refused alter_context is answered with a fault; the event names the
// cause, and the next client is served.
TEST_F(NegotiateLoopback, TamperedMechListMicAndDowngradeRefusedServerServesOn) {
  const Edit tamper = [](int leg, std::vector<uint8_t>& t) {
    if (leg == 2) TamperMic(t);
  };
  const Edit downgrade = [](int leg, std::vector<uint8_t>& t) {
    if (leg != 0) return;
    auto init = *DecodeInitialToken(t);
    init.mech_types = {auth::negotiate::NtlmOid()};
    init.mech_token.reset();
    t = EncodeInitialToken(init);
  };
  int refusals = 0;
  for (const Edit& edit : {tamper, downgrade}) {
    TamperingPackage bad(sides_->client.get(), edit);
    auto client = Client::Connect(tcp_);
    ASSERT_TRUE(client.ok());
    ClientAuth a{&bad, AuthnLevel::kPktPrivacy};
    a.target_name = kSpn;
    Status s = (*client)->Bind(kEcho, &a);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), FaultToHResult(nca_s_fault_access_denied)) << s.ToString();
    auto events = log_.Named("negotiate.logon_refused");
    ASSERT_EQ(events.size(), static_cast<size_t>(++refusals));
    EXPECT_EQ(events.back().reason, "bad_mech_list_mic");
    EXPECT_EQ(events.back().hresult, SEC_E_MESSAGE_ALTERED);
    ASSERT_TRUE(events.back().peer);
    EXPECT_TRUE(events.back().peer->starts_with("127.0.0.1:"));

    BindAndCall(sides_->client.get(), tcp_, 6);
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(principal_, Alice());
  }
}

}  // namespace
}  // namespace comsec::rpc
