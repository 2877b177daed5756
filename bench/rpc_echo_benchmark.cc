// DCE/RPC call rate at authentication level NONE — an echo over loopback TCP
// and over ncalrpc, a null call, and 16 connections at once — beside raw
// socket ping-pongs of the same payloads measured in the same run (the floor
// any RPC runtime pays). bench/grpc_echo_benchmark.cc measures gRPC on the
// same terms, and scripts/bench.sh prints the ratios.
//
// Every benchmark here runs with one connection per benchmark thread against
// one server that Setup starts, so the single-connection and the
// ->Threads(16) variants share their code. With UseRealTime, items/s of a
// threaded run is the aggregate throughput of all its connections.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/check.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1,
                     0};
constexpr uint16_t kOpEcho = 0;
constexpr uint16_t kOpNull = 1;
constexpr int kConnections = 16;

// A fresh directory for a Unix-domain socket, so that concurrent runs never
// share a path; removed with the socket in it.
class SocketDir {
 public:
  SocketDir() {
    char tmpl[] = "/tmp/comsec-bench-XXXXXX";
    COMSEC_CHECK(::mkdtemp(tmpl) != nullptr, "mkdtemp failed");
    dir_ = tmpl;
  }
  ~SocketDir() {
    ::unlink(socket_path().c_str());
    ::rmdir(dir_.c_str());
  }
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;

  std::string socket_path() const { return dir_ + "/echo.sock"; }

 private:
  std::string dir_;
};

// ====================================================================
// NTLM: one account, validated as the echo server validates store accounts.

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

BenchAccounts bench_accounts;
auth::ntlm::LocalLogonValidator bench_validator(&bench_accounts, {});

auth::ntlm::NtlmPackage& ServerNtlm() {
  static auth::ntlm::NtlmPackage p([] {
    auth::ntlm::ServerOptions o;
    o.validator = &bench_validator;
    return o;
  }());
  return p;
}

auth::ntlm::NtlmPackage& ClientNtlm() {
  static auth::ntlm::NtlmPackage p([] {
    auth::ntlm::ClientCredentials c;
    c.user = "bench";
    c.password = "bench-password";
    return c;
  }());
  return p;
}

SecurityPackageRegistry& ServerPackages() {
  static SecurityPackageRegistry r = [] {
    SecurityPackageRegistry r;
    r.Add(&ServerNtlm());
    return r;
  }();
  return r;
}

ServerOptions EchoServerOptions() {
  ServerOptions o;
  o.packages = &ServerPackages();
  return o;
}

// ====================================================================
// comsec: an RPC server with an echo and a null operation.

class RpcEchoServer {
 public:
  // Listens on loopback TCP, or on ncalrpc when `local`.
  explicit RpcEchoServer(bool local) : server_(&registry_, EchoServerOptions()) {
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
    registry_.Register(std::move(r));
    std::string text = "ncacn_ip_tcp:127.0.0.1[0]";
    if (local) text = "ncalrpc:" + dir_.emplace().socket_path();
    auto bound = server_.Listen(*StringBinding::Parse(text));
    COMSEC_CHECK(bound.ok(), bound.status().ToString());
    binding_ = *bound;
  }
  const StringBinding& binding() const { return binding_; }

 private:
  // Destroyed in reverse: the server stops before the socket file goes.
  std::optional<SocketDir> dir_;  // ncalrpc only
  InterfaceRegistry registry_;
  Server server_;
  StringBinding binding_;
};

// Setup and Teardown are plain function pointers called once per run for
// all of a benchmark's threads, so the server they share lives here.
std::unique_ptr<RpcEchoServer> rpc_server;

void StartTcpServer(const benchmark::State&) {
  rpc_server = std::make_unique<RpcEchoServer>(false);
}
void StartLocalServer(const benchmark::State&) {
  rpc_server = std::make_unique<RpcEchoServer>(true);
}
void StopServer(const benchmark::State&) { rpc_server.reset(); }

// One client per thread, connected and bound before the timed loop; with
// `level`, authenticated with NTLM at that level.
void RunCalls(benchmark::State& state, uint16_t opnum, size_t payload_bytes,
              security::AuthnLevel level = security::AuthnLevel::kNone) {
  auto client = Client::Connect(rpc_server->binding());
  if (!client.ok()) {
    state.SkipWithError("connect failed");
    return;
  }
  ClientAuth auth{&ClientNtlm(), level};
  if (!(*client)->Bind(kEcho, level > security::AuthnLevel::kNone ? &auth : nullptr).ok()) {
    state.SkipWithError("bind failed");
    return;
  }
  std::vector<uint8_t> payload(payload_bytes, 0x5A);
  for (auto _ : state) {
    auto reply = (*client)->Call(opnum, payload);
    if (!reply.ok()) {
      state.SkipWithError("call failed");
      break;
    }
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RpcEcho_Tcp_None(benchmark::State& state) {
  RunCalls(state, kOpEcho, static_cast<size_t>(state.range(0)));
}

// The fixed cost of a call: an empty stub in, an empty stub out.
void BM_RpcNullCall_Tcp_None(benchmark::State& state) {
  RunCalls(state, kOpNull, 0);
}

// The same echo with NTLM signing, and with signing and sealing.
void BM_RpcEcho_Tcp_PktIntegrity(benchmark::State& state) {
  RunCalls(state, kOpEcho, static_cast<size_t>(state.range(0)),
           security::AuthnLevel::kPktIntegrity);
}

void BM_RpcEcho_Tcp_PktPrivacy(benchmark::State& state) {
  RunCalls(state, kOpEcho, static_cast<size_t>(state.range(0)), security::AuthnLevel::kPktPrivacy);
}

// Connect, bind with NTLM (NEGOTIATE, CHALLENGE, AUTHENTICATE in auth3) and
// make one null call: what a new authenticated association costs.
void BM_NtlmHandshake_Tcp_PktPrivacy(benchmark::State& state) {
  ClientAuth auth{&ClientNtlm(), security::AuthnLevel::kPktPrivacy};
  for (auto _ : state) {
    auto client = Client::Connect(rpc_server->binding());
    if (!client.ok() || !(*client)->Bind(kEcho, &auth).ok() ||
        !(*client)->Call(kOpNull, {}).ok()) {
      state.SkipWithError("handshake failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RpcEcho_Ncalrpc_None(benchmark::State& state) {
  RunCalls(state, kOpEcho, static_cast<size_t>(state.range(0)));
}

void BM_RpcNullCall_Ncalrpc_None(benchmark::State& state) {
  RunCalls(state, kOpNull, 0);
}

// ====================================================================
// Baselines: the same bytes echoed over plain sockets, a thread per
// connection on the server side as in comsec's Server.

bool SendAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool RecvAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

void SetNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Echoes messages of a fixed size on each connection until its peer closes.
// The destructor stops accepting and joins every thread, so the clients
// must have closed their connections by then.
class RawEchoServer {
 public:
  RawEchoServer(bool local, size_t message_bytes)
      : local_(local), message_bytes_(message_bytes) {
    listener_ =
        ::socket(local ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    COMSEC_CHECK(listener_ >= 0, "socket failed");
    if (local) {
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::string path = dir_.emplace().socket_path();
      std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
      std::memcpy(&address_, &a, sizeof a);
      address_len_ = sizeof a;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      std::memcpy(&address_, &a, sizeof a);
      address_len_ = sizeof a;
    }
    auto* address = reinterpret_cast<sockaddr*>(&address_);
    COMSEC_CHECK(::bind(listener_, address, address_len_) == 0 &&
                     ::listen(listener_, 64) == 0 &&
                     ::getsockname(listener_, address, &address_len_) == 0,
                 "cannot listen for the raw echo");
    wake_ = ::eventfd(0, EFD_CLOEXEC);
    COMSEC_CHECK(wake_ >= 0, "eventfd failed");
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~RawEchoServer() {
    uint64_t one = 1;
    COMSEC_CHECK(::write(wake_, &one, sizeof one) == sizeof one,
                 "eventfd write failed");
    accept_thread_.join();
    for (std::thread& t : echo_threads_) t.join();
    ::close(wake_);
    ::close(listener_);
  }
  RawEchoServer(const RawEchoServer&) = delete;
  RawEchoServer& operator=(const RawEchoServer&) = delete;

  // A connected client socket (TCP_NODELAY on TCP), or -1.
  int Connect() const {
    int s = ::socket(local_ ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    if (::connect(s, reinterpret_cast<const sockaddr*>(&address_),
                  address_len_) != 0) {
      ::close(s);
      return -1;
    }
    if (!local_) SetNoDelay(s);
    return s;
  }

 private:
  // Polls the eventfd beside the listener so that the destructor can end
  // the loop without a timeout.
  void AcceptLoop() {
    for (;;) {
      pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 || fds[1].revents != 0) return;
      int c = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      if (!local_) SetNoDelay(c);
      echo_threads_.emplace_back([c, n = message_bytes_] {
        std::vector<char> buf(n);
        while (RecvAll(c, buf.data(), n) && SendAll(c, buf.data(), n)) {
        }
        ::close(c);
      });
    }
  }

  std::optional<SocketDir> dir_;  // Unix sockets only
  const bool local_;
  const size_t message_bytes_;
  int listener_ = -1;
  int wake_ = -1;
  sockaddr_storage address_{};
  socklen_t address_len_ = 0;
  std::thread accept_thread_;
  std::vector<std::thread> echo_threads_;  // owned by accept_thread_
};

std::unique_ptr<RawEchoServer> raw_server;

void StartRawTcp(const benchmark::State& state) {
  raw_server = std::make_unique<RawEchoServer>(
      false, static_cast<size_t>(state.range(0)));
}
void StartRawUnix(const benchmark::State& state) {
  raw_server = std::make_unique<RawEchoServer>(
      true, static_cast<size_t>(state.range(0)));
}
void StopRaw(const benchmark::State&) { raw_server.reset(); }

void RunPingPong(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  int s = raw_server->Connect();
  if (s < 0) {
    state.SkipWithError("connect failed");
    return;
  }
  std::vector<char> buf(n, 'x');
  for (auto _ : state) {
    if (!SendAll(s, buf.data(), n) || !RecvAll(s, buf.data(), n)) {
      state.SkipWithError("ping-pong failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  ::close(s);
}

void BM_Baseline_RawTcpPingPong(benchmark::State& state) { RunPingPong(state); }

void BM_Baseline_RawUnixPingPong(benchmark::State& state) {
  RunPingPong(state);
}

// ====================================================================
// Each benchmark runs right beside its baseline, so that load from elsewhere
// on the machine weighs on both alike and their ratio stays meaningful.

BENCHMARK(BM_RpcEcho_Tcp_None)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_Baseline_RawTcpPingPong)
    ->Setup(StartRawTcp)
    ->Teardown(StopRaw)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_RpcEcho_Tcp_None)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime()
    ->Threads(kConnections);
BENCHMARK(BM_Baseline_RawTcpPingPong)
    ->Setup(StartRawTcp)
    ->Teardown(StopRaw)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime()
    ->Threads(kConnections);
BENCHMARK(BM_RpcNullCall_Tcp_None)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->UseRealTime();
// NTLM levels; scripts/bench.sh compares them with NONE's rate.
BENCHMARK(BM_RpcEcho_Tcp_PktIntegrity)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_RpcEcho_Tcp_PktPrivacy)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_RpcEcho_Tcp_PktPrivacy)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime()
    ->Threads(kConnections);
BENCHMARK(BM_NtlmHandshake_Tcp_PktPrivacy)
    ->Setup(StartTcpServer)
    ->Teardown(StopServer)
    ->UseRealTime();
BENCHMARK(BM_RpcEcho_Ncalrpc_None)
    ->Setup(StartLocalServer)
    ->Teardown(StopServer)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_Baseline_RawUnixPingPong)
    ->Setup(StartRawUnix)
    ->Teardown(StopRaw)
    ->Arg(64)
    ->Arg(4096)
    ->UseRealTime();
BENCHMARK(BM_RpcNullCall_Ncalrpc_None)
    ->Setup(StartLocalServer)
    ->Teardown(StopServer)
    ->UseRealTime();

}  // namespace
}  // namespace comsec::rpc
