// A throwaway MIT Kerberos realm for one test process: runs
// tests/support/krb_test_kdc.sh up in a private temporary directory, puts
// the realm's environment (KRB5_CONFIG, KRB5CCNAME, KRB5RCACHEDIR...) into
// this process's, and stops the KDC and removes the directory when
// destroyed. The KDC listens on 127.0.0.1 at a port of its own, so tests
// may run in parallel.
//
// Tests skip (GTEST_SKIP) when the KDC's programs are not installed
// (scripts/install-deps.sh installs them; CI always has them).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

// The script, found from the test data directory comsec_test() defines.
#define COMSEC_KRB_TEST_KDC COMSEC_TEST_DATA_DIR "/../support/krb_test_kdc.sh"

namespace comsec::testing {

class KrbTestRealm {
 public:
  // The programs the script runs, where Debian installs them.
  static std::string MissingTools() {
    std::string missing;
    for (const char* p : {"/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local",
                          "/usr/bin/kinit"}) {
      if (access(p, X_OK) != 0) missing += std::string(missing.empty() ? "" : ", ") + p;
    }
    return missing;
  }

  KrbTestRealm() = default;
  ~KrbTestRealm() { Down(); }
  KrbTestRealm(const KrbTestRealm&) = delete;
  KrbTestRealm& operator=(const KrbTestRealm&) = delete;

  // Starts the realm with these extra environment settings for the script
  // ("EXTRA_PRINCIPALS='RPCSS/elsewhere'"). Returns "" or what went wrong.
  std::string Up(const std::string& settings = "") {
    std::string base = std::filesystem::temp_directory_path() / "comsec-krb-XXXXXX";
    if (mkdtemp(base.data()) == nullptr) return "mkdtemp failed";
    parent_ = base;
    dir_ = base + "/realm";
    const std::string command = settings + " " COMSEC_KRB_TEST_KDC " up " + dir_ + " >/dev/null";
    // Twice: the port the script picked may be taken before the KDC binds.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (std::system(command.c_str()) == 0) break;
      if (attempt == 1) return "krb_test_kdc.sh up failed; see " + dir_ + "/setup.log";
      RunDown();
    }
    std::ifstream env(dir_ + "/env");
    std::string line;
    while (std::getline(env, line)) {
      std::istringstream words(line);
      std::string word;
      while (words >> word) {
        const size_t eq = word.find('=');
        if (word == "export" || eq == std::string::npos) continue;
        setenv(word.substr(0, eq).c_str(), word.substr(eq + 1).c_str(), 1);
      }
    }
    up_ = true;
    return "";
  }

  void Down() {
    if (!parent_.empty()) {
      RunDown();
      std::filesystem::remove_all(parent_);
      parent_.clear();
    }
    up_ = false;
  }

  bool up() const { return up_; }
  const std::string& dir() const { return dir_; }
  std::string realm() const { return getenv("KDC_REALM") ? getenv("KDC_REALM") : ""; }

 private:
  void RunDown() {
    if (std::system((COMSEC_KRB_TEST_KDC " down " + dir_).c_str()) != 0) {
      std::fprintf(stderr, "krb_test_kdc.sh down %s failed\n", dir_.c_str());
    }
  }

  std::string parent_;
  std::string dir_;
  bool up_ = false;
};

// The one realm of a test binary: brought up on first use with `settings`
// (the first caller's count), taken down when the tests end. With the MIT
// tools missing it stays down (tests skip on MissingTools()).
inline KrbTestRealm* SharedRealm(const std::string& settings = "") {
  static KrbTestRealm* realm = [&settings] {
    auto* r = new KrbTestRealm();
    if (KrbTestRealm::MissingTools().empty()) {
      std::string error = r->Up(settings);
      if (!error.empty()) std::fprintf(stderr, "%s\n", error.c_str());
    }
    class Teardown : public ::testing::Environment {
     public:
      explicit Teardown(KrbTestRealm* r) : r_(r) {}
      void TearDown() override { r_->Down(); }

     private:
      KrbTestRealm* r_;
    };
    ::testing::AddGlobalTestEnvironment(new Teardown(r));
    return r;
  }();
  return realm;
}

}  // namespace comsec::testing
