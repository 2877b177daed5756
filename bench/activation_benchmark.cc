// Issue 15: what activation costs, against baselines of the same run.
//
//   BM_Activation_Running   CoCreateInstanceEx of ComsecHello from a running
//                           multiple-use comsec-hello-server, through a real
//                           comsecd over ncalrpc (the SCM's checks, its call
//                           into the server's activator, the OBJREF
//                           unmarshaled), then Release
//   BM_Baseline_NullOrpcCall one IComsecHello::Greet on an activated object
//                           (the goal: activation <= 10x this)
//   BM_Activation_ColdLaunch the same activation with no server running:
//                           comsecd starts one and waits for its class
//                           object (the server is killed between iterations)
//   BM_Baseline_ForkExec    fork + exec + wait of the same binary (--help),
//                           what any launch costs at least
//
// comsecd and the server run as this process's user (root on the benchmark
// machines): the built-in launch and access permissions admit
// Administrators, so the store needs nothing but the class.
#include <dirent.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include "comsec/activation/clsctx.h"
#include "comsec/activation/co_create_instance.h"
#include "comsec/com/com_runtime.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"
#include "hello.h"
#include "hello_object.h"

namespace {

using namespace comsec;

constexpr char kComsecd[] = COMSEC_COMSECD;
constexpr char kHelloServer[] = COMSEC_HELLO_SERVER;

// The processes running `path` (by /proc/PID/cmdline's first word).
void KillAll(const std::string& path) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
    std::string first;
    std::getline(f, first, '\0');
    if (first == path) kill(pid, SIGKILL);
  }
  closedir(proc);
}

// comsecd on a store with the hello class registered, a client runtime.
class Fixture {
 public:
  static Fixture& Get() {
    static Fixture* f = new Fixture();
    return *f;
  }
  com::ComRuntime& rt() { return **rt_; }
  const std::string& server() const { return server_; }
  const std::string& scm() const { return scm_; }
  bool ok() const { return ok_; }

  Result<ComPtr<idl::IComsecHello>> Activate() {
    activation::MULTI_QI qi[1];
    qi[0].iid = idl::IID_IComsecHello;
    activation::ActivationClientOptions how;
    how.local_scm = scm_;
    COMSEC_ASSIGN_OR_RETURN(HResult hr, activation::CreateInstanceEx(
                                            rt(), examples::kClsidComsecHello, nullptr,
                                            activation::CLSCTX_LOCAL_SERVER, nullptr, qi, how));
    (void)hr;
    if (qi[0].hr.Failed()) return Status(qi[0].hr, "no IComsecHello");
    return ComPtr<idl::IComsecHello>::Adopt(static_cast<idl::IComsecHello*>(qi[0].itf.Detach()));
  }

 private:
  Fixture() {
    char dir_template[] = "/tmp/comsec-activation-bench-XXXXXX";
    dir_ = mkdtemp(dir_template);
    chmod(dir_.c_str(), 0755);
    // A copy: the cold-launch benchmark kills exactly these processes.
    server_ = dir_ + "/comsec-hello-server";
    std::ifstream in(kHelloServer, std::ios::binary);
    std::ofstream(server_, std::ios::binary) << in.rdbuf();
    chmod(server_.c_str(), 0755);
    const std::string store = dir_ + "/store.db";
    {
      auto s = config::Store::Open(store);
      if (!s.ok()) return;
      const Guid clsid = examples::kClsidComsecHello;
      const config::KeyPath key = config::ClsidKeyPath(clsid);
      (void)(*s)->SetValue(key, config::RegValue::String(
                                    "AppID", examples::kAppIdComsecHello.ToRegistryString()));
      (void)(*s)->SetValue(key.Child("LocalServer32"),
                           config::RegValue::String("", server_ + " --embedding"));
      (void)(*s)->SetValue(config::AppIdKeyPath(examples::kAppIdComsecHello),
                           config::RegValue::String("", "ComsecHello"));
    }
    scm_ = "ncalrpc:[" + dir_ + "/epm]";
    std::string log = dir_ + "/comsecd.log";
    const pid_t child = fork();
    if (child == 0) {
      FILE* f = freopen(log.c_str(), "w", stderr);
      (void)f;
      FILE* o = freopen("/dev/null", "w", stdout);
      (void)o;
      execl(kComsecd, kComsecd, "--store", store.c_str(), "--listen",
            "ncacn_ip_tcp:127.0.0.1[0]", "--listen", scm_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    comsecd_ = child;
    for (int i = 0; i < 100 && access((dir_ + "/epm").c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    com::ComRuntimeOptions options;
    options.mta_threads = 2;
    rt_ = com::ComRuntime::Start(options);
    if (!rt_.ok()) return;
    (*rt_)->RegisterInterface(idl::IComsecHelloInfo());
    ok_ = true;
    // The fixture lives until exit; comsecd and the servers it launched
    // must not outlive the benchmark.
    std::atexit([] { Get().Stop(); });
  }
  ~Fixture() = delete;

  void Stop() {
    KillAll(server_);
    if (comsecd_ > 0) {
      kill(comsecd_, SIGTERM);
      waitpid(comsecd_, nullptr, 0);
      comsecd_ = -1;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string dir_, server_, scm_;
  pid_t comsecd_ = -1;
  Result<std::unique_ptr<com::ComRuntime>> rt_ = Status(E_FAIL, "not started");
  bool ok_ = false;
};

void BM_Activation_Running(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  if (!f.ok()) return state.SkipWithError("no comsecd");
  auto warm = f.Activate();  // the server runs from here on
  if (!warm.ok()) return state.SkipWithError(warm.status().ToString().c_str());
  for (auto _ : state) {
    auto hello = f.Activate();
    if (!hello.ok()) return state.SkipWithError(hello.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Activation_Running)->UseRealTime();

void BM_Baseline_NullOrpcCall(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  if (!f.ok()) return state.SkipWithError("no comsecd");
  auto hello = f.Activate();
  if (!hello.ok()) return state.SkipWithError(hello.status().ToString().c_str());
  for (auto _ : state) {
    std::optional<std::u16string> greeting;
    auto r = (*hello)->Greet(u"b", greeting);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_NullOrpcCall)->UseRealTime();

void BM_Activation_ColdLaunch(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  if (!f.ok()) return state.SkipWithError("no comsecd");
  for (auto _ : state) {
    state.PauseTiming();
    KillAll(f.server());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    state.ResumeTiming();
    auto hello = f.Activate();
    if (!hello.ok()) return state.SkipWithError(hello.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Activation_ColdLaunch)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(20);

void BM_Baseline_ForkExec(benchmark::State& state) {
  Fixture& f = Fixture::Get();
  const std::string path = f.server();
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execl(path.c_str(), path.c_str(), "--help", static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid < 0) return state.SkipWithError("fork failed");
    int status = 0;
    waitpid(pid, &status, 0);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_ForkExec)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace
