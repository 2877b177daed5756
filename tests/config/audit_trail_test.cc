// The audit trail: where it lives, who may read it (0640, never wider, no
// links), whole JSON lines from concurrent writers, and a reader that
// skips a torn last line and junk, filters by time, and takes a missing
// file for an empty trail.
#include "comsec/config/audit_trail.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "comsec/base/log_sinks.h"
#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

// 2026-12-06T10:00:00.000Z and a minute later.
const LogClock::time_point kTen = *ParseLogTime("2026-12-06T10:00:00Z");
const LogClock::time_point kTenOhOne = *ParseLogTime("2026-12-06T10:01:00Z");

class AuditTrail : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-audit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = AuditTrailPathFor(dir_ + "/store.db");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  mode_t Mode() const {
    struct stat st;
    EXPECT_EQ(stat(path_.c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  std::string Contents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void Append(const std::string& text) const {
    std::ofstream(path_, std::ios::binary | std::ios::app) << text;
  }

  std::string dir_, path_;
};

TEST(AuditTrailPath, BesideTheStoreAsTheSecretsFileIs) {
  EXPECT_EQ(AuditTrailPathFor("/var/lib/comsec/store.db"), "/var/lib/comsec/store.audit.log");
  EXPECT_EQ(AuditTrailPathFor("/srv/policy"), "/srv/policy.audit.log");
  EXPECT_EQ(AuditTrailPathFor(".db"), ".db.audit.log");
}

// Whatever the umask, the trail is created 0640: never world-readable, and
// group-readable even under umask 077.
TEST_F(AuditTrail, CreatedExactly0640WhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{077}}) {
    std::filesystem::remove(path_);
    const mode_t old = umask(mask);
    auto trail = OpenAuditTrail(path_);
    umask(old);
    ASSERT_TRUE(trail.ok()) << trail.status().ToString();
    EXPECT_EQ(Mode(), 0640u) << "umask " << mask;
  }
}

TEST_F(AuditTrail, AnExistingWiderFileIsTightenedByItsOwner) {
  Append("");
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);
  ASSERT_TRUE(OpenAuditTrail(path_).ok());
  EXPECT_EQ(Mode(), 0640u);
  // Narrower stays narrower.
  ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  ASSERT_TRUE(OpenAuditTrail(path_).ok());
  EXPECT_EQ(Mode(), 0600u);
}

TEST_F(AuditTrail, RefusesALinkAFifoAndAMissingDirectory) {
  const std::string target = dir_ + "/elsewhere";
  Append("");
  std::filesystem::rename(path_, target);
  std::filesystem::create_symlink(target, path_);
  auto link = OpenAuditTrail(path_);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), E_ACCESSDENIED);
  EXPECT_NE(link.status().message().find("is a symbolic link"), std::string::npos)
      << link.status().message();

  std::filesystem::remove(path_);
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  auto fifo = OpenAuditTrail(path_);
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.status().code(), E_ACCESSDENIED);
  EXPECT_NE(fifo.status().message().find("is not a regular file"), std::string::npos)
      << fifo.status().message();

  auto nodir = OpenAuditTrail(dir_ + "/no/such/dir/store.audit.log");
  ASSERT_FALSE(nodir.ok());
  EXPECT_EQ(nodir.status().code(), ERROR_NOT_FOUND);
  EXPECT_NE(nodir.status().message().find("its directory must exist"), std::string::npos)
      << nodir.status().message();
}

// The keys comcfg log and any collector see: FormatLogJson's, "time" first.
TEST_F(AuditTrail, EachEventIsOneJsonLineWithItsUtcTime) {
  {
    auto trail = OpenAuditTrail(path_);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(LogEvent("activation.denied", LogSeverity::kWarning, "launch refused")
                        .Peer("10.0.0.5:49702")
                        .Principal("VM\\mallory")
                        .AuthnLevel(6, "RPC_C_AUTHN_LEVEL_PKT_PRIVACY")
                        .Hresult(E_ACCESSDENIED)
                        .Extra("clsid", "{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}")
                        .Extra("check", "launch permission")
                        .Extra("windows_event", "10016"),
                    kTen + std::chrono::milliseconds(7));
    (*trail)->Log(LogEvent("activation.debug", LogSeverity::kDebug, "below the minimum"));
  }
  const std::string text = Contents();
  EXPECT_EQ(text,
            "{\"time\":\"2026-12-06T10:00:00.007Z\",\"severity\":\"warning\","
            "\"event\":\"activation.denied\",\"message\":\"launch refused\","
            "\"peer\":\"10.0.0.5:49702\",\"principal\":\"VM\\\\mallory\",\"authn_level\":6,"
            "\"authn_level_name\":\"RPC_C_AUTHN_LEVEL_PKT_PRIVACY\",\"hresult\":\"0x80070005\","
            "\"hresult_name\":\"E_ACCESSDENIED\","
            "\"clsid\":\"{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}\","
            "\"check\":\"launch permission\",\"windows_event\":\"10016\"}\n");
  auto events = ReadAuditTrail(path_, std::nullopt);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0]["principal"], "VM\\mallory");
}

// 4 threads through one Logger and 4 through a second opened on the same
// file (as another process would): every line whole, every event once.
TEST_F(AuditTrail, ConcurrentAppendsStayWholeLines) {
  constexpr int kThreads = 4;
  constexpr int kEvents = 500;
  {
    auto first = OpenAuditTrail(path_);
    auto second = OpenAuditTrail(path_);
    ASSERT_TRUE(first.ok() && second.ok());
    std::vector<std::thread> threads;
    for (int t = 0; t < 2 * kThreads; ++t) {
      const Logger* logger = (t < kThreads ? *first : *second).get();
      threads.emplace_back([logger, t] {
        const std::string remedy(2000, 'r');  // lines of a few KiB
        for (int i = 0; i < kEvents; ++i) {
          logger->Log(LogEvent("activation.denied", LogSeverity::kWarning, "refused")
                          .Extra("thread", std::to_string(t))
                          .Extra("seq", std::to_string(i))
                          .Extra("remedy", remedy));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  AuditTrailReadStats stats;
  auto events = ReadAuditTrail(path_, std::nullopt, &stats);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(stats.unparsable_lines, 0u);
  EXPECT_FALSE(stats.torn_last_line);
  ASSERT_EQ(events->size(), size_t{2 * kThreads * kEvents});
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& e : *events) {
    EXPECT_EQ(e["remedy"], std::string(2000, 'r'));
    seen.emplace(e["thread"].get<std::string>(), e["seq"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), size_t{2 * kThreads * kEvents});
  EXPECT_EQ(Mode(), 0640u);
}

TEST_F(AuditTrail, AMissingFileIsAnEmptyTrail) {
  AuditTrailReadStats stats;
  auto events = ReadAuditTrail(path_, std::nullopt, &stats);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
  EXPECT_TRUE(stats.missing);
}

TEST_F(AuditTrail, SkipsATornLastLineAndCountsJunk) {
  {
    auto trail = OpenAuditTrail(path_);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(LogEvent("activation.launched", LogSeverity::kInfo, "one"), kTen);
  }
  Append("not json\n\n[1,2]\n{\"event\":\"no time\"}\n{\"time\":\"yesterday\"}\n");
  {
    auto trail = OpenAuditTrail(path_);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(LogEvent("activation.launched", LogSeverity::kInfo, "two"), kTenOhOne);
  }
  // A whole event without its '\n' is still a write in progress.
  Append("{\"time\":\"2026-12-06T10:02:00.000Z\",\"event\":\"activation.denied\"}");
  AuditTrailReadStats stats;
  auto events = ReadAuditTrail(path_, std::nullopt, &stats);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0]["message"], "one");
  EXPECT_EQ((*events)[1]["message"], "two");
  EXPECT_EQ(stats.unparsable_lines, 4u);
  EXPECT_TRUE(stats.torn_last_line);
  EXPECT_FALSE(stats.missing);
}

TEST_F(AuditTrail, SinceKeepsEventsAtOrAfterIt) {
  {
    auto trail = OpenAuditTrail(path_);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(LogEvent("activation.denied", LogSeverity::kWarning, "early"),
                    kTen - std::chrono::milliseconds(1));
    (*trail)->LogAt(LogEvent("activation.denied", LogSeverity::kWarning, "on time"), kTen);
    (*trail)->LogAt(LogEvent("activation.denied", LogSeverity::kWarning, "late"), kTenOhOne);
  }
  auto events = ReadAuditTrail(path_, kTen);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0]["message"], "on time");
  EXPECT_EQ((*events)[1]["message"], "late");
  auto none = ReadAuditTrail(path_, kTenOhOne + std::chrono::milliseconds(1));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A line past kMaxAuditLineBytes is junk, counted once, and the lines
// after it still read.
TEST_F(AuditTrail, AnOverlongLineIsSkippedWithoutLosingTheNext) {
  Append(std::string(kMaxAuditLineBytes + 100, 'x') + "\n");
  {
    auto trail = OpenAuditTrail(path_);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(LogEvent("activation.launched", LogSeverity::kInfo, "after"), kTen);
  }
  AuditTrailReadStats stats;
  auto events = ReadAuditTrail(path_, std::nullopt, &stats);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0]["message"], "after");
  EXPECT_EQ(stats.unparsable_lines, 1u);
  EXPECT_FALSE(stats.torn_last_line);
}

}  // namespace
}  // namespace comsec::config
