// Store accounts as comcfg principals (issue 14): DOMAIN\name, .\name and
// bare names in perms, access-check and explain; `comcfg user set`'s Unix
// mapping; and the proof that `comcfg explain` builds the very token a
// live NTLM logon gets on a server — with the server validating in-process
// (StoreLogonValidator, as the runtime does when it may read the secrets)
// and through comsecd's logon service (RemoteLogonValidator).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/caller.h"
#include "comcfg/command.h"
#include "comcfg/describe.h"
#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/store_logon_validator.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::comcfg {
namespace {

constexpr char kAppId[] = "{7D2A5E12-3C4B-4F6A-9B8C-1D2E3F405162}";
constexpr char kPassword[] = "Acct#Prin1";
const rpc::SyntaxId kEcho{*Guid::Parse("5d1c0a9e-2b3f-4e6d-8a7c-9b0e1f2a3b4c"), 1, 0};

struct Out {
  int code;
  std::string out;
  std::string err;
  nlohmann::json Json() const { return nlohmann::json::parse(out); }
};

class ComcfgAccounts : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/comcfg-accounts-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = dir_ + "/store.db";
    ASSERT_EQ(Run({"init"}).code, 0);
    for (const char* user : {"alice", "bob", "carol"}) {
      Out r = Run({"user", "add", user, "--password-stdin"}, std::string(kPassword) + "\n");
      ASSERT_EQ(r.code, 0) << r.err;
    }
    ASSERT_EQ(Run({"group", "add", "Operators"}).code, 0);
    ASSERT_EQ(Run({"group", "members", "Operators", "--add", "alice"}).code, 0);
    Out set = Run({"user", "set", "bob", "--uid", "65534", "--gid", "65534", "--groups", "100"});
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_EQ(set.out, "bob: uid 65534 gid 65534 groups 100\n");
    ASSERT_EQ(Run({"app", "create", "--appid", kAppId, "--name", "Hello"}).code, 0);
    Out list = Run({"user", "list", "--json"});
    ASSERT_EQ(list.code, 0);
    domain_ = list.Json()[0]["domain"];
    ASSERT_FALSE(domain_.empty());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Out Run(std::vector<std::string> args, std::string input = "") {
    std::vector<std::string> all = {"comcfg", "--store", store_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& a : all) argv.push_back(a.c_str());
    std::ostringstream out, err;
    std::istringstream in(input);
    Io io{out, err};
    io.in = &in;
    int code = RunComcfg(static_cast<int>(argv.size()), argv.data(), io);
    return {code, out.str(), err.str()};
  }

  Out Explain(const std::string& user, std::vector<std::string> extra = {"--json"}) {
    std::vector<std::string> args = {"explain", "access", "--appid", kAppId, "--user", user,
                                     "--remote", "--authn-level", "6"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  const std::string& store_path() const { return store_; }

 protected:
  std::string dir_;
  std::string store_;
  std::string domain_;
};

// ==== Principals ===========================================================

TEST_F(ComcfgAccounts, EveryWayOfNamingAStoreAccountIsItsSid) {
  Out list = Run({"user", "list", "--json"});
  std::string alice_sid;
  for (const auto& u : list.Json()) {
    if (u["name"] == "alice") alice_sid = u["sid"];
  }
  ASSERT_FALSE(alice_sid.empty());
  std::string lower_domain = domain_;
  for (char& c : lower_domain) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& name :
       {domain_ + "\\alice", lower_domain + "\\ALICE", std::string(".\\alice"),
        std::string("alice"), std::string("Alice")}) {
    Out r = Run({"access-check", "--sd", "D:(A;;CCDCLC;;;" + alice_sid + ")", "--user", name,
                 "--remote", "--rights", "execute,execute_remote", "--json"});
    ASSERT_EQ(r.code, 0) << name << ": " << r.err;
    EXPECT_EQ(r.Json()["token"]["user"]["sid"], alice_sid) << name;
  }
}

TEST_F(ComcfgAccounts, PermsGrantToAStoreGroupAndAccount) {
  Out r = Run({"perms", "grant", "access", "--appid", kAppId, "--principal",
               domain_ + "\\Operators", "--rights", "execute_local,execute_remote"});
  ASSERT_EQ(r.code, 0) << r.err;
  // alice is an Operator: allowed; carol is not: denied, and the remedy
  // names her as DOMAIN\carol, quoted for a shell.
  EXPECT_EQ(Explain(domain_ + "\\alice").code, 0);
  Out carol = Explain("carol");
  EXPECT_EQ(carol.code, 1);
  const std::string remedy = carol.Json()["remedy"];
  EXPECT_NE(remedy.find("--principal '" + domain_ + "\\carol'"), std::string::npos) << remedy;
  // The remedy applied (its principal as the shell passes it) grants her.
  r = Run({"perms", "grant", "access", "--appid", kAppId, "--principal", domain_ + "\\carol",
           "--rights", "execute,execute_remote"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Explain("carol").code, 0);
  // A bare group name works where a group is wanted.
  r = Run({"perms", "revoke", "access", "--appid", kAppId, "--principal", "operators"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Explain(domain_ + "\\alice").code, 1);
  // --group takes a local group too, added to the account's groups.
  r = Run({"access-check", "--sd", "D:(A;;CCDCLC;;;WD)", "--user", "carol", "--group",
           domain_ + "\\Operators", "--remote", "--rights", "execute", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
}

TEST_F(ComcfgAccounts, NamesThatAreNotStoreAccountsAreRefusedSayingWhy) {
  // Another domain.
  Out r = Explain("OTHERDOM\\alice");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not the store's machine domain (" + domain_ + ")"), std::string::npos)
      << r.err;
  // A group cannot log on.
  r = Explain(domain_ + "\\Operators");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot log on"), std::string::npos) << r.err;
  // A user is not a group.
  r = Run({"access-check", "--sd", "D:(A;;CCDCLC;;;WD)", "--user", "carol", "--group", "alice",
           "--remote", "--rights", "execute"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no store local group named 'alice'"), std::string::npos) << r.err;
  // A bare name that is a Unix user but no store account: write unix:NAME.
  r = Explain("nobody");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("write unix:nobody"), std::string::npos) << r.err;
  EXPECT_EQ(Explain("unix:nobody").code, 1);  // denied, but a caller
  // An SDDL alias stays the alias.
  r = Run({"access-check", "--sd", "D:(A;;CCDCLC;;;BA)", "--user", "BA", "--remote", "--rights",
           "execute", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.Json()["token"]["user"]["sid"], "S-1-5-32-544");
}

TEST_F(ComcfgAccounts, ADisabledAccountIsRefusedBeforeAnyCheck) {
  {
    auto secrets = config::OpenSecrets(store_);
    ASSERT_TRUE(secrets.ok());
    config::AccountDatabase db(secrets->get());
    ASSERT_TRUE(db.SetDisabled("carol", true).ok());
  }
  Out r = Explain("carol", {});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("refuses the logon of " + domain_ + "\\carol before any access check: "
                       "the account is disabled"),
            std::string::npos)
      << r.out;
}

TEST_F(ComcfgAccounts, UserSetMapsAndUnmaps) {
  Out r = Run({"user", "set", "carol", "--unix-user", "nobody"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "carol: unix-user nobody\n");
  auto list = Run({"user", "list", "--json"}).Json();
  for (const auto& u : list) {
    if (u["name"] == "carol") {
      EXPECT_EQ(u["unix"]["user"], "nobody");
    }
    if (u["name"] == "bob") {
      EXPECT_EQ(u["unix"]["uid"], 65534);
      EXPECT_EQ(u["unix"]["groups"], nlohmann::json::array({100}));
    }
    if (u["name"] == "alice") {
      EXPECT_FALSE(u.contains("unix"));
    }
  }
  // Explain shows the identity the logon acts as.
  Out x = Explain("carol");
  const uint32_t nobody = security::LookupUnixUserByName("nobody")->uid;
  EXPECT_EQ(x.Json()["caller"]["unix_identity"]["uid"], nobody);
  r = Run({"user", "set", "carol", "--no-unix"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(Explain("carol").Json()["caller"].contains("unix_identity"));
  // Refusals: root, nothing to set, both forms, an unknown group.
  EXPECT_EQ(Run({"user", "set", "carol", "--unix-user", "root"}).code, 2);
  EXPECT_EQ(Run({"user", "set", "carol", "--uid", "0", "--gid", "5"}).code, 2);
  EXPECT_EQ(Run({"user", "set", "carol"}).code, 2);
  EXPECT_NE(Run({"user", "set", "carol", "--unix-user", "nobody", "--uid", "5"}).code, 0);
  EXPECT_NE(Run({"user", "set", "carol", "--uid", "5"}).code, 0);  // no --gid
  EXPECT_EQ(Run({"user", "set", "carol", "--uid", "5", "--gid", "5", "--groups",
                 "no-such-group-here"})
                .code,
            2);
  EXPECT_EQ(Run({"user", "set", "dora", "--uid", "5", "--gid", "5"}).code, 1);  // no such user
}

// ==== A live NTLM logon and comcfg explain =================================

// An rpc::Server with NTLM whose one method records the caller's token;
// the NTLM server validates with `validator`.
class NtlmServer {
 public:
  explicit NtlmServer(auth::ntlm::LogonValidator* validator) {
    rpc::InterfaceRegistration r;
    r.syntax = kEcho;
    r.min_authn_level = security::AuthnLevel::kConnect;
    r.operations.push_back([this](std::span<const uint8_t> stub, const rpc::CallContext& c)
                               -> Result<std::vector<uint8_t>> {
      std::lock_guard<std::mutex> lock(mu_);
      token_ = c.security.token;
      principal_ = c.security.principal;
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    registry_.Register(std::move(r));
    auth::ntlm::ServerOptions o;
    o.validator = validator;
    package_ = std::make_unique<auth::ntlm::NtlmPackage>(o);
    packages_.Add(package_.get());
    rpc::ServerOptions options;
    options.packages = &packages_;
    server_ = std::make_unique<rpc::Server>(&registry_, options);
    binding_ = *server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  ~NtlmServer() { server_->Stop(); }

  // Logs on as DOMAIN\user at PKT_PRIVACY and calls; the server's token.
  std::shared_ptr<const security::Token> LogOn(const std::string& domain, const std::string& user) {
    auth::ntlm::ClientCredentials c;
    c.user = user;
    c.domain = domain;
    c.password = SecretString(kPassword);
    auth::ntlm::NtlmPackage client_pkg(c);
    auto client = rpc::Client::Connect(binding_);
    EXPECT_TRUE(client.ok());
    if (!client.ok()) return nullptr;
    rpc::ClientAuth a{&client_pkg, security::AuthnLevel::kPktPrivacy};
    Status bound = (*client)->Bind(kEcho, &a);
    EXPECT_TRUE(bound.ok()) << bound.ToString();
    auto r = (*client)->Call(0, std::vector<uint8_t>{1, 2, 3});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::lock_guard<std::mutex> lock(mu_);
    return token_;
  }
  std::string principal() {
    std::lock_guard<std::mutex> lock(mu_);
    return principal_;
  }

 private:
  rpc::InterfaceRegistry registry_;
  rpc::SecurityPackageRegistry packages_;
  std::unique_ptr<auth::ntlm::NtlmPackage> package_;
  std::unique_ptr<rpc::Server> server_;
  rpc::StringBinding binding_;
  std::mutex mu_;
  std::shared_ptr<const security::Token> token_;
  std::string principal_;
};

// Everything about two tokens an access check or an impersonation can see.
void ExpectSameToken(const security::Token& live, const security::Token& offline,
                     const std::string& who) {
  EXPECT_EQ(live.Describe(), offline.Describe()) << who;
  EXPECT_EQ(live.user(), offline.user()) << who;
  EXPECT_EQ(live.logon(), offline.logon()) << who;
  ASSERT_EQ(live.groups().size(), offline.groups().size()) << who;
  for (size_t i = 0; i < live.groups().size(); ++i) {
    EXPECT_EQ(live.groups()[i].sid, offline.groups()[i].sid) << who << " group " << i;
    EXPECT_EQ(live.groups()[i].attributes, offline.groups()[i].attributes) << who << " " << i;
  }
  ASSERT_EQ(live.unix_identity() == nullptr, offline.unix_identity() == nullptr) << who;
  if (live.unix_identity()) {
    EXPECT_EQ(*live.unix_identity(), *offline.unix_identity()) << who;
  }
}

void ExpectExplainMatchesLiveLogons(ComcfgAccounts& t, auth::ntlm::LogonValidator* validator,
                                    const std::string& domain) {
  NtlmServer server(validator);
  for (const std::string user : {"alice", "bob", "carol"}) {
    auto live = server.LogOn(domain, user);
    ASSERT_NE(live, nullptr) << user;
    EXPECT_EQ(server.principal(), domain + "\\" + user);
    // The form the denial events print as their reproduction command.
    const std::string name = domain + "\\" + user;
    Out x = t.Explain(name);
    ASSERT_NE(x.code, 2) << x.err;
    EXPECT_EQ(x.Json()["caller"], TokenJson(*live)) << user;
    EXPECT_EQ(x.Json()["token"], live->Describe()) << user;
    // And the token itself, as access-check and explain build it.
    CallerArgs args;
    args.user = name;
    args.remote = true;
    StoreAccounts accounts(t.store_path());
    auto caller = BuildCaller(args, &accounts);
    ASSERT_TRUE(caller.ok()) << caller.status().ToString();
    ExpectSameToken(*live, caller->token, user);
    EXPECT_TRUE(live->IsMember(security::well_known::Everyone()));
    EXPECT_TRUE(live->IsMember(security::well_known::AuthenticatedUsers()));
    EXPECT_TRUE(live->IsMember(security::well_known::Network()));
    EXPECT_EQ(live->unix_identity() != nullptr, user == "bob") << user;
  }
}

TEST_F(ComcfgAccounts, ExplainBuildsTheTokenALiveNtlmLogonGets) {
  auto validator = auth::ntlm::StoreLogonValidator::Open(store_, nullptr);
  ASSERT_TRUE(validator.ok()) << validator.status().ToString();
  ExpectExplainMatchesLiveLogons(*this, validator->get(), domain_);
  // The denial's reproduction command, as the lead's events print it,
  // in text: carol is denied and alice (an Operator) is allowed once the
  // group is granted.
  Out text = Explain(domain_ + "\\carol", {});
  EXPECT_EQ(text.code, 1) << text.err;
  EXPECT_NE(text.out.find("denied\n"), std::string::npos);
}

TEST_F(ComcfgAccounts, ExplainBuildsTheTokenALogonThroughComsecdGets) {
  auto store_validator = auth::ntlm::StoreLogonValidator::Open(store_, nullptr);
  ASSERT_TRUE(store_validator.ok()) << store_validator.status().ToString();
  // comsecd's logon service on ncalrpc (it trusts its own uid).
  rpc::InterfaceRegistry registry;
  auth::ntlm::LogonServiceOptions o;
  o.validator = store_validator->get();
  registry.Register(auth::ntlm::LogonServiceInterface(o));
  rpc::Server comsecd(&registry, rpc::ServerOptions{});
  auto binding = comsecd.Listen(*rpc::StringBinding::Parse("ncalrpc:" + dir_ + "/logon.sock"));
  ASSERT_TRUE(binding.ok()) << binding.status().ToString();
  auth::ntlm::RemoteLogonValidator remote(*binding);
  ExpectExplainMatchesLiveLogons(*this, &remote, domain_);
  comsecd.Stop();
}

}  // namespace
}  // namespace comsec::comcfg
