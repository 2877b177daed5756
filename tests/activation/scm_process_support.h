// What scm_process_test.cc needs of real processes: running a tool to its
// end (comcfg, tshark), a daemon whose "listening on" lines are read and
// whose standard error goes to a file (comsecd, dumpcap), the children a
// process has and the ids /proc/<pid>/status shows, and the JSON lines of
// an audit trail. Plain POSIX, no COM: the fixture above it is in the test.
//
// Thread-safety: each object is used by one thread; RunTool may be called
// from a process with other threads running (the child only dup2s, opens
// and execs).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace comsec::activation::testing {

// argv as execv wants it; the strings must outlive the result.
inline std::vector<char*> ExecArgv(std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (std::string& a : argv) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

struct ToolResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string output;  // stdout and stderr, interleaved
};

inline int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv[0] (an absolute path) with `input` on its stdin, to its end.
inline ToolResult RunTool(std::vector<std::string> argv,
                          const std::string& input = "") {
  ToolResult r;
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return r;
  if (::pipe2(out, O_CLOEXEC) != 0) return r;
  std::vector<char*> args = ExecArgv(argv);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;)
    r.output.append(buf, n);
  ::close(out[0]);
  int status = 0;
  if (pid > 0 && ::waitpid(pid, &status, 0) == pid)
    r.exit_code = ExitCodeOf(status);
  return r;
}

// A long-running process: stdout read line by line, stderr appended to a
// file, stopped (signal, then waited for) when destroyed.
class Daemon {
 public:
  Daemon(std::vector<std::string> argv, const std::string& stderr_path) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    std::vector<char*> args = ExecArgv(argv);
    const std::string err = stderr_path;
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(out[1], 1);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(e, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
  }
  ~Daemon() { Stop(SIGTERM); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }

  // The next line of its stdout, without the newline; nullopt at its end
  // or when none comes within `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (stdout_ < 0 || left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[1024];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) {
        ::close(stdout_);
        stdout_ = -1;
        return std::nullopt;
      }
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

  // Sends `sig` and waits; its exit code (128 + signal when killed), -1
  // when it was stopped before.
  int Stop(int sig) {
    if (stdout_ >= 0) ::close(stdout_);
    stdout_ = -1;
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    const int code =
        ::waitpid(pid_, &status, 0) == pid_ ? ExitCodeOf(status) : -1;
    pid_ = -1;
    return code;
  }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string buffer_;
};

// The processes whose parent is `pid` (/proc/<n>/stat's fourth field).
inline std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* e = ::readdir(proc)) {
    const pid_t n = static_cast<pid_t>(std::atoi(e->d_name));
    if (n <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)),
                     std::istreambuf_iterator<char>());
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const size_t close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid && state != "Z") out.push_back(n);
  }
  ::closedir(proc);
  return out;
}

inline bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close != std::string::npos && text.compare(close + 1, 3, " Z ") != 0;
}

// The "Uid:" and "Gid:" lines of /proc/<pid>/status: real, effective,
// saved and filesystem ids; empty when the process is gone.
struct ProcIds {
  std::vector<uint32_t> uid, gid;
};
inline ProcIds ReadProcIds(pid_t pid) {
  ProcIds ids;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    std::vector<uint32_t>* into = line.rfind("Uid:", 0) == 0   ? &ids.uid
                                  : line.rfind("Gid:", 0) == 0 ? &ids.gid
                                                               : nullptr;
    if (into == nullptr) continue;
    std::istringstream fields(line.substr(4));
    for (uint32_t v; fields >> v;) into->push_back(v);
  }
  return ids;
}

// Removes the ncalrpc sockets process `pid` (running as `uid`) left in its
// COM runtime's default directory (com/local_transport.h,
// /tmp/comsec-<euid>/com-<pid>-...) when it was killed.
inline void RemoveLocalEndpointsOf(pid_t pid, uint32_t uid) {
  const std::string dir = "/tmp/comsec-" + std::to_string(uid);
  const std::string prefix = "com-" + std::to_string(pid) + "-";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> doomed;
  while (dirent* e = ::readdir(d)) {
    if (std::string(e->d_name).rfind(prefix, 0) == 0)
      doomed.push_back(dir + "/" + e->d_name);
  }
  ::closedir(d);
  for (const std::string& path : doomed) ::unlink(path.c_str());
}

// Every line of a JSON-lines file that parses (a line being written is
// skipped).
inline std::vector<nlohmann::json> ReadJsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace comsec::activation::testing
