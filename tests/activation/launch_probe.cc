// launch_probe OUTPUT [ARGS...]: what a launched server sees of itself,
// written to OUTPUT for launcher_test.cc to compare, one fact a line:
//   uid R E S / gid R E S / groups G... (as getgroups lists them)
//   cwd PATH / sid_is_pid 0|1 / umask OOO / stdin TARGET
//   fd N (each open descriptor, before OUTPUT is opened)
//   sigblk HEX / sigign HEX (from /proc/self/status)
//   arg ARG (each argument after OUTPUT) / env NAME=VALUE (each variable)
// Then it writes "probe stdout" and "probe stderr" to its stdout and stderr
// and exits with status 7, or sleeps forever when ARGS start with "sleep".
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::vector<std::string> lines;
  uid_t ru, eu, su;
  gid_t rg, eg, sg;
  getresuid(&ru, &eu, &su);
  getresgid(&rg, &eg, &sg);
  lines.push_back("uid " + std::to_string(ru) + " " + std::to_string(eu) + " " +
                  std::to_string(su));
  lines.push_back("gid " + std::to_string(rg) + " " + std::to_string(eg) + " " +
                  std::to_string(sg));
  std::vector<gid_t> groups(static_cast<size_t>(getgroups(0, nullptr)));
  getgroups(static_cast<int>(groups.size()), groups.data());
  std::string g = "groups";
  for (gid_t x : groups) g += " " + std::to_string(x);
  lines.push_back(g);
  char cwd[PATH_MAX];
  lines.push_back(std::string("cwd ") + (getcwd(cwd, sizeof cwd) ? cwd : "?"));
  lines.push_back(std::string("sid_is_pid ") + (getsid(0) == getpid() ? "1" : "0"));
  const mode_t mask = umask(0);
  char octal[8];
  std::snprintf(octal, sizeof octal, "%03o", static_cast<unsigned>(mask));
  lines.push_back(std::string("umask ") + octal);
  char target[PATH_MAX];
  const ssize_t n = readlink("/proc/self/fd/0", target, sizeof target - 1);
  lines.push_back(std::string("stdin ") +
                  (n > 0 ? std::string(target, static_cast<size_t>(n)) : "?"));
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] == '.') continue;
      if (std::atoi(e->d_name) == dirfd(d)) continue;
      lines.push_back(std::string("fd ") + e->d_name);
    }
    closedir(d);
  }
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigBlk:", 0) == 0)
      lines.push_back("sigblk " + line.substr(line.find_first_not_of(" \t", 7)));
    if (line.rfind("SigIgn:", 0) == 0)
      lines.push_back("sigign " + line.substr(line.find_first_not_of(" \t", 7)));
  }
  for (int i = 2; i < argc; ++i) lines.push_back(std::string("arg ") + argv[i]);
  for (char** e = environ; *e; ++e) lines.push_back(std::string("env ") + *e);

  std::ofstream out(argv[1]);
  for (const std::string& l : lines) out << l << "\n";
  out.close();
  std::fputs("probe stdout\n", stdout);
  std::fflush(stdout);
  std::fputs("probe stderr\n", stderr);
  if (argc > 2 && std::strcmp(argv[2], "sleep") == 0) {
    for (;;) pause();
  }
  return 7;
}
