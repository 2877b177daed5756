// Launch (activation/launcher.h): real processes started as nobody, daemon
// and an As-Activator identity, each reporting through launch_probe.cc what
// it got; compared exactly (ids, groups, environment, descriptors). Then the
// refusals and failures with their exact HRESULT and message.
//
// Runs as root (as in CI). The probe is copied into a temporary directory
// every user can enter, so the build tree's permissions do not matter.
#include "comsec/activation/launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "comsec/security/unix_identity.h"

namespace comsec::activation {
namespace {

constexpr auto kPatience = std::chrono::seconds(60);

// What launch_probe wrote: its keys, each with every value given for it.
using Report = std::multimap<std::string, std::string>;

Report ReadReport(const std::string& path) {
  Report r;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const size_t space = line.find(' ');
    r.emplace(line.substr(0, space), space == std::string::npos ? "" : line.substr(space + 1));
  }
  return r;
}

std::vector<std::string> All(const Report& r, const std::string& key) {
  std::vector<std::string> out;
  for (auto [it, end] = r.equal_range(key); it != end; ++it) out.push_back(it->second);
  return out;
}

std::string One(const Report& r, const std::string& key) {
  const auto all = All(r, key);
  EXPECT_EQ(all.size(), 1u) << key;
  return all.empty() ? "" : all[0];
}

std::string Sorted(std::vector<uint32_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string s;
  for (uint32_t x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
  return s;
}

std::string SortedGroups(const std::string& line) {
  std::istringstream in(line);
  std::vector<uint32_t> v;
  for (uint32_t x; in >> x;) v.push_back(x);
  return Sorted(v);
}

class Launcher : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "launcher_test runs as root";
    char tmpl[] = "/tmp/comsec-launch-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Every launched identity writes its report here.
    ASSERT_EQ(::chmod(dir_.c_str(), 01777), 0);
    probe_ = dir_ + "/launch_probe";
    std::filesystem::copy_file(COMSEC_LAUNCH_PROBE, probe_);
    ASSERT_EQ(::chmod(probe_.c_str(), 0755), 0);
    // Neither may reach the server: an inherited variable and a descriptor
    // without close-on-exec.
    ::setenv("COMSEC_LAUNCH_MARKER", "must-not-leak", 1);
    leaked_fd_ = ::open("/dev/null", O_RDONLY);
    ASSERT_GE(leaked_fd_, 3);
  }
  void TearDown() override {
    ::close(leaked_fd_);
    ::unsetenv("COMSEC_LAUNCH_MARKER");
    std::filesystem::remove_all(dir_);
  }

  LaunchIdentity Identity(const std::string& run_as) {
    auto id = ResolveRunAs(run_as, RunAsContext{});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : LaunchIdentity{};
  }

  // Launches the probe as `spec` (argv filled in) and waits for it.
  Report RunProbe(LaunchSpec spec, const std::vector<std::string>& args = {}) {
    const std::string out = dir_ + "/report-" + std::to_string(++runs_);
    spec.argv = {probe_, out};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    auto p = Launch(spec);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return {};
    EXPECT_GE((*p)->pidfd(), 0);
    const std::optional<int> status = (*p)->WaitFor(kPatience);
    EXPECT_TRUE(status.has_value());
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 7);
    EXPECT_FALSE((*p)->Alive());
    return ReadReport(out);
  }

  // The checks every launch must pass, whoever it runs as.
  void ExpectClean(const Report& r, const LaunchIdentity& id) {
    const std::string uid = std::to_string(id.uid);
    const std::string gid = std::to_string(id.gid);
    EXPECT_EQ(One(r, "uid"), uid + " " + uid + " " + uid);
    EXPECT_EQ(One(r, "gid"), gid + " " + gid + " " + gid);
    EXPECT_EQ(SortedGroups(One(r, "groups")), Sorted(id.groups));
    EXPECT_EQ(All(r, "fd"), std::vector<std::string>({"0", "1", "2"}));
    EXPECT_EQ(One(r, "stdin"), "/dev/null");
    EXPECT_EQ(One(r, "sid_is_pid"), "1");
    EXPECT_EQ(One(r, "umask"), "022");
    EXPECT_EQ(One(r, "sigblk"), "0000000000000000");
    EXPECT_EQ(One(r, "sigign"), "0000000000000000");
  }

  std::string dir_;
  std::string probe_;
  int leaked_fd_ = -1;
  int runs_ = 0;
};

TEST_F(Launcher, RootToNobody) {
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  const Report r = RunProbe(spec, {"a b", "$HOME", "*"});
  ExpectClean(r, spec.identity);
  EXPECT_EQ(One(r, "uid"), "65534 65534 65534");
  EXPECT_EQ(One(r, "gid"), "65534 65534 65534");
  // nobody's home (/nonexistent) does not exist.
  EXPECT_EQ(One(r, "cwd"), "/");
  EXPECT_EQ(All(r, "arg"), std::vector<std::string>({"a b", "$HOME", "*"}));
  EXPECT_EQ(All(r, "env"),
            std::vector<std::string>({"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/nonexistent",
                                      "USER=nobody", "LOGNAME=nobody",
                                      "SHELL=/usr/sbin/nologin"}));
}

TEST_F(Launcher, RootToDaemonWithGroups) {
  LaunchSpec spec;
  spec.identity = Identity("nt authority\\localservice");
  ASSERT_EQ(spec.identity.uid, 1u);
  spec.identity.groups.push_back(4242);
  spec.identity.groups.push_back(65534);
  spec.extra_env = {{"COMSEC_CLSID", "{0c7e4a1b-6d2f-4b8e-9a3c-5f1e2d7b8c90}"},
                    {"PATH", "/opt/srv/bin"}};
  const Report r = RunProbe(spec);
  ExpectClean(r, spec.identity);
  EXPECT_EQ(SortedGroups(One(r, "groups")), "1 4242 65534");
  // daemon's home exists and daemon may enter it.
  EXPECT_EQ(One(r, "cwd"), "/usr/sbin");
  // extra_env replaces PATH in place and adds the rest.
  EXPECT_EQ(All(r, "env"),
            std::vector<std::string>({"PATH=/opt/srv/bin", "HOME=/usr/sbin", "USER=daemon",
                                      "LOGNAME=daemon", "SHELL=/usr/sbin/nologin",
                                      "COMSEC_CLSID={0c7e4a1b-6d2f-4b8e-9a3c-5f1e2d7b8c90}"}));
}

TEST_F(Launcher, AsActivatorFromAToken) {
  // A remote account mapped by number: ids with no passwd entry.
  security::Token token(*security::Sid::Parse("S-1-5-21-1-2-3-1001"),
                        security::LogonKind::kNetwork);
  security::UnixIdentity mapped;
  mapped.uid = 4321987;
  mapped.gids = {4321988, 100};
  mapped.group_names = {"", ""};
  token.SetUnixIdentity(mapped);
  RunAsContext ctx;
  ctx.activator = &token;
  auto id = ResolveRunAs(std::nullopt, ctx);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  LaunchSpec spec;
  spec.identity = *id;
  const Report r = RunProbe(spec);
  ExpectClean(r, spec.identity);
  EXPECT_EQ(One(r, "uid"), "4321987 4321987 4321987");
  EXPECT_EQ(One(r, "gid"), "4321988 4321988 4321988");
  EXPECT_EQ(SortedGroups(One(r, "groups")), "100 4321988");
  EXPECT_EQ(One(r, "cwd"), "/");
  EXPECT_EQ(All(r, "env"),
            std::vector<std::string>({"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"}));
}

TEST_F(Launcher, AsActivatorLocalCaller) {
  auto nobody = security::LookupUnixUserByName("nobody");
  ASSERT_TRUE(nobody.ok());
  const security::Token token = security::TokenForUnixIdentity(*nobody, {});
  RunAsContext ctx;
  ctx.activator = &token;
  auto id = ResolveRunAs(std::nullopt, ctx);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  LaunchSpec spec;
  spec.identity = *id;
  const Report r = RunProbe(spec);
  ExpectClean(r, spec.identity);
  EXPECT_EQ(One(r, "uid"), "65534 65534 65534");
}

TEST_F(Launcher, OutputGoesToLogFd) {
  const std::string log = dir_ + "/server.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  spec.log_fd = fd;
  const Report r = RunProbe(spec);
  ::close(fd);
  ExpectClean(r, spec.identity);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "probe stdout\nprobe stderr\n");
}

TEST_F(Launcher, SurvivesClosedStdio) {
  // A daemon may run with 0-2 closed: descriptors Launch opens then land
  // there and must not be clobbered by the child's dup2s.
  const int saved = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
  ASSERT_GE(saved, 0);
  ::close(0);
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  const Report r = RunProbe(spec);
  ASSERT_EQ(::dup2(saved, 0), 0);
  ::close(saved);
  ExpectClean(r, spec.identity);
}

TEST_F(Launcher, WaitAliveKill) {
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  spec.argv = {probe_, dir_ + "/sleeping", "sleep"};
  auto p = Launch(spec);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->Alive());
  EXPECT_EQ((*p)->WaitFor(std::chrono::milliseconds(0)), std::nullopt);
  (*p)->Kill();
  const std::optional<int> status = (*p)->WaitFor(kPatience);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  EXPECT_FALSE((*p)->Alive());
  EXPECT_EQ((*p)->wait_status(), status);
  (*p)->Kill();  // reaped: nothing
}

TEST_F(Launcher, FromManyThreadsAtOnce) {
  // Launch from a multithreaded process: other threads allocate and hold
  // locks while one forks.
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  const LaunchIdentity id = Identity("unix:nobody");
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        LaunchSpec spec;
        spec.identity = id;
        spec.argv = {probe_, dir_ + "/thread-" + std::to_string(t) + "-" + std::to_string(i)};
        auto p = Launch(spec);
        if (!p.ok()) return;
        auto status = (*p)->WaitFor(kPatience);
        if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 7) return;
      }
      ok[static_cast<size_t>(t)] = 1;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, std::vector<int>(kThreads, 1));
}

// ==== Refusals and failures ===================================================

TEST_F(Launcher, MissingBinaryIsAnExecFailure) {
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  spec.argv = {dir_ + "/no-such-server", "-Embedding"};
  auto p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), CO_E_SERVER_EXEC_FAILURE);
  EXPECT_EQ(p.status().message(), "could not launch " + dir_ +
                                      "/no-such-server as unix:nobody (uid 65534): exec: No such "
                                      "file or directory");
}

TEST_F(Launcher, NonExecutableIsAnExecFailure) {
  const std::string path = dir_ + "/not-executable";
  std::ofstream(path) << "#!/bin/sh\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  spec.argv = {path};
  auto p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), CO_E_SERVER_EXEC_FAILURE);
  EXPECT_EQ(p.status().message(), "could not launch " + path +
                                      " as unix:nobody (uid 65534): exec: Permission denied");
}

TEST_F(Launcher, RelativePathIsRefused) {
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  for (const char* path : {"launch_probe", "./launch_probe", ""}) {
    spec.argv = {path};
    auto p = Launch(spec);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), E_INVALIDARG);
    EXPECT_EQ(p.status().message(), "cannot launch \"" + std::string(path) +
                                        "\": a server's executable must be an absolute path "
                                        "(comsec does not search PATH)");
  }
  spec.argv.clear();
  auto p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), E_INVALIDARG);
  EXPECT_EQ(p.status().message(), "nothing to launch: the command line is empty");
}

TEST_F(Launcher, BadArgumentsAreRefused) {
  using namespace std::string_literals;
  LaunchSpec spec;
  spec.identity = Identity("unix:nobody");
  spec.argv = {probe_, "a\0b"s};
  auto p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), E_INVALIDARG);
  EXPECT_EQ(p.status().message(),
            "cannot launch " + probe_ + ": an argument holds a NUL character");
  spec.argv = {probe_};
  for (const std::string& name : {"A=B"s, ""s, "X\0Y"s}) {
    spec.extra_env = {{name, "v"}};
    p = Launch(spec);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), E_INVALIDARG);
  }
  spec.extra_env = {{"NAME", "v\0w"s}};
  p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "cannot launch " + probe_ +
                ": environment variable \"NAME\" has an empty name, or '=' or NUL where it may "
                "not");
  spec.extra_env.clear();
  spec.log_fd = 987654;
  p = Launch(spec);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), E_INVALIDARG);
  EXPECT_EQ(p.status().message(),
            "cannot launch " + probe_ + ": log_fd 987654 is not an open descriptor");
}

// Runs `body` in a forked child that has dropped to nobody (a non-root
// SCM); its exit status says whether every expectation held.
template <typename Body>
void AsUnprivileged(Body body) {
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const gid_t nogroup = 65534;
    if (::setgroups(1, &nogroup) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(Launcher, UnprivilegedCannotLaunchAsAnotherUser) {
  const LaunchIdentity daemon = Identity("unix:daemon");
  const std::string probe = probe_;
  AsUnprivileged([&] {
    LaunchSpec spec;
    spec.identity = daemon;
    spec.argv = {probe, "/dev/null"};
    auto p = Launch(spec);
    if (p.ok()) return 1;
    if (p.status().code() != CO_E_RUNAS_LOGON_FAILURE) return 2;
    if (p.status().message() !=
        "cannot launch " + probe +
            " as unix:daemon (uid 1): comsec runs as uid 65534, not root, and can launch "
            "servers only as itself; run comsecd as root to launch servers as other users") {
      return 3;
    }
    return 0;
  });
}

TEST_F(Launcher, UnprivilegedLaunchesAsItself) {
  const LaunchIdentity nobody = Identity("unix:nobody");
  const std::string probe = probe_;
  const std::string out = dir_ + "/unprivileged";
  AsUnprivileged([&] {
    LaunchSpec spec;
    spec.identity = nobody;
    spec.identity.groups = {65534};  // what the forked child holds
    spec.argv = {probe, out};
    auto p = Launch(spec);
    if (!p.ok()) return 1;
    auto status = (*p)->WaitFor(kPatience);
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 7 ? 0 : 2;
  });
  EXPECT_EQ(One(ReadReport(out), "uid"), "65534 65534 65534");
}

TEST_F(Launcher, ChildStepFailureIsReported) {
  // Unprivileged, asking for groups it does not hold: setgroups fails in
  // the child, which reports the step and errno.
  const LaunchIdentity nobody = Identity("unix:nobody");
  const std::string probe = probe_;
  AsUnprivileged([&] {
    LaunchSpec spec;
    spec.identity = nobody;
    spec.identity.groups = {65534, 4242};
    spec.argv = {probe, "/dev/null"};
    auto p = Launch(spec);
    if (p.ok()) return 1;
    if (p.status().code() != CO_E_SERVER_EXEC_FAILURE) return 2;
    if (p.status().message() !=
        "could not launch " + probe +
            " as unix:nobody (uid 65534): setgroups: Operation not permitted") {
      return 3;
    }
    return 0;
  });
}

}  // namespace
}  // namespace comsec::activation
