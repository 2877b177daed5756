// comcfg log: the audit trail read back, beside the store by default, one
// line per event with a denial's fields in a fixed order, or a JSON array;
// --since as a UTC time or a duration; a torn last line, junk and a
// missing file; bad --since is exit 2.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/command.h"
#include "comsec/base/log.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/audit_trail.h"

namespace comsec::comcfg {
namespace {

struct Out {
  int code;
  std::string out;
  std::string err;
};

Out Comcfg(std::vector<std::string> args) {
  std::vector<std::string> all = {"comcfg"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<const char*> argv;
  for (const auto& a : all) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Io io{out, err};
  const int code = RunComcfg(static_cast<int>(argv.size()), argv.data(), io);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

const LogClock::time_point kTen = *ParseLogTime("2026-12-06T10:00:00Z");

// A denial as the activation SCM logs it, its extras given out of the
// order comcfg prints them in.
LogEvent Denial(std::string user) {
  return LogEvent("activation.denied", LogSeverity::kWarning,
                  "launch refused by the launch permission")
      .Peer("10.0.0.5:49702")
      .AuthnLevel(6, "RPC_C_AUTHN_LEVEL_PKT_PRIVACY")
      .Hresult(E_ACCESSDENIED)
      .Extra("explain", "comcfg explain launch --clsid {C} --user 'VM\\" + user + "' --remote")
      .Extra("remedy", "comcfg perms grant launch --appid {A} --principal 'VM\\" + user + "'")
      .Extra("windows_event", "10016")
      .Extra("appid", "{A}")
      .Extra("clsid", "{C}")
      .Extra("check", "launch permission")
      .Extra("rule", "R137")
      .Extra("ace", "(A;;CCDCLCSWRP;;;BA)")
      .Extra("sid", "S-1-5-21-1-2-3-1001")
      .Extra("zeta", "last of the others")
      .Extra("alpha", "first of the others")
      .Extra("distance", "remote")
      .Extra("user", "VM\\" + user);
}

class ComcfgLog : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comcfg-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = dir_ + "/store.db";
    trail_ = dir_ + "/store.audit.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Appends events through the trail's own writer, stamped `time`.
  void Write(const LogEvent& event, LogClock::time_point time) {
    auto trail = config::OpenAuditTrail(trail_);
    ASSERT_TRUE(trail.ok()) << trail.status().ToString();
    (*trail)->LogAt(event, time);
  }
  void Append(const std::string& text) {
    std::ofstream(trail_, std::ios::binary | std::ios::app) << text;
  }

  std::string dir_, store_, trail_;
};

TEST_F(ComcfgLog, TextLineLeadsWithTheDenialsFields) {
  Write(Denial("mallory"), kTen + std::chrono::milliseconds(5));
  Out r = Comcfg({"--store", store_, "log"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "2026-12-06T10:00:00.005Z warning activation.denied: launch refused by the launch "
            "permission user=VM\\x5cmallory sid=S-1-5-21-1-2-3-1001 peer=10.0.0.5:49702 "
            "distance=remote authn_level=RPC_C_AUTHN_LEVEL_PKT_PRIVACY(6) clsid={C} appid={A} "
            "check=\"launch permission\" rule=R137 ace=(A;;CCDCLCSWRP;;;BA) "
            "hresult=E_ACCESSDENIED(0x80070005) windows_event=10016 "
            "alpha=\"first of the others\" zeta=\"last of the others\" "
            "remedy=\"comcfg perms grant launch --appid {A} --principal 'VM\\x5cmallory'\" "
            "explain=\"comcfg explain launch --clsid {C} --user 'VM\\x5cmallory' --remote\"\n");
}

// A name a peer chose cannot end the line or reach the terminal.
TEST_F(ComcfgLog, HostileNamesStayOnTheirLine) {
  Write(Denial("x\n2026-12-06T10:00:00.000Z info activation.launched: ok \x1b[31m"), kTen);
  Out r = Comcfg({"--store", store_, "log"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(Lines(r.out).size(), 1u) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_NE(r.out.find("user=\"VM\\x5cx\\x0a2026-12-06T10:00:00.000Z info"), std::string::npos)
      << r.out;
}

TEST_F(ComcfgLog, JsonIsAnArrayOfTheEventsAsLogged) {
  Write(Denial("mallory"), kTen);
  Write(LogEvent("activation.launched", LogSeverity::kInfo, "server started")
            .Extra("user", "VM\\alice"),
        kTen + std::chrono::seconds(1));
  Out r = Comcfg({"--store", store_, "log", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["event"], "activation.denied");
  EXPECT_EQ(j[0]["time"], "2026-12-06T10:00:00.000Z");
  EXPECT_EQ(j[0]["hresult"], "0x80070005");
  EXPECT_EQ(j[0]["authn_level"], 6);
  EXPECT_EQ(j[0]["windows_event"], "10016");
  EXPECT_EQ(j[1]["event"], "activation.launched");
  EXPECT_EQ(j[1]["user"], "VM\\alice");
}

TEST_F(ComcfgLog, SinceTakesAUtcTime) {
  Write(Denial("early"), kTen - std::chrono::seconds(1));
  Write(Denial("on-time"), kTen);
  Write(Denial("late"), kTen + std::chrono::hours(1));
  Out r = Comcfg({"--store", store_, "log", "--json", "--since", "2026-12-06T10:00:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["user"], "VM\\on-time");
  EXPECT_EQ(j[1]["user"], "VM\\late");
}

// Durations count back from now; the events are hours apart, so the test
// does not depend on how fast it runs.
TEST_F(ComcfgLog, SinceTakesADurationBackFromNow) {
  const LogClock::time_point now = LogClock::now();
  Write(Denial("two-days-ago"), now - std::chrono::hours(48));
  Write(Denial("three-hours-ago"), now - std::chrono::hours(3));
  Write(Denial("just-now"), now);
  const auto users = [&](const std::string& since) {
    Out r = Comcfg({"--store", store_, "log", "--json", "--since", since});
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> out;
    for (const auto& e : nlohmann::json::parse(r.out)) out.push_back(e["user"]);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(users("1h"), V({"VM\\just-now"}));
  EXPECT_EQ(users("90m"), V({"VM\\just-now"}));
  EXPECT_EQ(users("1d"), V({"VM\\three-hours-ago", "VM\\just-now"}));
  EXPECT_EQ(users("36000s"), V({"VM\\three-hours-ago", "VM\\just-now"}));
  EXPECT_EQ(users("3d").size(), 3u);
}

TEST_F(ComcfgLog, BadSinceIsBadInput) {
  Write(Denial("mallory"), kTen);
  for (const char* bad : {"yesterday", "10", "10y", "-5m", "2026-12-06", "2026-12-06T10:00:00",
                          "2026-12-06T10:00:00+01:00", "m", "99999999999d"}) {
    Out r = Comcfg({"--store", store_, "log", "--since", bad});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_EQ(r.out, "") << bad;
    EXPECT_NE(r.err.find("is neither a UTC time such as 2026-12-06T10:00:00Z "
                         "nor a duration"),
              std::string::npos)
        << bad << ": " << r.err;
    EXPECT_NE(r.err.find("[E_INVALIDARG (0x80070057)]"), std::string::npos) << r.err;
  }
}

// A write in progress (or cut short) is skipped, junk is counted, and the
// events around them are printed.
TEST_F(ComcfgLog, TornLastLineAndJunkAreSkipped) {
  Write(Denial("first"), kTen);
  Append("garbage\n");
  Write(Denial("second"), kTen + std::chrono::seconds(1));
  Append("{\"time\":\"2026-12-06T10:00:02.000Z\",\"event\":\"activation.den");
  Out r = Comcfg({"--store", store_, "log"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_NE(lines[0].find("user=VM\\x5cfirst"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("user=VM\\x5csecond"), std::string::npos) << lines[1];
  EXPECT_EQ(r.err, "comcfg: skipped 1 unreadable line of " + trail_ +
                       "\ncomcfg: skipped the incomplete last line of " + trail_ +
                       " (being written, or cut short)\n");
}

TEST_F(ComcfgLog, AMissingTrailIsEmptyAndSaysSo) {
  Out text = Comcfg({"--store", store_, "log"});
  EXPECT_EQ(text.code, 0);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err,
            "comcfg: no audit trail at " + trail_ + " (comsecd has logged nothing there yet)\n");
  Out json = Comcfg({"--store", store_, "log", "--json"});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out), nlohmann::json::array());
}

// The default trail follows the store comcfg uses: --store, else
// $COMSEC_STORE; --audit-log names any other.
TEST_F(ComcfgLog, TheTrailFollowsTheStoreUnlessNamed) {
  Write(Denial("beside-the-store"), kTen);
  const std::string other = dir_ + "/elsewhere.log";
  {
    auto trail = config::OpenAuditTrail(other);
    ASSERT_TRUE(trail.ok());
    (*trail)->LogAt(Denial("elsewhere"), kTen);
  }
  const char* saved = std::getenv("COMSEC_STORE");
  const std::string saved_value = saved ? saved : "";
  setenv("COMSEC_STORE", store_.c_str(), 1);
  Out env = Comcfg({"log", "--json"});
  Out named = Comcfg({"log", "--json", "--audit-log", other});
  if (saved) {
    setenv("COMSEC_STORE", saved_value.c_str(), 1);
  } else {
    unsetenv("COMSEC_STORE");
  }
  ASSERT_EQ(env.code, 0) << env.err;
  EXPECT_EQ(nlohmann::json::parse(env.out)[0]["user"], "VM\\beside-the-store");
  ASSERT_EQ(named.code, 0) << named.err;
  EXPECT_EQ(nlohmann::json::parse(named.out)[0]["user"], "VM\\elsewhere");
}

// The trail is 0640: another user is refused with exit 1 and told who may
// read it. (Run as root, the test drops to nobody in a child process.)
TEST_F(ComcfgLog, AnotherUserIsDeniedAndToldWhoMayRead) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  Write(Denial("mallory"), kTen);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipe_fds[0]);
    constexpr uid_t kNobody = 65534;
    if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
        setresuid(kNobody, kNobody, kNobody) != 0) {
      _exit(100);
    }
    Out r = Comcfg({"--store", store_, "log"});
    const std::string report = r.out + "|" + r.err;
    if (write(pipe_fds[1], report.data(), report.size()) < 0) _exit(101);
    _exit(r.code);
  }
  close(pipe_fds[1]);
  std::string report;
  char buf[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buf, sizeof buf)) > 0;) report.append(buf, n);
  close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << report;
  EXPECT_EQ(report, "|comcfg: error: the audit trail " + trail_ +
                        " may be read only by its owner root (uid 0) and the members of its group "
                        "root (gid 0) (mode 640); run the command as one of them "
                        "[E_ACCESSDENIED (0x80070005)]\n");
}

TEST(ComcfgLogHelp, NamesTheSystemStore) {
  Out r = Comcfg({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("/var/lib/comsec/store.db"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("log"), std::string::npos);
}

}  // namespace
}  // namespace comsec::comcfg
