// The structured logger: exact text lines (a hostile peer cannot forge a
// line or reach the terminal), JSON lines that parse back to every field,
// severity filtering, and whole lines from many threads at once.
#include "comsec/base/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "comsec/base/log_sinks.h"
#include "comsec/base/win32_error.h"

namespace comsec {
namespace {

// 2026-12-06T01:02:03.456Z
LogClock::time_point FixedTime() {
  return LogClock::time_point(std::chrono::milliseconds(1796518923456));
}

// A peer that tries to end the line, forge a second one and recolour the
// operator's terminal, with quotes and '=' to confuse a field splitter.
const std::string kHostilePeer =
    "10.0.0.9:4444\n2026-12-06T01:02:03.456Z info ntlm.logon_accepted: ok "
    "principal=\"DOM\\admin\" \x1b[31mred\x1b[0m";

LogEvent FullEvent() {
  return LogEvent("rpc.call_denied", LogSeverity::kWarning,
                  "call refused below the interface's minimum level")
      .Peer(kHostilePeer)
      .Principal("DOM\\\xC3\xA9mile")
      .AuthnLevel(4, "RPC_C_AUTHN_LEVEL_PKT")
      .Interface(*Guid::Parse("12345778-1234-abcd-ef00-0123456789ac"), 1, 0)
      .Opnum(7)
      .Reason("authn_level_too_low")
      .Hresult(E_ACCESSDENIED)
      .Extra("call_id", "42");
}

TEST(LogText, ExactLineEscapesAHostilePeer) {
  EXPECT_EQ(
      FormatLogText(FullEvent(), FixedTime()),
      "2026-12-06T01:02:03.456Z warning rpc.call_denied: call refused below the "
      "interface's minimum level"
      " peer=\"10.0.0.9:4444\\x0a2026-12-06T01:02:03.456Z info ntlm.logon_accepted: ok "
      "principal=\\x22DOM\\x5cadmin\\x22 \\x1b[31mred\\x1b[0m\""
      " principal=DOM\\x5c\xC3\xA9mile"
      " authn_level=RPC_C_AUTHN_LEVEL_PKT(4)"
      " interface=12345778-1234-abcd-ef00-0123456789ac/1.0"
      " opnum=7 reason=authn_level_too_low hresult=E_ACCESSDENIED(0x80070005)"
      " call_id=42\n");
}

TEST(LogText, MinimalEventAndUnnamedCodes) {
  EXPECT_EQ(FormatLogText(LogEvent("rpc.connection_closed", LogSeverity::kInfo, "closed")
                              .Hresult(HResult(0x12345678u))
                              .AuthnLevel(6)
                              .Extra("note", ""),
                          FixedTime()),
            "2026-12-06T01:02:03.456Z info rpc.connection_closed: closed authn_level=6 "
            "hresult=0x12345678 note=\"\"\n");
  // A message cannot break the line either.
  EXPECT_EQ(FormatLogText(LogEvent("x", LogSeverity::kError, "a\nb\r\x7f"), FixedTime()),
            "2026-12-06T01:02:03.456Z error x: a\\x0ab\\x0d\\x7f\n");
}

TEST(LogJson, ParsesBackWithEveryField) {
  const std::string line = FormatLogJson(FullEvent(), FixedTime());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line, the peer's newline encoded
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.size(), 15u);
  EXPECT_EQ(j["time"], "2026-12-06T01:02:03.456Z");
  EXPECT_EQ(j["severity"], "warning");
  EXPECT_EQ(j["event"], "rpc.call_denied");
  EXPECT_EQ(j["message"], "call refused below the interface's minimum level");
  EXPECT_EQ(j["peer"], kHostilePeer);  // exactly, once decoded
  EXPECT_EQ(j["principal"], "DOM\\\xC3\xA9mile");
  EXPECT_EQ(j["authn_level"], 4);
  EXPECT_EQ(j["authn_level_name"], "RPC_C_AUTHN_LEVEL_PKT");
  EXPECT_EQ(j["interface"], "12345778-1234-abcd-ef00-0123456789ac");
  EXPECT_EQ(j["interface_version"], "1.0");
  EXPECT_EQ(j["opnum"], 7);
  EXPECT_EQ(j["reason"], "authn_level_too_low");
  EXPECT_EQ(j["hresult"], "0x80070005");
  EXPECT_EQ(j["hresult_name"], "E_ACCESSDENIED");
  EXPECT_EQ(j["call_id"], "42");
}

TEST(LogJson, InvalidUtf8AndCollidingExtrasDoNotBreakTheLine) {
  const std::string line =
      FormatLogJson(LogEvent("ntlm.logon_refused", LogSeverity::kNotice, "refused")
                        .Peer("bad\xFF\xC0")
                        .Hresult(RPC_S_SEC_PKG_ERROR)
                        .Extra("peer", "spoofed")
                        .Extra("event", "spoofed"),
                    FixedTime());
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["peer"], "bad\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFD for each bad byte
  EXPECT_EQ(j["event"], "ntlm.logon_refused");
  EXPECT_EQ(j["extra.peer"], "spoofed");
  EXPECT_EQ(j["extra.event"], "spoofed");
  EXPECT_EQ(j["hresult_name"], "RPC_S_SEC_PKG_ERROR");
  EXPECT_EQ(j["severity"], "notice");
}

TEST(Logger, DeliversExactEventsAtOrAboveItsMinimum) {
  auto capture = std::make_unique<CapturingLogSink>();
  CapturingLogSink* events = capture.get();
  std::vector<std::unique_ptr<LogSink>> sinks;
  sinks.push_back(std::move(capture));
  Logger logger(std::move(sinks), LogSeverity::kNotice);
  EXPECT_FALSE(logger.Enabled(LogSeverity::kInfo));
  EXPECT_TRUE(logger.Enabled(LogSeverity::kNotice));
  logger.Log(LogEvent("rpc.bind", LogSeverity::kInfo, "dropped"));
  logger.Log(FullEvent());
  ASSERT_EQ(events->events().size(), 1u);
  EXPECT_EQ(events->events()[0], FullEvent());
  logger.SetMinSeverity(LogSeverity::kDebug);
  logger.Log(LogEvent("rpc.bind", LogSeverity::kDebug, "kept").Opnum(1));
  ASSERT_EQ(events->events().size(), 2u);
  EXPECT_EQ(events->events()[1], LogEvent("rpc.bind", LogSeverity::kDebug, "kept").Opnum(1));
  EXPECT_NE(events->events()[1], LogEvent("rpc.bind", LogSeverity::kDebug, "kept").Opnum(2));
  events->Clear();
  EXPECT_TRUE(events->events().empty());
  // A logger without sinks is never enabled.
  Logger none;
  EXPECT_FALSE(none.Enabled(LogSeverity::kError));
  none.Log(FullEvent());
}

TEST(LogTime, FormatsAndParsesBackUtcWithMilliseconds) {
  EXPECT_EQ(FormatLogTime(FixedTime()), "2026-12-06T01:02:03.456Z");
  EXPECT_EQ(ParseLogTime("2026-12-06T01:02:03.456Z"), FixedTime());
  EXPECT_EQ(ParseLogTime("2026-12-06T01:02:03Z"), FixedTime() - std::chrono::milliseconds(456));
  EXPECT_EQ(ParseLogTime("2026-12-06T01:02:03.4560001Z"),
            FixedTime() + std::chrono::nanoseconds(100));
  EXPECT_EQ(ParseLogTime("1970-01-01T00:00:00Z"), LogClock::time_point());
  for (const char* bad :
       {"", "2026-12-06", "2026-12-06T01:02:03", "2026-12-06T01:02:03+00:00",
        "2026-12-06 01:02:03Z", "2026-12-06T01:02:03.Z", "2026-12-06T01:02:03.1234567890Z",
        "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-12-06T24:00:00Z",
        "+026-12-06T01:02:03Z", "2026-12-06T01:02:03.45xZ", "2026-12-06t01:02:03z"}) {
    EXPECT_EQ(ParseLogTime(bad), std::nullopt) << bad;
  }
}

TEST(LogText, ValuesAreEscapedAndQuotedAsInTheLine) {
  EXPECT_EQ(LogTextValue("alice"), "alice");
  EXPECT_EQ(LogTextValue(""), "\"\"");
  EXPECT_EQ(LogTextValue("comcfg perms grant x=\"y\""),
            "\"comcfg perms grant x=\\x22y\\x22\"");
  EXPECT_EQ(LogTextValue("a\nb"), "a\\x0ab");
}

// Both loggers get the event with one time; each keeps its own minimum.
TEST(Logger, TeeGivesEachEventToBothWithOneTime) {
  auto make = [](LogSeverity min, CapturingLogSink** out) {
    auto capture = std::make_unique<CapturingLogSink>();
    *out = capture.get();
    std::vector<std::unique_ptr<LogSink>> sinks;
    sinks.push_back(std::move(capture));
    return std::make_unique<Logger>(std::move(sinks), min);
  };
  CapturingLogSink *warnings = nullptr, *infos = nullptr;
  auto a = make(LogSeverity::kWarning, &warnings);
  auto b = make(LogSeverity::kInfo, &infos);
  auto tee = TeeLogger(a.get(), b.get());
  EXPECT_FALSE(tee->Enabled(LogSeverity::kDebug));
  EXPECT_TRUE(tee->Enabled(LogSeverity::kInfo));
  tee->Log(LogEvent("activation.launched", LogSeverity::kInfo, "to b only"));
  tee->Log(FullEvent());
  ASSERT_EQ(warnings->events().size(), 1u);
  EXPECT_EQ(warnings->events()[0], FullEvent());
  ASSERT_EQ(infos->events().size(), 2u);
  EXPECT_EQ(infos->events()[1], FullEvent());

  // Through files, the one time shows: both lines carry the same stamp.
  char tmpl[] = "/tmp/comsec-tee-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const int fd = open((dir + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  {
    auto text = MakeFdLogger(fd, FdLogSink::Format::kText);
    auto json = MakeFdLogger(fd, FdLogSink::Format::kJson);
    TeeLogger(text.get(), json.get())->LogAt(FullEvent(), FixedTime());
  }
  close(fd);
  std::ifstream in(dir + "/log");
  std::string text_line, json_line;
  std::getline(in, text_line);
  std::getline(in, json_line);
  EXPECT_TRUE(text_line.starts_with("2026-12-06T01:02:03.456Z warning rpc.call_denied"))
      << text_line;
  EXPECT_EQ(nlohmann::json::parse(json_line)["time"], "2026-12-06T01:02:03.456Z");
  std::filesystem::remove_all(dir);

  // Nulls are skipped; two nulls make a logger that is never enabled.
  auto half = TeeLogger(nullptr, a.get());
  EXPECT_FALSE(half->Enabled(LogSeverity::kNotice));
  EXPECT_TRUE(half->Enabled(LogSeverity::kWarning));
  EXPECT_FALSE(TeeLogger(nullptr, nullptr)->Enabled(LogSeverity::kError));
}

class LogFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-log-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/log";
    fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(dir_);
  }
  std::vector<std::string> Lines() {
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  std::string dir_, path_;
  int fd_ = -1;
};

TEST_F(LogFile, TextAndJsonSinksWriteOneLineEach) {
  {
    std::vector<std::unique_ptr<LogSink>> sinks;
    sinks.push_back(std::make_unique<FdLogSink>(fd_, FdLogSink::Format::kText));
    sinks.push_back(std::make_unique<FdLogSink>(fd_, FdLogSink::Format::kJson));
    Logger logger(std::move(sinks), LogSeverity::kInfo);
    logger.Log(FullEvent());
  }
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" warning rpc.call_denied: "), std::string::npos) << lines[0];
  EXPECT_EQ(nlohmann::json::parse(lines[1])["peer"], kHostilePeer);
}

// What comsecd and the example servers build from --log-format.
TEST_F(LogFile, MakeFdLoggerWritesTheFormatItWasGiven) {
  EXPECT_EQ(ParseLogFormat("text"), FdLogSink::Format::kText);
  EXPECT_EQ(ParseLogFormat("json"), FdLogSink::Format::kJson);
  EXPECT_EQ(ParseLogFormat("JSON"), std::nullopt);
  EXPECT_EQ(ParseLogFormat(""), std::nullopt);
  {
    auto text = MakeFdLogger(fd_, FdLogSink::Format::kText);
    EXPECT_FALSE(text->Enabled(LogSeverity::kDebug));
    EXPECT_TRUE(text->Enabled(LogSeverity::kInfo));
    text->Log(LogEvent("test.text", LogSeverity::kInfo, "as text").Opnum(7));
    auto json = MakeFdLogger(fd_, FdLogSink::Format::kJson, LogSeverity::kWarning);
    json->Log(LogEvent("test.dropped", LogSeverity::kNotice, "below its minimum"));
    json->Log(LogEvent("test.json", LogSeverity::kWarning, "as JSON").Opnum(8));
  }
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].ends_with("Z info test.text: as text opnum=7")) << lines[0];
  const auto j = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(j["event"], "test.json");
  EXPECT_EQ(j["opnum"], 8);
}

// 8 threads x 1000 events, text and JSON interleaved into one file: every
// line is whole and every event arrives once.
TEST_F(LogFile, ConcurrentEventsStayWholeLines) {
  constexpr int kThreads = 8;
  constexpr int kEvents = 1000;
  {
    std::vector<std::unique_ptr<LogSink>> sinks;
    sinks.push_back(std::make_unique<FdLogSink>(fd_, FdLogSink::Format::kText));
    sinks.push_back(std::make_unique<FdLogSink>(fd_, FdLogSink::Format::kJson));
    Logger logger(std::move(sinks), LogSeverity::kInfo);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&logger, t] {
        // A long peer makes each line several hundred bytes.
        const std::string peer = "thread-" + std::to_string(t) + "\n" + std::string(300, 'p');
        for (int i = 0; i < kEvents; ++i) {
          logger.Log(LogEvent("test.event", LogSeverity::kInfo, "event")
                         .Peer(peer)
                         .Extra("thread", std::to_string(t))
                         .Extra("seq", std::to_string(i)));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u * kThreads * kEvents);
  const std::regex text(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info test\.event: event peer=thread-(\d)\\x0ap{300} thread=(\d) seq=(\d+)$)");
  std::map<std::pair<int, int>, int> text_seen, json_seen;
  for (const std::string& line : lines) {
    std::smatch m;
    if (line.starts_with("{")) {
      const auto j = nlohmann::json::parse(line);  // throws (fails) on a torn line
      ASSERT_EQ(j["peer"], "thread-" + j["thread"].get<std::string>() + "\n" +
                               std::string(300, 'p'));
      ++json_seen[{std::stoi(j["thread"].get<std::string>()),
                   std::stoi(j["seq"].get<std::string>())}];
    } else {
      ASSERT_TRUE(std::regex_match(line, m, text)) << line;
      ASSERT_EQ(m[1], m[2]);
      ++text_seen[{std::stoi(m[2]), std::stoi(m[3])}];
    }
  }
  EXPECT_EQ(text_seen.size(), static_cast<size_t>(kThreads * kEvents));
  EXPECT_EQ(json_seen.size(), static_cast<size_t>(kThreads * kEvents));
  for (const auto& [key, count] : text_seen) EXPECT_EQ(count, 1);
  for (const auto& [key, count] : json_seen) EXPECT_EQ(count, 1);
}

TEST(Logger, ConcurrentCaptureKeepsEveryEvent) {
  auto capture = std::make_unique<CapturingLogSink>();
  CapturingLogSink* events = capture.get();
  std::vector<std::unique_ptr<LogSink>> sinks;
  sinks.push_back(std::move(capture));
  Logger logger(std::move(sinks), LogSeverity::kInfo);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 1000; ++i) {
        logger.Log(LogEvent("test.event", LogSeverity::kInfo, "e").Opnum(t * 1000 + i));
        if (i == 500 && t == 0) logger.SetMinSeverity(LogSeverity::kInfo);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(events->events().size(), 8000u);
}

}  // namespace
}  // namespace comsec
