// Starting a COM server process as its RunAs identity (issue 15,
// "Launching"; R127, R128): the SCM's CreateProcessAsUser. The command
// line comes split (activation/command_line.h) and the identity resolved
// (activation/run_as.h); Launch only executes.
//
// What the server gets, and nothing else of the launching process:
//   * argv exactly as given, executed with execve: never through a shell,
//     no PATH search (argv[0] must be an absolute path).
//   * Its own session (setsid), so it is no one's job and has no
//     controlling terminal; umask 022; every signal at its default and
//     none blocked.
//   * The identity: supplementary groups, then gid, then uid (each real,
//     effective and saved), checked with getresuid/getresgid before exec.
//   * The environment PATH=/usr/local/bin:/usr/bin:/bin, HOME, USER,
//     LOGNAME and SHELL from the identity (USER and LOGNAME only when it
//     has a name, SHELL when its passwd entry names one), then
//     `extra_env`, whose entries replace those of the same name. No
//     variable of the launching process is inherited.
//   * stdin from /dev/null; stdout and stderr to `log_fd`, else /dev/null.
//     Every other descriptor is closed (close_range).
//   * Its working directory: the identity's home when the identity can
//     enter it, else "/".
//
// Failures:
//   E_INVALIDARG              argv empty, argv[0] not absolute, a NUL in an
//                             argument or variable, a bad variable name, a
//                             log_fd that is not open.
//   CO_E_RUNAS_LOGON_FAILURE  the launching thread is not root and the
//                             identity is not its own uid: nothing forked.
//   CO_E_SERVER_EXEC_FAILURE  fork failed, or a step in the child did:
//                             "could not launch /opt/srv as unix:nobody
//                             (uid 65534): setresuid: Operation not
//                             permitted", "...: exec: No such file or
//                             directory". The child reports the step and
//                             errno through a close-on-exec pipe and has
//                             been reaped when Launch returns.
//
// Thread-safety: Launch may be called from any thread of a multithreaded
// process: the child runs only async-signal-safe calls between fork and
// exec (argv, environment and groups are built before the fork) and
// changes its credentials with the raw system calls. Call it from a thread
// that is not impersonating (security/thread_impersonation.h): the child
// starts with the calling thread's credentials. A LaunchedProcess is used
// by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "comsec/activation/run_as.h"
#include "comsec/base/result.h"

namespace comsec::activation {

struct LaunchSpec {
  std::vector<std::string> argv;
  LaunchIdentity identity;
  std::vector<std::pair<std::string, std::string>> extra_env;
  // The server's stdout and stderr; -1 for /dev/null. Not closed by Launch.
  int log_fd = -1;
};

// A server Launch started. Owns its pidfd and the duty to reap it.
class LaunchedProcess {
 public:
  // Reaps the process if it has exited; never kills it. A server still
  // running is left running (the SCM decides its lifetime), and becomes a
  // zombie of this process when it exits.
  ~LaunchedProcess();
  LaunchedProcess(const LaunchedProcess&) = delete;
  LaunchedProcess& operator=(const LaunchedProcess&) = delete;

  pid_t pid() const { return pid_; }
  // -1 when the kernel has no pidfd_open (before Linux 5.3).
  int pidfd() const { return pidfd_; }

  // False once the process has exited (it is then reaped). Never blocks.
  bool Alive();
  // Waits up to `timeout` for the process to exit; its wait status (as
  // waitpid reports it: WIFEXITED, WEXITSTATUS, WTERMSIG), or nullopt if it
  // is still running. The status is -1 when someone else reaped the
  // process (SIGCHLD ignored).
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  // Sends SIGKILL to the process (through its pidfd, so never to a reused
  // pid); does not wait. Nothing once it has been reaped.
  void Kill();
  // The wait status once the process has been reaped.
  std::optional<int> wait_status() const { return status_; }

 private:
  friend Result<std::unique_ptr<LaunchedProcess>> Launch(const LaunchSpec& spec);
  LaunchedProcess(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  // One waitpid(WNOHANG); true when the process has been reaped.
  bool Reap();

  pid_t pid_;
  int pidfd_;
  std::optional<int> status_;
};

// REQUIRES: spec.identity resolved by ResolveRunAs (or equivalent).
Result<std::unique_ptr<LaunchedProcess>> Launch(const LaunchSpec& spec);

}  // namespace comsec::activation
