// DCE/RPC call rate over loopback TCP at authentication level NONE, beside
// a raw socket ping-pong of the same payload measured in the same run (the
// floor any RPC runtime pays). Secured levels and gRPC+TLS join with the
// NTLM issue.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "rpc/client.h"
#include "rpc/server.h"

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

void BM_RpcEcho_Tcp_None(benchmark::State& state) {
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  r.operations.push_back([](std::span<const uint8_t> stub, const CallContext&)
                             -> Result<std::vector<uint8_t>> {
    return std::vector<uint8_t>(stub.begin(), stub.end());
  });
  registry.Register(std::move(r));
  Server server(&registry, ServerOptions{});
  auto bound = server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  auto client = std::move(*Client::Connect(*bound));
  (void)client->Bind(kEcho);
  std::vector<uint8_t> payload(static_cast<size_t>(state.range(0)), 0x5A);
  for (auto _ : state) {
    auto reply = client->Call(0, payload);
    if (!reply.ok()) state.SkipWithError("call failed");
    benchmark::DoNotOptimize(reply);
  }
  state.SetItemsProcessed(state.iterations());
  client.reset();
  server.Stop();
}
BENCHMARK(BM_RpcEcho_Tcp_None)->Arg(64)->Arg(4096)->UseRealTime();

// Baseline: the same bytes echoed over a plain TCP connection.
void BM_Baseline_RawTcpPingPong(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a);
  listen(listener, 1);
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len);
  std::thread echo([listener, n] {
    int c = accept(listener, nullptr, nullptr);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::vector<char> buf(n);
    for (;;) {
      size_t got = 0;
      while (got < n) {
        ssize_t r = recv(c, buf.data() + got, n - got, 0);
        if (r <= 0) {
          close(c);
          return;
        }
        got += static_cast<size_t>(r);
      }
      send(c, buf.data(), n, MSG_NOSIGNAL);
    }
  });
  int s = socket(AF_INET, SOCK_STREAM, 0);
  connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::vector<char> buf(n, 'x');
  for (auto _ : state) {
    send(s, buf.data(), n, MSG_NOSIGNAL);
    size_t got = 0;
    while (got < n) {
      ssize_t r = recv(s, buf.data() + got, n - got, 0);
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
  }
  state.SetItemsProcessed(state.iterations());
  close(s);
  echo.join();
  close(listener);
}
BENCHMARK(BM_Baseline_RawTcpPingPong)->Arg(64)->Arg(4096)->UseRealTime();

}  // namespace
}  // namespace comsec::rpc
