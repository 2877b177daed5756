// Kerberos (auth_type 16) inside DCE/RPC against a real MIT KDC that each
// test process starts on loopback (tests/support/krb_test_kdc.sh): the
// three legs and what they achieve (mutual authentication, the caller's
// name and token, identification), the wire sizes of the verifiers, and
// every refusal with its exact fault: a tampered, replayed or reordered
// PDU, a ticket for an SPN the server does not serve, a server whose
// keytab is stale, a client clock an hour off, an expired ticket, a
// server's AP-REP altered in transit or replayed by an impostor without the
// key. Then our client and server over real sockets at every level on TCP
// and ncalrpc.
#include <gtest/gtest.h>
#include <krb5.h>

#include "../base/captured_log.h"
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <map>
#include <mutex>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/config/accounts.h"
#include "comsec/config/kerberos_config.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/rpc/server_connection.h"
#include "comsec/security/unix_identity.h"
#include "../rpc/package_test_support.h"
#include "../support/krb_test_realm.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

using auth::gssapi::KerberosClientCredentials;
using auth::gssapi::KerberosCredentials;
using auth::gssapi::KerberosPackage;
using auth::gssapi::KerberosServerOptions;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
constexpr uint32_t kCtxId = 79231;
constexpr const char* kSpn = "RPCSS/localhost";
// AES-256 (the test realm's only enctypes are AES): a MIC token and a wrap
// token with EC 16 and RRC 28 (reference/kerberos/NOTES.md §0.2).
constexpr size_t kMicSize = 28;
constexpr size_t kWrapSize = 76;

// One realm per test process (ctest runs each test in a process of its
// own), shared by the suites below.
comsec::testing::KrbTestRealm* Realm() {
  return comsec::testing::SharedRealm(
      "EXTRA_PRINCIPALS='RPCSS/elsewhere' EXTRA_USERS='nobody root'");
}

// Skips the test when the KDC's programs are missing; fails it when they
// are there but the realm did not start.
#define REQUIRE_REALM()                                                                \
  do {                                                                                 \
    if (std::string missing = comsec::testing::KrbTestRealm::MissingTools(); !missing.empty()) \
      GTEST_SKIP() << "MIT KDC not installed (" << missing                              \
                   << " missing); scripts/install-deps.sh installs it";                 \
    ASSERT_TRUE(Realm()->up()) << "the test KDC did not start";                        \
  } while (0)

std::unique_ptr<KerberosPackage> ServerPackage(const std::string& keytab_file,
                                               std::vector<std::string> spns,
                                               const Logger* logger = nullptr,
                                               auth::gssapi::PrincipalMap* map = nullptr) {
  KerberosServerOptions o;
  o.keytab = Realm()->dir() + "/" + keytab_file;
  o.spns = std::move(spns);
  o.logger = logger;
  o.principal_map = map;
  auto p = KerberosPackage::CreateServer(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

std::string Alice() { return "alice@" + Realm()->realm(); }

// ==== The package on its own ================================================

TEST(KerberosPackageTest, ThreeLegsWithMutualAuthentication) {
  REQUIRE_REALM();
  auto server_pkg = ServerPackage("service.keytab", {kSpn});
  KerberosPackage client_pkg;
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktPrivacy;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  auto client = client_pkg.Start(cp);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto server = StartServerContext(*server_pkg, info);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  auto ap_req = (*client)->Update({});
  ASSERT_TRUE(ap_req.ok()) << ap_req.status().ToString();
  EXPECT_FALSE(ap_req->done);
  // DCE style: a raw AP-REQ ([APPLICATION 14]), no GSS framing.
  ASSERT_FALSE(ap_req->output.empty());
  EXPECT_EQ(ap_req->output[0], 0x6e);
  auto ap_rep = (*server)->Update(ap_req->output);
  ASSERT_TRUE(ap_rep.ok()) << ap_rep.status().ToString();
  EXPECT_FALSE(ap_rep->done);
  EXPECT_EQ(ap_rep->output[0], 0x6f);  // AP-REP [APPLICATION 15]
  auto last = (*client)->Update(ap_rep->output);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->done);
  EXPECT_EQ(last->output[0], 0x6f);  // the client's AP-REP, for auth3
  auto done = (*server)->Update(last->output);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->output.empty());

  const uint32_t want = kFeatureMutualAuth | kFeatureDceStyle | kFeatureSign | kFeatureSeal |
                        kFeatureSessionKey;
  EXPECT_EQ((*client)->features() & want, want);
  EXPECT_EQ((*server)->features() & want, want);
  EXPECT_EQ((*client)->features() & kFeatureIdentify, 0u);
  EXPECT_EQ((*client)->PeerName(), "RPCSS/localhost@" + Realm()->realm());
  EXPECT_EQ((*server)->PeerName(), Alice());
  EXPECT_EQ((*server)->imp_level(), security::ImpLevel::kImpersonate);
  ASSERT_NE((*server)->PeerToken(), nullptr);
  EXPECT_EQ((*server)->PeerToken()->user(), auth::gssapi::PrincipalSid(Alice()));
  EXPECT_EQ((*client)->SignatureSize(64), kWrapSize);
  EXPECT_EQ((*client)->SignatureSize(4096), kWrapSize);
  auto ck = (*client)->SessionKey();
  auto sk = (*server)->SessionKey();
  ASSERT_TRUE(ck.ok() && sk.ok());
  EXPECT_TRUE(std::equal(ck->begin(), ck->end(), sk->begin()));
}

// Both ends of a completed context, the client at `level`.
struct Pair {
  std::unique_ptr<KerberosPackage> server_pkg;
  std::unique_ptr<SecurityContext> client, server;
};
Pair Establish(security::AuthnLevel level) {
  Pair p;
  p.server_pkg = ServerPackage("service.keytab", {kSpn});
  static KerberosPackage client_pkg;
  TestConnection info;
  info.auth_level = level;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  p.client = std::move(*client_pkg.Start(cp));
  p.server = std::move(*StartServerContext(*p.server_pkg, info));
  auto t1 = Leg(*p.client, {});
  auto t2 = Leg(*p.server, *t1);
  auto t3 = Leg(*p.client, *t2);
  EXPECT_TRUE(Leg(*p.server, *t3).ok());
  return p;
}

// Rule 1 of auth/gssapi/principal_mapping.h against the real KDC: MIT's
// KDC (1.20) puts a PAC in the ticket, MIT's acceptor verifies it and
// exposes it as "urn:mspac:", our parser reads its PACTYPE (client info,
// ticket checksum, the two signatures) and finds no PAC_LOGON_INFO, so the
// later rules name the caller (here rule 4: alice has no Unix account and
// no store mapping). The PAC path itself is pinned by pac_test's canned
// PACs; reference/kerberos/NOTES.md §4.2 says why no KDC here issues one.
TEST(KerberosPackageTest, MitPacWithoutLogonInfoFallsBackToThePrincipalRules) {
  REQUIRE_REALM();
  CapturedLog log;
  auto server_pkg = ServerPackage("service.keytab", {kSpn}, log.logger());
  KerberosPackage client_pkg;
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktIntegrity;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  auto client = client_pkg.Start(cp);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto server = StartServerContext(*server_pkg, info);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto t1 = Leg(**client, {});
  auto t2 = Leg(**server, *t1);
  auto t3 = Leg(**client, *t2);
  ASSERT_TRUE(Leg(**server, *t3).ok());

  EXPECT_EQ((*server)->PeerName(), Alice());
  EXPECT_EQ((*server)->PeerToken()->user(), auth::gssapi::PrincipalSid(Alice()));
  auto events = log.Named("kerberos.identity");
  ASSERT_EQ(events.size(), 1u);
  std::map<std::string, std::string> extras(events[0].extras.begin(), events[0].extras.end());
  EXPECT_EQ(extras["pac"], "no logon info");
  EXPECT_EQ(extras["source"], "principal SID");
  EXPECT_GT(std::stoul(extras["pac_bytes"]), 100u);  // MIT's PAC: 144 bytes with AES keys
  EXPECT_EQ(events[0].principal, Alice());
  EXPECT_TRUE(log.Named("kerberos.pac_unverified").empty());
}

// Without PFC_SUPPORT_HEADER_SIGN only the stub is protected (Samba's
// gensec_gssapi does the same): an edited header still verifies, an edited
// stub does not, and a token made one way does not verify the other way.
TEST(KerberosPackageTest, WithoutHeaderSigningOnlyTheStubIsProtected) {
  REQUIRE_REALM();
  for (security::AuthnLevel level : {security::AuthnLevel::kPktIntegrity, security::AuthnLevel::kPktPrivacy}) {
    Pair p = Establish(level);
    const size_t sig = p.client->SignatureSize(16);
    auto make = [&](bool header_signing) {
      std::vector<uint8_t> pdu(24 + 16 + kSecTrailerSize + sig, 0x11);
      PduRegion r = Region(pdu, 24, 40, level, std::span<uint8_t>(pdu.data() + 48, sig));
      r.header_signing = header_signing;
      EXPECT_TRUE(p.client->Protect(r).ok());
      return pdu;
    };
    auto verify = [&](std::vector<uint8_t> pdu, bool header_signing) {
      PduRegion r = Region(pdu, 24, 40, level, std::span<uint8_t>(pdu.data() + 48, sig));
      r.header_signing = header_signing;
      return p.server->Verify(r);
    };
    auto header_edited = make(false);
    header_edited[12] ^= 1;
    EXPECT_TRUE(verify(header_edited, false).ok()) << int(level);
    auto stub_edited = make(false);
    stub_edited[30] ^= 1;
    EXPECT_EQ(verify(stub_edited, false).code(), SEC_E_MESSAGE_ALTERED) << int(level);
    EXPECT_EQ(verify(make(true), false).code(), SEC_E_MESSAGE_ALTERED) << int(level);
  }
}

TEST(KerberosPackageTest, PrincipalSidIsStableAndOutsideTheWellKnownRids) {
  const security::Sid a = auth::gssapi::PrincipalSid("alice@COMSEC.TEST");
  EXPECT_EQ(a, auth::gssapi::PrincipalSid("alice@COMSEC.TEST"));
  EXPECT_NE(a, auth::gssapi::PrincipalSid("bob@COMSEC.TEST"));
  EXPECT_EQ(a.ToString(), "S-1-5-21-2337295174-2385980723-4291322845-596880801");
  // Same realm, same domain part.
  const std::string b = auth::gssapi::PrincipalSid("bob@COMSEC.TEST").ToString();
  EXPECT_EQ(b.substr(0, b.rfind('-')), a.ToString().substr(0, a.ToString().rfind('-')));
}

TEST(KerberosPackageTest, IdentifyLevelReachesTheServer) {
  REQUIRE_REALM();
  auto server_pkg = ServerPackage("service.keytab", {kSpn});
  KerberosPackage client_pkg;
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktIntegrity;
  info.imp_level = security::ImpLevel::kIdentify;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  auto client = client_pkg.Start(cp);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto server = StartServerContext(*server_pkg, info);
  auto t1 = Leg(**client, {});
  auto t2 = Leg(**server, *t1);
  auto t3 = Leg(**client, *t2);
  ASSERT_TRUE(Leg(**server, *t3).ok());
  EXPECT_EQ((*server)->imp_level(), security::ImpLevel::kIdentify);
  EXPECT_NE((*server)->features() & kFeatureIdentify, 0u);
  EXPECT_EQ((*client)->SignatureSize(64), kMicSize);
}

TEST(KerberosPackageTest, AlteredApRepFailsMutualAuthentication) {
  REQUIRE_REALM();
  auto server_pkg = ServerPackage("service.keytab", {kSpn});
  KerberosPackage client_pkg;
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktIntegrity;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  auto client = client_pkg.Start(cp);
  auto server = StartServerContext(*server_pkg, info);
  auto ap_req = Leg(**client, {});
  auto ap_rep = Leg(**server, *ap_req);
  ASSERT_TRUE(ap_rep.ok());
  // The encrypted part is at the end: a server without the key cannot make
  // an AP-REP the client accepts.
  (*ap_rep)[ap_rep->size() - 3] ^= 0x01;
  auto r = (*client)->Update(*ap_rep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_LOGON_DENIED) << r.status().ToString();
  EXPECT_NE(r.status().message().find("mutual authentication"), std::string::npos);
  EXPECT_FALSE((*client)->IsComplete());
  EXPECT_EQ((*client)->features(), 0u);
}

TEST(KerberosPackageTest, UnknownSpnFailsBeforeAnythingIsSent) {
  REQUIRE_REALM();
  KerberosPackage client_pkg;
  TestConnection info;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = "RPCSS/nosuchhost";
  auto client = client_pkg.Start(cp);
  ASSERT_TRUE(client.ok());
  auto r = (*client)->Update({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_TARGET_UNKNOWN) << r.status().ToString();
  cp.target_name = "";
  EXPECT_EQ(client_pkg.Start(cp).status().code(), SEC_E_TARGET_UNKNOWN);
}

TEST(KerberosPackageTest, ServerNeedsKeysForEverySpn) {
  REQUIRE_REALM();
  KerberosServerOptions o;
  o.keytab = Realm()->dir() + "/service.keytab";
  o.spns = {"RPCSS/elsewhere"};  // the KDC knows it; the keytab has no keys
  auto p = KerberosPackage::CreateServer(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), SEC_E_NO_CREDENTIALS) << p.status().ToString();
  EXPECT_NE(p.status().message().find("RPCSS/elsewhere"), std::string::npos);
  o.keytab = Realm()->dir() + "/no-such.keytab";
  o.spns = {};
  EXPECT_EQ(KerberosPackage::CreateServer(o).status().code(), SEC_E_NO_CREDENTIALS);
}

TEST(KerberosPackageTest, ClientWithoutTicketsHasNoCredentials) {
  REQUIRE_REALM();
  KerberosClientCredentials c;
  c.ccache = "FILE:" + Realm()->dir() + "/empty.ccache";
  KerberosPackage client_pkg(c);
  TestConnection info;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  EXPECT_EQ(client_pkg.Start(cp).status().code(), SEC_E_NO_CREDENTIALS);
}

// ==== The server's state machine fed with PDUs ==============================

class KerberosConnection : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_REALM();
    auto count = [this](std::span<const uint8_t> stub, const CallContext& c)
        -> Result<std::vector<uint8_t>> {
      ++invocations_;
      last_level_ = c.security.authn_level;
      last_principal_ = c.security.principal;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    };
    InterfaceRegistration echo;
    echo.syntax = kEcho;
    echo.operations = {count};
    registry_.Register(std::move(echo));
    server_pkg_ = ServerPackage("service.keytab", {kSpn, "host/localhost"},
                                log_.logger());
    ASSERT_NE(server_pkg_, nullptr);
    packages_.Add(server_pkg_.get());
    Reset();
  }

  void Reset() {
    conn_ = std::make_unique<ServerConnection>(&registry_, ServerLimits{}, false, "135");
    conn_->SetPackages(&packages_);
    conn_->SetPeerDescription("203.0.113.5:6000");
    conn_->SetLogger(log_.logger());
    invocations_ = 0;
    open_ = true;
  }

  std::vector<Pdu> Send(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    open_ = conn_->OnFragment(bytes, out);
    raw_replies_ = out;
    std::vector<Pdu> r;
    for (const auto& f : out) r.push_back(*DecodePdu(f));
    return r;
  }

  // bind (AP-REQ) → bind_ack (AP-REP) → auth3 (the client's AP-REP).
  void Authenticate(security::AuthnLevel level, const std::string& spn = kSpn) {
    level_ = level;
    TestConnection info;
    info.auth_level = level;
    StartParams cp = ParamsFor(Role::kClient, info);
    cp.target_name = spn;
    auto started = client_pkg_.Start(cp);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    client_ = std::move(*started);
    Pdu bind;
    bind.header.type = PduType::kBind;
    bind.header.call_id = 1;
    bind.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
    bind.body = b;
    bind.auth = SecTrailer{RPC_C_AUTHN_GSS_KERBEROS, WireAuthnLevel(level), 0, 0, kCtxId, *Leg(*client_, {})};
    auto ack = Send(EncodePdu(bind));
    ASSERT_EQ(ack.size(), 1u);
    ASSERT_EQ(ack[0].header.type, PduType::kBindAck);
    ASSERT_TRUE(ack[0].header.pfc_flags & PFC_SUPPORT_HEADER_SIGN);
    auto last = Leg(*client_, ack[0].auth->auth_value);
    ASSERT_TRUE(last.ok()) << last.status().ToString();
    Pdu auth3;
    auth3.header.type = PduType::kAuth3;
    auth3.header.call_id = 2;
    auth3.body = EmptyBody{};
    auth3.auth = SecTrailer{RPC_C_AUTHN_GSS_KERBEROS, WireAuthnLevel(level), 0, 0, kCtxId, *last};
    EXPECT_TRUE(Send(EncodePdu(auth3)).empty());
    ASSERT_TRUE(open_);
  }

  // A request our client protects at the context's level, header signed.
  std::vector<uint8_t> Request(uint32_t call_id, std::vector<uint8_t> stub) {
    const size_t padded = stub.size() + (4 - stub.size() % 4) % 4;
    const size_t sig = client_->SignatureSize(padded);
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = PFC_FIRST_FRAG | PFC_LAST_FRAG;
    p.body = RequestBody{0, 0, 0, std::nullopt, std::move(stub)};
    p.auth = SecTrailer{RPC_C_AUTHN_GSS_KERBEROS, WireAuthnLevel(level_), 0, 0, kCtxId,
                        std::vector<uint8_t>(sig, 0)};
    auto bytes = EncodePdu(p);
    PduRegion r = Region(bytes, kHeaderSize + 8, bytes.size() - sig - kSecTrailerSize, level_,
                         std::span<uint8_t>(bytes.data() + bytes.size() - sig, sig));
    r.header_signing = true;
    Status s = client_->Protect(r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return bytes;
  }

  // Checks a response with our client context, header signed, unsealing
  // its stub in place.
  Status VerifyResponse(std::vector<uint8_t>& bytes) {
    const Pdu p = *DecodePdu(bytes);
    const size_t sig = p.header.auth_length;
    PduRegion r = Region(bytes, kHeaderSize + 8, bytes.size() - sig - kSecTrailerSize, level_,
                         std::span<uint8_t>(bytes.data() + bytes.size() - sig, sig));
    r.header_signing = true;
    return client_->Verify(r);
  }

  // Sends the bind (AP-REQ) of a new context of `pkg` for kSpn; returns
  // the replies.
  std::vector<Pdu> BindWith(KerberosPackage& pkg, security::AuthnLevel level) {
    TestConnection info;
    info.auth_level = level;
    StartParams cp = ParamsFor(Role::kClient, info);
    cp.target_name = kSpn;
    auto started = pkg.Start(cp);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return {};
    auto ap_req = Leg(**started, {});
    EXPECT_TRUE(ap_req.ok()) << ap_req.status().ToString();
    if (!ap_req.ok()) return {};
    Pdu bind;
    bind.header.type = PduType::kBind;
    bind.header.call_id = 1;
    bind.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
    bind.body = b;
    bind.auth = SecTrailer{RPC_C_AUTHN_GSS_KERBEROS, WireAuthnLevel(level), 0, 0, kCtxId, *ap_req};
    return Send(EncodePdu(bind));
  }

  // Asserts that the bind was refused with bind_nak, logged once as
  // kerberos.logon_refused with `hresult` and a message containing `text`
  // (MIT's own explanation), and once as rpc.bind_refused; then that the
  // server serves the next connection.
  void ExpectRefusedBind(const std::vector<Pdu>& replies, HResult hresult, const std::string& text) {
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_EQ(replies[0].header.type, PduType::kBindNak);
    EXPECT_EQ(std::get<BindNakBody>(replies[0].body).reason, kNakReasonNotSpecified);
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 0);
    auto refused = log_.Named("kerberos.logon_refused");
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].hresult, hresult) << refused[0].message;
    EXPECT_EQ(refused[0].peer, "203.0.113.5:6000");
    EXPECT_NE(refused[0].message.find("accepting the client's AP-REQ: "), std::string::npos)
        << refused[0].message;
    EXPECT_NE(refused[0].message.find(text), std::string::npos) << refused[0].message;
    auto nak = log_.Named("rpc.bind_refused");
    ASSERT_EQ(nak.size(), 1u);
    EXPECT_NE(nak[0].message.find(text), std::string::npos) << nak[0].message;
    Reset();
    Authenticate(security::AuthnLevel::kPktPrivacy);
    auto r = Send(Request(3, {7}));
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].header.type, PduType::kResponse);
    EXPECT_EQ(invocations_, 1);
  }

  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<KerberosPackage> server_pkg_;
  KerberosPackage client_pkg_;
  std::unique_ptr<ServerConnection> conn_;
  std::unique_ptr<SecurityContext> client_;
  std::vector<std::vector<uint8_t>> raw_replies_;
  CapturedLog log_;
  security::AuthnLevel level_ = security::AuthnLevel::kDefault;
  bool open_ = true;
  int invocations_ = 0;
  security::AuthnLevel last_level_ = security::AuthnLevel::kDefault;
  std::string last_principal_;
};

TEST_F(KerberosConnection, SignedCallRoundTripsWithA28ByteMic) {
  Authenticate(security::AuthnLevel::kPktIntegrity);
  auto req = Request(3, {1, 2, 3, 4, 5});
  EXPECT_EQ(DecodePdu(req)->header.auth_length, kMicSize);
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(r[0].header.auth_length, kMicSize);
  EXPECT_EQ(invocations_, 1);
  EXPECT_EQ(last_level_, security::AuthnLevel::kPktIntegrity);
  EXPECT_EQ(last_principal_, Alice());
  EXPECT_TRUE(VerifyResponse(raw_replies_[0]).ok());
}

TEST_F(KerberosConnection, SealedCallRoundTripsWithA76ByteWrapToken) {
  Authenticate(security::AuthnLevel::kPktPrivacy);
  std::vector<uint8_t> secret = {'s', 'e', 'c', 'r', 'e', 't', '!', '!'};
  auto req = Request(3, secret);
  EXPECT_EQ(DecodePdu(req)->header.auth_length, kWrapSize);
  EXPECT_EQ(std::search(req.begin(), req.end(), secret.begin(), secret.end()), req.end());
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  auto bytes = raw_replies_[0];
  EXPECT_EQ(std::search(bytes.begin(), bytes.end(), secret.begin(), secret.end()), bytes.end());
  ASSERT_TRUE(VerifyResponse(bytes).ok());
  EXPECT_TRUE(std::equal(secret.begin(), secret.end(), bytes.begin() + kHeaderSize + 8));
  EXPECT_EQ(invocations_, 1);
}

// Cases 24 and 27: one flipped bit in the stub, the header or the
// sec_trailer, at both protected levels, is a fault and the end of the
// connection; the server then serves a new one.
TEST_F(KerberosConnection, TamperedPdusAreRefused) {
  struct Edit {
    const char* what;
    size_t offset;  // from the start; SIZE_MAX - n: n bytes before the end
  };
  for (security::AuthnLevel level : {security::AuthnLevel::kPktIntegrity, security::AuthnLevel::kPktPrivacy}) {
    for (Edit e : {Edit{"stub", kHeaderSize + 8 + 5}, Edit{"call_id", 12},
                   Edit{"opnum", 22}, Edit{"auth_context_id", SIZE_MAX - 4},
                   Edit{"signature", SIZE_MAX - 1}}) {
      Reset();
      Authenticate(level);
      auto req = Request(3, std::vector<uint8_t>(40, 0x33));
      const size_t sig = DecodePdu(req)->header.auth_length;
      size_t at = e.offset;
      if (e.offset == SIZE_MAX - 4) at = req.size() - sig - 4;  // in the sec_trailer
      if (e.offset == SIZE_MAX - 1) at = req.size() - 1;
      req[at] ^= 0x01;
      auto r = Send(req);
      ASSERT_EQ(r.size(), 1u) << e.what << " level " << int(level);
      ASSERT_EQ(r[0].header.type, PduType::kFault) << e.what;
      EXPECT_FALSE(open_) << e.what;
      EXPECT_EQ(invocations_, 0) << e.what;
      if (std::string(e.what) == "auth_context_id") {
        // An unknown context is refused before any signature check.
        EXPECT_EQ(FaultStatus(r[0]), nca_s_proto_error) << e.what;
      } else if (std::string(e.what) == "call_id") {
        EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error) << e.what;
        EXPECT_NE(conn_->close_reason().find("verifier check failed for " + Alice()),
                  std::string::npos)
            << conn_->close_reason();
      } else {
        EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error) << e.what;
      }
    }
  }
  Reset();
  Authenticate(security::AuthnLevel::kPktPrivacy);
  auto r = Send(Request(3, {7}));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
}

// A sealed verifier longer than ours (77 bytes) is refused before any
// unwrap, naming the size; shorter ones down to EC=0 (60 bytes, impacket's,
// interop.impacket_kerberos) reach gss_unwrap_iov, which refuses a cut
// token. The server serves on afterwards.
TEST_F(KerberosConnection, VerifierSizeOutsideTheWrapTokenRangeIsRefused) {
  Reset();
  Authenticate(security::AuthnLevel::kPktPrivacy);
  auto req = Request(3, std::vector<uint8_t>(40, 0x33));
  req.push_back(0);
  req[8] = static_cast<uint8_t>(req.size());
  req[9] = static_cast<uint8_t>(req.size() >> 8);
  req[10] += 1;  // auth_length 77
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error);
  EXPECT_NE(conn_->close_reason().find("a verifier of 77 bytes"), std::string::npos)
      << conn_->close_reason();
  EXPECT_EQ(invocations_, 0);
  Reset();
  Authenticate(security::AuthnLevel::kPktPrivacy);
  r = Send(Request(3, {7}));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
}

// Case 25: MIT reports a replay only as GSS_S_DUPLICATE_TOKEN, a
// supplementary bit; it is refused all the same, as is a PDU out of order.
TEST_F(KerberosConnection, ReplayedAndReorderedPdusAreRefused) {
  for (security::AuthnLevel level : {security::AuthnLevel::kPktIntegrity, security::AuthnLevel::kPktPrivacy}) {
    Reset();
    Authenticate(level);
    auto first = Request(3, {1});
    ASSERT_EQ(Send(first)[0].header.type, PduType::kResponse);
    auto r = Send(first);  // the exact bytes again
    ASSERT_EQ(r[0].header.type, PduType::kFault);
    EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error);
    EXPECT_NE(conn_->close_reason().find("replayed PDU"), std::string::npos)
        << conn_->close_reason();
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 1);

    Reset();
    Authenticate(level);
    auto a = Request(3, {1});
    auto b = Request(4, {2});
    ASSERT_EQ(Send(b)[0].header.type, PduType::kFault);  // b before a
    EXPECT_NE(conn_->close_reason().find("sequence"), std::string::npos)
        << conn_->close_reason();
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 0);
  }
}

// A client that asked for an SPN the keytab has keys for but the server
// is not configured to serve is refused at auth3: the next PDU gets the
// fault, and the log says why.
TEST_F(KerberosConnection, TicketForAnotherSpnIsRefused) {
  packages_ = SecurityPackageRegistry();
  server_pkg_ = ServerPackage("service.keytab", {"host/localhost"},
                              log_.logger());
  packages_.Add(server_pkg_.get());
  Reset();
  Authenticate(security::AuthnLevel::kPktIntegrity, kSpn);
  auto r = Send(Request(3, {1}));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_EQ(invocations_, 0);
  auto refused = log_.Named("kerberos.logon_refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].peer, "203.0.113.5:6000");
  EXPECT_EQ(refused[0].authn_level, 5u);
  EXPECT_EQ(refused[0].hresult, SEC_E_WRONG_PRINCIPAL);
  EXPECT_EQ(refused[0].message, Alice() + " has a ticket for RPCSS/localhost@" + Realm()->realm() +
                                    ", which this server does not serve (it serves host/localhost@" +
                                    Realm()->realm() + ")");
  // The SPN it serves works.
  Reset();
  Authenticate(security::AuthnLevel::kPktIntegrity, "host/localhost");
  EXPECT_EQ(Send(Request(3, {1}))[0].header.type, PduType::kResponse);
}

// Runs a shell command in the realm's environment; returns its exit status.
int Shell(const std::string& command) { return std::system(command.c_str()); }

// A copy of the user's ccache holding a ticket for kSpn, so that the
// client needs no TGS exchange (which the KDC would judge by its own
// clock) before it sends the AP-REQ.
std::string CcacheWithServiceTicket(const std::string& name, const std::string& kinit_options = "") {
  const std::string path = Realm()->dir() + "/" + name;
  EXPECT_EQ(Shell("kinit " + kinit_options + " -c FILE:" + path + " -k -t " + Realm()->dir() +
                  "/user.keytab alice >/dev/null && kvno -q -c FILE:" + path + " " + kSpn),
            0);
  return path;
}

// Moves a client's clock the way MIT itself keeps a client in step with
// its KDC (kdc_timesync, on by default): a FILE ccache's header carries the
// offset from local time to the KDC's (tag 1, DeltaTime: seconds and
// microseconds, big-endian), which the library adds to every timestamp it
// makes with that ccache and to the "now" it judges tickets by. No fake
// clock or privilege is needed.
void SetClockOffset(const std::string& ccache_path, int32_t seconds) {
  std::fstream f(ccache_path, std::ios::in | std::ios::out | std::ios::binary);
  uint8_t header[8];
  ASSERT_TRUE(f.read(reinterpret_cast<char*>(header), sizeof header));
  // Version 0x0504, header length 12, tag 1 of length 8.
  const uint8_t expected[8] = {0x05, 0x04, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x08};
  ASSERT_TRUE(std::equal(expected, expected + 8, header)) << "not a v4 ccache with DeltaTime";
  const uint32_t be = static_cast<uint32_t>(seconds);
  const uint8_t bytes[8] = {uint8_t(be >> 24), uint8_t(be >> 16), uint8_t(be >> 8), uint8_t(be),
                            0, 0, 0, 0};
  f.seekp(8);
  ASSERT_TRUE(f.write(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// A client whose clock is an hour ahead of the server's: its authenticator
// is refused with KRB_AP_ERR_SKEW (SEC_E_TIME_SKEW, as SSPI names it).
// (An hour behind, MIT's client refuses to send: its ticket is "not yet
// valid" by its own clock.)
TEST_F(KerberosConnection, ClientClockSkewRefusesTheBind) {
  const std::string path = CcacheWithServiceTicket("skewed.ccache");
  SetClockOffset(path, 3600);
  KerberosClientCredentials c;
  c.ccache = "FILE:" + path;
  KerberosPackage skewed(c);
  ExpectRefusedBind(BindWith(skewed, security::AuthnLevel::kPktIntegrity), SEC_E_TIME_SKEW,
                    "Clock skew too great");
}

// A ticket past its end time is refused by the server
// (KRB_AP_ERR_TKT_EXPIRED, SEC_E_CONTEXT_EXPIRED). An honest client never
// sends one, so this client's clock runs 3 s behind: tickets
// that live 2 s are still valid by its clock 4 s later. MIT's acceptor
// takes a ticket until its end time plus the clock skew allowance (300 s
// by default), so the allowance is made 1 s here through a krb5.conf of
// the test's own; the authenticator, 3 s old, would be within the default
// allowance and fails the expiry check, which MIT makes first.
TEST_F(KerberosConnection, ExpiredTicketRefusesTheBind) {
  const std::string path = CcacheWithServiceTicket("short.ccache", "-l 2s");
  SetClockOffset(path, -3);
  const std::string strict = Realm()->dir() + "/krb5-strict.conf";
  ASSERT_EQ(Shell("sed 's/^\\[libdefaults\\]$/[libdefaults]\\n  clockskew = 1/' $KRB5_CONFIG > " +
                  strict),
            0);
  const std::string saved = getenv("KRB5_CONFIG");
  setenv("KRB5_CONFIG", strict.c_str(), 1);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  KerberosClientCredentials c;
  c.ccache = "FILE:" + path;
  KerberosPackage expired(c);
  auto replies = BindWith(expired, security::AuthnLevel::kPktIntegrity);
  setenv("KRB5_CONFIG", saved.c_str(), 1);
  ExpectRefusedBind(replies, SEC_E_CONTEXT_EXPIRED, "Ticket expired");
}


// ==== Delegation ============================================================

// Runs the three legs between a new client context (imp_level DELEGATE,
// `ccache` or the default) and a server context of `server_pkg`.
Pair DelegatingPair(KerberosPackage& server_pkg, const std::string& ccache = "") {
  KerberosClientCredentials c;
  c.ccache = ccache;
  static std::vector<std::unique_ptr<KerberosPackage>> clients;
  clients.push_back(std::make_unique<KerberosPackage>(c));
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktIntegrity;
  info.imp_level = security::ImpLevel::kDelegate;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = kSpn;
  Pair p;
  auto client = clients.back()->Start(cp);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return p;
  p.client = std::move(*client);
  p.server = std::move(*StartServerContext(server_pkg, info));
  auto t1 = Leg(*p.client, {});
  auto t2 = Leg(*p.server, *t1);
  auto t3 = Leg(*p.client, *t2);
  EXPECT_TRUE(Leg(*p.server, *t3).ok());
  return p;
}

// Whether a ccache exists in this process (a MEMORY one: until destroyed).
bool CcacheExists(const std::string& name) {
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return false;
  krb5_ccache cc = nullptr;
  krb5_principal p = nullptr;
  bool exists =
      krb5_cc_resolve(kc, name.c_str(), &cc) == 0 && krb5_cc_get_principal(kc, cc, &p) == 0;
  if (p) krb5_free_principal(kc, p);
  if (cc) krb5_cc_close(kc, cc);
  krb5_free_context(kc);
  return exists;
}

// RPC_C_IMP_LEVEL_DELEGATE to a server the KDC trusts for delegation
// (ok-as-delegate): the client forwards its TGT; the server, which MIT
// leaves without it under DCE style, recovers it from the AP-REQ
// (DELEGATE level, kFeatureDelegate, Delegated() naming the client); the
// MEMORY ccache goes with the last reference.
TEST(KerberosPackageTest, DelegationIsRecoveredUnderDceStyle) {
  REQUIRE_REALM();
  CapturedLog log;
  auto server_pkg = ServerPackage("service.keytab", {kSpn}, log.logger());
  Pair p = DelegatingPair(*server_pkg);
  ASSERT_TRUE(p.server && p.server->IsComplete());
  EXPECT_NE(p.client->features() & kFeatureDelegate, 0u);
  EXPECT_NE(p.server->features() & kFeatureDelegate, 0u);
  EXPECT_EQ(p.server->imp_level(), security::ImpLevel::kDelegate);
  auto delegated = p.server->Delegated();
  ASSERT_NE(delegated, nullptr);
  EXPECT_EQ(delegated->principal(), Alice());
  EXPECT_EQ(delegated->auth_type(), RPC_C_AUTHN_GSS_KERBEROS);
  const std::string ccache =
      dynamic_cast<const auth::gssapi::KerberosDelegatedCredentials&>(*delegated).ccache();
  EXPECT_TRUE(ccache.starts_with("MEMORY:")) << ccache;
  EXPECT_TRUE(CcacheExists(ccache));
  EXPECT_TRUE(log.Named("kerberos.delegation_refused").empty());
  auto onward = KerberosCredentials::FromDelegated(delegated);
  ASSERT_TRUE(onward.ok()) << onward.status().ToString();
  EXPECT_EQ((*onward)->get().ccache, ccache);
  delegated.reset();
  p.server.reset();
  EXPECT_TRUE(CcacheExists(ccache));  // the onward credentials still hold it
  onward = Status(E_FAIL, "released");
  EXPECT_FALSE(CcacheExists(ccache));

  // Without DELEGATE nothing is forwarded, and nothing is recovered.
  Pair plain = Establish(security::AuthnLevel::kPktIntegrity);
  EXPECT_EQ(plain.client->features() & kFeatureDelegate, 0u);
  EXPECT_EQ(plain.server->Delegated(), nullptr);
  EXPECT_EQ(plain.server->imp_level(), security::ImpLevel::kImpersonate);
}

// Sets or clears the KDC's ok-as-delegate flag on kSpn for one test.
class OkAsDelegate {
 public:
  explicit OkAsDelegate(bool on) { Set(on); }
  ~OkAsDelegate() { Set(true); }  // the fixture's setting

 private:
  static void Set(bool on) {
    const std::string command = std::string("kadmin.local -q 'modprinc ") + (on ? "+" : "-") +
                                "ok_as_delegate " + kSpn + "' >/dev/null 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0);
  }
};

// The same request to a server the KDC does not trust for delegation:
// GSS_C_DELEG_POLICY_FLAG forwards nothing (Windows's ISC_REQ_DELEGATE
// semantics), the client's features() say so, and the server gets no
// credentials and IMPERSONATE.
TEST(KerberosPackageTest, NoDelegationToAServerNotTrustedForIt) {
  REQUIRE_REALM();
  OkAsDelegate off(false);
  // A fresh ccache: the flag is copied into service tickets when issued.
  const std::string path = CcacheWithServiceTicket("untrusted.ccache", "-f");
  auto server_pkg = ServerPackage("service.keytab", {kSpn});
  Pair p = DelegatingPair(*server_pkg, "FILE:" + path);
  ASSERT_TRUE(p.server && p.server->IsComplete());
  EXPECT_EQ(p.client->features() & kFeatureDelegate, 0u);
  EXPECT_EQ(p.server->features() & kFeatureDelegate, 0u);
  EXPECT_EQ(p.server->Delegated(), nullptr);
  EXPECT_EQ(p.server->imp_level(), security::ImpLevel::kImpersonate);
}

// ==== Real sockets: our client and server ==================================

class KerberosLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_REALM();
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.min_authn_level = security::AuthnLevel::kConnect;
    r.operations.push_back([this](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::lock_guard<std::mutex> lock(mu_);
      principal_ = c.security.principal;
      level_ = c.security.authn_level;
      svc_ = c.security.authn_svc;
      imp_ = c.security.imp_level;
      token_ = c.security.token;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    Serve("service.keytab");
  }
  void Serve(const std::string& keytab, auth::gssapi::PrincipalMap* map = nullptr) {
    if (server_) server_->Stop();
    packages_ = SecurityPackageRegistry();
    server_pkg_ = ServerPackage(keytab, {kSpn}, log_.logger(), map);
    ASSERT_NE(server_pkg_, nullptr);
    packages_.Add(server_pkg_.get());
    ServerOptions options;
    options.packages = &packages_;
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&registry_, options);
    if (dir_.empty()) {
      dir_ = "/tmp/comsec-krb-sock-XXXXXX";
      ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    }
    std::filesystem::remove(dir_ + "/krb.sock");
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + dir_ + "/krb.sock"));
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<KerberosPackage> server_pkg_;
  std::unique_ptr<Server> server_;
  std::string dir_;
  StringBinding local_, tcp_;
  std::mutex mu_;
  std::string principal_;
  security::AuthnLevel level_ = security::AuthnLevel::kDefault;
  uint32_t svc_ = 0;
  security::ImpLevel imp_ = security::ImpLevel::kDefault;
  std::shared_ptr<const security::Token> token_;
  CapturedLog log_;
};

TEST_F(KerberosLoopback, EveryLevelOnBothTransports) {
  KerberosPackage client_pkg;
  for (const StringBinding& binding : {tcp_, local_}) {
    for (uint8_t level = 2; level <= 6; ++level) {  // CONNECT ... PKT_PRIVACY
      auto client = Client::Connect(binding);
      ASSERT_TRUE(client.ok());
      ClientAuth a{&client_pkg, *security::AuthnLevelFromNumber(level)};
      a.target_name = kSpn;
      a.wanted = kFeatureMutualAuth;
      Status bound = (*client)->Bind(kEcho, &a);
      ASSERT_TRUE(bound.ok()) << binding.ToString() << " " << int(level) << ": "
                              << bound.ToString();
      std::vector<uint8_t> big(50000);
      for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + level);
      for (int call = 0; call < 3; ++call) {
        auto r = (*client)->Call(0, big);
        ASSERT_TRUE(r.ok()) << binding.ToString() << " level " << int(level) << ": "
                            << r.status().ToString();
        EXPECT_EQ(*r, big);
      }
      std::lock_guard<std::mutex> lock(mu_);
      EXPECT_EQ(principal_, Alice());
      EXPECT_EQ(security::ToNumber(level_), level);
      EXPECT_EQ(svc_, RPC_C_AUTHN_GSS_KERBEROS);
      EXPECT_EQ(imp_, security::ImpLevel::kImpersonate);
    }
  }
}

TEST_F(KerberosLoopback, ClientRefusesACorruptedServerSignature) {
  MisbehavingPackage corrupt(server_pkg_.get(), Misbehaviour{1, 0});
  packages_ = SecurityPackageRegistry();
  packages_.Add(&corrupt);
  KerberosPackage client_pkg;
  for (security::AuthnLevel level : {security::AuthnLevel::kPktIntegrity, security::AuthnLevel::kPktPrivacy}) {
    auto client = Client::Connect(tcp_);
    ClientAuth a{&client_pkg, level};
    a.target_name = kSpn;
    ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());
    EXPECT_TRUE((*client)->Call(0, std::vector<uint8_t>{1, 2}).ok());
    auto r = (*client)->Call(0, std::vector<uint8_t>{3, 4});
    ASSERT_FALSE(r.ok()) << int(level);
    EXPECT_EQ(r.status().code(), SEC_E_MESSAGE_ALTERED) << r.status().ToString();
  }
}

// A client whose signatures go bad after the first call: the server
// faults that call, closes the connection, and serves the next client.
TEST_F(KerberosLoopback, ServerRefusesACorruptedClientSignatureAndServesOn) {
  KerberosPackage inner;
  MisbehavingPackage client_pkg(&inner, Misbehaviour{1, 0});
  auto client = Client::Connect(tcp_);
  ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
  a.target_name = kSpn;
  ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());
  EXPECT_TRUE((*client)->Call(0, std::vector<uint8_t>{1}).ok());
  auto r = (*client)->Call(0, std::vector<uint8_t>{2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), FaultToHResult(nca_s_fault_sec_pkg_error)) << r.status().ToString();
  // The server says why it closed the connection.
  bool logged = false;
  for (int i = 0; i < 200 && !logged; ++i) {
    for (const LogEvent& e : log_.Named("rpc.connection_closed")) {
      if (e.reason && e.reason->find("verifier check failed for " + Alice()) != std::string::npos) {
        logged = true;
      }
    }
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(logged);

  KerberosPackage good;
  auto next = Client::Connect(tcp_);
  ClientAuth b{&good, security::AuthnLevel::kPktPrivacy};
  b.target_name = kSpn;
  ASSERT_TRUE((*next)->Bind(kEcho, &b).ok());
  EXPECT_TRUE((*next)->Call(0, std::vector<uint8_t>{3}).ok());
}

// A server that cannot prove itself: an impostor without the service's
// key, which cannot read the AP-REQ, answers with an AP-REP it recorded
// from a genuine exchange earlier (same service ticket, same session
// key). The AP-REP must echo this AP-REQ's authenticator time, so the
// client refuses it in the bind (mutual authentication failed: no auth3,
// no call), and afterwards binds to the genuine server.
class ImpostorPackage : public SecurityPackage {
 public:
  explicit ImpostorPackage(std::vector<uint8_t> recorded_ap_rep) : ap_rep_(std::move(recorded_ap_rep)) {}
  uint8_t auth_type() const override { return RPC_C_AUTHN_GSS_KERBEROS; }
  const char* name() const override { return "impostor"; }
  Result<std::unique_ptr<SecurityContext>> Start(const StartParams&) override {
    return std::unique_ptr<SecurityContext>(new Context(ap_rep_));
  }

 private:
  class Context : public SecurityContext {
   public:
    explicit Context(const std::vector<uint8_t>& ap_rep) : ap_rep_(ap_rep) {}
    Result<UpdateResult> Update(std::span<const uint8_t>) override {
      ++legs_;
      return UpdateResult{legs_ == 1 ? ap_rep_ : std::vector<uint8_t>{}, legs_ > 1};
    }
    bool IsComplete() const override { return legs_ > 1; }
    uint32_t features() const override { return kFeatureSign | kFeatureSeal | kFeatureMutualAuth; }
    size_t SignatureSize(size_t) const override { return kWrapSize; }
    Status Verify(const PduRegion&) override { return Status::Ok(); }
    Status Protect(const PduRegion&) override { return Status::Ok(); }
    std::string PeerName() const override { return "impostor"; }
    std::shared_ptr<const security::Token> PeerToken() const override {
      return std::make_shared<const security::Token>(security::Token::Anonymous(security::LogonKind::kNetwork, false));
    }

   private:
    const std::vector<uint8_t>& ap_rep_;
    int legs_ = 0;
  };
  std::vector<uint8_t> ap_rep_;
};

TEST_F(KerberosLoopback, ServerThatCannotProveItselfFailsMutualAuthentication) {
  KerberosPackage client_pkg;
  std::vector<uint8_t> recorded;
  {
    TestConnection info;
    StartParams cp = ParamsFor(Role::kClient, info);
    cp.target_name = kSpn;
    auto client = client_pkg.Start(cp);
    auto server = StartServerContext(*server_pkg_, info);
    auto ap_req = Leg(**client, {});
    auto ap_rep = Leg(**server, *ap_req);
    ASSERT_TRUE(ap_rep.ok());
    recorded = *ap_rep;
  }
  ImpostorPackage impostor(recorded);
  SecurityPackageRegistry impostor_packages;
  impostor_packages.Add(&impostor);
  ServerOptions options;
  options.packages = &impostor_packages;
  Server fake(&registry_, options);
  auto fake_tcp = fake.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(fake_tcp.ok());
  for (security::AuthnLevel level : {security::AuthnLevel::kConnect, security::AuthnLevel::kPktPrivacy}) {
    auto client = Client::Connect(*fake_tcp);
    ASSERT_TRUE(client.ok());
    ClientAuth a{&client_pkg, level};
    a.target_name = kSpn;
    a.wanted = kFeatureMutualAuth;
    Status s = (*client)->Bind(kEcho, &a);
    ASSERT_FALSE(s.ok()) << int(level);
    EXPECT_EQ(s.code(), SEC_E_LOGON_DENIED) << s.ToString();
    EXPECT_NE(s.message().find("checking the server's AP-REP (mutual authentication)"),
              std::string::npos)
        << s.ToString();
    EXPECT_NE(s.message().find("Mutual authentication failed"), std::string::npos) << s.ToString();
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(principal_.empty());  // nothing was called
  }
  fake.Stop();
  auto genuine = Client::Connect(tcp_);
  ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
  a.target_name = kSpn;
  ASSERT_TRUE((*genuine)->Bind(kEcho, &a).ok());
  EXPECT_TRUE((*genuine)->Call(0, std::vector<uint8_t>{1}).ok());
}

// A server whose keytab lags behind the KDC (re-keyed, keytab not
// updated) cannot read the ticket: the bind is refused, and the server
// still serves once it has the right keys.
TEST_F(KerberosLoopback, StaleKeytabRefusesTheBind) {
  Serve("stale.keytab");
  KerberosPackage client_pkg;
  auto client = Client::Connect(tcp_);
  ClientAuth a{&client_pkg, security::AuthnLevel::kPktIntegrity};
  a.target_name = kSpn;
  Status s = (*client)->Bind(kEcho, &a);
  ASSERT_FALSE(s.ok());
  // The client's answer to any bind_nak (rpc/client.cc).
  EXPECT_EQ(s.code(), RPC_S_PROTOCOL_ERROR) << s.ToString();
  EXPECT_NE(s.message().find("bind_nak"), std::string::npos) << s.ToString();
  {
    bool logged = false;
    for (const LogEvent& e : log_.Named("kerberos.logon_refused")) {
      if (e.peer && e.peer->starts_with("127.0.0.1:") &&
          e.message.find("accepting the client's AP-REQ") != std::string::npos) {
        logged = true;
      }
    }
    EXPECT_TRUE(logged);
  }
  Serve("service.keytab");
  auto again = Client::Connect(tcp_);
  ASSERT_TRUE((*again)->Bind(kEcho, &a).ok());
  EXPECT_TRUE((*again)->Call(0, std::vector<uint8_t>{1}).ok());
}

// Credentials from a client keytab instead of the ccache; a principal
// whose name is a Unix account maps to it, root never does.
TEST_F(KerberosLoopback, KeytabCredentialsAndUnixAccountMapping) {
  for (const char* user : {"nobody", "root"}) {
    KerberosClientCredentials c;
    c.keytab = Realm()->dir() + "/user.keytab";
    c.principal = user;
    KerberosPackage client_pkg(c);
    auto client = Client::Connect(tcp_);
    ClientAuth a{&client_pkg, security::AuthnLevel::kPktIntegrity};
    a.target_name = kSpn;
    Status s = (*client)->Bind(kEcho, &a);
    ASSERT_TRUE(s.ok()) << user << ": " << s.ToString();
    ASSERT_TRUE((*client)->Call(0, std::vector<uint8_t>{1}).ok());
    std::lock_guard<std::mutex> lock(mu_);
    if (std::string(user) == "nobody") {
      auto id = security::LookupUnixUserByName("nobody");
      ASSERT_TRUE(id.ok());
      EXPECT_EQ(principal_, "unix:nobody");
      EXPECT_EQ(token_->user().ToString(), "S-1-22-1-" + std::to_string(id->uid));
    } else {
      EXPECT_EQ(principal_, "root@" + Realm()->realm());
      EXPECT_EQ(token_->user(), auth::gssapi::PrincipalSid("root@" + Realm()->realm()));
    }
  }
}

// The store's principal map (rule 2 of auth/gssapi/principal_mapping.h)
// names the caller: alice's principal becomes the account bob, with his
// SID and local groups. The store is read at each logon: a disabled
// account refuses the logon (logged; the call after auth3 is faulted), and an unmapped principal
// falls back to the later rules, without a restart.
TEST_F(KerberosLoopback, StorePrincipalMapNamesTheCaller) {
  const std::string store_path = dir_ + "/store.db";
  auto store = config::Store::Open(store_path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  security::Sid bob_sid, operators_sid;
  {
    auto secrets = config::OpenSecrets(store_path);
    ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
    config::AccountDatabase db(secrets->get());
    ASSERT_TRUE(db.EnsureDomain("KRBTEST").ok());
    ASSERT_TRUE(db.AddUser("bob", config::NtHashBytes{}).ok());
    ASSERT_TRUE(db.AddGroup("operators").ok());
    ASSERT_TRUE(db.AddMember("operators", "bob").ok());
    auto bob = db.FindUser("bob");
    ASSERT_TRUE(bob.ok() && *bob);
    bob_sid = (*bob)->sid;
    operators_sid = (*bob)->groups.at(0).second;
  }
  ASSERT_TRUE(config::MapPrincipal(**store, Alice(), "bob").ok());
  auto map = auth::gssapi::StorePrincipalMap::Open(store_path);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  Serve("service.keytab", map->get());
  KerberosPackage client_pkg;
  auto call = [&]() -> Status {
    auto client = Client::Connect(tcp_);
    if (!client.ok()) return client.status();
    ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
    a.target_name = kSpn;
    COMSEC_RETURN_IF_ERROR((*client)->Bind(kEcho, &a));
    return (*client)->Call(0, std::vector<uint8_t>{1}).status();
  };
  ASSERT_TRUE(call().ok());
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(principal_, "KRBTEST\\bob");
    EXPECT_EQ(token_->user(), bob_sid);
    EXPECT_TRUE(std::any_of(token_->groups().begin(), token_->groups().end(),
                            [&](const auto& g) { return g.sid == operators_sid; }));
  }
  {
    auto secrets = config::OpenSecrets(store_path);
    config::AccountDatabase db(secrets->get());
    ASSERT_TRUE(db.SetDisabled("bob", true).ok());
  }
  Status refused = call();
  ASSERT_FALSE(refused.ok());
  // The last leg (auth3) has no reply: the call after it gets the fault.
  EXPECT_EQ(refused.code(), FaultToHResult(nca_s_fault_access_denied)) << refused.ToString();
  bool logged = false;
  for (const LogEvent& e : log_.Named("kerberos.logon_refused")) {
    if (e.message.find("maps " + Alice() + " to account 'bob', which is disabled") !=
        std::string::npos) {
      logged = e.hresult == SEC_E_LOGON_DENIED;
    }
  }
  EXPECT_TRUE(logged);
  ASSERT_TRUE(config::UnmapPrincipal(**store, Alice()).ok());
  ASSERT_TRUE(call().ok());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(principal_, Alice());
  EXPECT_EQ(token_->user(), auth::gssapi::PrincipalSid(Alice()));
}

// The double hop: A (alice) calls B with RPC_C_IMP_LEVEL_DELEGATE; B's
// method calls C (host/localhost) with the credentials A delegated
// (KerberosCredentials::FromDelegated), and C sees alice. When the KDC does
// not trust B for delegation, A forwards nothing, B has no credentials of
// alice's and calls C as itself (its service keytab), so C sees B: as on
// Windows, where the onward call goes out with the server's own identity
// (or fails, if C refuses B).
TEST_F(KerberosLoopback, DelegationDoubleHop) {
  // C.
  std::mutex c_mu;
  std::string c_saw;
  InterfaceRegistry c_registry;
  {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.min_authn_level = security::AuthnLevel::kPktPrivacy;
    r.operations.push_back([&](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::lock_guard<std::mutex> lock(c_mu);
      c_saw = c.security.principal;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    c_registry.Register(std::move(r));
  }
  auto c_pkg = ServerPackage("service.keytab", {"host/localhost"});
  SecurityPackageRegistry c_packages;
  c_packages.Add(c_pkg.get());
  ServerOptions c_options;
  c_options.packages = &c_packages;
  Server c_server(&c_registry, c_options);
  auto c_tcp = c_server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(c_tcp.ok());

  // B: the fixture's server, its method replaced by one that calls C.
  KerberosPackage onward_pkg;
  std::mutex b_mu;
  security::ImpLevel b_imp = security::ImpLevel::kDefault;
  std::string b_delegated_by;
  registry_ = InterfaceRegistry();
  {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back([&](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::shared_ptr<const Credentials> as;
      {
        std::lock_guard<std::mutex> lock(b_mu);
        b_imp = c.security.imp_level;
        b_delegated_by = c.security.delegated ? c.security.delegated->principal() : "";
      }
      if (c.security.delegated) {
        COMSEC_ASSIGN_OR_RETURN(as, KerberosCredentials::FromDelegated(c.security.delegated));
      } else {
        KerberosClientCredentials own;
        own.keytab = Realm()->dir() + "/service.keytab";
        own.principal = kSpn;
        as = std::make_shared<KerberosCredentials>(own);
      }
      COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(*c_tcp));
      ClientAuth a{&onward_pkg, security::AuthnLevel::kPktPrivacy};
      a.credentials = as;
      a.target_name = "host/localhost";
      COMSEC_RETURN_IF_ERROR(client->Bind(kEcho, &a));
      return client->Call(0, std::vector<uint8_t>(stub.begin(), stub.end()));
    });
    registry_.Register(std::move(r));
  }
  Serve("service.keytab");

  auto a_calls = [&](const std::string& ccache) -> Status {
    KerberosClientCredentials who;
    who.ccache = ccache;
    KerberosPackage a_pkg(who);
    auto client = Client::Connect(tcp_);
    if (!client.ok()) return client.status();
    ClientAuth a{&a_pkg, security::AuthnLevel::kPktPrivacy};
    a.target_name = kSpn;
    a.imp_level = security::ImpLevel::kDelegate;
    COMSEC_RETURN_IF_ERROR((*client)->Bind(kEcho, &a));
    COMSEC_ASSIGN_OR_RETURN(auto echoed, (*client)->Call(0, std::vector<uint8_t>{4, 2}));
    // C's answer came back through B (the stub may carry B's padding).
    if (echoed.size() < 2 || echoed[0] != 4 || echoed[1] != 2) return Status(E_FAIL, "echo differs");
    return Status::Ok();
  };

  Status trusted = a_calls("");
  ASSERT_TRUE(trusted.ok()) << trusted.ToString();
  {
    std::lock_guard<std::mutex> lock(b_mu);
    EXPECT_EQ(b_imp, security::ImpLevel::kDelegate);
    EXPECT_EQ(b_delegated_by, Alice());
  }
  {
    std::lock_guard<std::mutex> lock(c_mu);
    EXPECT_EQ(c_saw, Alice());
  }

  OkAsDelegate off(false);
  const std::string path = CcacheWithServiceTicket("hop-untrusted.ccache", "-f");
  Status untrusted = a_calls("FILE:" + path);
  ASSERT_TRUE(untrusted.ok()) << untrusted.ToString();
  {
    std::lock_guard<std::mutex> lock(b_mu);
    EXPECT_EQ(b_imp, security::ImpLevel::kImpersonate);
    EXPECT_EQ(b_delegated_by, "");
  }
  std::lock_guard<std::mutex> lock(c_mu);
  EXPECT_EQ(c_saw, std::string(kSpn) + "@" + Realm()->realm());
  c_server.Stop();
}

// RPC_C_IMP_LEVEL_DELEGATE with kFeatureDelegate wanted: to a trusted
// server the client achieves it; to a server the KDC does not trust for
// delegation the bind still succeeds (Windows forwards nothing and makes
// the call) and unmet_features() names what was missing, while a missing
// mutual authentication would have failed the bind.
TEST_F(KerberosLoopback, DelegationNotGrantedIsReportedNotFatal) {
  auto bind = [&](const std::string& ccache, uint32_t* achieved, uint32_t* unmet) -> Status {
    KerberosClientCredentials who;
    who.ccache = ccache;
    KerberosPackage pkg(who);
    auto client = Client::Connect(tcp_);
    if (!client.ok()) return client.status();
    ClientAuth a{&pkg, security::AuthnLevel::kPktPrivacy};
    a.target_name = kSpn;
    a.imp_level = security::ImpLevel::kDelegate;
    a.wanted = kFeatureMutualAuth | kFeatureDelegate;
    COMSEC_RETURN_IF_ERROR((*client)->Bind(kEcho, &a));
    *achieved = (*client)->achieved_features(a.context_id);
    *unmet = (*client)->unmet_features(a.context_id);
    EXPECT_EQ((*client)->unmet_features(a.context_id + 1), 0u);  // no such context
    return (*client)->Call(0, std::vector<uint8_t>{1}).status();
  };
  uint32_t achieved = 0, unmet = 0;
  Status trusted = bind("", &achieved, &unmet);
  ASSERT_TRUE(trusted.ok()) << trusted.ToString();
  EXPECT_NE(achieved & kFeatureDelegate, 0u);
  EXPECT_NE(achieved & kFeatureMutualAuth, 0u);
  EXPECT_EQ(unmet, 0u);
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(imp_, security::ImpLevel::kDelegate);
  }

  OkAsDelegate off(false);
  const std::string path = CcacheWithServiceTicket("unmet.ccache", "-f");
  Status untrusted = bind("FILE:" + path, &achieved, &unmet);
  ASSERT_TRUE(untrusted.ok()) << untrusted.ToString();
  EXPECT_EQ(achieved & kFeatureDelegate, 0u);
  EXPECT_NE(achieved & kFeatureMutualAuth, 0u);
  EXPECT_EQ(unmet, static_cast<uint32_t>(kFeatureDelegate));
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(imp_, security::ImpLevel::kImpersonate);
}

// What a handshake costs (bind with three legs, ticket cached after the
// first): printed for the report, checked only to succeed.
TEST_F(KerberosLoopback, HandshakeCost) {
  KerberosPackage client_pkg;
  constexpr int kBinds = 20;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBinds; ++i) {
    auto client = Client::Connect(tcp_);
    ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
    a.target_name = kSpn;
    ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());
    ASSERT_TRUE((*client)->Call(0, std::vector<uint8_t>{1}).ok());
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("kerberos: connect + bind + one PKT_PRIVACY call: %lld us each (mean of %d)\n",
              static_cast<long long>(us / kBinds), kBinds);
}

}  // namespace
}  // namespace comsec::rpc
