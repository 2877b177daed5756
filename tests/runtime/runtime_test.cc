// The runtime (issue 10 item 1): RuntimeOptionsFromStore maps each policy
// value of the store to exactly the options it means, a program's own
// choices win where Windows says they do, and a Runtime built from a store
// serves NTLM over loopback end to end with rpc::Server and rpc::Client.
#include "comsec/runtime/runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/config/accounts.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "../rpc/local_test_support.h"

namespace comsec::runtime {
namespace {

using Kind = LogonValidation::Kind;

const Guid kAppId = *Guid::Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
const rpc::SyntaxId kWho{*Guid::Parse("6d1a0b52-96c4-4e7e-9a55-0d3c1f2e4b71"), 1, 0};
constexpr char kPassword[] = "Runtime#Pass1";

config::ProcessSecurity ProcessAt(uint32_t level) {
  config::ProcessSecurity p;
  p.authn_level = static_cast<security::AuthnLevel>(level);
  return p;
}

class RuntimeStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/store.db";
    store_ = std::move(*config::Store::Open(path_));
  }
  void SetOle(const config::RegValue& v) {
    ASSERT_TRUE(store_->SetValue(config::OleKeyPath(), v).ok());
  }
  void SetLsa(const config::RegValue& v) {
    ASSERT_TRUE(store_->SetValue(*config::KeyPath::Parse(config::kLsaKey), v).ok());
  }
  void SetAppId(const config::RegValue& v) {
    ASSERT_TRUE(store_->SetValue(config::AppIdKeyPath(kAppId), v).ok());
  }
  // An account in the store's secrets file; the domain's name.
  std::string AddAlice() {
    auto secrets = config::OpenSecrets(path_);
    EXPECT_TRUE(secrets.ok()) << secrets.status().ToString();
    config::AccountDatabase db(secrets->get());
    auto domain = db.EnsureDomain("rtdom");
    EXPECT_TRUE(domain.ok());
    EXPECT_TRUE(db.AddUser("alice", auth::ntlm::NtHashOfPassword(kPassword)).ok());
    return domain->name;
  }
  Result<RuntimeOptions> Options(const ProgramSecurity& program) {
    warnings_.clear();
    return RuntimeOptionsFromStore(store_.get(), program,
                                   [this](const std::string& l) { warnings_.push_back(l); });
  }
  ProgramSecurity InProcess() {
    ProgramSecurity p;
    p.validation.kind = Kind::kSecretsFile;
    p.validation.store_path = path_;
    return p;
  }

  rpc::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<config::Store> store_;
  std::vector<std::string> warnings_;
};

// ==== RuntimeOptionsFromStore ===============================================

TEST_F(RuntimeStore, WithoutAStoreEveryValueIsItsBuiltInDefault) {
  auto o = RuntimeOptionsFromStore(nullptr, ProgramSecurity{}, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->authn_level, rpc::kAuthnLevelConnect);  // R8
  EXPECT_EQ(o->authn_level_origin, "built-in (R8)");
  EXPECT_FALSE(o->ntlm.allow_anonymous);
  EXPECT_FALSE(o->ntlm.offer);  // no validator
  EXPECT_TRUE(o->offer_local);
  EXPECT_EQ(o->validation.kind, Kind::kNone);
  EXPECT_FALSE(o->ntlm.logon_policy.allow_ntlmv1);
  EXPECT_EQ(o->ntlm.computer_name, config::NetbiosComputerName());
  EXPECT_EQ(o->server.max_connections, rpc::ServerOptions{}.max_connections);
  EXPECT_FALSE(o->server.allow_unverified_requests);
}

TEST_F(RuntimeStore, AnEmptyStoreMeansConnectAndNoAnonymous) {
  auto o = Options(ProgramSecurity{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->authn_level, rpc::kAuthnLevelConnect);
  EXPECT_EQ(o->authn_level_origin, "built-in (R8)");
  EXPECT_FALSE(o->ntlm.allow_anonymous);
  EXPECT_TRUE(warnings_.empty());
}

// R73, R164: a program that sets no level gets LegacyAuthenticationLevel;
// only NONE lets NTLM null sessions in (they are unauthenticated callers).
TEST_F(RuntimeStore, LegacyAuthenticationLevelEachValue) {
  for (uint32_t level = 1; level <= 6; ++level) {
    SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", level));
    auto o = Options(ProgramSecurity{});
    ASSERT_TRUE(o.ok()) << level << ": " << o.status().ToString();
    EXPECT_EQ(o->authn_level, level);
    EXPECT_NE(o->authn_level_origin.find("LegacyAuthenticationLevel"), std::string::npos)
        << o->authn_level_origin;
    EXPECT_EQ(o->ntlm.allow_anonymous, level == 1) << level;
  }
}

TEST_F(RuntimeStore, AnInvalidLegacyLevelIsIgnoredWithAWarning) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 9));
  auto o = Options(ProgramSecurity{});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, rpc::kAuthnLevelConnect);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("LegacyAuthenticationLevel ignored"), std::string::npos)
      << warnings_[0];
}

// R68: the program's own level (its CoInitializeSecurity) wins over the
// registry.
TEST_F(RuntimeStore, TheProgramsOwnLevelWins) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 6));
  ProgramSecurity p;
  p.process = ProcessAt(1);
  auto o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, 1u);
  EXPECT_EQ(o->authn_level_origin, "CoInitializeSecurity dwAuthnLevel");
  EXPECT_TRUE(o->ntlm.allow_anonymous);
  p.process = ProcessAt(5);
  o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, 5u);
  EXPECT_FALSE(o->ntlm.allow_anonymous);
  // DEFAULT is CONNECT.
  p.process = ProcessAt(0);
  o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, rpc::kAuthnLevelConnect);
  // Without a store too.
  auto none = RuntimeOptionsFromStore(nullptr, ProgramSecurity{ProcessAt(6), {}, {}, true}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->authn_level, 6u);
}

// The AppID's AuthenticationLevel comes before the machine default, and an
// invalid one makes the process fail (R163).
TEST_F(RuntimeStore, TheAppIdsLevelAndR163) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 2));
  SetAppId(config::RegValue::Dword("AuthenticationLevel", 1));
  ProgramSecurity p;
  p.appid = kAppId;
  auto o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, 1u);
  EXPECT_TRUE(o->ntlm.allow_anonymous);
  SetAppId(config::RegValue::String("AuthenticationLevel", "6"));
  o = Options(p);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), HResult(0x80080005u));  // CO_E_SERVER_EXEC_FAILURE
  EXPECT_NE(std::string(o.status().message()).find("R163"), std::string::npos)
      << o.status().ToString();
}

// LmCompatibilityLevel: NTLMv1 only below 5, and said to be weak.
TEST_F(RuntimeStore, LmCompatibilityLevelEachValue) {
  for (uint32_t level = 0; level <= 5; ++level) {
    SetLsa(config::RegValue::Dword("LmCompatibilityLevel", level));
    auto o = Options(InProcess());
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ(o->ntlm.logon_policy.allow_ntlmv1, level < 5) << level;
    const bool warned =
        warnings_.size() == 1 &&
        warnings_[0] == "ntlm: WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel " +
                            std::to_string(level) + "); set it to 5 for NTLMv2 only";
    EXPECT_EQ(warned, level < 5) << level;
    if (level == 5) {
      EXPECT_TRUE(warnings_.empty());
    }
  }
  // Anything else means 5, with a warning (fail closed).
  SetLsa(config::RegValue::Dword("LmCompatibilityLevel", 7));
  auto o = Options(InProcess());
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->ntlm.logon_policy.allow_ntlmv1);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("not a REG_DWORD 0-5; using 5"), std::string::npos)
      << warnings_[0];
}

TEST_F(RuntimeStore, TheLsaLogonPolicyIsCarried) {
  SetLsa(config::RegValue::Dword("LockoutBadCount", 3));
  SetLsa(config::RegValue::Dword("LockoutDuration", 30));
  SetLsa(config::RegValue::Dword("ResetLockoutCount", 15));
  SetLsa(config::RegValue::MultiString("ForeignDomains", {"CORP"}));
  auto o = Options(InProcess());
  ASSERT_TRUE(o.ok());
  const auth::ntlm::LogonPolicy& p = o->ntlm.logon_policy;
  EXPECT_EQ(p.lockout.threshold, 3u);
  EXPECT_EQ(p.lockout.duration, std::chrono::minutes(30));
  EXPECT_EQ(p.lockout.reset_window, std::chrono::minutes(15));
  EXPECT_EQ(p.foreign_domains, std::vector<std::string>{"CORP"});
  EXPECT_EQ(p.own_names, std::vector<std::string>{config::NetbiosComputerName()});
  EXPECT_TRUE(o->ntlm.offer);
  EXPECT_EQ(o->validation.kind, Kind::kSecretsFile);
  EXPECT_EQ(o->validation.store_path, path_);
}

// With comsecd's logon service, comsecd applies the logon policy: this
// process neither reads nor warns about it.
TEST_F(RuntimeStore, WithTheLogonServiceTheLogonPolicyIsComsecds) {
  SetLsa(config::RegValue::Dword("LmCompatibilityLevel", 0));
  SetLsa(config::RegValue::Dword("LockoutBadCount", 3));
  ProgramSecurity p;
  p.validation.kind = Kind::kLogonService;
  p.validation.logon_service = *rpc::StringBinding::Parse("ncalrpc:[epmapper]");
  auto o = Options(p);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_FALSE(o->ntlm.logon_policy.allow_ntlmv1);
  EXPECT_EQ(o->ntlm.logon_policy.lockout.threshold, auth::ntlm::LockoutPolicy{}.threshold);
  EXPECT_TRUE(warnings_.empty());
  EXPECT_TRUE(o->ntlm.offer);
}

TEST_F(RuntimeStore, AProgramThatOffersNoNtlm) {
  ProgramSecurity p = InProcess();
  p.offer_ntlm = false;
  auto o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->ntlm.offer);
  EXPECT_EQ(o->validation.kind, Kind::kSecretsFile);
}

TEST_F(RuntimeStore, ProgramChoicesThatCannotWork) {
  ProgramSecurity p;
  p.validation.kind = Kind::kSecretsFile;
  auto o = Options(p);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), E_INVALIDARG);
  EXPECT_NE(std::string(o.status().message()).find("--store PATH"), std::string::npos);
  p.validation.kind = Kind::kLogonService;
  p.validation.logon_service = *rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[135]");
  o = Options(p);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), E_INVALIDARG);
  EXPECT_NE(std::string(o.status().message()).find("ncalrpc only"), std::string::npos);
}

TEST_F(RuntimeStore, OpenedByPathReadOnly) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 4));
  auto o = RuntimeOptionsFromStorePath(path_, ProgramSecurity{}, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->authn_level, 4u);
  auto missing = RuntimeOptionsFromStorePath(dir_.path() + "/none.db", ProgramSecurity{}, {});
  EXPECT_FALSE(missing.ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/none.db"));  // not created
}

// ==== Runtime ===============================================================

TEST_F(RuntimeStore, PackagesFollowTheOptions) {
  auto plain = Runtime::Create(*RuntimeOptionsFromStore(nullptr, {}, {}), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_NE((*plain)->packages().Find(rpc::RPC_C_AUTHN_KERNEL), nullptr);
  EXPECT_EQ((*plain)->packages().Find(rpc::RPC_C_AUTHN_WINNT), nullptr);
  EXPECT_EQ((*plain)->logon_validator(), nullptr);

  AddAlice();
  auto with_ntlm = Runtime::Create(*Options(InProcess()), {});
  ASSERT_TRUE(with_ntlm.ok()) << with_ntlm.status().ToString();
  EXPECT_NE((*with_ntlm)->packages().Find(rpc::RPC_C_AUTHN_WINNT), nullptr);
  EXPECT_NE((*with_ntlm)->logon_validator(), nullptr);
  EXPECT_EQ((*with_ntlm)->AccountDomain(), "RTDOM");

  ProgramSecurity comsecd = InProcess();
  comsecd.offer_ntlm = false;
  auto validator_only = Runtime::Create(*Options(comsecd), {});
  ASSERT_TRUE(validator_only.ok());
  EXPECT_EQ((*validator_only)->packages().Find(rpc::RPC_C_AUTHN_WINNT), nullptr);
  EXPECT_NE((*validator_only)->logon_validator(), nullptr);

  RuntimeOptions options = *Options(InProcess());
  options.server.max_connections = 7;
  options.server.packages = nullptr;
  std::vector<std::string> lines;
  auto rt = Runtime::Create(options, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_TRUE(rt.ok());
  rpc::ServerOptions s = (*rt)->ServerOptions();
  EXPECT_EQ(s.max_connections, 7u);
  EXPECT_EQ(s.packages, &(*rt)->packages());
  ASSERT_TRUE(s.log);
  s.log("a server's line");
  EXPECT_EQ(lines.back(), "a server's line");
}

// Kerberos is offered only when asked, and a keytab the runtime cannot
// read fails it, naming the keytab (the KDC tests are in
// tests/auth/kerberos_rpc_test.cc).
TEST_F(RuntimeStore, KerberosNeedsAReadableKeytab) {
  EXPECT_EQ((*Runtime::Create(*RuntimeOptionsFromStore(nullptr, {}, {}), {}))
                ->packages()
                .Find(rpc::RPC_C_AUTHN_GSS_KERBEROS),
            nullptr);
  RuntimeOptions options = *RuntimeOptionsFromStore(nullptr, {}, {});
  options.kerberos.offer = true;
  options.kerberos.keytab = dir_.path() + "/none.keytab";
  options.kerberos.spns = {"RPCSS/localhost"};
  auto rt = Runtime::Create(options, {});
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.status().code(), SEC_E_NO_CREDENTIALS) << rt.status().ToString();
  EXPECT_NE(rt.status().message().find(dir_.path() + "/none.keytab has no keys for RPCSS/localhost"),
            std::string::npos)
      << rt.status().ToString();
}

TEST_F(RuntimeStore, AStoreWithoutAccountsIsSaidToBe) {
  std::vector<std::string> lines;
  auto rt = Runtime::Create(*Options(InProcess()), [&](const std::string& l) {
    lines.push_back(l);
  });
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_EQ((*rt)->AccountDomain(), "");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "ntlm: " + path_ +
                          " has no accounts yet; NTLM logons will fail until 'comcfg user "
                          "add NAME' creates one");
}

TEST(RuntimeDescriptors, TheLimitIsRaisedAndLogged) {
  std::vector<std::string> lines;
  RaiseDescriptorLimitFor(rpc::ServerOptions{}, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines[0].starts_with("descriptors: up to ")) << lines[0];
  // Far more connections than any hard limit here: warned.
  rpc::ServerOptions huge;
  huge.max_connections = size_t{1} << 40;
  lines.clear();
  RaiseDescriptorLimitFor(huge, [&](const std::string& l) { lines.push_back(l); });
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[1].find("WARNING"), std::string::npos) << lines[1];
}

// ==== End to end ============================================================
// A server process's Runtime, built from a store with an account, serves
// NTLM calls over loopback; the client side is another process's Runtime
// (its own reflection registry).

class RuntimeLoopback : public RuntimeStore {
 protected:
  // Starts a server over `rt`; the bound TCP binding.
  rpc::StringBinding Serve(Runtime& rt) {
    rpc::InterfaceRegistration who;
    who.syntax = kWho;
    who.min_authn_level = rt.options().authn_level;
    // The caller as the server saw it: its level, then its name.
    who.operations.push_back([](std::span<const uint8_t>, const rpc::CallContext& c)
                                 -> Result<std::vector<uint8_t>> {
      std::vector<uint8_t> out{static_cast<uint8_t>(c.security.authn_level)};
      out.insert(out.end(), c.security.principal.begin(), c.security.principal.end());
      return out;
    });
    registry_.Register(std::move(who));
    rpc::ServerOptions options = rt.ServerOptions();
    options.log = [this](const std::string& l) {
      std::lock_guard<std::mutex> lock(mu_);
      server_log_.push_back(l);
    };
    server_ = std::make_unique<rpc::Server>(&registry_, options);
    return *server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  // Binds with `package` at `level` and asks who we are: "<level>|<name>".
  Result<std::string> WhoAmI(const rpc::StringBinding& to, rpc::SecurityPackage* package,
                             uint8_t level = rpc::kAuthnLevelPktPrivacy) {
    COMSEC_ASSIGN_OR_RETURN(auto client, rpc::Client::Connect(to));
    rpc::ClientAuth auth;
    auth.package = package;
    auth.level = level;
    COMSEC_RETURN_IF_ERROR(client->Bind(kWho, &auth));
    COMSEC_ASSIGN_OR_RETURN(auto reply, client->Call(0, {}));
    if (reply.empty()) return Status(E_FAIL, "empty reply");
    return std::to_string(reply[0]) + "|" + std::string(reply.begin() + 1, reply.end());
  }
  auth::ntlm::ClientCredentials Alice(std::string password = kPassword) {
    auth::ntlm::ClientCredentials c;
    c.user = "alice";
    c.password = std::move(password);
    return c;
  }
  // The server's log once it has a line holding `text` (the close reason
  // is logged as the connection closes, which may trail the client's
  // view of the refusal), or after 5 s.
  std::string ServerLogOnce(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string all = ServerLog();
    while (all.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      all = ServerLog();
    }
    return all;
  }
  std::string ServerLog() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const auto& l : server_log_) all += l + "\n";
    return all;
  }

  rpc::InterfaceRegistry registry_;
  std::unique_ptr<rpc::Server> server_;
  std::mutex mu_;
  std::vector<std::string> server_log_;
};

TEST_F(RuntimeLoopback, ServesAnNtlmCallEndToEnd) {
  const std::string domain = AddAlice();
  ProgramSecurity program = InProcess();
  program.process = ProcessAt(rpc::kAuthnLevelPktIntegrity);
  auto server_rt = Runtime::Create(*Options(program), {});
  ASSERT_TRUE(server_rt.ok()) << server_rt.status().ToString();
  const rpc::StringBinding at = Serve(**server_rt);

  auto client_rt = Runtime::Create(*RuntimeOptionsFromStore(nullptr, {}, {}), {});
  ASSERT_TRUE(client_rt.ok());
  auto alice = (*client_rt)->NtlmClient(Alice());
  auto who = WhoAmI(at, alice.get());
  ASSERT_TRUE(who.ok()) << who.status().ToString() << "\n" << ServerLog();
  EXPECT_EQ(*who, "6|" + domain + "\\alice");
  // The client's runtime recorded the challenge it received.
  EXPECT_EQ((*client_rt)->reflection_registry().size(), 1u);

  // The process's level floor (PKT_INTEGRITY) refuses CONNECT.
  auto low = WhoAmI(at, alice.get(), rpc::kAuthnLevelConnect);
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(low.status().code(), E_ACCESSDENIED);

  // A wrong password: the logon is refused, access denied.
  auto mallory = (*client_rt)->NtlmClient(Alice("guess"));
  auto wrong = WhoAmI(at, mallory.get());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), E_ACCESSDENIED) << wrong.status().ToString();
}

// Anonymous NTLM: served as ANONYMOUS LOGON (credited CONNECT) where the
// process's level is NONE, refused where it is CONNECT.
TEST_F(RuntimeLoopback, AnonymousFollowsTheProcessLevel) {
  AddAlice();
  auto client_rt = Runtime::Create(*RuntimeOptionsFromStore(nullptr, {}, {}), {});
  ASSERT_TRUE(client_rt.ok());
  auto anonymous = (*client_rt)->NtlmClient(auth::ntlm::ClientCredentials{});

  ProgramSecurity open = InProcess();
  open.process = ProcessAt(rpc::kAuthnLevelNone);
  auto open_rt = Runtime::Create(*Options(open), {});
  ASSERT_TRUE(open_rt.ok());
  auto who = WhoAmI(Serve(**open_rt), anonymous.get());
  ASSERT_TRUE(who.ok()) << who.status().ToString() << "\n" << ServerLog();
  EXPECT_EQ(*who, "2|NT AUTHORITY\\ANONYMOUS LOGON");
  server_->Stop();
  server_.reset();
  registry_ = rpc::InterfaceRegistry();

  ProgramSecurity closed = InProcess();
  closed.process = ProcessAt(rpc::kAuthnLevelConnect);
  auto closed_rt = Runtime::Create(*Options(closed), {});
  ASSERT_TRUE(closed_rt.ok());
  auto refused = WhoAmI(Serve(**closed_rt), anonymous.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_ACCESSDENIED);
  const std::string log = ServerLogOnce("anonymous (null session) logons are not allowed");
  EXPECT_NE(log.find("anonymous (null session) logons are not allowed"), std::string::npos)
      << log;
}

// A client and a server of one Runtime share its reflection registry. The
// server does not yet fill ConnectionInfo's endpoints (the lead's server
// rewrite adds them), so it cannot prove that the AUTHENTICATE came on the
// connection its own client received the challenge on, and refuses it as a
// possible reflection: the check fails closed. When the server fills
// local_endpoint/peer_endpoint, this logon is served and this test must
// then expect "6|DOMAIN\alice".
TEST_F(RuntimeLoopback, OneRuntimesOwnClientIsCheckedForReflection) {
  AddAlice();
  auto rt = Runtime::Create(*Options(InProcess()), {});
  ASSERT_TRUE(rt.ok());
  const rpc::StringBinding at = Serve(**rt);
  auto alice = (*rt)->NtlmClient(Alice());
  // The server knows both ends of the connection, and they mirror the
  // client's: a direct loopback logon, not a reflection.
  auto who = WhoAmI(at, alice.get());
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, "6|RTDOM\\alice");
}

}  // namespace
}  // namespace comsec::runtime
