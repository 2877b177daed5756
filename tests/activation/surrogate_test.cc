// DllSurrogate end to end (issue 15, R162): comsecd's SCM launches
// comsec-surrogate for a class registered only with an InprocServer32
// library (examples/hello's libcomsec_hello_inproc.so) whose AppID has
// DllSurrogate, as the AppID's RunAs identity (nobody); the client
// activates it with CoCreateInstanceEx and calls Greet and WhoAmI on the
// object the surrogate serves. Everything runs as real processes: the store
// is made with comcfg, comsecd listens on 127.0.0.2 (a name that is not
// this machine's as far as the client can tell, so the activation goes
// over TCP with NTLM as the store account alice, mapped to nobody) and on
// ncalrpc in the test's directory, and its JSON log says what it launched.
// Then the surrogate's own failures: a library that cannot be loaded (the
// activation fails with CO_E_SERVER_EXEC_FAILURE and the surrogate logs
// dlerror()'s text), no DllGetClassObject, a class the library lacks, and
// a relative path; and a DllSurrogate value naming the host, which wins
// over comsecd's --surrogate.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "../rpc/local_test_support.h"
#include "comsec/activation/co_create_instance.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/base/utf16.h"
#include "comsec/com/com_runtime.h"
#include "comsec/runtime/runtime.h"
#include "hello_object.h"

extern char** environ;

namespace comsec::activation {
namespace {

constexpr char kComsecd[] = COMSEC_COMSECD;
constexpr char kComcfg[] = COMSEC_COMCFG;
constexpr char kSurrogate[] = COMSEC_SURROGATE;
constexpr char kLibrary[] = COMSEC_HELLO_INPROC;
constexpr char kPassword[] = "Surrogate#Alice1";

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ==== Processes ==============================================================

// A child process with its standard input, output and error on pipes.
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
};

Child Spawn(const std::vector<std::string>& argv, bool separate_err) {
  int in[2], out[2], err[2];
  EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, separate_err ? err[1] : out[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  EXPECT_EQ(::posix_spawn(&c.pid, args[0], &actions, nullptr, args.data(), environ), 0)
      << argv[0];
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  c.in = in[1];
  c.out = out[0];
  c.err = err[0];
  if (!separate_err) {
    ::close(c.err);
    c.err = -1;
  }
  return c;
}

struct Ran {
  int code = -1;  // the exit status, -1 when killed by a signal
  std::string output;  // standard output and error together
};

// Runs `argv` to its end with `input` on its standard input.
Ran RunToEnd(const std::vector<std::string>& argv, const std::string& input = "") {
  Child c = Spawn(argv, false);
  if (!input.empty()) {
    EXPECT_EQ(::write(c.in, input.data(), input.size()), ssize_t(input.size()));
  }
  ::close(c.in);
  Ran r;
  char buf[4096];
  for (ssize_t n; (n = ::read(c.out, buf, sizeof buf)) > 0;) r.output.append(buf, size_t(n));
  ::close(c.out);
  int status = 0;
  ::waitpid(c.pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// comsecd, its standard error read line by line on a thread: its JSON
// events, and the lines of the servers it launched (which inherit it).
class Comsecd {
 public:
  explicit Comsecd(const std::vector<std::string>& argv) : child_(Spawn(argv, true)) {
    ::close(child_.in);
    reader_ = std::thread([this] { ReadErr(); });
    // "listening on BINDING" for each endpoint, TCP first as given.
    std::string line;
    char ch;
    while (::read(child_.out, &ch, 1) == 1) {
      if (ch != '\n') {
        line += ch;
        continue;
      }
      if (line.rfind("listening on ncacn_ip_tcp:", 0) == 0) {
        tcp_ = line.substr(std::string("listening on ").size());
        break;
      }
      line.clear();
    }
  }
  ~Comsecd() {
    ::kill(child_.pid, SIGTERM);
    int status = 0;
    ::waitpid(child_.pid, &status, 0);
    stop_ = true;
    reader_.join();
    ::close(child_.out);
    ::close(child_.err);
  }

  // "ncacn_ip_tcp:127.0.0.2[PORT]" ("" when comsecd did not start).
  const std::string& tcp() const { return tcp_; }
  std::string Port() const {
    const size_t open = tcp_.find('[');
    return open == std::string::npos ? "" : tcp_.substr(open + 1, tcp_.size() - open - 2);
  }

  std::vector<nlohmann::json> Events(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<nlohmann::json> out;
    for (const std::string& l : lines_) {
      auto j = nlohmann::json::parse(l, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.value("event", "") == name) out.push_back(j);
    }
    return out;
  }
  // Waits until a line containing `text` has arrived (the test's timeout
  // bounds it).
  void WaitForLine(const std::string& text) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return std::any_of(lines_.begin(), lines_.end(),
                         [&](const std::string& l) { return l.find(text) != std::string::npos; });
    });
  }
  std::string AllLines() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string all;
    for (const std::string& l : lines_) all += l + "\n";
    return all;
  }

 private:
  // Until stopped: the servers comsecd launched hold the pipe too, so its
  // end of file may come late.
  void ReadErr() {
    std::string partial;
    char buf[4096];
    for (;;) {
      pollfd p{child_.err, POLLIN, 0};
      const int ready = ::poll(&p, 1, 100);
      if (ready == 0) {
        if (stop_) return;
        continue;
      }
      const ssize_t n = ::read(child_.err, buf, sizeof buf);
      if (n <= 0) return;
      std::lock_guard<std::mutex> lock(mu_);
      partial.append(buf, size_t(n));
      for (size_t nl; (nl = partial.find('\n')) != std::string::npos;) {
        lines_.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
      cv_.notify_all();
    }
  }

  Child child_;
  std::string tcp_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// ==== The fixture ============================================================

const std::string kClsid = examples::kClsidComsecHello.ToRegistryString();
const std::string kAppId = examples::kAppIdComsecHello.ToRegistryString();

class SurrogateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the SCM launches the surrogate as nobody: needs root";
    // The surrogate runs as nobody: it must reach the directory and read
    // the policy store (not the secrets file, which only comsecd reads).
    store_ = dir_.path() + "/store.db";
    Comcfg({"init"});
    ::chmod(store_.c_str(), 0644);
    Comcfg({"user", "add", "alice", "--password-stdin"}, std::string(kPassword) + "\n");
    Comcfg({"user", "set", "alice", "--unix-user", "nobody"});
    passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    nobody_ = static_cast<int32_t>(nobody->pw_uid);
  }
  void TearDown() override {
    client_.reset();
    // The servers comsecd launched run until stopped (by their pids).
    if (comsecd_) {
      for (const nlohmann::json& e : comsecd_->Events("activation.launched")) {
        ::kill(static_cast<pid_t>(std::stol(e.value("pid", "0"))), SIGTERM);
      }
    }
    comsecd_.reset();
  }

  void Comcfg(std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {kComcfg, "--store", store_});
    Ran r = RunToEnd(args, input);
    ASSERT_EQ(r.code, 0) << args[3] << ": " << r.output;
  }

  // The hello class as an in-process server in a DllSurrogate AppID that
  // runs as nobody; alice may launch, activate and call it.
  void RegisterClass(const std::string& library, const std::string& dll_surrogate = "") {
    Comcfg({"class", "register", "--clsid", kClsid, "--appid", kAppId, "--name",
            "ComsecHello in a surrogate", "--inproc-server", library});
    Comcfg({"app", "set", kAppId, "DllSurrogate", dll_surrogate});
    Comcfg({"app", "set", kAppId, "RunAs", "unix:nobody"});
    Comcfg({"perms", "grant", "launch", "--appid", kAppId, "--principal", "AU", "--rights",
            "execute_remote,activate_remote"});
    Comcfg({"perms", "grant", "machine-launch-limit", "--principal", "AU", "--rights",
            "execute_remote,activate_remote"});
    Comcfg({"perms", "grant", "access", "--appid", kAppId, "--principal", "AU", "--rights",
            "execute_local,execute_remote"});
  }

  void StartComsecd(const std::string& surrogate = kSurrogate) {
    comsecd_ = std::make_unique<Comsecd>(std::vector<std::string>{
        kComsecd, "--store", store_, "--listen", "ncacn_ip_tcp:127.0.0.2[0]", "--listen",
        "ncalrpc:[" + dir_.path() + "/epmapper]", "--surrogate", surrogate, "--log-format",
        "json"});
    ASSERT_FALSE(comsecd_->tcp().empty()) << comsecd_->AllLines();
    // The client: NTLM as alice at PKT_INTEGRITY, impersonation allowed.
    auto rt = runtime::Runtime::Create(*runtime::RuntimeOptionsFromStore(nullptr, {}, {}),
                                       nullptr);
    ASSERT_TRUE(rt.ok()) << rt.status().ToString();
    client_rt_ = std::move(*rt);
    auth::ntlm::ClientCredentials alice;
    alice.user = "alice";
    alice.password = kPassword;
    ntlm_ = client_rt_->NtlmClient(alice);
    com::ComRuntimeOptions co;
    rpc::ClientAuth auth;
    auth.package = ntlm_.get();
    auth.level = security::AuthnLevel::kPktIntegrity;
    auth.imp_level = security::ImpLevel::kImpersonate;
    auth.credentials = std::make_shared<const auth::ntlm::NtlmCredentials>(alice);
    co.client_auth = auth;
    auto client = com::ComRuntime::Start(co);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    client_->RegisterInterface(idl::IComsecHelloInfo());
  }

  // CoCreateInstanceEx of the hello class on comsecd's machine.
  HResult Activate(ComPtr<idl::IComsecHello>* hello) {
    COSERVERINFO server{"127.0.0.2[" + comsecd_->Port() + "]"};
    MULTI_QI qi[] = {{idl::IID_IComsecHello, nullptr, S_OK}};
    const HResult hr = CoCreateInstanceEx(*client_, examples::kClsidComsecHello, nullptr,
                                          CLSCTX_REMOTE_SERVER, &server, qi);
    if (hr.Succeeded() && hello != nullptr) {
      *hello = ComPtr<idl::IComsecHello>(static_cast<idl::IComsecHello*>(qi[0].itf.get()));
    }
    return hr;
  }

  // Greet and WhoAmI as alice; the launch comsecd made.
  void ExpectServedBySurrogateAsNobody(const std::string& host) {
    ComPtr<idl::IComsecHello> hello;
    ASSERT_EQ(Activate(&hello), S_OK) << comsecd_->AllLines();
    ASSERT_TRUE(hello);
    std::optional<std::u16string> greeting;
    auto r = hello->Greet(u"surrogate", greeting);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, 0);
    // SERVER-PRINCIPAL is the host process's account: the AppID's RunAs.
    EXPECT_EQ(Utf16ToUtf8Lossy(greeting.value_or(u"")), "Hello, surrogate, from nobody");
    std::optional<std::u16string> caller;
    int32_t level = 0, imp = 0, uid = 0;
    r = hello->WhoAmI(caller, level, imp, uid);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, 0);
    const std::string who = Lower(Utf16ToUtf8Lossy(caller.value_or(u"")));
    EXPECT_TRUE(who.size() > 6 && who.substr(who.size() - 6) == "\\alice") << who;
    EXPECT_EQ(level, 5);  // RPC_C_AUTHN_LEVEL_PKT_INTEGRITY
    // Impersonating alice (mapped to nobody) inside a server running as
    // nobody: the serving thread's uid is nobody's.
    EXPECT_EQ(uid, nobody_);

    auto launched = comsecd_->Events("activation.launched");
    ASSERT_EQ(launched.size(), 1u) << comsecd_->AllLines();
    EXPECT_EQ(launched[0].value("uid", ""), std::to_string(nobody_));
    EXPECT_EQ(Lower(launched[0].value("clsid", "")), Lower(kClsid));
    EXPECT_EQ(launched[0].value("message", "").rfind("launched " + host + " as ", 0), 0u)
        << launched[0].dump();
    // The process serving it is the surrogate, with the SCM's argv.
    const std::string pid = launched[0].value("pid", "");
    std::error_code ec;
    EXPECT_EQ(std::filesystem::read_symlink("/proc/" + pid + "/exe", ec),
              std::filesystem::canonical(kSurrogate));
    std::string cmdline;
    {
      FILE* f = std::fopen(("/proc/" + pid + "/cmdline").c_str(), "r");
      ASSERT_NE(f, nullptr);
      for (int c; (c = std::fgetc(f)) != EOF;) cmdline += c == 0 ? ' ' : char(c);
      std::fclose(f);
    }
    EXPECT_EQ(cmdline, host + " --clsid " + kClsid + " --library " + kLibrary + " --embedding ");
    comsecd_->WaitForLine("serving " + kClsid);

    // A second activation: the multiple-use class object of the running
    // surrogate, no second launch.
    ComPtr<idl::IComsecHello> again;
    ASSERT_EQ(Activate(&again), S_OK);
    ASSERT_TRUE(again->Greet(u"again", greeting).ok());
    EXPECT_EQ(Utf16ToUtf8Lossy(greeting.value_or(u"")), "Hello, again, from nobody");
    EXPECT_EQ(comsecd_->Events("activation.launched").size(), 1u);
  }

  rpc::testing::TempDir dir_{0755};
  std::string store_;
  int32_t nobody_ = -1;
  std::unique_ptr<Comsecd> comsecd_;
  std::unique_ptr<runtime::Runtime> client_rt_;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_;
  std::unique_ptr<com::ComRuntime> client_;
};

// ==== Through the SCM ========================================================

TEST_F(SurrogateTest, ScmLaunchesTheDefaultSurrogateAsRunAsAndServesTheLibrarysClass) {
  RegisterClass(kLibrary);
  StartComsecd();
  ExpectServedBySurrogateAsNobody(kSurrogate);
}

TEST_F(SurrogateTest, DllSurrogateValueNamesTheHostOverComsecdsDefault) {
  RegisterClass(kLibrary, kSurrogate);
  StartComsecd("/nonexistent/comsec-surrogate");
  ExpectServedBySurrogateAsNobody(kSurrogate);
}

TEST_F(SurrogateTest, LibraryThatCannotLoadFailsTheActivation) {
  const std::string missing = dir_.path() + "/libmissing.so";
  RegisterClass(missing);
  StartComsecd();
  EXPECT_EQ(Activate(nullptr), CO_E_SERVER_EXEC_FAILURE);
  // The surrogate said why on the standard error it shares with comsecd:
  // dlerror()'s text.
  comsecd_->WaitForLine("CO_E_DLLNOTFOUND");
  EXPECT_NE(comsecd_->AllLines().find(missing + ": cannot open shared object file"),
            std::string::npos)
      << comsecd_->AllLines();
  // comsecd logs before it answers, but this process reads its log on
  // another thread: wait for the line rather than race it.
  comsecd_->WaitForLine("activation.failed");
  auto failed = comsecd_->Events("activation.failed");
  ASSERT_EQ(failed.size(), 1u) << comsecd_->AllLines();
  EXPECT_NE(failed[0].value("message", "").find("exited before registering the class"),
            std::string::npos)
      << failed[0].dump();
}

// ==== The surrogate's own failures ===========================================

TEST(Surrogate, RefusesARelativeLibraryPathAsUsage) {
  Ran r = RunToEnd({kSurrogate, "--clsid", kClsid, "--library", "libcomsec_hello_inproc.so"});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("E_INVALIDARG"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"libcomsec_hello_inproc.so\" is not an absolute path"),
            std::string::npos)
      << r.output;
}

TEST(Surrogate, LibraryThatCannotLoadExitsOneWithDlerror) {
  Ran r = RunToEnd({kSurrogate, "--clsid", kClsid, "--library", "/nonexistent/libx.so"});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("CO_E_DLLNOTFOUND"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cannot load the in-process server library /nonexistent/libx.so: "
                          "cannot open shared object file"),
            std::string::npos)
      << r.output;
}

TEST(Surrogate, LibraryWithoutDllGetClassObjectExitsOne) {
  // Any shared object the system has that is no COM server: libc.
  Dl_info info{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(&::getpid), &info), 0);
  const std::string libc = std::filesystem::canonical(info.dli_fname);
  Ran r = RunToEnd({kSurrogate, "--clsid", kClsid, "--library", libc});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("CO_E_ERRORINDLL"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(libc + " does not export DllGetClassObject"), std::string::npos)
      << r.output;
}

TEST(Surrogate, ClassTheLibraryLacksExitsOneWithTheHresult) {
  const std::string other = "{7D2A5E11-3C4B-4F6A-9B8C-1D2E3F4051FF}";
  Ran r = RunToEnd({kSurrogate, "--clsid", other, "--library", kLibrary});
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("DllGetClassObject(" + other +
                          ", IID_IClassFactory) failed with CLASS_E_CLASSNOTAVAILABLE"),
            std::string::npos)
      << r.output;
}

TEST(Surrogate, ClsidThatIsNoGuidIsUsage) {
  Ran r = RunToEnd({kSurrogate, "--clsid", "hello", "--library", kLibrary});
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("--clsid \"hello\" is not a GUID"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace comsec::activation
