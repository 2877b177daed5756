// The local package end to end on a real Unix socket: our client and
// server at every level, the caller named by the kernel, large protected
// calls fragmented; and the package refused over TCP.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "../rpc/package_test_support.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

class LocalLoopback : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration r;
    r.syntax = kEcho;
    r.min_authn_level = AuthnLevel::kConnect;
    r.operations.push_back([this](std::span<const uint8_t> stub, const CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      level_seen_ = c.security.authn_level;
      principal_ = c.security.principal;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    packages_.Add(&package_);
    ServerOptions options;
    options.packages = &packages_;
    server_ = std::make_unique<Server>(&registry_, options);
    // A private directory: ncalrpc refuses one others may write, as /tmp.
    std::string dir = "/tmp/comsec-local-XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    path_ = dir + "/local.sock";
    local_ = *server_->Listen(*StringBinding::Parse("ncalrpc:" + path_));
    tcp_ = *server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    server_->Stop();
    std::filesystem::remove_all(std::filesystem::path(path_).parent_path());
  }

  auth::LocalPackage package_;
  SecurityPackageRegistry packages_;
  InterfaceRegistry registry_;
  std::unique_ptr<Server> server_;
  std::string path_;
  StringBinding local_, tcp_;
  AuthnLevel level_seen_ = AuthnLevel::kNone;
  std::string principal_;
};

TEST_F(LocalLoopback, EveryLevel) {
  for (AuthnLevel level : testing::kEveryAuthenticatedLevel) {
    auto client = Client::Connect(local_);
    ASSERT_TRUE(client.ok());
    ClientAuth a{&package_, level};
    ASSERT_TRUE((*client)->Bind(kEcho, &a).ok()) << int(level);
    std::vector<uint8_t> big(20000, static_cast<uint8_t>(level));
    auto r = (*client)->Call(0, big);
    ASSERT_TRUE(r.ok()) << int(level) << ": " << r.status().ToString();
    EXPECT_EQ(*r, big);
    EXPECT_EQ(level_seen_, level);
    EXPECT_EQ(principal_.rfind("unix:", 0), 0u) << principal_;
  }
}

TEST_F(LocalLoopback, RefusedOverTcp) {
  auto client = Client::Connect(tcp_);
  ASSERT_TRUE(client.ok());
  ClientAuth a{&package_, AuthnLevel::kPktPrivacy};
  // The client refuses too: the package knows it is not on ncalrpc.
  EXPECT_FALSE((*client)->Bind(kEcho, &a).ok());
}

}  // namespace
}  // namespace comsec::rpc
