// Issue 9 item 8: peer-supplied strings cannot forge or rewrite log lines.
#include "comsec/base/log_escape.h"

#include <gtest/gtest.h>

namespace comsec {
namespace {

TEST(EscapeForLog, ControlCharactersAndBackslashBecomeHex) {
  EXPECT_EQ(EscapeForLog("alice\nntlm: WEAK: forged"), "alice\\x0antlm: WEAK: forged");
  EXPECT_EQ(EscapeForLog(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForLog("\r\t\x1b[2J\x7f"), "\\x0d\\x09\\x1b[2J\\x7f");
  // A literal "\x0a" in a name cannot pass for an escaped newline.
  EXPECT_EQ(EscapeForLog("DOM\\user"), "DOM\\x5cuser");
}

TEST(EscapeForLog, PrintableAsciiAndValidUtf8AreKept) {
  EXPECT_EQ(EscapeForLog("Alice O'Brien (ops) #1"), "Alice O'Brien (ops) #1");
  EXPECT_EQ(EscapeForLog("J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91"),
            "J\xc3\xbcrgen \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
}

TEST(EscapeForLog, InvalidUtf8AndC1ControlsAreEscapedBytewise) {
  EXPECT_EQ(EscapeForLog("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeForLog("\xc3"), "\\xc3");                  // truncated
  EXPECT_EQ(EscapeForLog("\xc0\xaf"), "\\xc0\\xaf");         // overlong '/'
  EXPECT_EQ(EscapeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(EscapeForLog("\xc2\x9b"), "\\xc2\\x9b");         // C1 CSI
  EXPECT_EQ(EscapeForLog("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // > U+10FFFF
}

}  // namespace
}  // namespace comsec
