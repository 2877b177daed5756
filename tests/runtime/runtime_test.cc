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
#include "comsec/config/kerberos_config.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/secrets.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/server.h"
#include "../base/captured_log.h"
#include "../rpc/local_test_support.h"

namespace comsec::runtime {
namespace {

using security::AuthnLevel;

using Kind = LogonValidation::Kind;

const Guid kAppId = *Guid::Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
const rpc::SyntaxId kWho{*Guid::Parse("6d1a0b52-96c4-4e7e-9a55-0d3c1f2e4b71"), 1, 0};
constexpr char kPassword[] = "Runtime#Pass1";

config::ProcessSecurity ProcessAt(AuthnLevel level) {
  config::ProcessSecurity p;
  p.authn_level = level;
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
    log_.Clear();
    return RuntimeOptionsFromStore(store_.get(), program, log_.logger());
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
  CapturedLog log_;
};

// ==== RuntimeOptionsFromStore ===============================================

TEST_F(RuntimeStore, WithoutAStoreEveryValueIsItsBuiltInDefault) {
  auto o = RuntimeOptionsFromStore(nullptr, ProgramSecurity{}, {});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->authn_level, AuthnLevel::kConnect);  // R8
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

// The store's Kerberos key (config/kerberos_config.h) offers Kerberos
// with its keytab and SPNs, and names the store whose principal map the
// server consults; without a keytab nothing is offered.
TEST_F(RuntimeStore, KerberosSettingsComeFromTheStore) {
  auto none = Options(ProgramSecurity{});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->kerberos.offer);
  EXPECT_EQ(none->kerberos.principal_map_store, path_);
  ASSERT_TRUE(config::SetKerberosService(*store_, std::string("/etc/comsec/rpc.keytab"),
                                         std::vector<std::string>{"RPCSS/h1", "host/h1"})
                  .ok());
  auto o = Options(ProgramSecurity{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->kerberos.offer);
  EXPECT_EQ(o->kerberos.keytab, "/etc/comsec/rpc.keytab");
  EXPECT_EQ(o->kerberos.spns, (std::vector<std::string>{"RPCSS/h1", "host/h1"}));
  EXPECT_FALSE(RuntimeOptionsFromStore(nullptr, ProgramSecurity{}, {})->kerberos.offer);
  // Constrained delegation (S4U2Proxy evidence) only when the store says so.
  EXPECT_FALSE(o->kerberos.constrained_delegation);
  const auto key = *config::KeyPath::Parse(config::kKerberosKey);
  ASSERT_TRUE(store_->SetValue(key, config::RegValue::Dword("ConstrainedDelegation", 1)).ok());
  EXPECT_TRUE(Options(ProgramSecurity{})->kerberos.constrained_delegation);
  // A value of the wrong type is refused, naming it.
  ASSERT_TRUE(
      store_->SetValue(key, config::RegValue::String("ConstrainedDelegation", "yes")).ok());
  auto bad = Options(ProgramSecurity{});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), E_INVALIDARG) << bad.status().ToString();
}

TEST_F(RuntimeStore, AnEmptyStoreMeansConnectAndNoAnonymous) {
  auto o = Options(ProgramSecurity{});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->authn_level, AuthnLevel::kConnect);
  EXPECT_EQ(o->authn_level_origin, "built-in (R8)");
  EXPECT_FALSE(o->ntlm.allow_anonymous);
  EXPECT_TRUE(log_.events().empty());
}

// R73, R164: a program that sets no level gets LegacyAuthenticationLevel;
// only NONE lets NTLM null sessions in (they are unauthenticated callers).
TEST_F(RuntimeStore, LegacyAuthenticationLevelEachValue) {
  for (uint32_t level = 1; level <= 6; ++level) {
    SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", level));
    auto o = Options(ProgramSecurity{});
    ASSERT_TRUE(o.ok()) << level << ": " << o.status().ToString();
    EXPECT_EQ(security::ToNumber(o->authn_level), level);
    EXPECT_NE(o->authn_level_origin.find("LegacyAuthenticationLevel"), std::string::npos)
        << o->authn_level_origin;
    EXPECT_EQ(o->ntlm.allow_anonymous, level == 1) << level;
  }
}

TEST_F(RuntimeStore, AnInvalidLegacyLevelIsIgnoredWithAWarning) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 9));
  auto o = Options(ProgramSecurity{});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, AuthnLevel::kConnect);
  const auto events = log_.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].name, "config.warning");
  EXPECT_EQ(events[0].severity, LogSeverity::kWarning);
  EXPECT_TRUE(events[0].message.starts_with(config::OleKeyPath().ToString() +
                                            "\\LegacyAuthenticationLevel ignored: "))
      << events[0].message;
  EXPECT_EQ(events[0], LogEvent("config.warning", LogSeverity::kWarning, events[0].message));
}

// R68: the program's own level (its CoInitializeSecurity) wins over the
// registry.
TEST_F(RuntimeStore, TheProgramsOwnLevelWins) {
  SetOle(config::RegValue::Dword("LegacyAuthenticationLevel", 6));
  ProgramSecurity p;
  p.process = ProcessAt(AuthnLevel::kNone);
  auto o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, AuthnLevel::kNone);
  EXPECT_EQ(o->authn_level_origin, "CoInitializeSecurity dwAuthnLevel");
  EXPECT_TRUE(o->ntlm.allow_anonymous);
  p.process = ProcessAt(AuthnLevel::kPktIntegrity);
  o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, AuthnLevel::kPktIntegrity);
  EXPECT_FALSE(o->ntlm.allow_anonymous);
  // DEFAULT is CONNECT.
  p.process = ProcessAt(AuthnLevel::kDefault);
  o = Options(p);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->authn_level, AuthnLevel::kConnect);
  // Without a store too.
  auto none = RuntimeOptionsFromStore(
      nullptr, ProgramSecurity{ProcessAt(AuthnLevel::kPktPrivacy), {}, {}, true}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->authn_level, AuthnLevel::kPktPrivacy);
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
  EXPECT_EQ(o->authn_level, AuthnLevel::kNone);
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
    if (level < 5) {
      EXPECT_EQ(log_.events(),
                std::vector<LogEvent>{
                    LogEvent("ntlm.ntlmv1_allowed", LogSeverity::kWarning,
                             "WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel " +
                                 std::to_string(level) + "); set it to 5 for NTLMv2 only")
                        .Extra("lm_compatibility_level", std::to_string(level))})
          << level;
    } else {
      EXPECT_TRUE(log_.events().empty());
    }
  }
  // Anything else means 5, with a warning (fail closed).
  SetLsa(config::RegValue::Dword("LmCompatibilityLevel", 7));
  auto o = Options(InProcess());
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->ntlm.logon_policy.allow_ntlmv1);
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{
                LogEvent("config.value_ignored", LogSeverity::kWarning,
                         "LmCompatibilityLevel in " + std::string(config::kLsaKey) +
                             " is not a REG_DWORD 0-5; using 5 (NTLMv2 only)")
                    .Extra("key", config::kLsaKey)
                    .Extra("value", "LmCompatibilityLevel")});
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
  EXPECT_TRUE(log_.events().empty());
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
  EXPECT_EQ(o->authn_level, AuthnLevel::kPkt);
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
  options.server.logger = nullptr;
  CapturedLog log;
  auto rt = Runtime::Create(options, log.logger());
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ((*rt)->logger(), log.logger());
  rpc::ServerOptions s = (*rt)->ServerOptions();
  EXPECT_EQ(s.max_connections, 7u);
  EXPECT_EQ(s.packages, &(*rt)->packages());
  EXPECT_EQ(s.logger, log.logger());
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
  auto options = Options(InProcess());
  ASSERT_TRUE(options.ok());
  auto rt = Runtime::Create(*options, log_.logger());
  ASSERT_TRUE(rt.ok()) << rt.status().ToString();
  EXPECT_EQ((*rt)->AccountDomain(), "");
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.no_accounts", LogSeverity::kWarning,
                         path_ +
                             " has no accounts yet; NTLM logons will fail until 'comcfg user "
                             "add NAME' creates one")
                    .Extra("store", path_)});
}

TEST(RuntimeDescriptors, TheLimitIsRaisedAndLogged) {
  CapturedLog log;
  RaiseDescriptorLimitFor(rpc::ServerOptions{}, log.logger());
  auto events = log.events();
  ASSERT_EQ(events.size(), 1u) << (events.empty() ? "" : events.back().message);
  ASSERT_EQ(events[0].extras.size(), 1u);
  ASSERT_EQ(events[0].extras[0].first, "limit");
  const std::string limit = events[0].extras[0].second;
  const LogEvent raised = LogEvent("runtime.descriptor_limit", LogSeverity::kInfo,
                                   "descriptors: up to " + limit +
                                       " open files (soft RLIMIT_NOFILE)")
                              .Extra("limit", limit);
  EXPECT_EQ(events[0], raised);
  // Far more connections than any hard limit here: warned.
  rpc::ServerOptions huge;
  huge.max_connections = size_t{1} << 40;
  log.Clear();
  RaiseDescriptorLimitFor(huge, log.logger());
  const std::string wanted = std::to_string((size_t{1} << 40) + huge.max_local_connections + 64);
  EXPECT_EQ(log.events(),
            (std::vector<LogEvent>{
                raised,
                LogEvent("runtime.descriptor_limit_low", LogSeverity::kWarning,
                         "descriptors: " + std::to_string(size_t{1} << 40) + " TCP and 256 "
                         "ncalrpc connections may need about " + wanted +
                             " descriptors; raise the hard limit (ulimit -Hn, LimitNOFILE=) "
                             "or lower --max-connections")
                    .Extra("limit", limit)
                    .Extra("wanted", wanted)}));
  // Without a logger the limit is still raised, silently.
  RaiseDescriptorLimitFor(huge, nullptr);
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
    server_ = std::make_unique<rpc::Server>(&registry_, rt.ServerOptions());
    return *server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  // Binds with `package` at `level` and asks who we are: "<level>|<name>".
  Result<std::string> WhoAmI(const rpc::StringBinding& to, rpc::SecurityPackage* package,
                             AuthnLevel level = AuthnLevel::kPktPrivacy) {
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
  // The server runtime's log (log_, which the server runtimes below are
  // given), as text lines.
  std::string ServerLog() {
    std::string all;
    for (const auto& l : log_.TextLines()) all += l;
    return all;
  }

  rpc::InterfaceRegistry registry_;
  std::unique_ptr<rpc::Server> server_;
};

TEST_F(RuntimeLoopback, ServesAnNtlmCallEndToEnd) {
  const std::string domain = AddAlice();
  ProgramSecurity program = InProcess();
  program.process = ProcessAt(AuthnLevel::kPktIntegrity);
  auto server_rt = Runtime::Create(*Options(program), log_.logger());
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
  auto low = WhoAmI(at, alice.get(), AuthnLevel::kConnect);
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(low.status().code(), E_ACCESSDENIED);

  // A wrong password: the logon is refused, access denied.
  auto mallory = (*client_rt)->NtlmClient(Alice("guess"));
  auto wrong = WhoAmI(at, mallory.get());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), E_ACCESSDENIED) << wrong.status().ToString();
  // The runtime's one logger got the package's refusal and its
  // validator's, both naming the peer; never the password.
  const auto refused = log_.Named("ntlm.logon_refused");
  ASSERT_EQ(refused.size(), 1u) << ServerLog();
  ASSERT_TRUE(refused[0].peer && refused[0].peer->starts_with("127.0.0.1:"));
  const std::string peer = *refused[0].peer;
  const std::string why = "wrong password (the NTLMv2 proof does not match the account's hash)";
  EXPECT_EQ(refused[0], LogEvent("ntlm.logon_refused", LogSeverity::kWarning,
                                 "logon of " + domain + "\\alice refused: " + why)
                            .Peer(peer)
                            .Principal(domain + "\\alice")
                            .AuthnLevel(6, "RPC_C_AUTHN_LEVEL_PKT_PRIVACY")
                            .Reason(why)
                            .Hresult(SEC_E_LOGON_DENIED));
  EXPECT_EQ(log_.Named("ntlm.validation_refused"),
            std::vector<LogEvent>{
                LogEvent("ntlm.validation_refused", LogSeverity::kWarning,
                         "logon of 'alice' from " + peer + " refused: " + why)
                    .Peer(peer)
                    .Principal("alice")
                    .Reason(why)
                    .Hresult(SEC_E_LOGON_DENIED)});
  EXPECT_EQ(ServerLog().find("guess"), std::string::npos) << ServerLog();
}

// Anonymous NTLM: served as ANONYMOUS LOGON (credited CONNECT) where the
// process's level is NONE, refused where it is CONNECT.
TEST_F(RuntimeLoopback, AnonymousFollowsTheProcessLevel) {
  AddAlice();
  auto client_rt = Runtime::Create(*RuntimeOptionsFromStore(nullptr, {}, {}), {});
  ASSERT_TRUE(client_rt.ok());
  auto anonymous = (*client_rt)->NtlmClient(auth::ntlm::ClientCredentials{});

  ProgramSecurity open = InProcess();
  open.process = ProcessAt(AuthnLevel::kNone);
  auto open_rt = Runtime::Create(*Options(open), log_.logger());
  ASSERT_TRUE(open_rt.ok());
  auto who = WhoAmI(Serve(**open_rt), anonymous.get());
  ASSERT_TRUE(who.ok()) << who.status().ToString() << "\n" << ServerLog();
  EXPECT_EQ(*who, "2|NT AUTHORITY\\ANONYMOUS LOGON");
  server_->Stop();
  server_.reset();
  registry_ = rpc::InterfaceRegistry();

  ProgramSecurity closed = InProcess();
  closed.process = ProcessAt(AuthnLevel::kConnect);
  auto closed_rt = Runtime::Create(*Options(closed), log_.logger());
  ASSERT_TRUE(closed_rt.ok());
  auto refused = WhoAmI(Serve(**closed_rt), anonymous.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_ACCESSDENIED);
  // The package logged the refusal as it happened (in auth3, before the
  // client's request learned of it).
  const auto events = log_.Named("ntlm.logon_refused");
  ASSERT_EQ(events.size(), 1u) << ServerLog();
  ASSERT_TRUE(events[0].peer.has_value());
  const std::string why =
      "anonymous (null session) logons are not allowed on this server; the client must "
      "authenticate";
  EXPECT_EQ(events[0], LogEvent("ntlm.logon_refused", LogSeverity::kWarning,
                                "logon of NT AUTHORITY\\ANONYMOUS LOGON refused: " + why)
                           .Peer(*events[0].peer)
                           .Principal("NT AUTHORITY\\ANONYMOUS LOGON")
                           .AuthnLevel(6, "RPC_C_AUTHN_LEVEL_PKT_PRIVACY")
                           .Reason(why)
                           .Hresult(SEC_E_LOGON_DENIED));
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
