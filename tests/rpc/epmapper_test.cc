// Towers (C706 appendix L) and the endpoint mapper, in process and over
// loopback sockets.
#include "rpc/epmapper.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "base/hex.h"
#include "rpc/server.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

TEST(Tower, TcpLayout) {
  Tower t{kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "1350", "127.0.0.1"};
  std::vector<uint8_t> b = t.Encode();
  // 5 floors: 2 + (2+19+2+2) * 2 + (2+1+2+2) + (2+1+2+2) + (2+1+2+4) = 75.
  EXPECT_EQ(b.size(), 75u);
  EXPECT_EQ(b[0], 5);
  // The TCP port is big-endian: 1350 = 0x0546.
  EXPECT_EQ(ToHex(std::span(b).subspan(b.size() - 16, 7)), "01000702000546");
  auto back = Tower::Decode(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->interface, kEcho);
  EXPECT_EQ(back->endpoint, "1350");
  EXPECT_EQ(back->address, "127.0.0.1");
  EXPECT_EQ(back->ToBinding().ToString(), "ncacn_ip_tcp:127.0.0.1[1350]");
}

TEST(Tower, NcalrpcRoundTrip) {
  Tower t{kEcho, Ndr20Syntax(), "ncalrpc", "/run/comsec/echo", ""};
  auto back = Tower::Decode(t.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->protseq, "ncalrpc");
  EXPECT_EQ(back->endpoint, "/run/comsec/echo");
}

TEST(Tower, RejectsMalformedTowers) {
  std::vector<uint8_t> good =
      Tower{kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "1", "1.2.3.4"}.Encode();
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> prefix(good.begin(), good.begin() + n);
    EXPECT_FALSE(Tower::Decode(prefix).ok()) << n;
  }
  std::vector<uint8_t> b = good;
  b[0] = 40;  // floor count
  EXPECT_FALSE(Tower::Decode(b).ok());
  b = good;
  b[4] = 0x0C;  // floor 1 protocol id
  EXPECT_FALSE(Tower::Decode(b).ok());
}

TEST(EndpointMapper, MapMatchesInterfaceVersionAndProtseq) {
  EndpointMapper m;
  m.Insert({Guid{}, {kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "1000", "127.0.0.1"}, "a"}, true);
  m.Insert({Guid{}, {kEcho, Ndr20Syntax(), "ncalrpc", "/x", ""}, "b"}, true);
  EXPECT_EQ(m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5).size(), 1u);
  SyntaxId newer_minor = kEcho;
  newer_minor.minor = 1;
  EXPECT_TRUE(m.Map(Guid{}, newer_minor, "ncacn_ip_tcp", 5).empty());
  SyntaxId other_major = kEcho;
  other_major.major = 2;
  EXPECT_TRUE(m.Map(Guid{}, other_major, "ncacn_ip_tcp", 5).empty());
  // replace = true keeps one entry per interface and protseq.
  m.Insert({Guid{}, {kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "2000", "127.0.0.1"}, "a"}, true);
  auto found = m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].tower.endpoint, "2000");
  m.Delete(found[0]);
  EXPECT_TRUE(m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5).empty());
}

// Registration only from this machine.
TEST(EndpointMapper, RemoteRegistrationIsRefused) {
  EndpointMapper m;
  InterfaceRegistration iface = m.Interface();
  // Build an ept_insert stub through the client encoder path: insert over a
  // real ncalrpc connection first, then call the handler as a remote peer.
  InterfaceRegistry registry;
  registry.Register(m.Interface());
  Server server(&registry, ServerOptions{});
  std::string path = "/tmp/comsec-epm-test-" + std::to_string(getpid()) + ".sock";
  auto local = server.Listen(*StringBinding::Parse("ncalrpc:" + path));
  ASSERT_TRUE(local.ok());
  EndpointEntry e{Guid{}, {kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "4321", "127.0.0.1"}, "x"};
  ASSERT_TRUE(EptInsert(*local, {e}).ok());
  EXPECT_EQ(m.size(), 1u);
  auto resolved = EptMap(*local, kEcho, "ncacn_ip_tcp");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->endpoint, "4321");
  SyntaxId unknown{*Guid::Parse("99999999-9999-9999-9999-999999999999"), 1, 0};
  EXPECT_FALSE(EptMap(*local, unknown, "ncacn_ip_tcp").ok());
  server.Stop();
  std::filesystem::remove(path);
  // The same stub from a remote caller: status 5, nothing registered.
  CallContext remote;
  remote.local = false;
  remote.loopback = false;
  // Minimal ept_insert with zero entries is enough to reach the check.
  std::vector<uint8_t> stub = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  auto r = iface.operations[0](stub, remote);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0], 5);
}

}  // namespace
}  // namespace comsec::rpc
