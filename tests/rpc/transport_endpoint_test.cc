// Socket::LocalEndpoint / PeerEndpoint: the two ends of one real connection
// mirror each other (TCP over IPv4 and IPv6, a dual-stack listener's IPv4
// peer, ncalrpc), which is what the NTLM reflection check relies on, and
// two connections never share their pair of ends.
#include <gtest/gtest.h>
#include <unistd.h>

#include "comsec/rpc/transport/endpoint.h"
#include "comsec/rpc/transport/socket.h"
#include "local_test_support.h"

namespace comsec::rpc {
namespace {

using Family = TransportEndpoint::Family;

struct Pair {
  Socket client;
  Socket server;
};

Pair Connect(Listener& listener, const StringBinding& to) {
  Pair p;
  auto c = Socket::Connect(to, 2000);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  if (!c.ok()) return p;
  p.client = std::move(*c);
  auto s = listener.Accept(2000);
  EXPECT_TRUE(s.ok() && s->has_value());
  if (s.ok() && s->has_value()) p.server = std::move(**s);
  return p;
}

TEST(TransportEndpoint, TcpEndsMirrorEachOther) {
  auto listener = Listener::Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(listener.ok());
  Pair p = Connect(*listener, listener->binding());
  const TransportEndpoint client_local = p.client.LocalEndpoint();
  EXPECT_EQ(client_local.family, Family::kIpv4);
  EXPECT_EQ(client_local, p.server.PeerEndpoint());
  EXPECT_EQ(p.client.PeerEndpoint(), p.server.LocalEndpoint());
  EXPECT_EQ(p.server.LocalEndpoint().port, *listener->binding().Port());
  EXPECT_EQ(p.server.LocalEndpoint().ToString(),
            "127.0.0.1:" + listener->binding().endpoint);
  // A second connection from the same host differs in the client's port.
  Pair q = Connect(*listener, listener->binding());
  EXPECT_NE(q.client.LocalEndpoint(), client_local);
  EXPECT_EQ(q.client.PeerEndpoint(), p.client.PeerEndpoint());
}

TEST(TransportEndpoint, Ipv6AndDualStackIpv4PeersMirror) {
  auto listener = Listener::Listen(*StringBinding::Parse("ncacn_ip_tcp:::[0]"));
  if (!listener.ok()) GTEST_SKIP() << "no IPv6 here: " << listener.status().ToString();
  StringBinding v6 = listener->binding();
  v6.address = "::1";
  Pair p = Connect(*listener, v6);
  EXPECT_EQ(p.client.LocalEndpoint().family, Family::kIpv6);
  EXPECT_EQ(p.client.LocalEndpoint(), p.server.PeerEndpoint());
  EXPECT_EQ(p.client.PeerEndpoint(), p.server.LocalEndpoint());
  EXPECT_EQ(p.server.LocalEndpoint().ToString(), "[::1]:" + listener->binding().endpoint);
  // An IPv4 client of the dual-stack listener: the server sees
  // ::ffff:127.0.0.1, stored as the IPv4 address its client names.
  StringBinding v4 = listener->binding();
  v4.address = "127.0.0.1";
  Pair q = Connect(*listener, v4);
  if (!q.server.valid()) GTEST_SKIP() << "the listener is IPv6 only";
  EXPECT_EQ(q.server.PeerEndpoint().family, Family::kIpv4);
  EXPECT_EQ(q.client.LocalEndpoint(), q.server.PeerEndpoint());
  EXPECT_EQ(q.client.PeerEndpoint(), q.server.LocalEndpoint());
}

TEST(TransportEndpoint, NcalrpcEndsNameThePathAndTheProcesses) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/endpoint.sock";
  auto listener = Listener::Listen(*StringBinding::Parse("ncalrpc:" + path));
  ASSERT_TRUE(listener.ok()) << listener.status().ToString();
  Pair p = Connect(*listener, listener->binding());
  const TransportEndpoint client_local = p.client.LocalEndpoint();
  EXPECT_EQ(client_local.family, Family::kUnix);
  EXPECT_TRUE(client_local.path.empty());  // a client's end is unnamed
  EXPECT_EQ(client_local.pid, static_cast<uint32_t>(::getpid()));
  EXPECT_EQ(client_local, p.server.PeerEndpoint());
  EXPECT_EQ(p.client.PeerEndpoint(), p.server.LocalEndpoint());
  EXPECT_FALSE(p.server.LocalEndpoint().path.empty());
  EXPECT_EQ(p.server.LocalEndpoint().pid, static_cast<uint32_t>(::getpid()));
}

TEST(TransportEndpoint, AClosedDescriptorIsUnknown) {
  Socket none;
  EXPECT_FALSE(none.LocalEndpoint().known());
  EXPECT_FALSE(none.PeerEndpoint().known());
  EXPECT_EQ(none.PeerEndpoint().ToString(), "unknown");
}

}  // namespace
}  // namespace comsec::rpc
