// Client and server over real sockets: TCP on loopback (IPv4 and IPv6) and
// ncalrpc on a Unix-domain socket.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "comsec/base/win32_error.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "local_test_support.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

const SyntaxId kOther{*Guid::Parse("0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"), 2, 0};

class Loopback : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back([](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::vector<uint8_t> out(stub.begin(), stub.end());
      out.push_back(c.local ? 'L' : 'T');
      return out;
    });
    registry_.Register(std::move(r));
    InterfaceRegistration other;
    other.syntax = kOther;
    other.operations.push_back([](std::span<const uint8_t>, const CallContext& c)
                                   -> Result<std::vector<uint8_t>> {
      return std::vector<uint8_t>{'O', static_cast<uint8_t>(c.context_id)};
    });
    registry_.Register(std::move(other));
    server_ = std::make_unique<Server>(&registry_, ServerOptions{});
    std::string binding = GetParam();
    if (binding == "ncalrpc") {
      binding = "ncalrpc:" + dir_.path() + "/loopback";
    }
    auto bound = server_->Listen(*StringBinding::Parse(binding));
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    binding_ = *bound;
  }
  void TearDown() override {
    server_->Stop();
  }

  testing::TempDir dir_;
  InterfaceRegistry registry_;
  std::unique_ptr<Server> server_;
  StringBinding binding_;
};

TEST_P(Loopback, BindAndCallWithFragmentation) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->Bind(kEcho).ok());
  std::vector<uint8_t> big(100000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  auto r = (*client)->Call(0, big);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), big.size() + 1);
  EXPECT_TRUE(std::equal(big.begin(), big.end(), r->begin()));
  EXPECT_EQ(r->back(), binding_.IsLocal() ? 'L' : 'T');
  // Several calls on one connection.
  for (int i = 0; i < 20; ++i) {
    std::vector<uint8_t> small = {static_cast<uint8_t>(i)};
    auto s = (*client)->Call(0, small);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)[0], i);
  }
}

// alter_context adds a second interface to the association; calls follow
// the context the client switched to, and an unknown one is refused.
TEST_P(Loopback, AlterContextToAnotherInterface) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(kEcho).ok());
  ASSERT_TRUE((*client)->AlterContext(kOther).ok());
  auto r = (*client)->Call(0, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<uint8_t>{'O', 1}));
  ASSERT_TRUE((*client)->AlterContext(kEcho).ok());
  r = (*client)->Call(0, std::vector<uint8_t>{7});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], 7);
  SyntaxId unknown{*Guid::Parse("99999999-9999-9999-9999-999999999999"), 1, 0};
  EXPECT_EQ((*client)->AlterContext(unknown).code(), RPC_S_UNKNOWN_IF);
  EXPECT_TRUE((*client)->Call(0, std::vector<uint8_t>{8}).ok());
}

// A connect to an address that never answers gives up at the deadline.
TEST(ClientConnect, TimesOut) {
  ClientOptions o;
  o.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  // 192.0.2.0/24 (TEST-NET-1) is not routed: the SYN is never answered,
  // or the network is unreachable at once.
  auto c = Client::Connect(*StringBinding::Parse("ncacn_ip_tcp:192.0.2.1[135]"), o);
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), RPC_S_SERVER_UNAVAILABLE);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_P(Loopback, FaultsBecomeWindowsErrors) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(kEcho).ok());
  auto r = (*client)->Call(9, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_S_PROCNUM_OUT_OF_RANGE);
  auto other = Client::Connect(binding_);
  SyntaxId unknown{*Guid::Parse("99999999-9999-9999-9999-999999999999"), 1, 0};
  Status s = (*other)->Bind(unknown);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), RPC_S_UNKNOWN_IF);
}

TEST_P(Loopback, AsynchronousCalls) {
  auto client = Client::Connect(binding_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(kEcho).ok());
  std::vector<std::future<Result<std::vector<uint8_t>>>> calls;
  for (uint8_t i = 0; i < 8; ++i) {
    calls.push_back((*client)->CallAsync(0, std::vector<uint8_t>(100, i)));
  }
  for (uint8_t i = 0; i < 8; ++i) {
    auto r = calls[i].get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)[0], i);
    EXPECT_EQ(r->size(), 101u);
  }
}

TEST_P(Loopback, ManyClientsAtOnce) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) {
    auto c = Client::Connect(binding_);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Bind(kEcho).ok());
    clients.push_back(std::move(*c));
  }
  for (auto& c : clients) {
    std::vector<uint8_t> one = {42};
    ASSERT_TRUE(c->Call(0, one).ok());
  }
}

// Past max_connections, new connections are closed at once.
TEST(ServerLimitsTest, ConnectionLimit) {
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  r.operations.push_back([](std::span<const uint8_t>, const CallContext&)
                             -> Result<std::vector<uint8_t>> {
    return std::vector<uint8_t>{};
  });
  registry.Register(std::move(r));
  ServerOptions options;
  options.max_connections = 2;
  Server server(&registry, options);
  auto bound = server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(bound.ok());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 2; ++i) {
    auto c = Client::Connect(*bound);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Bind(kEcho).ok());
    clients.push_back(std::move(*c));
  }
  auto third = Client::Connect(*bound);
  ASSERT_TRUE(third.ok());  // the kernel accepts; the server then closes it
  EXPECT_FALSE((*third)->Bind(kEcho).ok());
  // Closing one frees a slot.
  clients.pop_back();
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    auto again = Client::Connect(*bound);
    served = again.ok() && (*again)->Bind(kEcho).ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
  server.Stop();
}

// A server restart between calls: the client reconnects and re-binds
// before sending, so the call succeeds.
TEST(ClientReconnect, AfterServerRestart) {
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  r.operations.push_back([](std::span<const uint8_t> stub, const CallContext&)
                             -> Result<std::vector<uint8_t>> {
    return std::vector<uint8_t>(stub.begin(), stub.end());
  });
  registry.Register(std::move(r));
  auto first = std::make_unique<Server>(&registry, ServerOptions{});
  auto bound = first->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(bound.ok());
  auto client = Client::Connect(*bound);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(kEcho).ok());
  std::vector<uint8_t> one = {1};
  ASSERT_TRUE((*client)->Call(0, one).ok());
  first->Stop();
  first.reset();
  Server second(&registry, ServerOptions{});
  ASSERT_TRUE(second.Listen(*bound).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto again = (*client)->Call(0, one);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, one);
  second.Stop();
}

INSTANTIATE_TEST_SUITE_P(Transports, Loopback,
                         ::testing::Values("ncacn_ip_tcp:127.0.0.1[0]",
                                           "ncacn_ip_tcp:::1[0]", "ncalrpc"),
                         [](const auto& info) {
                           return info.index == 0   ? std::string("Tcp4")
                                  : info.index == 1 ? std::string("Tcp6")
                                                    : std::string("Ncalrpc");
                         });

}  // namespace
}  // namespace comsec::rpc
