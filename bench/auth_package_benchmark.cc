// Issue 12's figures: what each security package costs an echo call over
// loopback TCP at PKT_PRIVACY — Kerberos (auth_type 16), TLS (14), Negotiate
// choosing Kerberos (9) and NTLM (10) — beside the same call at level NONE,
// measured in the same run, at 64 B and 4 KiB, on 1 and 16 connections;
// and the cost of a new authenticated association per package (connect,
// bind legs, one null call).
//
// Kerberos runs against a real MIT KDC this process starts on loopback
// (tests/support/krb_test_realm.h, about 0.1 s); the client's ccache holds a
// ticket for RPCSS/localhost before the first benchmark, so no bind goes
// to the KDC. Without the KDC's programs the Kerberos and Negotiate
// benchmarks are skipped with an error naming what is missing. TLS uses a
// throwaway CA, a server certificate for localhost and a client certificate
// the server maps to an account (tests/auth/tls_test_certs.h).
//
// As in bench/rpc_echo_benchmark.cc: one connection per benchmark thread,
// one server per benchmark run (Setup/Teardown), UseRealTime so that items/s
// of a ->Threads(16) run is the throughput of all 16 connections.
// scripts/bench.sh prints each package's medians as ratios to NONE.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../tests/auth/tls_test_certs.h"
#include "../tests/support/krb_test_realm.h"
#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/check.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/security/token.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1,
                     0};
constexpr uint16_t kOpEcho = 0;
constexpr uint16_t kOpNull = 1;
constexpr uint16_t kOpWhoAmI =
    2;  // the caller's principal, to check Negotiate's choice
constexpr int kConnections = 16;
constexpr const char* kSpn = "RPCSS/localhost";

enum class Package { kNone, kNtlm, kTls, kKerberos, kNegotiate };

// ====================================================================
// NTLM: one account, as in rpc_echo_benchmark.

class BenchAccounts : public auth::ntlm::AccountSource {
 public:
  std::string DomainName() const override { return "BENCH"; }
  Result<std::optional<auth::ntlm::AccountRecord>> Lookup(
      std::string_view user) override {
    if (user != "bench") return std::optional<auth::ntlm::AccountRecord>();
    auth::ntlm::AccountRecord a;
    a.name = "bench";
    a.nt_hash = auth::ntlm::NtHash(u"bench-password");
    a.user_sid = security::Sid(5, {21, 1, 2, 3, 1000});
    return std::optional<auth::ntlm::AccountRecord>(a);
  }
};

// ====================================================================
// TLS: a CA, a server certificate for localhost and a client certificate
// mapped to an account.

class OneCertificateMapper : public auth::tls::CertificateMapper {
 public:
  explicit OneCertificateMapper(std::string thumbprint)
      : thumbprint_(std::move(thumbprint)) {}
  Result<std::optional<auth::tls::MappedAccount>> Map(
      const auth::tls::ClientCertificate& c) override {
    if (c.thumbprint != thumbprint_)
      return std::optional<auth::tls::MappedAccount>();
    auth::tls::MappedAccount a;
    a.name = "BENCH\\alice";
    a.token = std::make_shared<const security::Token>(
        security::Token::ForAuthenticatedUser(
            security::Sid(5, {21, 1, 2, 3, 1001}), {},
            security::LogonKind::kNetwork));
    return std::optional<auth::tls::MappedAccount>(a);
  }

 private:
  const std::string thumbprint_;
};

// ====================================================================
// Every package's server and client side, made once per process. The
// realm and the certificate directory go when the process exits.

struct Packages {
  BenchAccounts accounts;
  auth::ntlm::LocalLogonValidator validator{&accounts, {}};
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_server, ntlm_client;

  std::string pki_dir;
  tls_test::Issued ca, server_cert, client_cert;
  std::unique_ptr<OneCertificateMapper> mapper;
  std::unique_ptr<auth::tls::TlsPackage> tls_server, tls_client;

  comsec::testing::KrbTestRealm realm;
  std::string kerberos_error;  // empty: Kerberos and Negotiate can run
  std::unique_ptr<auth::gssapi::KerberosPackage> krb_server, krb_client;
  std::unique_ptr<auth::negotiate::NegotiatePackage> negotiate_server,
      negotiate_client;

  SecurityPackageRegistry server_registry;

  Packages() {
    auth::ntlm::ServerOptions so;
    so.validator = &validator;
    ntlm_server = std::make_unique<auth::ntlm::NtlmPackage>(so);
    auth::ntlm::ClientCredentials cc;
    cc.user = "bench";
    cc.password = "bench-password";
    ntlm_client = std::make_unique<auth::ntlm::NtlmPackage>(cc);
    server_registry.Add(ntlm_server.get());

    pki_dir = "/tmp/comsec-bench-tls-XXXXXX";
    COMSEC_CHECK(::mkdtemp(pki_dir.data()) != nullptr, "mkdtemp failed");
    ca = tls_test::Issue(pki_dir, "ca", "comsec bench CA", nullptr, true);
    server_cert = tls_test::Issue(pki_dir, "server", "localhost", &ca, false,
                                  "DNS:localhost");
    client_cert = tls_test::Issue(pki_dir, "alice", "alice", &ca, false);
    mapper = std::make_unique<OneCertificateMapper>(
        tls_test::Thumbprint(client_cert.certificate));
    auth::tls::TlsServerOptions ts;
    ts.certificate_file = server_cert.certificate_file;
    ts.key_file = server_cert.key_file;
    ts.ca_file = ca.certificate_file;
    ts.mapper = mapper.get();
    auto tls_s = auth::tls::TlsPackage::CreateServer(std::move(ts));
    COMSEC_CHECK(tls_s.ok(), tls_s.status().ToString());
    tls_server = std::move(*tls_s);
    auth::tls::TlsClientOptions tc;
    tc.ca_file = ca.certificate_file;
    tc.certificate_file = client_cert.certificate_file;
    tc.key_file = client_cert.key_file;
    auto tls_c = auth::tls::TlsPackage::CreateClient(std::move(tc));
    COMSEC_CHECK(tls_c.ok(), tls_c.status().ToString());
    tls_client = std::move(*tls_c);
    server_registry.Add(tls_server.get());

    kerberos_error = StartKerberos();
    if (!kerberos_error.empty()) {
      std::fprintf(stderr, "Kerberos benchmarks skipped: %s\n",
                   kerberos_error.c_str());
    }
  }

  ~Packages() {
    tls_test::Free(ca);
    tls_test::Free(server_cert);
    tls_test::Free(client_cert);
    std::filesystem::remove_all(pki_dir);
  }

  // The realm, a ccache with a ticket for kSpn, and the Kerberos and
  // Negotiate packages; "" or why not.
  std::string StartKerberos() {
    if (std::string missing = comsec::testing::KrbTestRealm::MissingTools();
        !missing.empty()) {
      return "MIT KDC not installed (" + missing +
             " missing; scripts/install-deps.sh)";
    }
    if (std::string error = realm.Up(); !error.empty()) return error;
    // kSpn's ticket now, so that no bind waits for the KDC (a TGS exchange).
    const std::string ccache = realm.dir() + "/bench.ccache";
    const std::string fill =
        "kinit -c FILE:" + ccache + " -k -t " + realm.dir() +
        "/user.keytab alice >/dev/null && kvno -q -c FILE:" + ccache + " " +
        kSpn;
    if (std::system(fill.c_str()) != 0)
      return "kinit/kvno for the benchmark's ccache failed";
    auth::gssapi::KerberosServerOptions ks;
    ks.keytab = realm.dir() + "/service.keytab";
    ks.spns = {kSpn};
    auto krb_s = auth::gssapi::KerberosPackage::CreateServer(std::move(ks));
    if (!krb_s.ok()) return krb_s.status().ToString();
    krb_server = std::move(*krb_s);
    auth::gssapi::KerberosClientCredentials kc;
    kc.ccache = "FILE:" + ccache;
    krb_client = std::make_unique<auth::gssapi::KerberosPackage>(kc);
    auth::negotiate::NegotiateOptions ns;
    ns.kerberos = krb_server.get();
    ns.ntlm = ntlm_server.get();
    negotiate_server = std::make_unique<auth::negotiate::NegotiatePackage>(ns);
    // The client offers both; holding a ticket for kSpn, it lists Kerberos
    // first and the server takes it (checked in ClientAuthFor's caller).
    auth::negotiate::NegotiateOptions nc;
    nc.kerberos = krb_client.get();
    nc.ntlm = ntlm_client.get();
    negotiate_client = std::make_unique<auth::negotiate::NegotiatePackage>(nc);
    server_registry.Add(krb_server.get());
    server_registry.Add(negotiate_server.get());
    return "";
  }
};

Packages& AllPackages() {
  static Packages packages;
  return packages;
}

// How a client of `package` binds at PKT_PRIVACY (nullopt for NONE).
std::optional<ClientAuth> ClientAuthFor(Package package) {
  Packages& p = AllPackages();
  ClientAuth a;
  a.level = security::AuthnLevel::kPktPrivacy;
  switch (package) {
    case Package::kNone:
      return std::nullopt;
    case Package::kNtlm:
      a.package = p.ntlm_client.get();
      break;
    case Package::kTls:
      a.package = p.tls_client.get();
      a.target_name = "localhost";
      break;
    case Package::kKerberos:
      a.package = p.krb_client.get();
      a.target_name = kSpn;
      a.wanted = kFeatureMutualAuth;
      break;
    case Package::kNegotiate:
      a.package = p.negotiate_client.get();
      a.target_name = kSpn;
      break;
  }
  return a;
}

// Why `package` cannot run here, or "".
std::string Unavailable(Package package) {
  if (package == Package::kKerberos || package == Package::kNegotiate) {
    return AllPackages().kerberos_error;
  }
  return "";
}

// ====================================================================
// The echo server: every package at once, an echo, a null call, and the
// caller's principal.

class EchoServer {
 public:
  EchoServer() : server_(&registry_, Options()) {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back(
        [](std::span<const uint8_t> stub,
           const CallContext&) -> Result<std::vector<uint8_t>> {
          return std::vector<uint8_t>(stub.begin(), stub.end());
        });
    r.operations.push_back(
        [](std::span<const uint8_t>,
           const CallContext&) -> Result<std::vector<uint8_t>> {
          return std::vector<uint8_t>();
        });
    r.operations.push_back(
        [](std::span<const uint8_t>,
           const CallContext& c) -> Result<std::vector<uint8_t>> {
          const std::string& who = c.security.principal;
          return std::vector<uint8_t>(who.begin(), who.end());
        });
    registry_.Register(std::move(r));
    auto bound =
        server_.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    COMSEC_CHECK(bound.ok(), bound.status().ToString());
    binding_ = *bound;
  }
  const StringBinding& binding() const { return binding_; }

 private:
  static ServerOptions Options() {
    ServerOptions o;
    o.packages = &AllPackages().server_registry;
    return o;
  }
  InterfaceRegistry registry_;
  Server server_;
  StringBinding binding_;
};

std::unique_ptr<EchoServer> echo_server;

void StartServer(const benchmark::State&) {
  echo_server = std::make_unique<EchoServer>();
}
void StopServer(const benchmark::State&) { echo_server.reset(); }

// Connects and binds with `package`; the error as text, or "".
std::string ConnectAndBind(Package package, std::unique_ptr<Client>& out) {
  auto client = Client::Connect(echo_server->binding());
  if (!client.ok()) return "connect failed: " + client.status().ToString();
  std::optional<ClientAuth> auth = ClientAuthFor(package);
  Status bound = (*client)->Bind(kEcho, auth ? &*auth : nullptr);
  if (!bound.ok()) return "bind failed: " + bound.ToString();
  out = std::move(*client);
  return "";
}

// One client per thread, bound before the timed loop.
void RunEcho(benchmark::State& state, Package package) {
  if (std::string why = Unavailable(package); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  std::unique_ptr<Client> client;
  if (std::string error = ConnectAndBind(package, client); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  if (package == Package::kNegotiate) {
    // Kerberos names the caller "alice@REALM", NTLM "BENCH\bench".
    auto who = client->Call(kOpWhoAmI, {});
    if (!who.ok() ||
        std::string(who->begin(), who->end()).find('@') == std::string::npos) {
      state.SkipWithError("Negotiate did not choose Kerberos");
      return;
    }
  }
  std::vector<uint8_t> payload(static_cast<size_t>(state.range(0)), 0x5A);
  for (auto _ : state) {
    auto reply = client->Call(kOpEcho, payload);
    if (!reply.ok()) {
      state.SkipWithError(
          ("call failed: " + reply.status().ToString()).c_str());
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AuthEcho_Tcp_None(benchmark::State& s) { RunEcho(s, Package::kNone); }
void BM_AuthEcho_Tcp_PktPrivacy_Ntlm(benchmark::State& s) {
  RunEcho(s, Package::kNtlm);
}
void BM_AuthEcho_Tcp_PktPrivacy_Tls(benchmark::State& s) {
  RunEcho(s, Package::kTls);
}
void BM_AuthEcho_Tcp_PktPrivacy_Kerberos(benchmark::State& s) {
  RunEcho(s, Package::kKerberos);
}
void BM_AuthEcho_Tcp_PktPrivacy_Negotiate(benchmark::State& s) {
  RunEcho(s, Package::kNegotiate);
}

// A new association: connect, the package's bind legs, one null call.
void RunHandshake(benchmark::State& state, Package package) {
  if (std::string why = Unavailable(package); !why.empty()) {
    state.SkipWithError(why.c_str());
    return;
  }
  for (auto _ : state) {
    std::unique_ptr<Client> client;
    std::string error = ConnectAndBind(package, client);
    if (error.empty() && !client->Call(kOpNull, {}).ok())
      error = "null call failed";
    if (!error.empty()) {
      state.SkipWithError(error.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AuthHandshake_Tcp_None(benchmark::State& s) {
  RunHandshake(s, Package::kNone);
}
void BM_AuthHandshake_Tcp_PktPrivacy_Ntlm(benchmark::State& s) {
  RunHandshake(s, Package::kNtlm);
}
void BM_AuthHandshake_Tcp_PktPrivacy_Tls(benchmark::State& s) {
  RunHandshake(s, Package::kTls);
}
void BM_AuthHandshake_Tcp_PktPrivacy_Kerberos(benchmark::State& s) {
  RunHandshake(s, Package::kKerberos);
}
void BM_AuthHandshake_Tcp_PktPrivacy_Negotiate(benchmark::State& s) {
  RunHandshake(s, Package::kNegotiate);
}

// ====================================================================
// NONE runs first and again between packages at each connection count,
// so that load from elsewhere weighs on the baseline as on the packages.

#define COMSEC_ECHO(fn)      \
  BENCHMARK(fn)              \
      ->Setup(StartServer)   \
      ->Teardown(StopServer) \
      ->Arg(64)              \
      ->Arg(4096)            \
      ->UseRealTime()
#define COMSEC_ECHO_16(fn) COMSEC_ECHO(fn)->Threads(kConnections)

COMSEC_ECHO(BM_AuthEcho_Tcp_None);
COMSEC_ECHO(BM_AuthEcho_Tcp_PktPrivacy_Ntlm);
COMSEC_ECHO(BM_AuthEcho_Tcp_PktPrivacy_Tls);
COMSEC_ECHO(BM_AuthEcho_Tcp_PktPrivacy_Kerberos);
COMSEC_ECHO(BM_AuthEcho_Tcp_PktPrivacy_Negotiate);
COMSEC_ECHO_16(BM_AuthEcho_Tcp_None);
COMSEC_ECHO_16(BM_AuthEcho_Tcp_PktPrivacy_Ntlm);
COMSEC_ECHO_16(BM_AuthEcho_Tcp_PktPrivacy_Tls);
COMSEC_ECHO_16(BM_AuthEcho_Tcp_PktPrivacy_Kerberos);
COMSEC_ECHO_16(BM_AuthEcho_Tcp_PktPrivacy_Negotiate);

#define COMSEC_HANDSHAKE(fn) \
  BENCHMARK(fn)->Setup(StartServer)->Teardown(StopServer)->UseRealTime()

COMSEC_HANDSHAKE(BM_AuthHandshake_Tcp_None);
COMSEC_HANDSHAKE(BM_AuthHandshake_Tcp_PktPrivacy_Ntlm);
COMSEC_HANDSHAKE(BM_AuthHandshake_Tcp_PktPrivacy_Tls);
COMSEC_HANDSHAKE(BM_AuthHandshake_Tcp_PktPrivacy_Kerberos);
COMSEC_HANDSHAKE(BM_AuthHandshake_Tcp_PktPrivacy_Negotiate);

}  // namespace
}  // namespace comsec::rpc
