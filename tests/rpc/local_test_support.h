// Helpers for tests of ncalrpc endpoints: private temporary directories (so
// parallel runs never share a socket path) and run_as_helper, which acts as
// another local user.
#pragma once

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace comsec::rpc::testing {

inline constexpr uid_t kNobodyUid = 65534;
inline constexpr gid_t kNogroupGid = 65534;

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  // `mode` is set explicitly: 0755 lets other users reach sockets inside.
  explicit TempDir(mode_t mode = 0700) {
    std::string tmpl = "/tmp/comsec-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    EXPECT_FALSE(path_.empty());
    ::chmod(path_.c_str(), mode);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string HelperPath() { return COMSEC_BINARY_DIR "/tests/rpc/run_as_helper"; }

// Runs run_as_helper as uid/gid with `args` and returns its first line.
inline std::string RunHelperAs(uid_t uid, gid_t gid, const std::string& args) {
  std::string cmd = HelperPath() + " " + std::to_string(uid) + " " + std::to_string(gid) +
                    " " + args + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return "popen failed";
  char line[512] = {};
  std::string out = std::fgets(line, sizeof line, f) ? line : "";
  ::pclose(f);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// run_as_helper serving BINDING as uid/gid until destroyed.
class HelperServer {
 public:
  HelperServer(uid_t uid, gid_t gid, const std::string& binding) {
    std::string cmd = "exec " + HelperPath() + " " + std::to_string(uid) + " " +
                      std::to_string(gid) + " serve '" + binding + "'";
    f_ = ::popen(cmd.c_str(), "r");
    char line[256] = {};
    if (f_ && std::fgets(line, sizeof line, f_)) first_line_ = line;
    if (first_line_.rfind("listening ", 0) == 0) pid_ = std::atoi(first_line_.c_str() + 10);
  }
  ~HelperServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (f_) ::pclose(f_);
  }
  bool listening() const { return pid_ > 0; }
  const std::string& first_line() const { return first_line_; }

 private:
  FILE* f_ = nullptr;
  pid_t pid_ = 0;
  std::string first_line_;
};

}  // namespace comsec::rpc::testing
