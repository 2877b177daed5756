// Issue 9 item 3, case 49: connections are admitted per transport and, on
// TCP, per peer address. One past a limit is closed at once, without a
// reply, and logged once per burst; the connections already served keep
// working; TCP's and ncalrpc's counts are apart, so neither side can lock
// the other out.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "local_test_support.h"
#include "../base/captured_log.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

class Admission : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.operations.push_back([](std::span<const uint8_t> stub, const CallContext&)
                               -> Result<std::vector<uint8_t>> {
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    path_ = dir_.path() + "/admission.sock";
  }
  void Start(ServerOptions options) {
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&registry_, options);
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + path_));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove(path_);
  }
  // A bound client from `source` (TCP) or on ncalrpc; null when refused.
  std::unique_ptr<Client> Bound(const StringBinding& binding) {
    auto c = Client::Connect(binding);
    if (!c.ok() || !(*c)->Bind(kEcho).ok()) return nullptr;
    return std::move(*c);
  }
  static bool Calls(Client& c) {
    std::vector<uint8_t> stub{1, 2, 3, 4};
    auto r = c.Call(0, stub);
    return r.ok() && *r == stub;
  }
  // The rpc.connection_refused events so far.
  std::vector<LogEvent> Refusals() const { return log_.Named("rpc.connection_refused"); }
  // One rpc.connection_refused event: from `peer` ("" on ncalrpc), `why`.
  static LogEvent Refused(const std::string& who, const std::string& peer,
                          const std::string& why) {
    LogEvent e("rpc.connection_refused", LogSeverity::kWarning,
               "refusing connections from " + who + ": " + why + " already served");
    if (!peer.empty()) e.Peer(peer);
    return e.Reason(why + " already served");
  }

  CapturedLog log_;
  InterfaceRegistry registry_;
  std::unique_ptr<Server> server_;
  StringBinding tcp_, local_;
  testing::TempDir dir_;  // private: ncalrpc refuses world-writable /tmp
  std::string path_;
};

// A raw TCP connection from `source`; true when the server closes it
// without a byte of reply (the refusal), within a generous bound.
bool RefusedFrom(const char* source, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  bool refused = false;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    pollfd p{fd, POLLIN, 0};
    uint8_t byte;
    refused = ::poll(&p, 1, 30000) == 1 && ::recv(fd, &byte, 1, 0) <= 0;
  }
  ::close(fd);
  return refused;
}

// A connected client socket from `source` that the server admitted (it
// answers a bind); -1 otherwise.
int AdmittedFrom(const char* source, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  Pdu p;
  p.header.type = PduType::kBind;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = 5840;
  b.contexts.push_back({0, kEcho, {Ndr20Syntax()}});
  p.body = b;
  auto bytes = EncodePdu(p);
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  pollfd poll_fd{fd, POLLIN, 0};
  uint8_t reply[256];
  if (::poll(&poll_fd, 1, 30000) != 1 || ::recv(fd, reply, sizeof reply, 0) <= 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t Port(const StringBinding& b) { return static_cast<uint16_t>(std::stoi(b.endpoint)); }

TEST_F(Admission, PerAddressLimitLeavesOtherAddressesServed) {
  ServerOptions options;
  options.max_connections_per_address = 4;
  Start(options);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(AdmittedFrom("127.0.0.1", Port(tcp_)));
    ASSERT_GE(held.back(), 0) << i;
  }
  EXPECT_TRUE(RefusedFrom("127.0.0.1", Port(tcp_)));
  EXPECT_TRUE(RefusedFrom("127.0.0.1", Port(tcp_)));
  EXPECT_EQ(Refusals(),  // once per burst
            std::vector<LogEvent>{Refused(
                "127.0.0.1", "127.0.0.1",
                "4 connections from 127.0.0.1 (max_connections_per_address)")});
  // Another address is served.
  int other = AdmittedFrom("127.0.0.2", Port(tcp_));
  EXPECT_GE(other, 0);
  if (other >= 0) ::close(other);
  // A slot freed is a slot again.
  ::close(held.back());
  held.pop_back();
  int again = -1;
  for (int attempt = 0; attempt < 100 && again < 0; ++attempt) {
    again = AdmittedFrom("127.0.0.1", Port(tcp_));
    if (again < 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(again, 0);
  if (again >= 0) ::close(again);
  for (int fd : held) ::close(fd);
}

TEST_F(Admission, Case49TcpCapRefusesTheNextAndServedOnesKeepWorking) {
  ServerOptions options;
  options.max_connections = 64;  // case 49's N
  options.max_connections_per_address = 64;
  Start(options);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 64; ++i) {
    clients.push_back(Bound(tcp_));
    ASSERT_NE(clients.back(), nullptr) << i;
  }
  EXPECT_TRUE(RefusedFrom("127.0.0.2", Port(tcp_)));
  EXPECT_EQ(Refusals(), std::vector<LogEvent>{Refused("127.0.0.2", "127.0.0.2",
                                                      "64 TCP connections (max_connections)")});
  for (auto& c : clients) EXPECT_TRUE(Calls(*c));
  // ncalrpc is counted apart: local callers are still served.
  auto local = Bound(local_);
  ASSERT_NE(local, nullptr);
  EXPECT_TRUE(Calls(*local));
}

TEST_F(Admission, NcalrpcCapIsApartFromTcps) {
  ServerOptions options;
  options.max_local_connections = 2;
  Start(options);
  auto a = Bound(local_);
  auto b = Bound(local_);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Bound(local_), nullptr);
  EXPECT_EQ(Refusals(),
            std::vector<LogEvent>{Refused("ncalrpc callers", "",
                                          "2 ncalrpc connections (max_local_connections)")});
  // TCP is unaffected, and the served local callers keep working.
  auto tcp = Bound(tcp_);
  ASSERT_NE(tcp, nullptr);
  EXPECT_TRUE(Calls(*tcp));
  EXPECT_TRUE(Calls(*a));
  EXPECT_TRUE(Calls(*b));
}

}  // namespace
}  // namespace comsec::rpc
