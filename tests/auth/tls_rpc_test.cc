// The TLS package (auth_type 14, the Schannel analog) inside DCE/RPC: the
// legs (ClientHello in bind, the server's flight in bind_ack, the client's
// Finished in alter_context), the verifier sizes, the identities (server
// name and chain checks, client certificates mapped through the store,
// anonymous without one), and every refusal with its exact status, fault
// and log event: an untrusted CA, a wrong name, an expired certificate, a
// tampered, replayed or reordered PDU. Then our client and server over real
// sockets on TCP and ncalrpc. There is no Windows peer: client to server
// only (auth/tls/tls_package.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <mutex>

#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"
#include "comsec/auth/tls/store_certificate_mapper.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/config/accounts.h"
#include "comsec/config/tls_settings.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/rpc/server_connection.h"
#include "tls_test_certs.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

using auth::tls::CertificateMapper;
using auth::tls::ClientCertificate;
using auth::tls::MappedAccount;
using auth::tls::TlsClientOptions;
using auth::tls::TlsCredentials;
using auth::tls::TlsPackage;
using auth::tls::TlsServerOptions;
using security::AuthnLevel;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
constexpr uint32_t kCtxId = 1414;
// One record: 5-byte header, content type and 16-byte tag around a
// 32-byte digest (tls_package.h).
constexpr size_t kSigSize = 54;

// The certificates every test uses, made once per process.
struct Pki {
  std::string dir;
  tls_test::Issued ca, other_ca, server, expired_server, alice, bob, stranger;
  Pki() {
    dir = "/tmp/comsec-tls-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) std::abort();
    ca = tls_test::Issue(dir, "ca", "comsec test CA", nullptr, true);
    other_ca = tls_test::Issue(dir, "other-ca", "another CA", nullptr, true);
    server = tls_test::Issue(dir, "server", "localhost", &ca, false,
                             "DNS:localhost,email:rpc@example.test");
    expired_server = tls_test::Issue(dir, "expired", "localhost", &ca, false, "DNS:localhost", -1);
    alice = tls_test::Issue(dir, "alice", "alice", &ca, false);
    bob = tls_test::Issue(dir, "bob", "bob", &ca, false);
    stranger = tls_test::Issue(dir, "stranger", "alice", &other_ca, false);
  }
  ~Pki() { std::filesystem::remove_all(dir); }
};
Pki& Certs() {
  static Pki* pki = new Pki();
  return *pki;
}
class PkiEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { std::filesystem::remove_all(Certs().dir); }
};
const auto* const kPkiEnvironment = ::testing::AddGlobalTestEnvironment(new PkiEnvironment);

// Maps thumbprints to fixed accounts (the store's mapper is tested below).
class TableMapper : public CertificateMapper {
 public:
  Result<std::optional<MappedAccount>> Map(const ClientCertificate& c) override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_subject = c.subject;
    auto it = table.find(c.thumbprint);
    if (it == table.end()) return std::optional<MappedAccount>();
    return std::optional<MappedAccount>(it->second);
  }
  std::mutex mu_;
  std::map<std::string, MappedAccount> table;
  std::string seen_subject;
};

MappedAccount Account(const std::string& name, uint32_t rid) {
  return {name, std::make_shared<const security::Token>(security::Token::ForAuthenticatedUser(
                    security::Sid(5, {21, 1, 2, 3, rid}), {}, security::LogonKind::kNetwork))};
}

std::unique_ptr<TlsPackage> ServerPackage(const tls_test::Issued& cert, bool ask_clients,
                                          CertificateMapper* mapper = nullptr,
                                          const Logger* logger = nullptr) {
  TlsServerOptions o;
  o.certificate_file = cert.certificate_file;
  o.key_file = cert.key_file;
  if (ask_clients) o.ca_file = Certs().ca.certificate_file;
  o.mapper = mapper;
  o.logger = logger;
  auto p = TlsPackage::CreateServer(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

std::unique_ptr<TlsPackage> ClientPackage(const tls_test::Issued* cert = nullptr,
                                          const tls_test::Issued* ca = nullptr) {
  TlsClientOptions o;
  o.ca_file = (ca ? *ca : Certs().ca).certificate_file;
  if (cert) {
    o.certificate_file = cert->certificate_file;
    o.key_file = cert->key_file;
  }
  auto p = TlsPackage::CreateClient(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

struct Pair {
  std::unique_ptr<SecurityContext> client, server;
};

// Runs the legs as the runtime does; returns the first failure.
Status Handshake(SecurityPackage& client_pkg, SecurityPackage& server_pkg, Pair* out,
                 AuthnLevel level = AuthnLevel::kPktPrivacy,
                 const std::string& target = "RPCSS/localhost") {
  TestConnection info;
  info.auth_level = level;
  info.peer = "198.51.100.7:5000";
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = target;
  COMSEC_ASSIGN_OR_RETURN(out->client, client_pkg.Start(cp));
  COMSEC_ASSIGN_OR_RETURN(out->server, StartServerContext(server_pkg, info));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult hello, out->client->Update({}));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult flight, out->server->Update(hello.output));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult finished, out->client->Update(flight.output));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult accepted, out->server->Update(finished.output));
  COMSEC_ASSIGN_OR_RETURN(UpdateResult done, out->client->Update(accepted.output));
  if (!done.done) return Status(E_FAIL, "the client did not complete");
  return Status::Ok();
}

// ==== The package on its own ================================================

TEST(TlsPackageTest, LegsFeaturesAndSizes) {
  auto server_pkg = ServerPackage(Certs().server, false);
  auto client_pkg = ClientPackage();
  TestConnection info;
  info.auth_level = AuthnLevel::kPktPrivacy;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = "RPCSS/localhost";
  auto client = client_pkg->Start(cp);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto server = StartServerContext(*server_pkg, info);
  ASSERT_TRUE(server.ok());

  auto hello = (*client)->Update({});
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_FALSE(hello->done);
  ASSERT_GT(hello->output.size(), 5u);
  EXPECT_EQ(hello->output[0], 22);  // a handshake record
  auto flight = (*server)->Update(hello->output);
  ASSERT_TRUE(flight.ok()) << flight.status().ToString();
  EXPECT_FALSE(flight->done);
  auto finished = (*client)->Update(flight->output);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  // Not done: the Finished goes in alter_context, whose answer completes us.
  EXPECT_FALSE(finished->done);
  EXPECT_FALSE((*client)->IsComplete());
  ASSERT_FALSE(finished->output.empty());
  auto accepted = (*server)->Update(finished->output);
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_TRUE(accepted->done);
  // The acceptance record: 19 bytes sealed.
  EXPECT_EQ(accepted->output.size(), 19 + 22u);
  EXPECT_EQ(accepted->output[0], 23);
  auto done = (*client)->Update(accepted->output);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->done);
  EXPECT_TRUE(done->output.empty());

  const uint32_t want = kFeatureSign | kFeatureSeal | kFeatureMutualAuth | kFeatureSessionKey;
  EXPECT_EQ((*client)->features(), want);
  EXPECT_EQ((*server)->features(), want);
  EXPECT_EQ((*client)->PeerName(), "localhost");
  // No client certificate: anonymous, as Schannel (R35).
  EXPECT_EQ((*server)->PeerName(), "NT AUTHORITY\\ANONYMOUS LOGON");
  ASSERT_NE((*server)->PeerToken(), nullptr);
  EXPECT_TRUE((*server)->PeerToken()->IsAnonymous());
  EXPECT_EQ((*server)->imp_level(), security::ImpLevel::kImpersonate);  // R78
  EXPECT_EQ((*client)->SignatureSize(64), kSigSize);
  EXPECT_EQ((*client)->SignatureSize(4096), kSigSize);
  EXPECT_EQ((*client)->SignatureSize(16352), kSigSize);
  EXPECT_EQ((*client)->SignatureSize(16353), 2 * 22 + 32u);  // two records
  EXPECT_EQ(auth::tls::TlsSignatureSize(AuthnLevel::kPktIntegrity, 100000), kSigSize);
  EXPECT_EQ(auth::tls::TlsSignatureSize(AuthnLevel::kConnect, 64), 0u);
  auto ck = (*client)->SessionKey();
  auto sk = (*server)->SessionKey();
  ASSERT_TRUE(ck.ok() && sk.ok());
  EXPECT_TRUE(std::equal(ck->begin(), ck->end(), sk->begin()));
  // A token after the end is refused.
  EXPECT_EQ((*server)->Update(hello->output).status().code(), SEC_E_INVALID_TOKEN);
}

// A stub larger than one record: several records, each sealed in place.
TEST(TlsPackageTest, LargeStubsSpanSeveralRecords) {
  auto server_pkg = ServerPackage(Certs().server, false);
  auto client_pkg = ClientPackage();
  Pair p;
  ASSERT_TRUE(Handshake(*client_pkg, *server_pkg, &p).ok());
  for (size_t n : {0u, 4u, 16352u, 16356u, 40000u}) {
    const size_t sig = p.client->SignatureSize(n);
    std::vector<uint8_t> pdu(24 + n + 8 + sig);
    for (size_t i = 0; i < pdu.size(); ++i) pdu[i] = static_cast<uint8_t>(i * 13);
    const std::vector<uint8_t> original = pdu;
    std::span<uint8_t> signature(pdu.data() + 24 + n + 8, sig);
    ASSERT_TRUE(ProtectPdu(*p.client, pdu, 24, 24 + n, AuthnLevel::kPktPrivacy, signature).ok());
    if (n >= 16) {
      EXPECT_FALSE(std::equal(pdu.begin() + 24, pdu.begin() + 24 + 16, original.begin() + 24));
    }
    Status v = VerifyPdu(*p.server, pdu, 24, 24 + n, AuthnLevel::kPktPrivacy, signature);
    ASSERT_TRUE(v.ok()) << n << ": " << v.ToString();
    EXPECT_TRUE(std::equal(pdu.begin(), pdu.begin() + 24 + n + 8, original.begin())) << n;
  }
}

TEST(TlsPackageTest, ClientCertificateMapsToAnAccount) {
  TableMapper mapper;
  mapper.table[tls_test::Thumbprint(Certs().alice.certificate)] = Account("TEST\\alice", 1001);
  CapturedLog log;
  auto server_pkg = ServerPackage(Certs().server, true, &mapper, log.logger());
  auto alice = ClientPackage(&Certs().alice);
  Pair p;
  Status s = Handshake(*alice, *server_pkg, &p);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(p.server->PeerName(), "TEST\\alice");
  EXPECT_EQ(p.server->PeerToken()->user().ToString(), "S-1-5-21-1-2-3-1001");
  EXPECT_EQ(mapper.seen_subject, "CN=alice,O=comsec test");
  EXPECT_TRUE(log.Named("tls.certificate_unmapped").empty());

  // bob has a certificate the CA issued but no mapping: anonymous, logged.
  auto bob = ClientPackage(&Certs().bob);
  ASSERT_TRUE(Handshake(*bob, *server_pkg, &p).ok());
  EXPECT_EQ(p.server->PeerName(), "NT AUTHORITY\\ANONYMOUS LOGON");
  auto unmapped = log.Named("tls.certificate_unmapped");
  ASSERT_EQ(unmapped.size(), 1u);
  EXPECT_EQ(unmapped[0].peer, "198.51.100.7:5000");
  const std::string bob_thumb = tls_test::Thumbprint(Certs().bob.certificate);
  EXPECT_NE(unmapped[0].message.find("comcfg tls map --thumbprint " + bob_thumb),
            std::string::npos)
      << unmapped[0].message;

  // Per-context credentials override the package's (none here).
  auto plain = ClientPackage();
  TestConnection info;
  info.auth_level = AuthnLevel::kPktPrivacy;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.credentials = std::make_shared<TlsCredentials>(Certs().alice.certificate_file,
                                                    Certs().alice.key_file);
  auto ctx = plain->Start(cp);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  auto server = StartServerContext(*server_pkg, info);
  auto hello = (*ctx)->Update({});
  auto flight = (*server)->Update(hello->output);
  auto fin = (*ctx)->Update(flight->output);
  ASSERT_TRUE((*server)->Update(fin->output).ok());
  EXPECT_EQ((*server)->PeerName(), "TEST\\alice");
}

// The client refuses a server it cannot verify, with Schannel's codes.
TEST(TlsPackageTest, ServerVerificationFailures) {
  auto server_pkg = ServerPackage(Certs().server, false);
  Pair p;
  auto wrong_ca = ClientPackage(nullptr, &Certs().other_ca);
  Status s = Handshake(*wrong_ca, *server_pkg, &p);
  EXPECT_EQ(s.code(), auth::tls::SEC_E_UNTRUSTED_ROOT) << s.ToString();
  EXPECT_NE(s.message().find("the server's certificate failed verification"), std::string::npos)
      << s.ToString();

  auto client_pkg = ClientPackage();
  s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, "RPCSS/otherhost");
  EXPECT_EQ(s.code(), SEC_E_WRONG_PRINCIPAL) << s.ToString();
  // R36: msstd: is the e-mail name when the certificate has one.
  s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, "msstd:rpc@example.test");
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(p.client->PeerName(), "msstd:rpc@example.test");
  s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, "msstd:localhost");
  EXPECT_EQ(s.code(), SEC_E_WRONG_PRINCIPAL) << s.ToString();
  // No target: the chain alone.
  EXPECT_TRUE(Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, "").ok());

  auto expired_pkg = ServerPackage(Certs().expired_server, false);
  s = Handshake(*client_pkg, *expired_pkg, &p);
  EXPECT_EQ(s.code(), auth::tls::SEC_E_CERT_EXPIRED) << s.ToString();
}

// R52: the server's names from its own certificate (what a COM server
// advertises), a client naming the server in fullsic form, and the server
// seeing its caller's certificate names through Evidence().
TEST(TlsPackageTest, R52_FullsicTargetsAndPeerEvidence) {
  auto server_pkg = ServerPackage(Certs().server, true);
  auto own = server_pkg->PrincipalNames();
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  EXPECT_EQ(own->msstd, "msstd:rpc@example.test");
  EXPECT_EQ(own->fullsic,
            "fullsic:\\<\\CN=comsec test CA, O=comsec test\\CN=localhost, O=comsec test>");
  // A client without a certificate has no names of its own.
  EXPECT_EQ(ClientPackage()->PrincipalNames().status().code(), SEC_E_NO_CREDENTIALS);

  auto client_pkg = ClientPackage(&Certs().alice);
  Pair p;
  Status s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, own->fullsic);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(p.client->PeerName(), own->fullsic);
  auto evidence =
      std::dynamic_pointer_cast<const auth::tls::TlsPeerCertificate>(p.server->Evidence());
  ASSERT_NE(evidence, nullptr);
  EXPECT_EQ(evidence->msstd(), "msstd:alice");
  EXPECT_EQ(evidence->fullsic(),
            "fullsic:\\<\\CN=comsec test CA, O=comsec test\\CN=alice, O=comsec test>");
  EXPECT_EQ(evidence->thumbprint(), tls_test::Thumbprint(Certs().alice.certificate));
  // Case is ignored, as for msstd names.
  std::string upper = own->fullsic;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy, upper).ok());
  // Another chain's name, or the subject alone without its issuer: refused.
  s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy,
                "fullsic:\\<\\CN=another CA, O=comsec test\\CN=localhost, O=comsec test>");
  EXPECT_EQ(s.code(), SEC_E_WRONG_PRINCIPAL) << s.ToString();
  s = Handshake(*client_pkg, *server_pkg, &p, AuthnLevel::kPktPrivacy,
                "fullsic:\\<\\CN=localhost, O=comsec test>");
  EXPECT_EQ(s.code(), SEC_E_WRONG_PRINCIPAL) << s.ToString();
  // A caller without a certificate leaves no evidence.
  auto anonymous_pkg = ClientPackage();
  ASSERT_TRUE(Handshake(*anonymous_pkg, *server_pkg, &p).ok());
  EXPECT_EQ(p.server->Evidence(), nullptr);
}

// A client certificate from a CA the server does not trust fails the
// handshake on the server, logged.
TEST(TlsPackageTest, UntrustedClientCertificateIsRefused) {
  CapturedLog log;
  TableMapper mapper;
  auto server_pkg = ServerPackage(Certs().server, true, &mapper, log.logger());
  auto stranger = ClientPackage(&Certs().stranger);
  Pair p;
  Status s = Handshake(*stranger, *server_pkg, &p);
  EXPECT_EQ(s.code(), auth::tls::SEC_E_UNTRUSTED_ROOT) << s.ToString();
  auto refused = log.Named("tls.logon_refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].hresult, auth::tls::SEC_E_UNTRUSTED_ROOT);
  EXPECT_NE(refused[0].message.find("the client's certificate failed verification"),
            std::string::npos)
      << refused[0].message;
}

TEST(TlsPackageTest, StartRefusals) {
  auto client_pkg = ClientPackage();
  auto server_pkg = ServerPackage(Certs().server, false);
  TestConnection info;
  info.auth_level = AuthnLevel::kPktPrivacy;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.wanted = kFeatureDelegate;
  EXPECT_EQ(client_pkg->Start(cp).status().code(), SEC_E_UNSUPPORTED_FUNCTION);
  cp.wanted = 0;
  cp.auth_level = AuthnLevel::kNone;
  EXPECT_EQ(client_pkg->Start(cp).status().code(), E_INVALIDARG);
  cp.auth_level = AuthnLevel::kPktPrivacy;
  // R52: a fullsic name must have the form (names after "\\<", each
  // opened by a backslash); "fullsic:\\<CN=x>" has none.
  cp.target_name = "fullsic:\\<CN=x>";
  EXPECT_EQ(client_pkg->Start(cp).status().code(), E_INVALIDARG);
  // R78: an identify-level client still gets IMPERSONATE, not a refusal.
  cp.target_name = "";
  cp.imp_level = security::ImpLevel::kIdentify;
  EXPECT_TRUE(client_pkg->Start(cp).ok());
  EXPECT_EQ(StartClientContext(*server_pkg, info).status().code(), SEC_E_NO_CREDENTIALS);
  EXPECT_EQ(TlsPackage::CreateClient({}).status().code(), SEC_E_NO_CREDENTIALS);
  TlsServerOptions bad;
  bad.certificate_file = Certs().server.certificate_file;
  bad.key_file = Certs().alice.key_file;
  auto mismatched = TlsPackage::CreateServer(bad);
  EXPECT_EQ(mismatched.status().code(), SEC_E_NO_CREDENTIALS);
  EXPECT_NE(mismatched.status().message().find("the key file"), std::string::npos)
      << mismatched.status().ToString();
  // R35, R104.
  EXPECT_EQ(auth::tls::RejectCloaking(RPC_C_AUTHN_GSS_SCHANNEL, true).code(), E_INVALIDARG);
  EXPECT_TRUE(auth::tls::RejectCloaking(RPC_C_AUTHN_GSS_KERBEROS, true).ok());
  EXPECT_TRUE(auth::tls::RejectCloaking(RPC_C_AUTHN_GSS_SCHANNEL, false).ok());
}

// ==== One server connection, PDUs built by hand =============================

class TlsConnection : public ::testing::Test {
 protected:
  void SetUp() override {
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
    mapper_.table[tls_test::Thumbprint(Certs().alice.certificate)] = Account("TEST\\alice", 1001);
    server_pkg_ = ServerPackage(Certs().server, true, &mapper_, log_.logger());
    client_pkg_ = ClientPackage(&Certs().alice);
    packages_.Add(server_pkg_.get());
    Reset();
  }

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
    raw_replies_ = out;
    std::vector<Pdu> r;
    for (const auto& f : out) r.push_back(*DecodePdu(f));
    return r;
  }

  Pdu BindLike(PduType type, uint32_t call_id, std::vector<uint8_t> token) {
    Pdu p;
    p.header.type = type;
    p.header.call_id = call_id;
    p.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
    p.body = b;
    p.auth = SecTrailer{RPC_C_AUTHN_GSS_SCHANNEL, WireAuthnLevel(level_), 0, 0, kCtxId,
                        std::move(token)};
    return p;
  }

  // bind (ClientHello) → bind_ack (server flight) → alter_context (the
  // client's certificate and Finished) → alter_context_resp (empty).
  void Authenticate(AuthnLevel level) {
    level_ = level;
    TestConnection info;
    info.auth_level = level;
    StartParams cp = ParamsFor(Role::kClient, info);
    cp.target_name = "localhost";
    auto started = client_pkg_->Start(cp);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    client_ = std::move(*started);
    auto ack = Send(EncodePdu(BindLike(PduType::kBind, 1, *Leg(*client_, {}))));
    ASSERT_EQ(ack.size(), 1u);
    ASSERT_EQ(ack[0].header.type, PduType::kBindAck);
    auto finished = Leg(*client_, ack[0].auth->auth_value);
    ASSERT_TRUE(finished.ok()) << finished.status().ToString();
    auto resp = Send(EncodePdu(BindLike(PduType::kAlterContext, 2, *finished)));
    ASSERT_EQ(resp.size(), 1u);
    ASSERT_EQ(resp[0].header.type, PduType::kAlterContextResp);
    ASSERT_TRUE(resp[0].auth.has_value());
    auto done = client_->Update(resp[0].auth->auth_value);
    ASSERT_TRUE(done.ok() && done->done);
    ASSERT_TRUE(open_);
  }

  std::vector<uint8_t> Request(uint32_t call_id, std::vector<uint8_t> stub) {
    const size_t padded = stub.size() + (4 - stub.size() % 4) % 4;
    const size_t sig = client_->SignatureSize(padded);
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = PFC_FIRST_FRAG | PFC_LAST_FRAG;
    p.body = RequestBody{0, 0, 0, std::nullopt, std::move(stub)};
    p.auth = SecTrailer{RPC_C_AUTHN_GSS_SCHANNEL, WireAuthnLevel(level_), 0, 0, kCtxId,
                        std::vector<uint8_t>(sig, 0)};
    auto bytes = EncodePdu(p);
    PduRegion r = Region(bytes, kHeaderSize + 8, bytes.size() - sig - kSecTrailerSize, level_,
                         std::span<uint8_t>(bytes.data() + bytes.size() - sig, sig));
    r.header_signing = true;
    Status s = client_->Protect(r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return bytes;
  }

  Status VerifyResponse(std::vector<uint8_t>& bytes) {
    const Pdu p = *DecodePdu(bytes);
    const size_t sig = p.header.auth_length;
    PduRegion r = Region(bytes, kHeaderSize + 8, bytes.size() - sig - kSecTrailerSize, level_,
                         std::span<uint8_t>(bytes.data() + bytes.size() - sig, sig));
    r.header_signing = true;
    return client_->Verify(r);
  }

  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  TableMapper mapper_;
  std::unique_ptr<TlsPackage> server_pkg_;
  std::unique_ptr<TlsPackage> client_pkg_;
  std::unique_ptr<ServerConnection> conn_;
  std::unique_ptr<SecurityContext> client_;
  std::vector<std::vector<uint8_t>> raw_replies_;
  CapturedLog log_;
  AuthnLevel level_ = AuthnLevel::kDefault;
  bool open_ = true;
  int invocations_ = 0;
  AuthnLevel last_level_ = AuthnLevel::kDefault;
  std::string last_principal_;
};

TEST_F(TlsConnection, SealedCallRoundTrips) {
  Authenticate(AuthnLevel::kPktPrivacy);
  std::vector<uint8_t> secret = {'s', 'e', 'c', 'r', 'e', 't', '!', '!'};
  auto req = Request(3, secret);
  EXPECT_EQ(DecodePdu(req)->header.auth_length, kSigSize);
  EXPECT_EQ(std::search(req.begin(), req.end(), secret.begin(), secret.end()), req.end());
  auto r = Send(req);
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  auto bytes = raw_replies_[0];
  EXPECT_EQ(std::search(bytes.begin(), bytes.end(), secret.begin(), secret.end()), bytes.end());
  ASSERT_TRUE(VerifyResponse(bytes).ok());
  EXPECT_TRUE(std::equal(secret.begin(), secret.end(), bytes.begin() + kHeaderSize + 8));
  EXPECT_EQ(invocations_, 1);
  EXPECT_EQ(last_level_, AuthnLevel::kPktPrivacy);
  EXPECT_EQ(last_principal_, "TEST\\alice");
}

TEST_F(TlsConnection, SignedCallRoundTrips) {
  Authenticate(AuthnLevel::kPktIntegrity);
  std::vector<uint8_t> clear = {'c', 'l', 'e', 'a', 'r', '!', '!', '!'};
  auto req = Request(3, clear);
  EXPECT_EQ(DecodePdu(req)->header.auth_length, kSigSize);
  EXPECT_NE(std::search(req.begin(), req.end(), clear.begin(), clear.end()), req.end());
  auto r = Send(req);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_TRUE(VerifyResponse(raw_replies_[0]).ok());
  EXPECT_EQ(last_level_, AuthnLevel::kPktIntegrity);
}

// Cases 24 and 27: one flipped bit anywhere protected, at both levels, is a
// fault, a tls.message_refused event and the end of the connection.
TEST_F(TlsConnection, TamperedPdusAreRefused) {
  struct Edit {
    const char* what;
    size_t offset;  // SIZE_MAX - n: n bytes before the end
  };
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    for (Edit e : {Edit{"stub", kHeaderSize + 8 + 5}, Edit{"call_id", 12}, Edit{"opnum", 22},
                   Edit{"auth_pad_length", SIZE_MAX - 6}, Edit{"signature", SIZE_MAX - 1}}) {
      Reset();
      Authenticate(level);
      auto req = Request(3, std::vector<uint8_t>(40, 0x33));
      const size_t sig = DecodePdu(req)->header.auth_length;
      size_t at = e.offset;
      if (e.offset == SIZE_MAX - 6) at = req.size() - sig - 6;  // in the sec_trailer
      if (e.offset == SIZE_MAX - 1) at = req.size() - 1;
      const size_t events_before = log_.Named("tls.message_refused").size();
      req[at] ^= 0x01;
      auto r = Send(req);
      ASSERT_EQ(r.size(), 1u) << e.what << " level " << int(level);
      ASSERT_EQ(r[0].header.type, PduType::kFault) << e.what;
      EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error) << e.what;
      EXPECT_FALSE(open_) << e.what;
      EXPECT_EQ(invocations_, 0) << e.what;
      EXPECT_NE(conn_->close_reason().find("verifier check failed for TEST\\alice"),
                std::string::npos)
          << e.what << ": " << conn_->close_reason();
      auto events = log_.Named("tls.message_refused");
      ASSERT_EQ(events.size(), events_before + 1) << e.what;
      EXPECT_EQ(events.back().hresult, SEC_E_MESSAGE_ALTERED) << e.what;
      EXPECT_EQ(events.back().peer, "203.0.113.5:6000");
    }
  }
  Reset();
  Authenticate(AuthnLevel::kPktPrivacy);
  auto r = Send(Request(3, {7}));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
}

// Case 25: the TLS sequence numbers refuse a replayed PDU and one out of
// order.
TEST_F(TlsConnection, ReplayedAndReorderedPdusAreRefused) {
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    Reset();
    Authenticate(level);
    auto first = Request(3, {1});
    ASSERT_EQ(Send(first)[0].header.type, PduType::kResponse);
    auto r = Send(first);  // the exact bytes again
    ASSERT_EQ(r[0].header.type, PduType::kFault);
    EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error);
    EXPECT_NE(conn_->close_reason().find("does not authenticate (altered, replayed or out of "
                                         "order)"),
              std::string::npos)
        << conn_->close_reason();
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 1);

    Reset();
    Authenticate(level);
    auto a = Request(3, {1});
    auto b = Request(4, {2});
    r = Send(b);  // b before a
    ASSERT_EQ(r[0].header.type, PduType::kFault);
    EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_sec_pkg_error);
    EXPECT_NE(conn_->close_reason().find("replayed or out of order"), std::string::npos)
        << conn_->close_reason();
    EXPECT_FALSE(open_);
    EXPECT_EQ(invocations_, 0);
  }
}

// ==== Real sockets: our client and server ==================================

class TlsLoopback : public ::testing::Test {
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
      svc_ = c.security.authn_svc;
      imp_ = c.security.imp_level;
      token_ = c.security.token;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    dir_ = "/tmp/comsec-tls-sock-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    // The store's table, as `comcfg tls map` writes it, and an account.
    const std::string store_path = dir_ + "/store.db";
    {
      auto store = config::Store::Open(store_path);
      ASSERT_TRUE(store.ok());
      config::AccountDatabase db(store->get());
      ASSERT_TRUE(db.EnsureDomain("TLSTEST").ok());
      ASSERT_TRUE(db.AddUser("alice", config::NtHashBytes{}).ok());
      ASSERT_TRUE(config::MapTlsCertificate(store->get(), config::TlsMappingKind::kThumbprint,
                                            tls_test::Thumbprint(Certs().alice.certificate),
                                            "alice")
                      .ok());
      alice_sid_ = (*db.FindUser("alice"))->sid;
    }
    // The policy store and, standing in for the secrets file, the same
    // file (its HKLM\SAM).
    mapper_ = std::make_unique<auth::tls::StoreCertificateMapper>(
        *config::Store::Open(store_path), *config::Store::Open(store_path));
    server_pkg_ = ServerPackage(Certs().server, true, mapper_.get(), log_.logger());
    ASSERT_NE(server_pkg_, nullptr);
    packages_.Add(server_pkg_.get());
    ServerOptions options;
    options.packages = &packages_;
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&registry_, options);
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + dir_ + "/tls.sock"));
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  Status BindAndCall(SecurityPackage* pkg, AuthnLevel level, const StringBinding& binding,
                     const std::string& target = "localhost") {
    auto client = Client::Connect(binding);
    if (!client.ok()) return client.status();
    ClientAuth a{pkg, level};
    a.target_name = target;
    a.wanted = kFeatureMutualAuth;
    COMSEC_RETURN_IF_ERROR((*client)->Bind(kEcho, &a));
    auto r = (*client)->Call(0, std::vector<uint8_t>{1, 2, 3});
    return r.ok() ? Status::Ok() : r.status();
  }

  InterfaceRegistry registry_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::tls::StoreCertificateMapper> mapper_;
  std::unique_ptr<TlsPackage> server_pkg_;
  std::unique_ptr<Server> server_;
  std::string dir_;
  StringBinding local_, tcp_;
  security::Sid alice_sid_;
  std::mutex mu_;
  std::string principal_;
  AuthnLevel level_ = AuthnLevel::kDefault;
  uint32_t svc_ = 0;
  security::ImpLevel imp_ = security::ImpLevel::kDefault;
  std::shared_ptr<const security::Token> token_;
  CapturedLog log_;
};

TEST_F(TlsLoopback, EveryLevelOnBothTransportsAsTheMappedAccount) {
  auto client_pkg = ClientPackage(&Certs().alice);
  for (const StringBinding& binding : {tcp_, local_}) {
    for (uint8_t level = 2; level <= 6; ++level) {  // CONNECT ... PKT_PRIVACY
      auto client = Client::Connect(binding);
      ASSERT_TRUE(client.ok());
      ClientAuth a{client_pkg.get(), *security::AuthnLevelFromNumber(level)};
      a.target_name = "RPCSS/localhost";
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
      EXPECT_EQ(principal_, "TLSTEST\\alice");
      EXPECT_EQ(token_->user(), alice_sid_);
      EXPECT_EQ(security::ToNumber(level_), level);
      EXPECT_EQ(svc_, RPC_C_AUTHN_GSS_SCHANNEL);
      EXPECT_EQ(imp_, security::ImpLevel::kImpersonate);
    }
  }
}

// Without a client certificate, or with one no mapping names, the caller
// is ANONYMOUS LOGON (R35); the runtime credits anonymous calls at most
// CONNECT (rpc/server_auth.cc) although the PDUs are sealed.
TEST_F(TlsLoopback, NoOrUnmappedCertificateIsAnonymous) {
  auto none = ClientPackage();
  auto bob = ClientPackage(&Certs().bob);
  for (TlsPackage* pkg : {none.get(), bob.get()}) {
    ASSERT_TRUE(BindAndCall(pkg, AuthnLevel::kPktPrivacy, tcp_).ok());
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(principal_, "NT AUTHORITY\\ANONYMOUS LOGON");
    EXPECT_TRUE(token_->IsAnonymous());
    EXPECT_EQ(level_, AuthnLevel::kConnect);
  }
  EXPECT_EQ(log_.Named("tls.certificate_unmapped").size(), 1u);
}

// A client that cannot verify the server refuses the bind before sending
// anything more; the server serves the next client.
TEST_F(TlsLoopback, BadCaOrWrongNameRefusesAndServerServesOn) {
  auto wrong_ca = ClientPackage(nullptr, &Certs().other_ca);
  Status s = BindAndCall(wrong_ca.get(), AuthnLevel::kPktPrivacy, tcp_);
  EXPECT_EQ(s.code(), auth::tls::SEC_E_UNTRUSTED_ROOT) << s.ToString();
  auto good = ClientPackage(&Certs().alice);
  s = BindAndCall(good.get(), AuthnLevel::kPktPrivacy, tcp_, "RPCSS/elsewhere");
  EXPECT_EQ(s.code(), SEC_E_WRONG_PRINCIPAL) << s.ToString();
  EXPECT_TRUE(BindAndCall(good.get(), AuthnLevel::kPktPrivacy, tcp_).ok());
}

// The server refuses a certificate from a CA it does not trust in the
// alter_context leg: the client's bind fails with the fault, and the log
// says why.
TEST_F(TlsLoopback, UntrustedClientCertificateFailsTheBind) {
  auto stranger = ClientPackage(&Certs().stranger);
  Status s = BindAndCall(stranger.get(), AuthnLevel::kPktPrivacy, local_);
  EXPECT_EQ(s.code(), E_ACCESSDENIED) << s.ToString();
  bool logged = false;
  for (const LogEvent& e : log_.Named("tls.logon_refused")) {
    if (e.hresult == auth::tls::SEC_E_UNTRUSTED_ROOT) logged = true;
  }
  EXPECT_TRUE(logged);
  auto good = ClientPackage(&Certs().alice);
  EXPECT_TRUE(BindAndCall(good.get(), AuthnLevel::kPktPrivacy, local_).ok());
}

TEST_F(TlsLoopback, CorruptedSignaturesAreRefusedBothWays) {
  auto inner = ClientPackage(&Certs().alice);
  MisbehavingPackage bad_client(inner.get(), Misbehaviour{1, 0});
  auto client = Client::Connect(tcp_);
  ClientAuth a{&bad_client, AuthnLevel::kPktPrivacy};
  a.target_name = "localhost";
  ASSERT_TRUE((*client)->Bind(kEcho, &a).ok());
  EXPECT_TRUE((*client)->Call(0, std::vector<uint8_t>{1}).ok());
  auto r = (*client)->Call(0, std::vector<uint8_t>{2});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), FaultToHResult(nca_s_fault_sec_pkg_error)) << r.status().ToString();

  MisbehavingPackage bad_server(server_pkg_.get(), Misbehaviour{1, 0});
  packages_ = SecurityPackageRegistry();
  packages_.Add(&bad_server);
  auto good = ClientPackage(&Certs().alice);
  for (AuthnLevel level : {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    auto c = Client::Connect(tcp_);
    ClientAuth b{good.get(), level};
    b.target_name = "localhost";
    ASSERT_TRUE((*c)->Bind(kEcho, &b).ok());
    EXPECT_TRUE((*c)->Call(0, std::vector<uint8_t>{1, 2}).ok());
    auto bad = (*c)->Call(0, std::vector<uint8_t>{3, 4});
    ASSERT_FALSE(bad.ok()) << int(level);
    EXPECT_EQ(bad.status().code(), SEC_E_MESSAGE_ALTERED) << bad.status().ToString();
  }
}

// What a handshake costs (connect, four-leg bind with a client
// certificate, one sealed call): printed for the report.
TEST_F(TlsLoopback, HandshakeCost) {
  auto client_pkg = ClientPackage(&Certs().alice);
  constexpr int kBinds = 20;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBinds; ++i) {
    ASSERT_TRUE(BindAndCall(client_pkg.get(), AuthnLevel::kPktPrivacy, tcp_).ok());
  }
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::printf("tls: connect + bind + one PKT_PRIVACY call: %lld us each (mean of %d)\n",
              static_cast<long long>(us / kBinds), kBinds);
}

}  // namespace
}  // namespace comsec::rpc
