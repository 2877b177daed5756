// comsecd as the SCM, process to process (issue 15): a real comsecd on a
// store prepared with comcfg, the hello example's server launched by it
// (LocalServer32 "comsec-hello-server --embedding"), and this process as
// the client through the activation API (activation/co_create_instance.h,
// and activation/scm_client.h's CallScm where a level must reach the wire
// unraised). What each test proves is read back from comsecd's audit trail
// (activation.denied / launched / failed), from /proc (which processes
// comsecd started, as whom) and from the objects themselves.
//
// The store (SetUp): accounts alice (mapped to the Unix user nobody) and
// carol (no Unix mapping); ComsecHello's class under its AppID, which
// requires PKT_INTEGRITY of callers and lets every authenticated user call;
// alice may launch and activate it remotely, and the machine launch
// restriction lets authenticated users do so. comsecd listens on TCP at
// 127.0.0.2 (a name that is not this machine's to the client, so
// activations go there as to another machine: co_create_instance.h R125)
// and on ncalrpc in the test's directory. The directory is 0755 and the
// store 0644 so that a server launched as nobody can read its policy.
//
// Conformance cases 38, 39 and 47 (reference/rpc-conformance-cases.md).
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../rpc/local_test_support.h"
#include "comsec/activation/co_create_instance.h"
#include "comsec/activation/scm_client.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/base/com_object.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/com_runtime.h"
#include "comsec/runtime/runtime.h"
#include "hello_object.h"
#include "scm_process_support.h"

namespace comsec::activation {
namespace {

using nlohmann::json;
using security::AuthnLevel;
using testing::Alive;
using testing::ChildrenOf;
using testing::Daemon;
using testing::ReadProcIds;

constexpr char kAppId[] = "{7d2a5e12-3c4b-4f6a-9b8c-1d2e3f405162}";
constexpr char kHelloClsid[] = "{7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162}";
// A class whose LocalServer32 is not a COM server (/bin/sleep, /bin/false).
constexpr char kBrokenClsid[] = "{5ca1ab1e-0015-4c0e-9a11-ac710a7e0b0b}";
const Guid kBroken{0x5ca1ab1eu,
                   0x0015,
                   0x4c0e,
                   {0x9a, 0x11, 0xac, 0x71, 0x0a, 0x7e, 0x0b, 0x0b}};
constexpr char kPassword[] = "Scm#Process1";
// How long the test waits for something that happens at once (a process
// to die, dumpcap to start): only a guard against hanging.
constexpr auto kHangGuard = std::chrono::seconds(20);

uint32_t UidOf(const char* user) {
  const passwd* pw = ::getpwnam(user);
  return pw ? pw->pw_uid : 0xFFFFFFFFu;
}
uint32_t GidOf(const char* user) {
  const passwd* pw = ::getpwnam(user);
  return pw ? pw->pw_gid : 0xFFFFFFFFu;
}

auth::ntlm::ClientCredentials Alice() {
  auth::ntlm::ClientCredentials c;
  c.user = "alice";
  c.password = kPassword;
  return c;
}

std::string Str(const json& event, const char* key) {
  auto it = event.find(key);
  if (it == event.end()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void ExpectStatus(const Status& s, HResult code, std::string_view part) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(part), std::string_view::npos) << s.ToString();
}

// A ComsecHello of this process whose Greet blocks until Unblock(): the
// object a server calls back into while the test kills it (case 47).
class BlockingHello final : public ComObject<idl::IComsecHello> {
 public:
  Result<idl::HRESULT> Greet(const std::u16string& name,
                             std::optional<std::u16string>& greeting) override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
    greeting = u"Hello, " + name + u", from the test";
    return 0;
  }
  Result<idl::HRESULT> WhoAmI(std::optional<std::u16string>&, int32_t&,
                              int32_t&, int32_t&) override {
    return static_cast<idl::HRESULT>(E_NOTIMPL.value());
  }
  Result<idl::HRESULT> GetChild(ComPtr<idl::IComsecHello>&) override {
    return static_cast<idl::HRESULT>(E_NOTIMPL.value());
  }
  Result<idl::HRESULT> CallBack(const ComPtr<idl::IComsecHello>&,
                                const std::u16string&,
                                std::optional<std::u16string>&) override {
    return static_cast<idl::HRESULT>(E_NOTIMPL.value());
  }

  bool WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, kHangGuard, [this] { return entered_; });
  }
  void Unblock() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
};

class ScmProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() + "/scm.db";
    audit_ = dir_.path() + "/audit.log";
    Comcfg({"init"});
    domain_ = AddUser("alice");
    AddUser("carol");
    Comcfg({"user", "set", "alice", "--unix-user", "nobody"});
    RegisterHello({});
    Comcfg({"app", "set", kAppId, "AuthenticationLevel", "5"});
    Comcfg({"perms", "grant", "launch", "--appid", kAppId, "--principal",
            domain_ + "\\alice", "--rights", "execute_remote,activate_remote"});
    Comcfg({"perms", "grant", "machine-launch-limit", "--principal", "AU",
            "--rights", "execute_remote,activate_remote"});
    Comcfg({"perms", "grant", "access", "--appid", kAppId, "--principal", "AU",
            "--rights", "execute_local,execute_remote"});
    // A server launched as nobody reads the policy store (never the
    // secrets file, which only comsecd reads).
    ASSERT_EQ(::chmod(store_.c_str(), 0644), 0);
    StartClient();
  }

  void TearDown() override {
    if (comsecd_) {
      // The servers comsecd launched run on after it: stop them first, as
      // a service manager would (SIGTERM: they remove their sockets).
      const std::vector<pid_t> servers = Servers();
      for (pid_t pid : servers) ::kill(pid, SIGTERM);
      WaitUntilGone(servers);
      for (pid_t pid : servers) {
        if (Alive(pid)) ::kill(pid, SIGKILL);
      }
      comsecd_->Stop(SIGTERM);
      comsecd_.reset();
    }
    client_.reset();
    if (HasFailure()) {
      std::cerr << "---- comsecd's standard error (and its servers'):\n"
                << testing::ReadFile(dir_.path() + "/comsecd.err")
                << "---- audit trail:\n"
                << testing::ReadFile(audit_);
    }
  }

  // comcfg --store STORE ARGS..., which must succeed; its output.
  std::string Comcfg(std::vector<std::string> args,
                     const std::string& input = "") {
    args.insert(args.begin(), {COMSEC_COMCFG, "--store", store_});
    testing::ToolResult r = testing::RunTool(args, input);
    EXPECT_EQ(r.exit_code, 0) << args[3] << ": " << r.output;
    return r.output;
  }
  // A store account with the test's password; the machine domain's name.
  std::string AddUser(const std::string& name) {
    Comcfg({"user", "add", name, "--password-stdin"},
           std::string(kPassword) + "\n");
    const std::string list = Comcfg({"user", "list"});
    // "DOMAIN\name ..." on the account's line.
    const size_t at = list.find("\\" + name);
    if (at == std::string::npos) return "";
    const size_t start = list.find_last_of(" \n", at);
    return list.substr(start == std::string::npos ? 0 : start + 1,
                       at - (start == std::string::npos ? 0 : start + 1));
  }
  // ComsecHello's LocalServer32: the hello server with `extra` arguments.
  void RegisterHello(const std::vector<std::string>& extra) {
    std::string command =
        std::string(COMSEC_HELLO_SERVER) + " --embedding --log-format json";
    for (const std::string& a : extra) command += " " + a;
    Comcfg({"class", "register", "--clsid", kHelloClsid, "--appid", kAppId,
            "--name", "ComsecHello", "--local-server", command});
  }

  // The client: NTLM as alice at PKT_INTEGRITY for its calls; it serves
  // its own objects (callbacks) to anyone, as comsec-hello-client does.
  void StartClient() {
    auto options = runtime::RuntimeOptionsFromStore(nullptr, {}, nullptr);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    auto rt = runtime::Runtime::Create(std::move(*options), nullptr);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    client_rt_ = std::move(*rt);
    ntlm_ = client_rt_->NtlmClient(Alice());
    alice_ = std::make_shared<const auth::ntlm::NtlmCredentials>(Alice());
    com::ComRuntimeOptions co;
    rpc::ClientAuth auth;
    auth.package = ntlm_.get();
    auth.level = AuthnLevel::kPktIntegrity;
    auth.credentials = alice_;
    co.client_auth = auth;
    co.mta_threads = 2;
    auto client = com::ComRuntime::Start(co);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    com::CoInitializeSecurityParams cis;
    cis.sec_desc = com::CoInitializeSecurityParams::SecDesc::kNull;
    cis.authn_level = security::ToNumber(AuthnLevel::kNone);
    // Its calls let servers impersonate it (WhoAmI's uid).
    cis.imp_level = security::ToNumber(security::ImpLevel::kImpersonate);
    ASSERT_TRUE(client_->InitializeSecurity(std::move(cis)).ok());
    client_->RegisterInterface(idl::IComsecHelloInfo());
  }

  // comsecd on the store, its audit trail in the test's directory; `flags`
  // added (--launch-timeout, --service-user).
  void StartComsecd(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv = {COMSEC_COMSECD,
                                     "--store",
                                     store_,
                                     "--listen",
                                     "ncacn_ip_tcp:127.0.0.2[0]",
                                     "--listen",
                                     "ncalrpc:[" + dir_.path() + "/epmapper]",
                                     "--log-format",
                                     "json",
                                     "--audit-log",
                                     audit_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    comsecd_ = std::make_unique<Daemon>(argv, dir_.path() + "/comsecd.err");
    for (int i = 0; i < 2; ++i) {
      std::optional<std::string> line = comsecd_->ReadLine(kHangGuard);
      ASSERT_TRUE(line) << "comsecd did not start: "
                        << testing::ReadFile(dir_.path() + "/comsecd.err");
      constexpr std::string_view kTcp = "listening on ncacn_ip_tcp:";
      constexpr std::string_view kLocal = "listening on ";
      if (line->rfind(kTcp, 0) == 0) {
        remote_name_ = line->substr(kTcp.size());  // 127.0.0.2[PORT]
        port_ = remote_name_.substr(remote_name_.find('[') + 1);
        port_.pop_back();
      } else if (line->rfind(kLocal, 0) == 0) {
        opts_.local_scm = line->substr(kLocal.size());
      }
    }
    ASSERT_FALSE(remote_name_.empty());
    ASSERT_EQ(opts_.local_scm.rfind("ncalrpc:", 0), 0u) << opts_.local_scm;
  }

  // CoCreateInstanceEx of `clsid` on comsecd over TCP, COAUTHINFO NTLM as
  // alice at `level`.
  Result<HResult> ActivateRemote(
      uint32_t level, std::span<MULTI_QI> qi,
      const Guid& clsid = examples::kClsidComsecHello) {
    COAUTHINFO auth;
    auth.authn_svc = com::RPC_C_AUTHN_WINNT;
    auth.authn_level = level;
    auth.imp_level = 3;  // IMPERSONATE
    auth.identity = alice_;
    COSERVERINFO server{remote_name_, &auth};
    return CreateInstanceEx(*client_, clsid, nullptr, CLSCTX_REMOTE_SERVER,
                            &server, qi, opts_);
  }
  // A new ComsecHello through comsecd over TCP at PKT_PRIVACY.
  Result<ComPtr<idl::IComsecHello>> NewHello(uint32_t level = 6) {
    MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
    COMSEC_ASSIGN_OR_RETURN(HResult hr, ActivateRemote(level, qi));
    if (hr != S_OK || !qi[0].itf)
      return Status(E_UNEXPECTED, "activation: " + hr.ToString());
    ComPtr<idl::IComsecHello> hello;
    if (HResult as = qi[0].itf.As(&hello); as.Failed())
      return Status(as, "QueryInterface");
    return hello;
  }
  // The activation request on the wire exactly at `level` (CallScm, as
  // CoCreateInstanceEx makes it but without RaiseActivationAuthentication
  // Level): NONE unauthenticated, else NTLM as alice.
  Result<ActivationPropertiesOut> RawRemoteActivation(AuthnLevel level,
                                                      uint32_t extra_clsctx = 0) {
    COMSEC_ASSIGN_OR_RETURN(
        rpc::StringBinding at,
        rpc::StringBinding::Parse("ncacn_ip_tcp:" + remote_name_));
    COMSEC_ASSIGN_OR_RETURN(rpc::ClientOptions how,
                            client_->ClientOptionsFor(at));
    ActivationAuth auth;
    auth.requested_level = auth.level = level;
    auth.source = "the test";
    if (level != AuthnLevel::kNone) {
      rpc::ClientAuth a;
      a.package = ntlm_.get();
      a.level = level;
      a.credentials = alice_;
      auth.auth = a;
    }
    ScmActivationRequest request;
    request.clsid = examples::kClsidComsecHello;
    request.iids = {idl::IID_IComsecHello};
    request.orig_clsctx = CLSCTX_REMOTE_SERVER | extra_clsctx;
    request.clsctx = CLSCTX_LOCAL_SERVER;
    request.transport = ScmTransport::kRemote;
    request.server_name = u"127.0.0.2";
    return CallScm(at, how, auth, request);
  }

  std::string Greet(idl::IComsecHello* hello,
                    const std::u16string& name = u"scm") {
    std::optional<std::u16string> text;
    auto r = hello->Greet(name, text);
    if (!r.ok()) return r.status().ToString();
    if (*r != 0) return HResult(static_cast<uint32_t>(*r)).ToString();
    return Utf16ToUtf8Lossy(text.value_or(u""));
  }
  // WhoAmI's uid: the server's euid while it impersonates the caller, -1
  // when it cannot take on the caller's identity.
  int32_t WhoAmIUid(idl::IComsecHello* hello) {
    std::optional<std::u16string> caller;
    int32_t level = 0, imp = 0, uid = -2;
    auto r = hello->WhoAmI(caller, level, imp, uid);
    EXPECT_TRUE(r.ok() && *r == 0)
        << (r.ok() ? std::to_string(*r) : r.status().ToString());
    return uid;
  }

  // The audit trail's events named `name`.
  std::vector<json> Audit(std::string_view name) {
    std::vector<json> out;
    for (json& e : testing::ReadJsonLines(audit_)) {
      if (Str(e, "event") == name) out.push_back(std::move(e));
    }
    return out;
  }
  std::vector<pid_t> LaunchedPids() {
    std::vector<pid_t> out;
    for (const json& e : Audit("activation.launched"))
      out.push_back(std::stoi(Str(e, "pid")));
    return out;
  }
  std::vector<pid_t> Servers() { return ChildrenOf(comsecd_->pid()); }

  // The launched server `pid` runs as uid/gid (real, effective, saved, fs).
  void ExpectRunsAs(pid_t pid, uint32_t uid, uint32_t gid) {
    const testing::ProcIds ids = ReadProcIds(pid);
    EXPECT_EQ(ids.uid, std::vector<uint32_t>(4, uid)) << "pid " << pid;
    EXPECT_EQ(ids.gid, std::vector<uint32_t>(4, gid)) << "pid " << pid;
  }
  // Waits until `pids` are gone (a zombie until comsecd reaps it counts as
  // gone).
  static void WaitUntilGone(const std::vector<pid_t>& pids) {
    const auto deadline = std::chrono::steady_clock::now() + kHangGuard;
    auto any_alive = [&pids] {
      return std::any_of(pids.begin(), pids.end(),
                         [](pid_t p) { return Alive(p); });
    };
    while (any_alive() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // Kills launched server `pid` (a crash: SIGKILL), waits until it is
  // gone and removes the sockets it could not.
  void KillServer(pid_t pid) {
    const uint32_t uid = ReadProcIds(pid).uid.at(1);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    WaitUntilGone({pid});
    ASSERT_FALSE(Alive(pid));
    testing::RemoveLocalEndpointsOf(pid, uid);
  }

  rpc::testing::TempDir dir_{0755};
  std::string store_, audit_, domain_;
  std::unique_ptr<runtime::Runtime> client_rt_;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_;
  std::shared_ptr<const rpc::Credentials> alice_;
  std::unique_ptr<com::ComRuntime> client_;
  std::unique_ptr<Daemon> comsecd_;
  std::string remote_name_, port_;
  ActivationClientOptions opts_;
};

// ==== Case 38: the activation authentication level ===========================

TEST_F(ScmProcessTest,
       Case38_RemoteActivationBelowPktIntegrityIsRefusedAndLaunchesNothing) {
  StartComsecd();
  size_t denied = 0;
  for (AuthnLevel level : {AuthnLevel::kNone, AuthnLevel::kConnect,
                           AuthnLevel::kCall, AuthnLevel::kPkt}) {
    SCOPED_TRACE(security::AuthnLevelName(level));
    auto r = RawRemoteActivation(level);
    ASSERT_FALSE(r.ok());
    ExpectStatus(r.status(), E_ACCESSDENIED,
                 "RemoteCreateInstance to the SCM at ncacn_ip_tcp:");
    // Exactly one event for the refusal, saying who, from where, at what
    // level, which rule, and what Windows would have logged.
    const std::vector<json> events = Audit("activation.denied");
    ASSERT_EQ(events.size(), ++denied);
    const json& e = events.back();
    EXPECT_EQ(Str(e, "authn_level"), std::to_string(security::ToNumber(level)));
    EXPECT_EQ(Str(e, "distance"), "remote");
    EXPECT_EQ(Lower(Str(e, "clsid")), kHelloClsid);
    EXPECT_EQ(Str(e, "peer").rfind("127.0.0.", 0), 0u) << e.dump();
    EXPECT_EQ(Lower(Str(e, "hresult")), "0x80070005");
    if (level == AuthnLevel::kNone) {
      // Unauthenticated is ANONYMOUS LOGON, which the machine's launch
      // restriction does not grant (§20): a permission refusal.
      EXPECT_EQ(Str(e, "principal"), "NT AUTHORITY\\ANONYMOUS LOGON");
      EXPECT_EQ(Str(e, "reason"), "R119 machine launch restriction")
          << e.dump();
      EXPECT_EQ(Str(e, "windows_event"), "10016");
    } else {
      EXPECT_EQ(Lower(Str(e, "principal")), Lower(domain_ + "\\alice"));
      EXPECT_EQ(Str(e, "reason"), "R186.3 activation authentication level")
          << e.dump();
      EXPECT_EQ(Str(e, "windows_event"), "10036");
      EXPECT_NE(Str(e, "remedy"), "");
    }
  }
  // Nothing was launched, nothing runs.
  EXPECT_TRUE(Audit("activation.launched").empty());
  EXPECT_TRUE(Servers().empty());
}

// R136 at its default 0: a client that passed CLSCTX_NO_FAILURE_LOG (it
// travels as ACTVFLAGS_NO_FAILURE_LOG) is refused without an event.
TEST_F(ScmProcessTest, R136_NoFailureLogSilencesTheRefusal) {
  StartComsecd();
  auto r = RawRemoteActivation(AuthnLevel::kConnect, CLSCTX_NO_FAILURE_LOG);
  ASSERT_FALSE(r.ok());
  ExpectStatus(r.status(), E_ACCESSDENIED, "RemoteCreateInstance to the SCM at ncacn_ip_tcp:");
  // The same refusal without the flag is logged, and comes after.
  r = RawRemoteActivation(AuthnLevel::kConnect);
  ASSERT_FALSE(r.ok());
  const std::vector<json> events = Audit("activation.denied");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(Str(events[0], "reason"), "R186.3 activation authentication level");
}

TEST_F(ScmProcessTest, Case38_PktIntegrityAndPktPrivacyActivate) {
  StartComsecd();
  for (AuthnLevel level :
       {AuthnLevel::kPktIntegrity, AuthnLevel::kPktPrivacy}) {
    SCOPED_TRACE(security::AuthnLevelName(level));
    auto r = RawRemoteActivation(level);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->interfaces.size(), 1u);
    ASSERT_EQ(r->interfaces[0].hr, S_OK);
    auto hello = client_->Unmarshal<idl::IComsecHello>(r->interfaces[0].objref);
    ASSERT_TRUE(hello.ok()) << hello.status().ToString();
    EXPECT_EQ(Greet(hello->get()).rfind("Hello, scm, from nobody", 0), 0u)
        << Greet(hello->get());
  }
  EXPECT_TRUE(Audit("activation.denied").empty());
  EXPECT_EQ(Audit("activation.launched").size(),
            1u);  // multiple-use: one server
  EXPECT_TRUE(Audit("activation.below_hardening").empty());
}

// ==== Case 39: the client raises the level ===================================

TEST_F(ScmProcessTest, Case39_ACoauthinfoAtConnectIsPktIntegrityOnTheWire) {
  StartComsecd();
  const std::string capture = dir_.path() + "/activation.pcapng";
  const std::string dumpcap_err = dir_.path() + "/dumpcap.err";
  Daemon dumpcap({"/usr/bin/dumpcap", "-q", "-i", "lo", "-f",
                  "tcp port " + port_, "-w", capture},
                 dumpcap_err);
  const auto deadline = std::chrono::steady_clock::now() + kHangGuard;
  while (testing::ReadFile(dumpcap_err).find("Capturing on") ==
             std::string::npos &&
         Alive(dumpcap.pid()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (testing::ReadFile(dumpcap_err).find("Capturing on") ==
      std::string::npos) {
    GTEST_SKIP() << "cannot capture on lo here: "
                 << testing::ReadFile(dumpcap_err);
  }
  // The filter is live once dumpcap says so; settle anyway.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
  auto r = ActivateRemote(2 /* RPC_C_AUTHN_LEVEL_CONNECT */, qi);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, S_OK);
  ComPtr<idl::IComsecHello> hello;
  ASSERT_EQ(qi[0].itf.As(&hello), S_OK);
  EXPECT_EQ(Greet(hello.get()).rfind("Hello, scm, from nobody", 0), 0u)
      << Greet(hello.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  dumpcap.Stop(SIGINT);

  // tshark, an independent decoder: on every connection that binds
  // IRemoteSCMActivator (tshark's ISystemActivator), the bind, its AUTH3
  // and the request (RemoteCreateInstance, opnum 4) carry auth_level 5 in
  // their sec_trailer.
  auto tshark = testing::RunTool(
      {"/usr/bin/tshark", "-r", capture, "-d", "tcp.port==" + port_ + ",dcerpc",
       "-Y", "dcerpc", "-T", "fields", "-e", "tcp.stream", "-e",
       "dcerpc.pkt_type", "-e", "dcerpc.opnum", "-e", "dcerpc.auth_level", "-e",
       "dcerpc.cn_bind_to_uuid"});
  ASSERT_EQ(tshark.exit_code, 0) << tshark.output;
  // tcp.stream, then each field's first value ("0,0" when a PDU's fields
  // are dissected twice).
  std::vector<std::vector<std::string>> pdus;
  std::istringstream lines(tshark.output);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, '\t');) {
      fields.push_back(cell.substr(0, cell.find(',')));
    }
    fields.resize(5);
    pdus.push_back(std::move(fields));
  }
  std::set<std::string> scm_streams;
  for (const auto& p : pdus) {
    if (p[1] == "11" && p[4] == "000001a0-0000-0000-c000-000000000046")
      scm_streams.insert(p[0]);
  }
  ASSERT_EQ(scm_streams.size(), 1u) << tshark.output;
  std::vector<std::string> seen;  // "pkt_type opnum auth_level"
  for (const auto& p : pdus) {
    if (scm_streams.count(p[0]) &&
        (p[1] == "11" || p[1] == "16" || p[1] == "0")) {
      seen.push_back(p[1] + " " + p[2] + " " + p[3]);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"11  5", "16  5", "0 4 5"}))
      << tshark.output;
}

// ==== Launch identities (R127, R128) =========================================

TEST_F(ScmProcessTest, AsActivatorRunsTheServerAsTheAccountsUnixUser) {
  StartComsecd();
  auto hello = NewHello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(Greet(hello->get()).rfind("Hello, scm, from nobody", 0), 0u);
  // alice is nobody on this machine, and so is the server: impersonating
  // her leaves it nobody.
  EXPECT_EQ(WhoAmIUid(hello->get()),
            static_cast<int32_t>(rpc::testing::kNobodyUid));
  const std::vector<json> launched = Audit("activation.launched");
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(Str(launched[0], "uid"), std::to_string(rpc::testing::kNobodyUid));
  EXPECT_EQ(Str(launched[0], "gid"), std::to_string(GidOf("nobody")));
  EXPECT_EQ(Lower(Str(launched[0], "principal")), Lower(domain_ + "\\alice"));
  EXPECT_NE(Str(launched[0], "message").find("As Activator"), std::string::npos)
      << launched[0].dump();
  ExpectRunsAs(std::stoi(Str(launched[0], "pid")), rpc::testing::kNobodyUid,
               GidOf("nobody"));
  EXPECT_EQ(Servers(), LaunchedPids());
}

TEST_F(ScmProcessTest, RunAsAUnixUserRunsTheServerAsThatUser) {
  Comcfg({"app", "set", kAppId, "RunAs", "unix:daemon"});
  StartComsecd();
  auto hello = NewHello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(Greet(hello->get()).rfind("Hello, scm, from daemon", 0), 0u)
      << Greet(hello->get());
  // daemon may not become alice's nobody: WhoAmI runs as the server.
  EXPECT_EQ(WhoAmIUid(hello->get()), -1);
  const std::vector<pid_t> pids = LaunchedPids();
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_EQ(Str(Audit("activation.launched")[0], "uid"),
            std::to_string(UidOf("daemon")));
  ExpectRunsAs(pids[0], UidOf("daemon"), GidOf("daemon"));
}

TEST_F(ScmProcessTest, RunAsLocalServiceIsComsecdsServiceUser) {
  Comcfg({"app", "set", kAppId, "RunAs", "nt authority\\localservice"});
  StartComsecd({"--service-user", "bin"});
  auto hello = NewHello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(Greet(hello->get()).rfind("Hello, scm, from bin", 0), 0u)
      << Greet(hello->get());
  const std::vector<json> launched = Audit("activation.launched");
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_NE(
      Lower(Str(launched[0], "message")).find("nt authority\\localservice"),
      std::string::npos)
      << launched[0].dump();
  ExpectRunsAs(std::stoi(Str(launched[0], "pid")), UidOf("bin"), GidOf("bin"));
}

TEST_F(ScmProcessTest, RunAsInteractiveUserIsTheActiveSessionsOwner) {
  // logind's word, as comsecd reads it: daemon holds the active seat0
  // session.
  const std::string sessions = dir_.path() + "/sessions";
  ASSERT_EQ(mkdir(sessions.c_str(), 0755), 0);
  {
    std::ofstream f(sessions + "/3");
    f << "UID=" << UidOf("daemon")
      << "\nUSER=daemon\nACTIVE=1\nSTATE=active\nCLASS=user\nSEAT=seat0\n";
  }
  Comcfg({"app", "set", kAppId, "RunAs", "Interactive User"});
  StartComsecd({"--sessions-dir", sessions});
  auto hello = NewHello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  EXPECT_EQ(Greet(hello->get()).rfind("Hello, scm, from daemon", 0), 0u)
      << Greet(hello->get());
  const std::vector<json> launched = Audit("activation.launched");
  ASSERT_EQ(launched.size(), 1u);
  ExpectRunsAs(std::stoi(Str(launched[0], "pid")), UidOf("daemon"), GidOf("daemon"));
}

TEST_F(ScmProcessTest, RunAsInteractiveUserWithNoOneLoggedOnFails) {
  const std::string sessions = dir_.path() + "/no-sessions";
  ASSERT_EQ(mkdir(sessions.c_str(), 0755), 0);
  Comcfg({"app", "set", kAppId, "RunAs", "Interactive User"});
  StartComsecd({"--sessions-dir", sessions});
  MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
  auto r = ActivateRemote(6, qi);
  ExpectStatus(r.status(), CO_E_RUNAS_LOGON_FAILURE, "refused the activation of");
  EXPECT_TRUE(Audit("activation.launched").empty());
}

TEST_F(ScmProcessTest, RunAsAnAccountThatCannotRunIsRunAsLogonFailure) {
  // carol is a store account with no Unix user to run as.
  Comcfg({"app", "set", kAppId, "RunAs", domain_ + "\\carol"});
  StartComsecd();
  MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
  auto r = ActivateRemote(6, qi);
  ExpectStatus(r.status(), CO_E_RUNAS_LOGON_FAILURE,
               "refused the activation of");
  EXPECT_EQ(qi[0].hr, CO_E_RUNAS_LOGON_FAILURE);
  const std::vector<json> failed = Audit("activation.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(Lower(Str(failed[0], "hresult")), "0x8000401a");
  const std::string message = Str(failed[0], "message");
  EXPECT_NE(message.find("carol"), std::string::npos) << message;
  EXPECT_NE(message.find("has no Unix account to run as"), std::string::npos)
      << message;
  EXPECT_TRUE(Audit("activation.launched").empty());
  EXPECT_TRUE(Servers().empty());
}

// A server launched for one identity never serves another's activation:
// the RunAs changed, the next activation launches a server of its own.
TEST_F(ScmProcessTest, AServerOfOneIdentityIsNotHandedToAnother) {
  StartComsecd();
  auto first = NewHello();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Comcfg({"app", "set", kAppId, "RunAs", "unix:daemon"});
  auto second = NewHello();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Greet(second->get()).rfind("Hello, scm, from daemon", 0), 0u);
  const std::vector<json> launched = Audit("activation.launched");
  ASSERT_EQ(launched.size(), 2u);
  EXPECT_EQ(Str(launched[0], "uid"), std::to_string(rpc::testing::kNobodyUid));
  EXPECT_EQ(Str(launched[1], "uid"), std::to_string(UidOf("daemon")));
}

// ==== REGCLS and restarts (R131) =============================================

TEST_F(ScmProcessTest, AMultipleUseServerServesEveryActivation) {
  StartComsecd();
  auto a = NewHello();
  auto b = NewHello();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(Greet(a->get()).rfind("Hello", 0), 0u);
  EXPECT_EQ(Greet(b->get()).rfind("Hello", 0), 0u);
  EXPECT_EQ(LaunchedPids().size(), 1u);
  EXPECT_EQ(Servers(), LaunchedPids());
}

TEST_F(ScmProcessTest, ASingleUseServerServesOneActivation) {
  RegisterHello({"--single-use"});
  StartComsecd();
  auto a = NewHello();
  auto b = NewHello();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(Greet(a->get()).rfind("Hello", 0), 0u);
  EXPECT_EQ(Greet(b->get()).rfind("Hello", 0), 0u);
  std::vector<pid_t> pids = LaunchedPids();
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[0], pids[1]);
  std::vector<pid_t> running = Servers();
  std::sort(running.begin(), running.end());
  std::sort(pids.begin(), pids.end());
  EXPECT_EQ(running, pids);
}

TEST_F(ScmProcessTest, AServerThatExitedIsStartedAgain) {
  StartComsecd();
  auto a = NewHello();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const std::vector<pid_t> first = LaunchedPids();
  ASSERT_EQ(first.size(), 1u);
  KillServer(first[0]);
  *a = nullptr;  // its server is gone
  auto b = NewHello();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(Greet(b->get()).rfind("Hello", 0), 0u);
  const std::vector<pid_t> pids = LaunchedPids();
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[1], first[0]);
  EXPECT_EQ(Servers(), std::vector<pid_t>{pids[1]});
}

// ==== Case 47: a server killed mid-call ======================================

TEST_F(ScmProcessTest, Case47_AServerKilledMidCall) {
  StartComsecd();
  auto hello = NewHello();
  ASSERT_TRUE(hello.ok()) << hello.status().ToString();
  const std::vector<pid_t> pids = LaunchedPids();
  ASSERT_EQ(pids.size(), 1u);

  // The server calls our object back, which blocks: the CallBack call is
  // pending while the server is killed.
  ComPtr<BlockingHello> mine = MakeComObject<BlockingHello>();
  ComPtr<idl::IComsecHello> target(mine.get());
  std::promise<
      std::pair<Result<idl::HRESULT>, std::chrono::steady_clock::time_point>>
      done;
  auto returned = done.get_future();
  std::thread caller([&] {
    std::optional<std::u16string> text;
    Result<idl::HRESULT> r = (*hello)->CallBack(target, u"pending", text);
    done.set_value({std::move(r), std::chrono::steady_clock::now()});
  });
  const uint32_t server_uid = ReadProcIds(pids[0]).uid.at(1);
  const bool entered = mine->WaitEntered();
  const auto killed_at = std::chrono::steady_clock::now();
  if (entered) ::kill(pids[0], SIGKILL);
  const bool came_back =
      returned.wait_for(kHangGuard) == std::future_status::ready;
  mine->Unblock();
  caller.join();
  WaitUntilGone({pids[0]});
  testing::RemoveLocalEndpointsOf(pids[0], server_uid);
  ASSERT_TRUE(entered) << "the server never called back";
  ASSERT_TRUE(came_back) << "the pending call hung after the server was killed";
  auto [result, at] = returned.get();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at - killed_at);
  RecordProperty("call_failed_after_ms", static_cast<int>(ms.count()));
  ASSERT_FALSE(result.ok()) << "answered " << (result.ok() ? *result : 0);
  EXPECT_EQ(result.status().code(), RPC_S_CALL_FAILED)
      << result.status().ToString();

  // The next call on the same proxy: the server is unavailable.
  std::optional<std::u16string> text;
  auto next = (*hello)->Greet(u"again", text);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), RPC_S_SERVER_UNAVAILABLE)
      << next.status().ToString();

  // The next activation starts a new server.
  auto fresh = NewHello();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(Greet(fresh->get()).rfind("Hello", 0), 0u);
  const std::vector<pid_t> now = LaunchedPids();
  ASSERT_EQ(now.size(), 2u);
  EXPECT_NE(now[1], pids[0]);
  (*hello) = nullptr;
  client_->DisconnectObject(mine->unknown());
}

// ==== Servers that do not register ===========================================

TEST_F(ScmProcessTest, AServerThatNeverRegistersTimesOut) {
  Comcfg({"class", "register", "--clsid", kBrokenClsid, "--appid", kAppId,
          "--local-server", "/bin/sleep 30"});
  StartComsecd({"--launch-timeout", "500"});
  MULTI_QI qi[] = {{IID_IUnknown, nullptr, S_OK}};
  auto r = ActivateRemote(6, qi, kBroken);
  ExpectStatus(r.status(), CO_E_SERVER_EXEC_FAILURE,
               "refused the activation of");
  EXPECT_EQ(Audit("activation.launched").size(), 1u);
  const std::vector<json> failed = Audit("activation.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(Lower(Str(failed[0], "hresult")), "0x80080005");
  EXPECT_NE(Str(failed[0], "message")
                .find("did not register the class within 500 ms"),
            std::string::npos)
      << failed[0].dump();
}

TEST_F(ScmProcessTest, AServerThatExitsAtOnceFailsAtOnce) {
  Comcfg({"class", "register", "--clsid", kBrokenClsid, "--appid", kAppId,
          "--local-server", "/bin/false"});
  // The default launch timeout (30 s): the failure must not wait for it.
  StartComsecd();
  MULTI_QI qi[] = {{IID_IUnknown, nullptr, S_OK}};
  auto r = ActivateRemote(6, qi, kBroken);
  ExpectStatus(r.status(), CO_E_SERVER_EXEC_FAILURE,
               "refused the activation of");
  const std::vector<json> failed = Audit("activation.failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(Lower(Str(failed[0], "hresult")), "0x80080005");
  EXPECT_NE(
      Str(failed[0], "message").find("exited before registering the class"),
      std::string::npos)
      << failed[0].dump();
}

// ==== Local activation (ncalrpc) =============================================

TEST_F(ScmProcessTest, LocalActivationIsJudgedByTheLocalRights) {
  // This process (root, as the kernel names it over ncalrpc) may launch
  // remotely only: the administrators, SYSTEM and INTERACTIVE entries,
  // which name root locally, are taken out.
  for (const char* who : {"BA", "SY", "IU"}) {
    Comcfg(
        {"perms", "revoke", "launch", "--appid", kAppId, "--principal", who});
  }
  Comcfg({"perms", "grant", "launch", "--appid", kAppId, "--principal", "uid:0",
          "--rights", "execute_remote,activate_remote"});
  StartComsecd();
  MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
  auto r = CreateInstanceEx(*client_, examples::kClsidComsecHello, nullptr,
                            CLSCTX_LOCAL_SERVER, nullptr, qi, opts_);
  ExpectStatus(r.status(), E_ACCESSDENIED,
               "RemoteCreateInstance to the SCM at ncalrpc:");
  const std::vector<json> denied = Audit("activation.denied");
  ASSERT_EQ(denied.size(), 1u);
  const json& e = denied[0];
  EXPECT_EQ(Str(e, "distance"), "local");
  EXPECT_EQ(Str(e, "reason"), "R113 launch permission") << e.dump();
  const std::string explain = Str(e, "explain");
  EXPECT_NE(explain.find(" --local"), std::string::npos) << explain;
  EXPECT_EQ(explain.find(" --remote"), std::string::npos) << explain;
  // The command reproduces the refusal offline.
  ASSERT_EQ(explain.rfind("comcfg --store ", 0), 0u) << explain;
  std::vector<std::string> argv = {COMSEC_COMCFG};
  {
    std::istringstream words(explain.substr(7));
    for (std::string w; words >> w;) {
      if (w.size() >= 2 && w.front() == '\'' && w.back() == '\'')
        w = w.substr(1, w.size() - 2);
      argv.push_back(w);
    }
  }
  const testing::ToolResult x = testing::RunTool(argv);
  EXPECT_EQ(x.exit_code, 1) << explain << "\n" << x.output;
  EXPECT_EQ(x.output.rfind("denied", 0), 0u) << x.output;
  EXPECT_TRUE(Servers().empty());

  // The local rights granted: the local activation launches the server.
  Comcfg({"perms", "grant", "launch", "--appid", kAppId, "--principal", "uid:0",
          "--rights", "execute_local,activate_local"});
  MULTI_QI again[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
  r = CreateInstanceEx(*client_, examples::kClsidComsecHello, nullptr,
                       CLSCTX_LOCAL_SERVER, nullptr, again, opts_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ComPtr<idl::IComsecHello> hello;
  ASSERT_EQ(again[0].itf.As(&hello), S_OK);
  EXPECT_EQ(Greet(hello.get()).rfind("Hello, scm, from root", 0), 0u)
      << Greet(hello.get());
  const std::vector<json> launched = Audit("activation.launched");
  ASSERT_EQ(launched.size(), 1u);
  EXPECT_EQ(Str(launched[0], "uid"), "0");  // As Activator: the local caller
  EXPECT_EQ(Audit("activation.denied").size(), 1u);
}

}  // namespace
}  // namespace comsec::activation
