// Kerberos-only constrained delegation (S4U2Proxy, [MS-SFU] 3.2.5.2)
// against a real MIT KDC whose database is LDAP (a private slapd on a Unix
// socket: tests/support/krb_test_kdc.sh KDB=ldap), the one MIT KDB that
// checks krbAllowedToDelegateTo (the DB2 one refuses every S4U2Proxy).
//
// The realm: alice; B = RPCSS/localhost, allowed to delegate to
// C = host/localhost only; D = cifs/localhost, not on B's list;
// B2 = http/localhost, allowed to delegate to nothing.
//   alice -> B -> C: alice forwards no TGT (IMPERSONATE), B keeps her
//     ticket as evidence (KerberosServerOptions::constrained_delegation),
//     its onward call does S4U2Proxy and C sees alice (raw Kerberos and
//     through SPNEGO);
//   B -> D: the KDC refuses (KDC_ERR_BADOPTION), B's onward bind fails with
//     SEC_E_UNSUPPORTED_FUNCTION and a kerberos.constrained_delegation_refused
//     event; B serves on;
//   alice -> B2 -> C: refused the same way: B2 cannot act as alice.
// Skips when slapd, krb5-kdc-ldap or ldap-utils are missing
// (scripts/install-deps.sh installs them).
#include <gtest/gtest.h>
#include <krb5.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "../base/captured_log.h"
#include "../rpc/package_test_support.h"
#include "../support/krb_test_realm.h"
#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

using namespace comsec::rpc::testing;  // NOLINT: test drivers

namespace comsec::rpc {
namespace {

using auth::gssapi::KerberosClientCredentials;
using auth::gssapi::KerberosCredentials;
using auth::gssapi::KerberosDelegatedCredentials;
using auth::gssapi::KerberosPackage;
using auth::gssapi::KerberosServerOptions;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1,
                     0};
constexpr const char* kB = "RPCSS/localhost";
constexpr const char* kC = "host/localhost";
constexpr const char* kD = "cifs/localhost";
constexpr const char* kB2 = "http/localhost";

// What the LDAP realm needs beyond the KDC's programs.
std::string MissingLdapTools() {
  std::string missing = comsec::testing::KrbTestRealm::MissingTools();
  for (const char* p :
       {"/usr/sbin/slapd", "/usr/sbin/kdb5_ldap_util", "/usr/bin/ldapwhoami",
        "/usr/bin/ldapadd", "/usr/bin/ldapmodify",
        "/usr/share/doc/krb5-kdc-ldap/kerberos.schema.gz",
        "/etc/ldap/schema/cosine.schema"}) {
    if (access(p, R_OK) != 0)
      missing += std::string(missing.empty() ? "" : ", ") + p;
  }
  return missing;
}

comsec::testing::KrbTestRealm* Realm() {
  static comsec::testing::KrbTestRealm* realm = [] {
    auto* r = new comsec::testing::KrbTestRealm();
    if (MissingLdapTools().empty()) {
      std::string error =
          r->Up(std::string("KDB=ldap SPNS='") + kB + " " + kC + " " + kD +
                " " + kB2 + "' DELEG_TO='" + kB + "=" + kC + "'");
      if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
    }
    return r;
  }();
  return realm;
}

class RealmEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Realm()->Down(); }
};
const auto* const kRealmEnvironment =
    ::testing::AddGlobalTestEnvironment(new RealmEnvironment);

#define REQUIRE_LDAP_REALM()                                                \
  do {                                                                      \
    if (std::string missing = MissingLdapTools(); !missing.empty())         \
      GTEST_SKIP() << "LDAP-backed MIT KDC not installed (" << missing      \
                   << " missing); scripts/install-deps.sh installs slapd, " \
                      "krb5-kdc-ldap "                                      \
                      "and ldap-utils";                                     \
    ASSERT_TRUE(Realm()->up()) << "the LDAP test KDC did not start";        \
  } while (0)

std::string Alice() { return "alice@" + Realm()->realm(); }
std::string Full(const char* spn) {
  return std::string(spn) + "@" + Realm()->realm();
}

std::unique_ptr<KerberosPackage> ServerPackage(std::vector<std::string> spns,
                                               bool constrained,
                                               const Logger* logger = nullptr) {
  KerberosServerOptions o;
  o.keytab = Realm()->dir() + "/service.keytab";
  o.spns = std::move(spns);
  o.constrained_delegation = constrained;
  o.logger = logger;
  auto p = KerberosPackage::CreateServer(std::move(o));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

bool CcacheExists(const std::string& name) {
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return false;
  krb5_ccache cc = nullptr;
  krb5_principal p = nullptr;
  bool exists = krb5_cc_resolve(kc, name.c_str(), &cc) == 0 &&
                krb5_cc_get_principal(kc, cc, &p) == 0;
  if (p) krb5_free_principal(kc, p);
  if (cc) krb5_cc_close(kc, cc);
  krb5_free_context(kc);
  return exists;
}

// A ccache config entry's value ("" when absent).
std::string CcacheConfig(const std::string& name, const char* key) {
  krb5_context kc = nullptr;
  if (krb5_init_context(&kc) != 0) return "";
  krb5_ccache cc = nullptr;
  krb5_data data{};
  std::string value;
  if (krb5_cc_resolve(kc, name.c_str(), &cc) == 0 &&
      krb5_cc_get_config(kc, cc, nullptr, key, &data) == 0) {
    value.assign(data.data, data.length);
    krb5_free_data_contents(kc, &data);
  }
  if (cc) krb5_cc_close(kc, cc);
  krb5_free_context(kc);
  return value;
}

// How many TGTs the KDC has issued to `spn` (its log's AS_REQ lines).
size_t ServiceAsRequests(const char* spn) {
  std::ifstream log(Realm()->dir() + "/kdc.log");
  const std::string needle = Full(spn) + " for krbtgt/";
  size_t n = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find("AS_REQ") != std::string::npos &&
        line.find(needle) != std::string::npos)
      ++n;
  }
  return n;
}

// The three legs between alice (`ccache`, or the default one) and a server
// context of `server_pkg` for `spn`.
struct Pair {
  std::unique_ptr<KerberosPackage> client_pkg;
  std::unique_ptr<SecurityContext> client, server;
};
Pair Establish(KerberosPackage& server_pkg, const char* spn,
               security::ImpLevel imp, const std::string& ccache = "") {
  Pair p;
  KerberosClientCredentials c;
  c.ccache = ccache;
  p.client_pkg = std::make_unique<KerberosPackage>(c);
  TestConnection info;
  info.auth_level = security::AuthnLevel::kPktIntegrity;
  info.imp_level = imp;
  StartParams cp = ParamsFor(Role::kClient, info);
  cp.target_name = spn;
  auto client = p.client_pkg->Start(cp);
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

// ==== The package on its own ================================================

// A forwardable ticket and no forwarded TGT: the server keeps the evidence
// (a constrained KerberosDelegatedCredentials whose MEMORY ccache is the
// client's, naming our SPN as impersonator), at IMPERSONATE and without
// kFeatureDelegate: alice delegated nothing.
TEST(KerberosS4uTest, ForwardableTicketIsKeptAsEvidence) {
  REQUIRE_LDAP_REALM();
  CapturedLog log;
  auto b = ServerPackage({kB}, true, log.logger());
  Pair p = Establish(*b, kB, security::ImpLevel::kImpersonate);
  ASSERT_TRUE(p.server && p.server->IsComplete());
  EXPECT_EQ(p.server->imp_level(), security::ImpLevel::kImpersonate);
  EXPECT_EQ(p.server->features() & kFeatureDelegate, 0u);
  auto delegated = p.server->Delegated();
  ASSERT_NE(delegated, nullptr);
  EXPECT_EQ(delegated->principal(), Alice());
  const auto& krb =
      dynamic_cast<const KerberosDelegatedCredentials&>(*delegated);
  EXPECT_TRUE(krb.constrained());
  EXPECT_EQ(krb.impersonator(), Full(kB));
  EXPECT_TRUE(krb.ccache().starts_with("MEMORY:")) << krb.ccache();
  EXPECT_TRUE(log.Named("kerberos.delegation_refused").empty());
  const std::string ccache = krb.ccache();
  EXPECT_TRUE(CcacheExists(ccache));
  EXPECT_EQ(CcacheConfig(ccache, "proxy_impersonator"), Full(kB));

  // The impersonator's own TGT is got once, however many onward
  // credentials are made at once, and kept in that ccache.
  const size_t before = ServiceAsRequests(kB);
  std::vector<std::thread> threads;
  std::mutex results_mu;
  std::vector<Status> results;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto onward = KerberosCredentials::FromDelegated(delegated);
      std::lock_guard<std::mutex> lock(results_mu);
      results.push_back(onward.ok() ? Status::Ok() : onward.status());
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& r : results) EXPECT_TRUE(r.ok()) << r.ToString();
  EXPECT_EQ(ServiceAsRequests(kB), before + 1);

  delegated.reset();
  p.server.reset();
  EXPECT_FALSE(CcacheExists(ccache));  // gone with the context
}

// No evidence where none may be kept: the option off (the default), a
// client at IDENTIFY, a ticket that is not forwardable.
TEST(KerberosS4uTest, NoEvidenceWithoutOptionAtIdentifyOrNonForwardable) {
  REQUIRE_LDAP_REALM();
  auto off = ServerPackage({kB}, false);
  Pair p = Establish(*off, kB, security::ImpLevel::kImpersonate);
  ASSERT_TRUE(p.server && p.server->IsComplete());
  EXPECT_EQ(p.server->Delegated(), nullptr);

  auto on = ServerPackage({kB}, true);
  Pair identify = Establish(*on, kB, security::ImpLevel::kIdentify);
  ASSERT_TRUE(identify.server && identify.server->IsComplete());
  EXPECT_EQ(identify.server->imp_level(), security::ImpLevel::kIdentify);
  EXPECT_EQ(identify.server->Delegated(), nullptr);

  const std::string path = Realm()->dir() + "/nonforwardable.ccache";
  ASSERT_EQ(std::system(("kinit -F -c FILE:" + path + " -k -t " +
                         Realm()->dir() + "/user.keytab alice >/dev/null 2>&1")
                            .c_str()),
            0);
  Pair plain =
      Establish(*on, kB, security::ImpLevel::kImpersonate, "FILE:" + path);
  ASSERT_TRUE(plain.server && plain.server->IsComplete());
  EXPECT_EQ(plain.server->PeerName(), Alice());
  EXPECT_EQ(plain.server->Delegated(), nullptr);
}

// ==== Over RPC: alice -> B -> C =============================================

class S4uHops : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_LDAP_REALM();
    // C (and D): accepts for any SPN of the keytab, records who called.
    {
      InterfaceRegistration r;
      r.syntax = kEcho;
      r.min_authn_level = security::AuthnLevel::kPktPrivacy;
      r.operations.push_back(
          [this](std::span<const uint8_t> stub,
                 const CallContext& c) -> Result<std::vector<uint8_t>> {
            std::lock_guard<std::mutex> lock(mu_);
            c_saw_.push_back(c.security.principal);
            return std::vector<uint8_t>(stub.begin(), stub.end());
          });
      c_registry_.Register(std::move(r));
    }
    c_pkg_ = ServerPackage({}, false);
    ASSERT_NE(c_pkg_, nullptr);
    c_packages_.Add(c_pkg_.get());
    ServerOptions co;
    co.packages = &c_packages_;
    c_server_ = std::make_unique<Server>(&c_registry_, co);
    c_tcp_ =
        *c_server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));

    // B and B2: one method that calls onward_ as the caller.
    onward_pkg_ = std::make_unique<KerberosPackage>(KerberosClientCredentials{},
                                                    onward_log_.logger());
    {
      InterfaceRegistration r;
      r.syntax = kEcho;
      r.operations.push_back(
          [this](std::span<const uint8_t> stub,
                 const CallContext& c) -> Result<std::vector<uint8_t>> {
            std::string target;
            {
              std::lock_guard<std::mutex> lock(mu_);
              target = onward_;
              b_imp_ = c.security.imp_level;
              b_svc_ = c.security.authn_svc;
              b_ccache_.clear();
              if (const auto* k =
                      dynamic_cast<const KerberosDelegatedCredentials*>(
                          c.security.delegated.get())) {
                b_ccache_ = k->ccache();
              }
            }
            Status s = CallOnward(c, target, stub);
            std::lock_guard<std::mutex> lock(mu_);
            onward_status_ = s;
            return std::vector<uint8_t>(stub.begin(), stub.end());
          });
      b_registry_.Register(std::move(r));
    }
    b_pkg_ = ServerPackage({kB, kB2}, true, b_log_.logger());
    ASSERT_NE(b_pkg_, nullptr);
    b_packages_.Add(b_pkg_.get());
    // B also through SPNEGO (auth_type 9), which hands on the Kerberos
    // context's Delegated().
    auth::negotiate::NegotiateOptions no;
    no.kerberos = b_pkg_.get();
    b_neg_ = std::make_unique<auth::negotiate::NegotiatePackage>(no);
    b_packages_.Add(b_neg_.get());
    ServerOptions bo;
    bo.packages = &b_packages_;
    bo.logger = b_log_.logger();
    b_server_ = std::make_unique<Server>(&b_registry_, bo);
    b_tcp_ =
        *b_server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (b_server_) b_server_->Stop();
    if (c_server_) c_server_->Stop();
  }

  // B's onward call to `target` as its caller: only with what the caller
  // left (B has no other way to be alice).
  Status CallOnward(const CallContext& c, const std::string& target,
                    std::span<const uint8_t> stub) {
    if (!c.security.delegated) {
      return Status(SEC_E_NO_CREDENTIALS,
                    "the caller left no credentials to act as");
    }
    COMSEC_ASSIGN_OR_RETURN(
        auto as, KerberosCredentials::FromDelegated(c.security.delegated));
    COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(c_tcp_));
    ClientAuth a{onward_pkg_.get(), security::AuthnLevel::kPktPrivacy};
    a.credentials = as;
    a.target_name = target;
    COMSEC_RETURN_IF_ERROR(client->Bind(kEcho, &a));
    COMSEC_ASSIGN_OR_RETURN(
        auto echoed,
        client->Call(0, std::vector<uint8_t>(stub.begin(), stub.end())));
    if (echoed.size() < 2 || echoed[0] != stub[0])
      return Status(E_FAIL, "C's echo differs");
    return Status::Ok();
  }

  // alice calls `spn` at B's address (B serves kB and kB2), which calls
  // `onward`; returns alice's call status and what B's onward call got.
  Status AliceCalls(const char* spn, const std::string& onward,
                    Status* onward_status, bool spnego = false) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      onward_ = onward;
      onward_status_ = Status(E_FAIL, "B's method did not run");
    }
    KerberosPackage a_pkg;
    auth::negotiate::NegotiateOptions no;
    no.kerberos = &a_pkg;
    auth::negotiate::NegotiatePackage a_neg(no);
    COMSEC_ASSIGN_OR_RETURN(auto client, Client::Connect(b_tcp_));
    ClientAuth a{spnego ? static_cast<SecurityPackage*>(&a_neg) : &a_pkg,
                 security::AuthnLevel::kPktPrivacy};
    a.target_name = spn;
    a.imp_level = security::ImpLevel::kImpersonate;
    COMSEC_RETURN_IF_ERROR(client->Bind(kEcho, &a));
    COMSEC_ASSIGN_OR_RETURN(auto echoed,
                            client->Call(0, std::vector<uint8_t>{4, 2}));
    if (echoed.size() < 2 || echoed[0] != 4 || echoed[1] != 2)
      return Status(E_FAIL, "echo differs");
    std::lock_guard<std::mutex> lock(mu_);
    *onward_status = onward_status_;
    return Status::Ok();
  }

  std::vector<std::string> CSaw() {
    std::lock_guard<std::mutex> lock(mu_);
    return c_saw_;
  }

  std::mutex mu_;
  std::vector<std::string> c_saw_;
  std::string onward_;
  Status onward_status_ = Status::Ok();
  security::ImpLevel b_imp_ = security::ImpLevel::kDefault;
  uint32_t b_svc_ = 0;
  std::string b_ccache_;
  InterfaceRegistry c_registry_, b_registry_;
  SecurityPackageRegistry c_packages_, b_packages_;
  std::unique_ptr<KerberosPackage> c_pkg_, b_pkg_, onward_pkg_;
  std::unique_ptr<auth::negotiate::NegotiatePackage> b_neg_;
  std::unique_ptr<Server> c_server_, b_server_;
  StringBinding c_tcp_, b_tcp_;
  CapturedLog b_log_, onward_log_;
};

// B may delegate to C: C sees alice though alice forwarded nothing and
// called B at IMPERSONATE. The evidence ccache goes with B's connection.
TEST_F(S4uHops, BActsAsAliceTowardsC) {
  Status onward = Status::Ok();
  Status s = AliceCalls(kB, kC, &onward);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(onward.ok()) << onward.ToString();
  ASSERT_EQ(CSaw().size(), 1u);
  EXPECT_EQ(CSaw()[0], Alice());
  std::string ccache;
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(b_svc_, RPC_C_AUTHN_GSS_KERBEROS);
    EXPECT_EQ(b_imp_, security::ImpLevel::kImpersonate);
    ccache = b_ccache_;
  }
  ASSERT_TRUE(ccache.starts_with("MEMORY:")) << ccache;
  EXPECT_TRUE(
      onward_log_.Named("kerberos.constrained_delegation_refused").empty());
  // alice's connection has closed: B drops its context and the ccache.
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !CcacheExists(ccache);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << ccache << " outlived the call's connection";
}

// The same through SPNEGO (Negotiate, auth_type 9): the Kerberos
// context inside keeps the evidence and B reaches C as alice.
TEST_F(S4uHops, ThroughSpnegoToo) {
  Status onward = Status::Ok();
  Status s = AliceCalls(kB, kC, &onward, /*spnego=*/true);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(onward.ok()) << onward.ToString();
  ASSERT_EQ(CSaw().size(), 1u);
  EXPECT_EQ(CSaw()[0], Alice());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_EQ(b_svc_, RPC_C_AUTHN_GSS_NEGOTIATE);
  EXPECT_EQ(b_imp_, security::ImpLevel::kImpersonate);
}

// D is not on B's list: the KDC refuses S4U2Proxy (KDC_ERR_BADOPTION),
// B's onward bind fails with SEC_E_UNSUPPORTED_FUNCTION naming B, alice
// and D, one kerberos.constrained_delegation_refused event is logged, D
// never sees a bind, and B then still reaches C as alice.
TEST_F(S4uHops, TargetNotOnBsListIsRefused) {
  Status onward = Status::Ok();
  Status s = AliceCalls(kB, kD, &onward);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(onward.code(), SEC_E_UNSUPPORTED_FUNCTION) << onward.ToString();
  const std::string m(onward.message());
  EXPECT_NE(m.find(Full(kB) + " may not act as " + Alice() + " towards " + kD),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("KDC can't fulfill requested option"), std::string::npos)
      << m;
  auto events = onward_log_.Named("kerberos.constrained_delegation_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].hresult, SEC_E_UNSUPPORTED_FUNCTION);
  EXPECT_EQ(events[0].reason, "s4u2proxy_refused");
  EXPECT_EQ(events[0].principal, Alice());
  EXPECT_TRUE(CSaw().empty());
  // B serves on, and its right to C is intact.
  s = AliceCalls(kB, kC, &onward);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(onward.ok()) << onward.ToString();
  ASSERT_EQ(CSaw().size(), 1u);
  EXPECT_EQ(CSaw()[0], Alice());
}

// B2 has no constrained-delegation right at all: as on Windows, the
// server cannot act as its caller; its onward call fails (the KDC refuses
// S4U2Proxy) rather than going out as anyone else.
TEST_F(S4uHops, ServiceWithoutDelegationRightCannotActAsAlice) {
  Status onward = Status::Ok();
  Status s = AliceCalls(kB2, kC, &onward);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(onward.code(), SEC_E_UNSUPPORTED_FUNCTION) << onward.ToString();
  EXPECT_NE(std::string(onward.message())
                .find(Full(kB2) + " may not act as " + Alice()),
            std::string::npos)
      << onward.ToString();
  auto events = onward_log_.Named("kerberos.constrained_delegation_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].hresult, SEC_E_UNSUPPORTED_FUNCTION);
  EXPECT_TRUE(CSaw().empty());
}

}  // namespace
}  // namespace comsec::rpc
