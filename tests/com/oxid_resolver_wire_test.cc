// The OXID resolver's wire faces against an in-process rpc::Server on
// loopback TCP and ncalrpc (com/oxid_resolver_service.h): registration
// over ncalrpc with com::ResolverClient, TCP callers refused, another
// process (another pid, another uid) refused, IObjectExporter's operations
// unauthenticated, and ServerAlive2 compared with the fixture.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../base/captured_log.h"
#include "comsec/base/hex.h"
#include "comsec/com/oxid_resolver_service.h"
#include "comsec/com/resolver_client.h"
#include "comsec/rpc/server.h"
#include "iobjectexporter.h"    // generated, in comsec_oxid_resolver
#include "oxid_registration.h"  // generated, in comsec_oxid_resolver
#include "../rpc/local_test_support.h"

namespace comsec::com {
namespace {

using rpc::StringBinding;

OxidBindings ServerBindings() {
  OxidBindings b;
  b.strings = {{kTowerIdTcp, u"127.0.0.1[13540]"}, {kTowerIdNcalrpc, u"[/run/comsec/p]"}};
  b.security = {{kAuthnNtlm, kAuthzNone, u""}};
  return b;
}

const Guid kIpid = *Guid::Parse("00001234-0001-0002-0304-050607080910");

std::string HelperPath() { return COMSEC_BINARY_DIR "/tests/com/oxid_helper"; }

// Runs oxid_helper as uid/gid ("-" "-": as this user, another process).
std::string RunHelper(const std::string& uid, const std::string& gid, const std::string& args) {
  std::string cmd = HelperPath() + " " + uid + " " + gid + " " + args + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  char line[512] = {};
  std::string out = std::fgets(line, sizeof line, f) ? line : "";
  ::pclose(f);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string Hex64(uint64_t v) {
  char t[32];
  std::snprintf(t, sizeof t, "0x%016llx", static_cast<unsigned long long>(v));
  return t;
}

class ResolverServer : public ::testing::Test {
 protected:
  void SetUp() override {
    OxidResolverOptions o;
    o.ping_period = std::chrono::seconds(1);
    o.own_bindings.strings = {{kTowerIdTcp, u"127.0.0.1"}};
    o.own_bindings.security = {{kAuthnNtlm, kAuthzNone, u""},
                               {kAuthnNegotiate, kAuthzNone, u""},
                               {kAuthnKerberos, kAuthzNone, u""}};
    o.logger = log_.logger();
    resolver_ = std::make_unique<OxidResolver>(std::move(o));
    registry_.Register(ObjectExporterInterface(resolver_.get()));
    registry_.Register(OxidRegistrationInterface(resolver_.get(), log_.logger()));
    server_ = std::make_unique<rpc::Server>(&registry_, rpc::ServerOptions{});
    auto tcp = server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
    tcp_ = *tcp;
    auto local = server_->Listen(*StringBinding::Parse("ncalrpc:" + dir_.path() + "/epmapper"));
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    local_ = *local;
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<rpc::Client> Exporter() {
    auto c = rpc::Client::Connect(tcp_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    Status s = (*c)->Bind(ObjectExporterSyntax());  // no authentication
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::move(*c);
  }

  uint64_t Register() {
    auto client = ResolverClient::Connect(local_);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    auto oxid = (*client)->RegisterOxid(ServerBindings(), kIpid, 2);
    EXPECT_TRUE(oxid.ok()) << oxid.status().ToString();
    return oxid.ok() ? *oxid : 0;
  }

  rpc::testing::TempDir dir_{0755};
  CapturedLog log_;
  std::unique_ptr<OxidResolver> resolver_;
  rpc::InterfaceRegistry registry_;
  std::unique_ptr<rpc::Server> server_;
  StringBinding tcp_, local_;
};

TEST_F(ResolverServer, RegisterOverNcalrpcThenResolveAndPingOverTcp) {
  auto client = ResolverClient::Connect(local_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto oxid = (*client)->RegisterOxid(ServerBindings(), kIpid, 2);
  ASSERT_TRUE(oxid.ok()) << oxid.status().ToString();
  EXPECT_EQ((*client)->ping_period(), std::chrono::seconds(1));
  EXPECT_EQ(resolver_->OwnerOf(*oxid), (OxidOwner{static_cast<uint32_t>(::geteuid()),
                                                  static_cast<uint32_t>(::getpid())}));
  auto oids = (*client)->RegisterOids(*oxid, 2);
  ASSERT_TRUE(oids.ok()) << oids.status().ToString();
  ASSERT_EQ(oids->size(), 2u);

  auto rpc_client = Exporter();
  ASSERT_TRUE(rpc_client);
  idl::IObjectExporterProxy exporter(rpc_client.get());
  ndr::Box<idl::DUALSTRINGARRAY> dsa;
  idl::IPID ipid;
  idl::DWORD hint = 0;
  idl::COMVERSION version;
  auto st = exporter.ResolveOxid2(*oxid, 1, {kTowerIdTcp}, dsa, ipid, hint, version);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(*st, 0u);
  ASSERT_TRUE(dsa);
  auto bindings = OxidBindings::Decode(dsa->wSecurityOffset, dsa->aStringArray);
  ASSERT_TRUE(bindings.ok());
  ASSERT_EQ(bindings->strings.size(), 1u);
  EXPECT_EQ(bindings->strings[0].address, u"127.0.0.1[13540]");
  EXPECT_EQ(bindings->security, ServerBindings().security);
  EXPECT_EQ(ipid, kIpid);
  EXPECT_EQ(hint, 2u);
  EXPECT_EQ(version, (idl::COMVERSION{5, 7}));
  // ResolveOxid (opnum 0) too; an unknown OXID is OR_INVALID_OXID.
  st = exporter.ResolveOxid(*oxid, 1, {kTowerIdTcp}, dsa, ipid, hint);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(*st, 0u);
  st = exporter.ResolveOxid2(*oxid ^ 1, 1, {kTowerIdTcp}, dsa, ipid, hint, version);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(*st, OR_INVALID_OXID);
  EXPECT_FALSE(dsa);

  // Pinging: a set with one known and one unknown OID; SimplePing; an
  // unknown set.
  uint64_t setid = 0;
  uint16_t backoff = 9;
  std::vector<uint64_t> add = {(*oids)[0], 0x4141414141414141ull};
  st = exporter.ComplexPing(setid, 1, 2, 0, add, std::nullopt, backoff);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(*st, 0u);
  EXPECT_NE(setid, 0u);
  EXPECT_EQ(resolver_->set_size(setid), 1u);
  EXPECT_EQ(*exporter.SimplePing(setid), 0u);
  EXPECT_EQ(*exporter.SimplePing(setid ^ 1), OR_INVALID_SET);
  uint64_t bad = setid ^ 1;
  EXPECT_EQ(*exporter.ComplexPing(bad, 2, 0, 0, std::nullopt, std::nullopt, backoff),
            OR_INVALID_SET);
  EXPECT_EQ(*exporter.ServerAlive(), 0u);

  // Heartbeat and unregistration.
  auto rundown = (*client)->Heartbeat(*oxid, *oids);
  ASSERT_TRUE(rundown.ok()) << rundown.status().ToString();
  EXPECT_TRUE(rundown->empty());
  ASSERT_TRUE((*client)->UnregisterOids(*oxid, std::span(*oids).subspan(1)).ok());
  EXPECT_EQ(resolver_->oid_count(), 1u);
  ASSERT_TRUE((*client)->UnregisterOxid(*oxid).ok());
  st = exporter.ResolveOxid2(*oxid, 1, {kTowerIdTcp}, dsa, ipid, hint, version);
  EXPECT_EQ(*st, OR_INVALID_OXID);
  EXPECT_EQ((*client)->Heartbeat(*oxid, {}).status().code().value(), 0x80070776u);
}

// Registration is served over ncalrpc only: a TCP caller (loopback too) is
// refused with fault 5 before any stub runs, logged, and the server serves on.
TEST_F(ResolverServer, TcpCallersCannotRegister) {
  EXPECT_EQ(ResolverClient::Connect(tcp_).status().code(), E_ACCESSDENIED);
  auto c = rpc::Client::Connect(tcp_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Bind(OxidRegistrationSyntax()).ok());
  idl::IComsecOxidRegistrationProxy proxy(c->get());
  idl::DUALSTRINGARRAY dsa;
  dsa.aStringArray = ServerBindings().Encode(&dsa.wSecurityOffset);
  dsa.wNumEntries = static_cast<uint16_t>(dsa.aStringArray.size());
  uint64_t oxid = 0;
  uint32_t period = 0;
  auto hr = proxy.RegisterOxid(dsa, kIpid, 2, oxid, period);
  ASSERT_FALSE(hr.ok());
  EXPECT_EQ(hr.status().code(), E_ACCESSDENIED) << hr.status().ToString();
  EXPECT_EQ(oxid, 0u);
  EXPECT_EQ(resolver_->oxid_count(), 0u);
  auto events = log_.Named("oxid.registration_refused");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].peer && events[0].peer->starts_with("127.0.0.1:"));
  EXPECT_EQ(events[0].hresult, E_ACCESSDENIED);
  EXPECT_EQ(events[0].opnum, 0u);
  // Unregistering someone's OXID over TCP is refused the same way.
  uint64_t registered = Register();
  ASSERT_NE(registered, 0u);
  EXPECT_EQ(proxy.UnregisterOxid(registered).status().code(), E_ACCESSDENIED);
  EXPECT_EQ(resolver_->oxid_count(), 1u);
  EXPECT_EQ(log_.Named("oxid.registration_refused").size(), 2u);
  // The server still serves both interfaces.
  auto rpc_client = Exporter();
  ASSERT_TRUE(rpc_client);
  idl::IObjectExporterProxy exporter(rpc_client.get());
  EXPECT_EQ(*exporter.ServerAlive(), 0u);
  EXPECT_NE(Register(), 0u);
}

// Another process of the same user may not change an OXID it did not
// register: the owner is the uid AND the pid.
TEST_F(ResolverServer, AnotherProcessCannotChangeAnOxid) {
  uint64_t oxid = Register();
  ASSERT_NE(oxid, 0u);
  const std::string args = "'" + local_.ToString() + "' " + Hex64(oxid);
  EXPECT_EQ(RunHelper("-", "-", "unregister " + args), "hresult 0x80070005");
  EXPECT_EQ(RunHelper("-", "-", "heartbeat " + args), "hresult 0x80070005");
  EXPECT_EQ(RunHelper("-", "-", "register-oids " + args), "hresult 0x80070005");
  EXPECT_EQ(resolver_->oxid_count(), 1u);
  EXPECT_EQ(log_.Named("oxid.unregister_oxid_refused").size(), 1u);
  // An unknown OXID is OR_INVALID_OXID, not E_ACCESSDENIED.
  EXPECT_EQ(RunHelper("-", "-", "unregister '" + local_.ToString() + "' " + Hex64(oxid ^ 1)),
            "hresult 0x80070776");
}

// The attack as another user: nobody, over ncalrpc, tries to unregister,
// heartbeat and add OIDs to root's OXID: E_ACCESSDENIED, logged; root's
// OXID still resolves; nobody may register its own.
TEST_F(ResolverServer, NobodyCannotChangeRootsOxid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
  uint64_t oxid = Register();
  ASSERT_NE(oxid, 0u);
  const std::string uid = std::to_string(rpc::testing::kNobodyUid);
  const std::string gid = std::to_string(rpc::testing::kNogroupGid);
  const std::string args = "'" + local_.ToString() + "' " + Hex64(oxid);
  EXPECT_EQ(RunHelper(uid, gid, "unregister " + args), "hresult 0x80070005");
  EXPECT_EQ(RunHelper(uid, gid, "heartbeat " + args), "hresult 0x80070005");
  EXPECT_EQ(RunHelper(uid, gid, "register-oids " + args), "hresult 0x80070005");
  auto events = log_.Named("oxid.unregister_oxid_refused");
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(events[0].peer.has_value());
  EXPECT_TRUE(events[0].peer->starts_with("uid 65534 pid ")) << *events[0].peer;
  ResolvedOxid out;
  const uint16_t tcp[] = {kTowerIdTcp};
  EXPECT_EQ(resolver_->ResolveOxid(oxid, tcp, &out), 0u);
  // nobody's own registration works (and is its own).
  std::string first = RunHelper(uid, gid, "register '" + local_.ToString() + "' 100 </dev/null");
  EXPECT_TRUE(first.starts_with("oxid 0x")) << first;
}

// Case 42 at the resolver: a registered process is SIGKILLed; with a 1 s
// period its OXID and OID are gone after 3 missed periods (± one), not
// before 2, and resolving it is then OR_INVALID_OXID.
TEST_F(ResolverServer, KilledProcessLosesItsOxidAfterThreePeriods) {
  int in[2], out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  const std::string binding = local_.ToString();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::close(in[1]);
    ::close(out[0]);
    ::execl(HelperPath().c_str(), "oxid_helper", "-", "-", "register", binding.c_str(), "300",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  FILE* f = ::fdopen(out[0], "r");
  char line[128] = {};
  ASSERT_NE(std::fgets(line, sizeof line, f), nullptr);
  const uint64_t oxid = std::strtoull(line + 5, nullptr, 16);
  ASSERT_EQ(resolver_->OwnerOf(oxid)->pid, static_cast<uint32_t>(pid));
  // Alive while it heartbeats.
  ::usleep(1500 * 1000);
  ResolvedOxid r;
  const uint16_t tcp[] = {kTowerIdTcp};
  EXPECT_EQ(resolver_->ResolveOxid(oxid, tcp, &r), 0u);
  const auto killed = std::chrono::steady_clock::now();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::fclose(f);
  ::close(in[1]);
  // Not gone before 2 periods.
  ::usleep(1900 * 1000);
  EXPECT_EQ(resolver_->ResolveOxid(oxid, tcp, &r), 0u);
  // Gone by 4.
  uint32_t status = 0;
  while (std::chrono::steady_clock::now() - killed < std::chrono::seconds(5)) {
    status = resolver_->ResolveOxid(oxid, tcp, &r);
    if (status != 0) break;
    ::usleep(50 * 1000);
  }
  const auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_EQ(status, OR_INVALID_OXID);
  EXPECT_GE(took, std::chrono::seconds(2));
  EXPECT_LE(took, std::chrono::seconds(4));
  EXPECT_EQ(resolver_->oid_count(), 0u);
  EXPECT_EQ(log_.Named("oxid.dropped").size(), 1u);
}

// ServerAlive2 over TCP without authentication, decoded and compared field
// by field with the fixture (tests/data/dcom/ServerAlive2-response.stub.hex:
// COMVERSION 5.7, tower 7 "127.0.0.1", security bindings 10/9/16).
TEST_F(ResolverServer, ServerAlive2MatchesTheFixture) {
  std::ifstream f(COMSEC_TEST_DATA_DIR "/dcom/ServerAlive2-response.stub.hex");
  std::stringstream text;
  text << f.rdbuf();
  std::string hex = text.str();
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto fixture = FromHex(hex);
  ASSERT_TRUE(fixture.ok());

  auto rpc_client = Exporter();
  ASSERT_TRUE(rpc_client);
  auto reply = rpc_client->CallForReply({}, 5, {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();

  struct Decoded {
    idl::COMVERSION version;
    OxidBindings bindings;
    uint32_t reserved = 0, status = 0;
  };
  auto decode = [](std::span<const uint8_t> stub, ndr::DataRep rep) -> Decoded {
    Decoded out;
    ndr::Decoder d(stub, rep);
    EXPECT_TRUE(Decode(d, out.version).ok());
    auto id = d.UniquePointer();
    EXPECT_TRUE(id.ok() && *id != 0);
    idl::DUALSTRINGARRAY dsa;
    EXPECT_TRUE(Decode(d, dsa).ok());
    auto b = OxidBindings::Decode(dsa.wSecurityOffset, dsa.aStringArray);
    EXPECT_TRUE(b.ok());
    if (b.ok()) out.bindings = *b;
    out.reserved = *d.U32();
    out.status = *d.U32();
    EXPECT_TRUE(d.ExpectEnd().ok());
    return out;
  };
  Decoded want = decode(*fixture, ndr::DataRep::Native());
  Decoded got = decode(reply->stub, reply->data_rep);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.version, (idl::COMVERSION{5, 7}));
  EXPECT_EQ(got.bindings, want.bindings);
  EXPECT_EQ(got.reserved, 0u);
  EXPECT_EQ(got.status, 0u);
  // With the same bindings the bytes are the fixture's exactly.
  EXPECT_EQ(ToHex(reply->stub), hex);
}

}  // namespace
}  // namespace comsec::com
