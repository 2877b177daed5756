#include "comsec/activation/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <thread>

namespace comsec::activation {
namespace {

constexpr char kPath[] = "/usr/local/bin:/usr/bin:/bin";

// The steps of the child between fork and exec, as reported to the parent.
enum class Step : int32_t {
  kSignals,
  kSetsid,
  kStdio,
  kCloseFds,
  kChdir,
  kSetgroups,
  kSetresgid,
  kSetresuid,
  kVerify,
  kExec,
};

const char* StepName(Step step) {
  switch (step) {
    case Step::kSignals:
      return "resetting signals";
    case Step::kSetsid:
      return "setsid";
    case Step::kStdio:
      return "redirecting stdin, stdout and stderr";
    case Step::kCloseFds:
      return "closing inherited descriptors";
    case Step::kChdir:
      return "chdir /";
    case Step::kSetgroups:
      return "setgroups";
    case Step::kSetresgid:
      return "setresgid";
    case Step::kSetresuid:
      return "setresuid";
    case Step::kVerify:
      return "verifying the new credentials";
    case Step::kExec:
      return "exec";
  }
  return "an unknown step";
}

struct ChildError {
  int32_t step;
  int32_t err;
};

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r: the returned pointer may or may not be `buf`.
  return ::strerror_r(err, buf, sizeof buf);
}

// A descriptor at 3 or above, close-on-exec, that the child can dup2 onto
// 0-2 without clobbering another (a daemon may run with 0-2 closed, so
// open() and pipe2() can return them). Closes `fd` when it moves it.
int AboveStdio(int fd) {
  if (fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int err = errno;
  ::close(fd);
  errno = err;
  return moved;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool ValidEnvName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '=' || c == '\0') return false;
  }
  return true;
}

// Everything the child needs, built before the fork so that the child
// allocates nothing.
struct ChildPlan {
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<gid_t> groups;
  // The current groups already are `groups`: an unprivileged launcher
  // (launching as itself) may then fail setgroups with EPERM harmlessly.
  bool groups_already_set = false;
  uid_t uid = 0;
  gid_t gid = 0;
  const char* home = nullptr;
  int devnull = -1;
  int out = -1;
  int report = -1;
  // For close_range's fallback: one past the highest descriptor.
  int max_fd = 0;
};

[[noreturn]] void ChildFail(int report, Step step, int err) {
  const ChildError e{static_cast<int32_t>(step), err};
  // Nothing to do if the parent cannot hear: it sees the exit status.
  ssize_t n;
  do {
    n = ::write(report, &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  ::_exit(127);
}

int CloseRange(unsigned first, unsigned last) {
#ifdef SYS_close_range
  return static_cast<int>(::syscall(SYS_close_range, first, last, 0u));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// Closes [first, last] where last may be "everything" (UINT_MAX).
bool CloseFrom(unsigned first, unsigned last, int max_fd) {
  if (first > last) return true;
  if (CloseRange(first, last) == 0) return true;
  if (errno != ENOSYS) return false;
  for (unsigned fd = first; fd <= last && fd < static_cast<unsigned>(max_fd); ++fd) {
    ::close(static_cast<int>(fd));
  }
  return true;
}

// The child: only async-signal-safe calls (signal-safety(7)) and raw
// system calls, no allocation, no locks.
[[noreturn]] void RunChild(const ChildPlan& p) {
  // Every signal back to its default, then none blocked (the parent
  // blocked them all around the fork so no handler of its runs here).
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    if (::sigaction(sig, &dfl, nullptr) == 0) continue;
    // glibc refuses its reserved signals (32, 33: thread cancellation and
    // setxid); one ignored by whoever started comsecd would stay ignored
    // in the server across exec. The kernel's call takes them: its struct
    // is handler, flags, restorer, mask (8 bytes of mask on Linux).
    struct {
      void (*handler)(int);
      unsigned long flags;
      void (*restorer)(void);
      uint64_t mask;
    } kernel_dfl = {SIG_DFL, 0, nullptr, 0};
    (void)::syscall(SYS_rt_sigaction, sig, &kernel_dfl, nullptr, sizeof(uint64_t));
  }
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) ChildFail(p.report, Step::kSignals, errno);

  if (::setsid() < 0) ChildFail(p.report, Step::kSetsid, errno);
  if (::dup2(p.devnull, 0) < 0 || ::dup2(p.out, 1) < 0 || ::dup2(p.out, 2) < 0) {
    ChildFail(p.report, Step::kStdio, errno);
  }
  // Everything from 3 up but the report pipe (close-on-exec: exec closes it).
  const unsigned report = static_cast<unsigned>(p.report);
  if (!CloseFrom(3, report - 1, p.max_fd) || !CloseFrom(report + 1, UINT_MAX, p.max_fd)) {
    ChildFail(p.report, Step::kCloseFds, errno);
  }
  ::umask(022);
  if (::chdir("/") != 0) ChildFail(p.report, Step::kChdir, errno);

  // Groups, then gid, then uid: once the uid is switched the others can no
  // longer change. Raw calls: glibc's wrappers would try to tell the
  // parent's other threads, which do not exist here.
  if (::syscall(SYS_setgroups, p.groups.size(), p.groups.data()) != 0 &&
      !(errno == EPERM && p.groups_already_set)) {
    ChildFail(p.report, Step::kSetgroups, errno);
  }
  if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) {
    ChildFail(p.report, Step::kSetresgid, errno);
  }
  if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) {
    ChildFail(p.report, Step::kSetresuid, errno);
  }
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  if (::syscall(SYS_getresuid, &ru, &eu, &su) != 0 ||
      ::syscall(SYS_getresgid, &rg, &eg, &sg) != 0) {
    ChildFail(p.report, Step::kVerify, errno);
  }
  if (ru != p.uid || eu != p.uid || su != p.uid || rg != p.gid || eg != p.gid || sg != p.gid) {
    ChildFail(p.report, Step::kVerify, 0);
  }
  // As the user, so a home it may not enter leaves the server in "/".
  if (p.home != nullptr) (void)::chdir(p.home);

  ::execve(p.argv[0], p.argv.data(), p.envp.data());
  ChildFail(p.report, Step::kExec, errno);
}

bool SameGroups(std::vector<gid_t> want) {
  const int n = ::getgroups(0, nullptr);
  if (n < 0) return false;
  std::vector<gid_t> have(static_cast<size_t>(n));
  if (n > 0 && ::getgroups(n, have.data()) != n) return false;
  std::sort(have.begin(), have.end());
  have.erase(std::unique(have.begin(), have.end()), have.end());
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  return have == want;
}

std::string IdentityText(const LaunchIdentity& id) {
  return id.description.empty() ? "uid " + std::to_string(id.uid) : id.description;
}

}  // namespace

// ==== LaunchedProcess =========================================================

LaunchedProcess::~LaunchedProcess() {
  if (!status_) (void)Reap();
  if (pidfd_ >= 0) ::close(pidfd_);
}

bool LaunchedProcess::Reap() {
  if (status_) return true;
  int st = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &st, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = st;
    return true;
  }
  if (r < 0 && errno == ECHILD) {
    status_ = -1;  // reaped by someone else (SIGCHLD ignored)
    return true;
  }
  return false;
}

bool LaunchedProcess::Alive() { return !Reap(); }

std::optional<int> LaunchedProcess::WaitFor(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (Reap()) return status_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (pidfd_ >= 0) {
      // Readable once the process has exited.
      struct pollfd pfd{pidfd_, POLLIN, 0};
      const int ms = static_cast<int>(std::min<int64_t>(left.count(), INT_MAX));
      (void)::poll(&pfd, 1, ms);  // EINTR: loop
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
    }
  }
}

void LaunchedProcess::Kill() {
  if (status_) return;
#ifdef SYS_pidfd_send_signal
  if (pidfd_ >= 0) {
    (void)::syscall(SYS_pidfd_send_signal, pidfd_, SIGKILL, nullptr, 0u);
    return;
  }
#endif
  // Not yet reaped by us, so the pid is still this process's.
  (void)::kill(pid_, SIGKILL);
}

// ==== Launch ==================================================================

Result<std::unique_ptr<LaunchedProcess>> Launch(const LaunchSpec& spec) {
  const LaunchIdentity& id = spec.identity;
  if (spec.argv.empty()) return InvalidArgument("nothing to launch: the command line is empty");
  const std::string& path = spec.argv[0];
  if (path.empty() || path[0] != '/') {
    return InvalidArgument("cannot launch \"" + path +
                           "\": a server's executable must be an absolute path "
                           "(comsec does not search PATH)");
  }
  for (const std::string& a : spec.argv) {
    if (a.find('\0') != std::string::npos) {
      return InvalidArgument("cannot launch " + path + ": an argument holds a NUL character");
    }
  }
  for (const auto& [name, value] : spec.extra_env) {
    if (!ValidEnvName(name) || value.find('\0') != std::string::npos) {
      return InvalidArgument("cannot launch " + path + ": environment variable \"" + name +
                             "\" has an empty name, or '=' or NUL where it may not");
    }
  }
  if (id.home.find('\0') != std::string::npos || id.user_name.find('\0') != std::string::npos ||
      id.shell.find('\0') != std::string::npos) {
    return InvalidArgument("cannot launch " + path + ": the identity holds a NUL character");
  }
  if (spec.log_fd >= 0 && ::fcntl(spec.log_fd, F_GETFD) < 0) {
    return InvalidArgument("cannot launch " + path + ": log_fd " + std::to_string(spec.log_fd) +
                           " is not an open descriptor");
  }
  // Only root can become someone else; an unprivileged SCM launches as
  // itself or not at all, and says so before forking. geteuid is the
  // calling thread's (an impersonating thread is not root).
  const uid_t euid = ::geteuid();
  if (euid != 0 && id.uid != euid) {
    return Status(CO_E_RUNAS_LOGON_FAILURE,
                  "cannot launch " + path + " as " + IdentityText(id) + ": comsec runs as uid " +
                      std::to_string(euid) +
                      ", not root, and can launch servers only as itself; run comsecd as root "
                      "to launch servers as other users");
  }

  ChildPlan plan;
  plan.uid = id.uid;
  plan.gid = id.gid;
  plan.groups.assign(id.groups.begin(), id.groups.end());
  plan.groups_already_set = euid != 0 && SameGroups(plan.groups);
  // The environment: the base, then extra_env replacing by name.
  std::vector<std::pair<std::string, std::string>> env = {{"PATH", kPath}, {"HOME", id.home}};
  if (!id.user_name.empty()) {
    env.emplace_back("USER", id.user_name);
    env.emplace_back("LOGNAME", id.user_name);
  }
  if (!id.shell.empty()) env.emplace_back("SHELL", id.shell);
  for (const auto& extra : spec.extra_env) {
    auto same = std::find_if(env.begin(), env.end(),
                             [&](const auto& e) { return e.first == extra.first; });
    if (same != env.end()) {
      same->second = extra.second;
    } else {
      env.push_back(extra);
    }
  }
  for (const auto& [name, value] : env) plan.env_strings.push_back(name + "=" + value);
  for (std::string& s : plan.env_strings) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  for (const std::string& a : spec.argv) plan.argv.push_back(const_cast<char*>(a.c_str()));
  plan.argv.push_back(nullptr);
  plan.home = (!id.home.empty() && id.home != "/") ? id.home.c_str() : nullptr;
  struct rlimit nofile{};
  plan.max_fd = (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
                    ? static_cast<int>(std::min<rlim_t>(nofile.rlim_cur, INT_MAX))
                    : 65536;

  const std::string failed = "could not launch " + path + " as " + IdentityText(id) + ": ";
  auto SystemError = [&](const char* what) {
    return Status(CO_E_SERVER_EXEC_FAILURE, failed + what + ": " + ErrnoText(errno));
  };
  Fd devnull(AboveStdio(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (devnull.get() < 0) return SystemError("opening /dev/null");
  Fd log_copy;
  if (spec.log_fd >= 0) {
    log_copy.reset(::fcntl(spec.log_fd, F_DUPFD_CLOEXEC, 3));
    if (log_copy.get() < 0) return SystemError("duplicating log_fd");
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return SystemError("pipe2");
  Fd report_read(AboveStdio(pipe_fds[0]));
  Fd report_write(AboveStdio(pipe_fds[1]));
  if (report_read.get() < 0 || report_write.get() < 0) return SystemError("pipe2");
  plan.devnull = devnull.get();
  plan.out = log_copy.get() >= 0 ? log_copy.get() : devnull.get();
  plan.report = report_write.get();

  // No signal handler of this process may run in the child before it has
  // reset them: block all around the fork.
  sigset_t all, saved;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(plan);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (pid < 0) {
    errno = fork_errno;
    return SystemError("fork");
  }
  report_write.reset();

  ChildError e{};
  ssize_t n;
  do {
    n = ::read(report_read.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  if (n != 0) {
    // The child failed before or at exec and has exited (or is about to):
    // reap it.
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (n != static_cast<ssize_t>(sizeof e)) {
      return Status(CO_E_SERVER_EXEC_FAILURE,
                    failed + "the child's report was cut short (" + std::to_string(n) + " bytes)");
    }
    const Step step = static_cast<Step>(e.step);
    if (step == Step::kVerify && e.err == 0) {
      return Status(CO_E_SERVER_EXEC_FAILURE,
                    failed + StepName(step) + ": the kernel did not set uid " +
                        std::to_string(id.uid) + " and gid " + std::to_string(id.gid));
    }
    return Status(CO_E_SERVER_EXEC_FAILURE,
                  failed + StepName(step) + ": " + ErrnoText(e.err));
  }
  // exec succeeded (the pipe closed on exec). The child is not reaped, so
  // its pid cannot have been reused.
#ifdef SYS_pidfd_open
  const long pidfd = ::syscall(SYS_pidfd_open, pid, 0u);
#else
  const long pidfd = -1;
#endif
  return std::unique_ptr<LaunchedProcess>(
      new LaunchedProcess(pid, pidfd >= 0 ? static_cast<int>(pidfd) : -1));
}

}  // namespace comsec::activation
