// Issue 9 item 3, conformance cases 48 and 49: slow and idle peers cannot
// lock others out. Three hundred connections from 127.0.0.1 each send 10
// bytes of a bind and stall; meanwhile impacket, an independent client,
// binds from 127.0.0.2 and is served. The stalled connections are closed:
// those admitted at the handshake deadline (2 s here), the rest at once by
// the per-address limit; each test waits for every EOF with a generous
// upper bound and asserts no speed. Also: an authentication left unfinished
// after the bind is closed at the deadline, and a fragment that starts and
// stalls is closed at the fragment deadline although the idle timeout is
// long.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "ntlm_peer.h"
#include "../base/captured_log.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

using std::chrono::steady_clock;

// A TCP connection from `source` to 127.0.0.1:port; -1 on failure.
int ConnectFrom(const char* source, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
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
  return fd;
}

// Waits until the server closes `fd` (EOF or reset), reading and dropping
// whatever it sends first; false if `deadline` passes first.
bool ClosedBy(int fd, steady_clock::time_point deadline) {
  uint8_t buf[512];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got <= 0) return true;
  }
}

uint16_t PortOf(const StringBinding& b) { return static_cast<uint16_t>(std::stoi(b.endpoint)); }

class Deadlines : public ::testing::Test {
 protected:
  void SetUp() override {
    server_pkg_ = testing::NtlmServerPackage(&accounts_);
    packages_.Add(server_pkg_.get());
  }
  void Start(ServerOptions options) {
    options.packages = &packages_;
    options.logger = log_.logger();
    server_ = std::make_unique<Server>(&ifaces_.registry, options);
    auto bound = server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(bound.ok()) << bound.status().ToString();
    port_ = PortOf(*bound);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  // The rpc.connection_closed events saying `why`, each checked whole.
  size_t ClosedBecause(const std::string& why) {
    size_t n = 0;
    for (const LogEvent& e : log_.Named("rpc.connection_closed")) {
      if (e.reason != why) continue;
      EXPECT_TRUE(e.peer && e.peer->starts_with("127.0.0.1:"));
      EXPECT_EQ(e, LogEvent("rpc.connection_closed", LogSeverity::kNotice,
                            "closing connection from " + e.peer.value_or("") + ": " + why)
                       .Peer(e.peer.value_or(""))
                       .Reason(why));
      ++n;
    }
    return n;
  }
  // The first 10 bytes of a bind, then nothing.
  static std::vector<uint8_t> TenBytesOfABind() {
    Pdu p;
    p.header.type = PduType::kBind;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, testing::kEchoSyntax, {Ndr20Syntax()}});
    p.body = b;
    auto bytes = EncodePdu(p);
    bytes.resize(10);
    return bytes;
  }

  testing::TwoAccounts accounts_;
  testing::RecordingInterfaces ifaces_;
  SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> server_pkg_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
  CapturedLog log_;
};

// impacket binds from 127.0.0.2 once told to (it imports first, so the
// attack is in place when it connects), calls opnum 0 and checks the echo.
constexpr const char* kImpacketClient = R"PY(
import socket, sys
from impacket.dcerpc.v5 import transport
from impacket.uuid import uuidtup_to_bin

class FromAddress(transport.TCPTransport):
    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        s.bind(("127.0.0.2", 0))
        s.connect(("127.0.0.1", self.get_dport()))
        self._TCPTransport__socket = s
        return 1

port = int(sys.argv[1])
sys.stdin.readline()
dce = FromAddress("127.0.0.1", port).get_dce_rpc()
dce.connect()
dce.bind(uuidtup_to_bin(("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21", "1.0")))
dce.call(0, b"served during the attack")
reply = dce.recv()
print("impacket: " + repr(reply), flush=True)
sys.exit(0 if reply == b"served during the attack" else 1)
)PY";

TEST_F(Deadlines, Case48SlowLorisDoesNotLockOutAWellBehavedImpacketClient) {
  ServerOptions options;
  options.handshake_timeout_ms = 2000;  // the test value of case 48
  Start(options);
  ASSERT_FALSE(HasFatalFailure());
  const std::string script = ::testing::TempDir() + "slowloris_impacket_" +
                             std::to_string(::getpid()) + ".py";
  { std::ofstream(script) << kImpacketClient; }
  std::string command = "/usr/bin/python3 " + script + " " + std::to_string(port_);
  FILE* impacket = ::popen(command.c_str(), "w");
  ASSERT_NE(impacket, nullptr);

  std::vector<int> stalled;
  const auto bytes = TenBytesOfABind();
  for (int i = 0; i < 300; ++i) {
    int fd = ConnectFrom("127.0.0.1", port_);
    ASSERT_GE(fd, 0) << i;
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    stalled.push_back(fd);
  }
  // The attack is in place; the well-behaved client binds and calls.
  std::fputs("go\n", impacket);
  std::fflush(impacket);
  int status = ::pclose(impacket);
  std::remove(script.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "impacket was not served while 300 connections stalled (status " << status << ")";

  // Every stalled connection is closed; generous bound, no speed asserted.
  const auto deadline = steady_clock::now() + std::chrono::seconds(60);
  size_t closed = 0;
  for (int fd : stalled) {
    closed += ClosedBy(fd, deadline);
    ::close(fd);
  }
  EXPECT_EQ(closed, stalled.size());
  // The admitted ones at the handshake deadline, the rest by the
  // per-address limit; both logged.
  EXPECT_GE(ClosedBecause("bind not completed within the handshake deadline of 2000 ms"), 1u);
  const std::string why = "64 connections from 127.0.0.1 (max_connections_per_address) "
                          "already served";
  const auto refusals = log_.Named("rpc.connection_refused");
  EXPECT_GE(refusals.size(), 1u);
  for (const LogEvent& e : refusals) {
    EXPECT_EQ(e, LogEvent("rpc.connection_refused", LogSeverity::kWarning,
                          "refusing connections from 127.0.0.1: " + why)
                     .Peer("127.0.0.1")
                     .Reason(why));
  }
  // And the server still serves 127.0.0.1 once the attackers are gone.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    auto client = Client::Connect(*StringBinding::Parse(
        "ncacn_ip_tcp:127.0.0.1[" + std::to_string(port_) + "]"));
    served = client.ok() && (*client)->Bind(testing::kEchoSyntax).ok() &&
             (*client)->Call(0, std::vector<uint8_t>{1, 2, 3, 4}).ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(served);
}

TEST_F(Deadlines, AuthenticationLeftUnfinishedAfterTheBindIsClosed) {
  ServerOptions options;
  options.handshake_timeout_ms = 2000;
  Start(options);
  ASSERT_FALSE(HasFatalFailure());
  int fd = ConnectFrom("127.0.0.1", port_);
  ASSERT_GE(fd, 0);
  testing::NtlmPeer alice(testing::Credentials("alice", "pw"), AuthnLevel::kPktIntegrity);
  auto bind = alice.Bind(testing::kEchoSyntax);
  ASSERT_EQ(::send(fd, bind.data(), bind.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bind.size()));
  // bind_ack (CHALLENGE) arrives; no auth3 is ever sent.
  EXPECT_TRUE(ClosedBy(fd, steady_clock::now() + std::chrono::seconds(60)));
  ::close(fd);
  EXPECT_EQ(
      ClosedBecause("authentication not completed within the handshake deadline of 2000 ms"),
      1u);
}

TEST_F(Deadlines, AStartedFragmentMustEndWithinTheFragmentDeadline) {
  ServerOptions options;
  options.fragment_timeout_ms = 1000;
  options.idle_timeout_ms = 300000;  // would hold the connection 5 minutes
  Start(options);
  ASSERT_FALSE(HasFatalFailure());
  int fd = ConnectFrom("127.0.0.1", port_);
  ASSERT_GE(fd, 0);
  Pdu p;
  p.header.type = PduType::kBind;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = 5840;
  b.contexts.push_back({0, testing::kEchoSyntax, {Ndr20Syntax()}});
  p.body = b;
  auto bind = EncodePdu(p);
  ASSERT_EQ(::send(fd, bind.data(), bind.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bind.size()));
  // Ten bytes of a request, then nothing: the fragment has begun.
  auto request = testing::NtlmPeer::Unverified(2, std::vector<uint8_t>(64, 7));
  ASSERT_EQ(::send(fd, request.data(), 10, MSG_NOSIGNAL), 10);
  EXPECT_TRUE(ClosedBy(fd, steady_clock::now() + std::chrono::seconds(60)));
  ::close(fd);
  EXPECT_EQ(ClosedBecause("a fragment did not arrive whole within 1000 ms"), 1u);
  EXPECT_EQ(ifaces_.invocations, 0);
}

}  // namespace
}  // namespace comsec::rpc
