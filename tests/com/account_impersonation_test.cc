// Impersonating a store account mapped to a Unix identity (issue 14): a
// real NTLM logon over TCP (the server validating against the store as the
// runtime does), and a method that opens the call scope the object
// exporter opens, calls CoImpersonateClient and looks at its thread's
// effective uid. bob is mapped to uid 65534 and sees it inside the method,
// the server's own uid after the revert; alice (unmapped) and bob at
// IDENTIFY only identify (WhoAmI's uid -1 in the hello example).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <optional>

#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/com/server_security.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"

namespace comsec::com {
namespace {

const rpc::SyntaxId kMethod{*Guid::Parse("0c7e4a1b-6d2f-4b8e-9a3c-5f1e2d7b8c90"), 1, 0};
constexpr char kPassword[] = "Imp#Pass1";

// What the method saw.
struct Seen {
  HResult impersonate{0};
  uid_t euid_impersonating = 0;
  std::optional<uint32_t> impersonated_uid;
  uid_t euid_after_revert = 0;
  std::string principal;
};

class AccountImpersonation : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-acctimp-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_path_ = dir_ + "/store.db";
    {
      auto policy = config::Store::Open(store_path_);
      ASSERT_TRUE(policy.ok()) << policy.status().ToString();
      auto secrets = config::OpenSecrets(store_path_);
      ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
      config::AccountDatabase db(secrets->get());
      auto domain = db.EnsureDomain("imptest");
      ASSERT_TRUE(domain.ok());
      domain_ = domain->name;
      for (const char* user : {"alice", "bob"}) {
        ASSERT_TRUE(db.AddUser(user, auth::ntlm::NtHashOfPassword(kPassword)).ok());
      }
      ASSERT_TRUE(db.SetUnixMapping("bob", config::UnixMapping{"", 65534, 65534, {}}).ok());
    }
    auto validator = auth::ntlm::StoreLogonValidator::Open(store_path_, nullptr);
    ASSERT_TRUE(validator.ok()) << validator.status().ToString();
    validator_ = std::move(*validator);

    rpc::InterfaceRegistration r;
    r.syntax = kMethod;
    r.min_authn_level = security::AuthnLevel::kConnect;
    r.operations.push_back([this](std::span<const uint8_t>, const rpc::CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      Seen seen;
      {
        // As the object exporter dispatches a method.
        ServerCallScope scope(c.security);
        seen.principal = c.security.principal;
        seen.impersonate = CoImpersonateClient();
        seen.euid_impersonating = ::geteuid();
        seen.impersonated_uid = ImpersonatedUid();
        (void)CoRevertToSelf();
        seen.euid_after_revert = ::geteuid();
      }
      std::lock_guard<std::mutex> lock(mu_);
      seen_ = seen;
      return std::vector<uint8_t>{};
    });
    registry_.Register(std::move(r));
    auth::ntlm::ServerOptions o;
    o.validator = validator_.get();
    package_ = std::make_unique<auth::ntlm::NtlmPackage>(o);
    packages_.Add(package_.get());
    rpc::ServerOptions options;
    options.packages = &packages_;
    server_ = std::make_unique<rpc::Server>(&registry_, options);
    binding_ = *server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  Seen Call(const std::string& user, security::ImpLevel imp) {
    auth::ntlm::ClientCredentials c;
    c.user = user;
    c.domain = domain_;
    c.password = SecretString(kPassword);
    auth::ntlm::NtlmPackage client_pkg(c);
    auto client = rpc::Client::Connect(binding_);
    EXPECT_TRUE(client.ok());
    if (!client.ok()) return {};
    rpc::ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
    a.imp_level = imp;
    Status bound = (*client)->Bind(kMethod, &a);
    EXPECT_TRUE(bound.ok()) << bound.ToString();
    auto r = (*client)->Call(0, std::vector<uint8_t>{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

  std::string dir_, store_path_, domain_;
  std::unique_ptr<auth::ntlm::StoreLogonValidator> validator_;
  rpc::InterfaceRegistry registry_;
  rpc::SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> package_;
  std::unique_ptr<rpc::Server> server_;
  rpc::StringBinding binding_;
  std::mutex mu_;
  Seen seen_;
};

TEST_F(AccountImpersonation, AMappedNtlmCallerIsActedAsAtImpersonate) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "switching a thread to uid 65534 needs CAP_SETUID (run as root, as CI does)";
  }
  const uid_t self = ::geteuid();
  Seen s = Call("bob", security::ImpLevel::kImpersonate);
  EXPECT_EQ(s.principal, domain_ + "\\bob");
  EXPECT_EQ(s.impersonate, HResult(0));
  EXPECT_EQ(s.euid_impersonating, 65534u);
  EXPECT_EQ(s.impersonated_uid, 65534u);
  EXPECT_EQ(s.euid_after_revert, self);
  // The serving thread went back: the next call starts as the server.
  EXPECT_EQ(::geteuid(), self);
  // At DELEGATE too.
  s = Call("bob", security::ImpLevel::kDelegate);
  EXPECT_EQ(s.euid_impersonating, 65534u);
  EXPECT_EQ(s.euid_after_revert, self);
}

TEST_F(AccountImpersonation, UnmappedOrIdentifyCallersOnlyIdentify) {
  const uid_t self = ::geteuid();
  for (auto [user, imp] : {std::pair{"alice", security::ImpLevel::kImpersonate},
                           std::pair{"bob", security::ImpLevel::kIdentify}}) {
    Seen s = Call(user, imp);
    EXPECT_EQ(s.principal, domain_ + "\\" + user);
    EXPECT_EQ(s.impersonate, HResult(0)) << user;  // an identification succeeds
    EXPECT_EQ(s.euid_impersonating, self) << user;
    EXPECT_EQ(s.impersonated_uid, std::nullopt) << user;
    EXPECT_EQ(s.euid_after_revert, self) << user;
  }
}

}  // namespace
}  // namespace comsec::com
