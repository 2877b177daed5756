// The cloaking tests' peer processes (cloaking_peer.cc): started with
// their arguments, read and stopped; shared by cloaking_test.cc and
// cloaking_kerberos_test.cc. REQUIRES: CLOAKING_PEER, the peer's path.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace comsec::com::testing {

// `options`, then the user, then `args`.
inline std::vector<std::string> Args(std::vector<std::string> options,
                                     const char* user,
                                     std::vector<std::string> args) {
  options.push_back(user);
  options.insert(options.end(), args.begin(), args.end());
  return options;
}

// One cloaking_peer process: its first stdout line read, its stderr kept
// in a file, stopped by closing its stdin.
class Peer {
 public:
  explicit Peer(std::vector<std::string> args) {
    static int counter = 0;
    err_path_ = ::testing::TempDir() + "cloaking_peer_" +
                std::to_string(::getpid()) + "_" + std::to_string(counter++) +
                ".err";
    int in[2], out[2];
    // Close-on-exec: later peers must not hold this one's stdin open.
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      int err = ::open(err_path_.c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(err, 2);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> argv;
      std::string path = CLOAKING_PEER;
      argv.push_back(path.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(path.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = ::fdopen(out[0], "r");
  }
  ~Peer() { Wait(); }

  std::string ReadLine() {
    char buf[8192];
    if (stdout_ == nullptr || std::fgets(buf, sizeof buf, stdout_) == nullptr)
      return "";
    std::string line = buf;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }
  // Closes stdin and waits; the exit status.
  int Wait() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
    }
    if (stdout_ != nullptr) ::fclose(stdout_);
    stdout_ = nullptr;
    return code_;
  }
  std::string Stderr() const {
    std::ifstream f(err_path_);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  FILE* stdout_ = nullptr;
  int code_ = -1;
  std::string err_path_;
};

// A serving peer and its OBJREF; `options` go before the user
// (cloaking_peer's --krb-* options).
struct Server {
  Server(const char* user, uint32_t capabilities,
         std::vector<std::string> options = {})
      : peer(Args(std::move(options), user,
                  {"serve", std::to_string(capabilities)})) {
    const std::string line = peer.ReadLine();
    if (line.rfind("objref ", 0) == 0) objref = line.substr(7);
  }
  Peer peer;
  std::string objref;
};

// One call from A's process: its one output line (and exit status).
inline std::string Call(std::vector<std::string> options, const char* user,
                        std::vector<std::string> args, int* code = nullptr) {
  Peer a(Args(std::move(options), user, std::move(args)));
  std::string line = a.ReadLine();
  const int c = a.Wait();
  if (code != nullptr) *code = c;
  if (c != 0) line += " (exit " + std::to_string(c) + ": " + a.Stderr() + ")";
  return line;
}

inline std::string Call(const char* user, std::vector<std::string> args,
                        int* code = nullptr) {
  return Call({}, user, std::move(args), code);
}

}  // namespace comsec::com::testing
