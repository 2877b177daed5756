// Many idle connections held by one server (issue 10's scale figure): a
// client process opens N connections to an in-process rpc::Server, each
// authenticated with NTLM at PKT_PRIVACY and proven by one call; the
// server's resident memory is read before and after, and the growth per
// connection reported (goal: at most 16 KiB). Then one call on every held
// connection measures that they are still served.
//
// The clients live in a child process (this binary run with
// --idle-clients): a process's descriptor limit here is 20000, and the two
// ends of 10 000 connections need twice that. The child reports on a pipe.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/check.h"
#include "comsec/base/descriptor_limit.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

extern char** environ;

namespace comsec::rpc {
namespace {

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
std::string self_path;

class BenchAccounts : public auth::ntlm::AccountSource {
 public:
  std::string DomainName() const override { return "BENCH"; }
  Result<std::optional<auth::ntlm::AccountRecord>> Lookup(std::string_view user) override {
    if (user != "bench") return std::optional<auth::ntlm::AccountRecord>();
    auth::ntlm::AccountRecord a;
    a.name = "bench";
    a.nt_hash = auth::ntlm::NtHash(u"bench-password");
    a.user_sid = security::Sid(5, {21, 1, 2, 3, 1000});
    return std::optional<auth::ntlm::AccountRecord>(a);
  }
};

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

// ==== The client process ====================================================

int RunClients(const std::string& binding_text, int count) {
  (void)RaiseDescriptorLimit();
  auto binding = StringBinding::Parse(binding_text);
  COMSEC_CHECK(binding.ok(), "bad binding");
  auth::ntlm::ClientCredentials c;
  c.user = "bench";
  c.password = "bench-password";
  auth::ntlm::NtlmPackage ntlm(c);
  ClientAuth auth{&ntlm, security::AuthnLevel::kPktPrivacy};
  std::vector<std::unique_ptr<Client>> clients;
  clients.reserve(count);
  const std::vector<uint8_t> stub(64, 0x5a);
  for (int i = 0; i < count; ++i) {
    ClientOptions o;
    o.multiplex = false;
    auto client = Client::Connect(*binding, o);
    if (!client.ok() || !(*client)->Bind(kEcho, &auth).ok() || !(*client)->Call(0, stub).ok()) {
      std::printf("failed %d\n", i);
      std::fflush(stdout);
      return 1;
    }
    clients.push_back(std::move(*client));
  }
  std::printf("ready %d\n", count);
  std::fflush(stdout);
  // Wait for the server's memory reading, then call on every connection.
  char line[64];
  if (!std::fgets(line, sizeof line, stdin)) return 1;
  const auto start = std::chrono::steady_clock::now();
  int served = 0;
  for (auto& client : clients) served += (*client).Call(0, stub).ok();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("served %d %.6f\n", served, seconds);
  std::fflush(stdout);
  return 0;
}

// ==== The server and the benchmark ==========================================

void BM_IdleConnections_Tcp_PktPrivacy(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  auto limit = RaiseDescriptorLimit();
  if (!limit.ok() || *limit < static_cast<uint64_t>(count) + 64) {
    state.SkipWithError("the descriptor limit is below the connection count");
    return;
  }
  BenchAccounts accounts;
  auth::ntlm::LocalLogonValidator validator(&accounts, {});
  auth::ntlm::ServerOptions so;
  so.validator = &validator;
  auth::ntlm::NtlmPackage ntlm(so);
  SecurityPackageRegistry packages;
  packages.Add(&ntlm);
  InterfaceRegistry registry;
  InterfaceRegistration r;
  r.syntax = kEcho;
  r.operations.push_back([](std::span<const uint8_t> stub,
                            const CallContext&) -> Result<std::vector<uint8_t>> {
    return std::vector<uint8_t>(stub.begin(), stub.end());
  });
  registry.Register(std::move(r));
  ServerOptions o;
  o.packages = &packages;
  o.max_connections = count + 16;
  o.max_connections_per_address = count + 16;
  Server server(&registry, o);
  auto bound = server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  COMSEC_CHECK(bound.ok(), "listen failed");

  for (auto _ : state) {
    const size_t before = ResidentBytes();
    int to_child[2], from_child[2];
    COMSEC_CHECK(::pipe(to_child) == 0 && ::pipe(from_child) == 0, "pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    const std::string binding = bound->ToString();
    const std::string n = std::to_string(count);
    char* argv[] = {const_cast<char*>(self_path.c_str()), const_cast<char*>("--idle-clients"),
                    const_cast<char*>(binding.c_str()), const_cast<char*>(n.c_str()), nullptr};
    pid_t pid;
    COMSEC_CHECK(posix_spawn(&pid, self_path.c_str(), &actions, nullptr, argv, environ) == 0,
                 "spawn");
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    FILE* from = ::fdopen(from_child[0], "r");
    char line[128] = {};
    const bool ready = std::fgets(line, sizeof line, from) && std::strncmp(line, "ready", 5) == 0;
    const size_t after = ResidentBytes();
    const size_t held = server.active_connections();
    COMSEC_CHECK(::write(to_child[1], "go\n", 3) == 3, "write");
    int served = 0;
    double seconds = 0;
    if (ready && std::fgets(line, sizeof line, from)) {
      std::sscanf(line, "served %d %lf", &served, &seconds);
    }
    ::close(to_child[1]);
    std::fclose(from);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!ready) {
      state.SkipWithError(("the clients failed: " + std::string(line)).c_str());
      return;
    }
    state.counters["connections"] = static_cast<double>(held);
    state.counters["bytes_per_connection"] =
        static_cast<double>(after > before ? after - before : 0) / count;
    state.counters["calls_served"] = served;
    state.counters["calls_per_second"] = seconds > 0 ? served / seconds : 0;
  }
  server.Stop();
}

BENCHMARK(BM_IdleConnections_Tcp_PktPrivacy)
    ->Arg(10000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace comsec::rpc

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--idle-clients") == 0) {
    return comsec::rpc::RunClients(argv[2], std::atoi(argv[3]));
  }
  char path[4096] = {};
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  comsec::rpc::self_path = n > 0 ? std::string(path, n) : argv[0];
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
