// The logon policy read from the store's Lsa key (issue 9 items 10, 15).
#include "comsec/auth/ntlm/logon_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "comsec/config/accounts.h"
#include "../base/captured_log.h"

namespace comsec::auth::ntlm {
namespace {

class LogonPolicyStore : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("comsec-policy-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    store_ = std::move(*config::Store::Open((dir_ / "store.db").string()));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Set(const config::RegValue& v) {
    ASSERT_TRUE(store_->SetValue(*config::KeyPath::Parse(config::kLsaKey), v).ok());
  }
  LogonPolicy Read() {
    auto p = ReadLogonPolicy(store_.get(), log_.logger());
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return *p;
  }

  std::filesystem::path dir_;
  std::unique_ptr<config::Store> store_;
  CapturedLog log_;
};

// A config.value_ignored event for `value` of the Lsa key.
LogEvent Ignored(std::string value, std::string message) {
  return LogEvent("config.value_ignored", LogSeverity::kWarning, std::move(message))
      .Extra("key", config::kLsaKey)
      .Extra("value", value);
}

TEST_F(LogonPolicyStore, AbsentValuesAreWindows11sDefaults) {
  LogonPolicy p = Read();
  EXPECT_FALSE(p.allow_ntlmv1);
  EXPECT_EQ(p.lockout.threshold, 10u);
  EXPECT_EQ(p.lockout.duration, std::chrono::minutes(10));
  EXPECT_EQ(p.lockout.reset_window, std::chrono::minutes(10));
  EXPECT_TRUE(p.foreign_domains.empty());
  EXPECT_EQ(p.own_names, std::vector<std::string>{config::NetbiosComputerName()});
  EXPECT_TRUE(log_.events().empty());
}

TEST_F(LogonPolicyStore, ValuesAreReadByTheirSeceditNames) {
  Set(config::RegValue::Dword("LockoutBadCount", 3));
  Set(config::RegValue::Dword("LockoutDuration", 30));
  Set(config::RegValue::Dword("ResetLockoutCount", 15));
  Set(config::RegValue::MultiString("ForeignDomains", {"CORP", "PARTNER"}));
  LogonPolicy p = Read();
  EXPECT_EQ(p.lockout.threshold, 3u);
  EXPECT_EQ(p.lockout.duration, std::chrono::minutes(30));
  EXPECT_EQ(p.lockout.reset_window, std::chrono::minutes(15));
  EXPECT_EQ(p.foreign_domains, (std::vector<std::string>{"CORP", "PARTNER"}));
}

TEST_F(LogonPolicyStore, WrongTypesFallBackToDefaultsWithAWarning) {
  Set(config::RegValue::String("LockoutBadCount", "five"));
  Set(config::RegValue::Dword("LockoutDuration", 100000));  // above 99999
  Set(config::RegValue::Dword("ForeignDomains", 1));
  LogonPolicy p = Read();
  EXPECT_EQ(p.lockout.threshold, 10u);
  EXPECT_EQ(p.lockout.duration, std::chrono::minutes(10));
  EXPECT_TRUE(p.foreign_domains.empty());
  const std::string lsa = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Lsa";
  EXPECT_EQ(log_.events(),
            (std::vector<LogEvent>{
                Ignored("LockoutBadCount",
                        "LockoutBadCount in " + lsa + " is not a REG_DWORD 0-999; using 10"),
                Ignored("LockoutDuration",
                        "LockoutDuration in " + lsa + " is not a REG_DWORD 0-99999; using 10"),
                Ignored("ForeignDomains", "ForeignDomains in " + lsa +
                                              " is not a REG_MULTI_SZ; no domain is treated "
                                              "as foreign")}));
}

// LmCompatibilityLevel below 5 lets NTLMv1 in, and says so; a bad value is
// NTLMv2 only, with a warning.
TEST_F(LogonPolicyStore, LmCompatibilityLevelBelowFiveAllowsNtlmV1Loudly) {
  Set(config::RegValue::Dword("LmCompatibilityLevel", 2));
  EXPECT_TRUE(Read().allow_ntlmv1);
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{
                LogEvent("ntlm.ntlmv1_allowed", LogSeverity::kWarning,
                         "WEAK: NTLMv1 responses are accepted (LmCompatibilityLevel 2); set "
                         "it to 5 for NTLMv2 only")
                    .Extra("lm_compatibility_level", "2")});
  log_.Clear();
  Set(config::RegValue::Dword("LmCompatibilityLevel", 9));
  EXPECT_FALSE(Read().allow_ntlmv1);
  EXPECT_EQ(log_.events(),
            std::vector<LogEvent>{Ignored(
                "LmCompatibilityLevel",
                "LmCompatibilityLevel in HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\"
                "Control\\Lsa is not a REG_DWORD 0-5; using 5 (NTLMv2 only)")});
}

}  // namespace
}  // namespace comsec::auth::ntlm
