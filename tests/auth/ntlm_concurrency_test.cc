// Issue 9 item 1: NTLM logons from many clients at once, validated against
// the store's account database (one SQLite connection behind a lock) and
// through comsecd's logon service. Zero failures; `make test-tsan` runs
// this under ThreadSanitizer.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/store_accounts.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec {
namespace {

using security::AuthnLevel;

using auth::ntlm::ClientCredentials;
using auth::ntlm::NtlmPackage;
using rpc::CallContext;

const rpc::SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
constexpr int kClients = 64;
constexpr int kLogonsPerClient = 20;
// A few clients guess another account's password meanwhile, so the lockout
// table is written while good logons read it.
constexpr int kGuessers = 4;

class ConcurrentLogons : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("comsec-concurrency-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    store_path_ = (dir_ / "store.db").string();
    {
      auto secrets = std::move(*config::OpenSecrets(store_path_));
      config::AccountDatabase db(secrets.get());
      ASSERT_TRUE(db.EnsureDomain("concurrency").ok());
      ASSERT_TRUE(db.AddUser("alice", auth::ntlm::NtHash(u"Alice#1")).ok());
      ASSERT_TRUE(db.AddUser("mallory", auth::ntlm::NtHash(u"Mallory#1")).ok());
      ASSERT_TRUE(db.AddGroup("operators").ok());
      ASSERT_TRUE(db.AddMember("operators", "alice").ok());
    }
    accounts_ = std::make_unique<auth::ntlm::StoreAccountSource>(
        std::move(*config::OpenSecrets(store_path_)));
    local_validator_ =
        std::make_unique<auth::ntlm::LocalLogonValidator>(accounts_.get(), auth::ntlm::LogonPolicy{});

    rpc::InterfaceRegistration echo;
    echo.syntax = kEcho;
    echo.min_authn_level = AuthnLevel::kPktPrivacy;
    echo.operations = {[](std::span<const uint8_t> stub, const CallContext& c)
                           -> Result<std::vector<uint8_t>> {
      if (c.security.principal != "CONCURRENCY\\alice") {
        return Status(E_ACCESSDENIED, "unexpected principal " + c.security.principal);
      }
      return std::vector<uint8_t>(stub.begin(), stub.end());
    }};
    registry_.Register(std::move(echo));
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (comsecd_) comsecd_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // The echo server, validating with `validator`.
  void StartServer(auth::ntlm::LogonValidator* validator) {
    auth::ntlm::ServerOptions o;
    o.validator = validator;
    ntlm_ = std::make_unique<NtlmPackage>(o);
    packages_.Add(ntlm_.get());
    rpc::ServerOptions options;
    options.packages = &packages_;
    // Every client is 127.0.0.1, and a closed connection's slot is released
    // only when its server thread ends, which on a loaded 2-core machine can
    // trail the client's next connect by many connections: the admission
    // limits (tested in connection_admission_test) are not what this tests.
    options.max_connections = 16 * kClients;
    options.max_connections_per_address = 16 * kClients;
    server_ = std::make_unique<rpc::Server>(&registry_, options);
    binding_ = *server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }

  // comsecd's logon service over ncalrpc, validating from the store.
  rpc::StringBinding StartLogonService() {
    auth::ntlm::LogonServiceOptions o;
    o.validator = local_validator_.get();
    comsecd_registry_.Register(auth::ntlm::LogonServiceInterface(o));
    comsecd_ = std::make_unique<rpc::Server>(&comsecd_registry_, rpc::ServerOptions{});
    return *comsecd_->Listen(
        *rpc::StringBinding::Parse("ncalrpc:" + (dir_ / "comsecd.sock").string()));
  }

  // Every client logs on `logons` times, each time on a new connection,
  // and makes a PKT_PRIVACY call; returns the failures of good logons.
  int Hammer(int clients, int logons) {
    std::atomic<int> failures{0};
    std::atomic<int> guesses_accepted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        const bool guesser = t < kGuessers;
        ClientCredentials c;
        c.user = guesser ? "mallory" : "alice";
        c.password = guesser ? "guess" + std::to_string(t) : "Alice#1";
        NtlmPackage package(c);
        for (int i = 0; i < logons; ++i) {
          auto client = rpc::Client::Connect(binding_);
          if (!client.ok()) {
            if (failures++ == 0) ADD_FAILURE() << "connect: " << client.status().ToString();
            continue;
          }
          rpc::ClientAuth auth{&package, AuthnLevel::kPktPrivacy};
          Status bound = (*client)->Bind(kEcho, &auth);
          // A multiple of 4: the verification trailer that header signing appends
          // is aligned after the stub, and its padding stays with the stub.
          std::vector<uint8_t> stub(64 + 4 * t, static_cast<uint8_t>(i));
          auto reply = bound.ok() ? (*client)->Call(0, stub) : Result<std::vector<uint8_t>>(bound);
          if (guesser) {
            if (reply.ok()) ++guesses_accepted;
          } else if (!reply.ok() || *reply != stub) {
            if (failures++ == 0) {
              ADD_FAILURE() << "first failure: "
                            << (reply.ok() ? "wrong echo: sent " + std::to_string(stub.size()) + " got " + std::to_string(reply->size()) : reply.status().ToString());
            }
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(guesses_accepted.load(), 0);
    return failures.load();
  }

  std::filesystem::path dir_;
  std::string store_path_;
  std::unique_ptr<auth::ntlm::StoreAccountSource> accounts_;
  std::unique_ptr<auth::ntlm::LocalLogonValidator> local_validator_;
  rpc::InterfaceRegistry registry_, comsecd_registry_;
  rpc::SecurityPackageRegistry packages_;
  std::unique_ptr<NtlmPackage> ntlm_;
  std::unique_ptr<rpc::Server> server_, comsecd_;
  rpc::StringBinding binding_;
};

TEST_F(ConcurrentLogons, SixtyFourClientsTimesTwentyAgainstTheStore) {
  StartServer(local_validator_.get());
  EXPECT_EQ(Hammer(kClients, kLogonsPerClient), 0);
}

TEST_F(ConcurrentLogons, ThroughComsecdsLogonService) {
  auth::ntlm::RemoteLogonValidator remote(StartLogonService());
  StartServer(&remote);
  EXPECT_EQ(Hammer(kClients / 2, kLogonsPerClient / 2), 0);
}

}  // namespace
}  // namespace comsec
