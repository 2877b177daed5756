// SplitCommandLine (activation/command_line.h): a LocalServer32 command
// line split by the shell's word rules with nothing else of the shell, and
// each refusal's exact HRESULT and sentence.
#include "comsec/activation/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comsec::activation {
namespace {

using Words = std::vector<std::string>;

Words Split(std::string_view line) {
  auto words = SplitCommandLine(line);
  EXPECT_TRUE(words.ok()) << words.status().ToString();
  return words.ok() ? *words : Words{};
}

// The refusal's message; fails the test unless it is E_INVALIDARG.
std::string Refusal(std::string_view line) {
  auto words = SplitCommandLine(line);
  EXPECT_FALSE(words.ok()) << "accepted: " << std::string(line);
  if (words.ok()) return "";
  EXPECT_EQ(words.status().code(), E_INVALIDARG) << words.status().ToString();
  return std::string(words.status().message());
}

TEST(SplitCommandLine, WordsSeparatedByBlanks) {
  EXPECT_EQ(Split("/opt/srv/server"), Words({"/opt/srv/server"}));
  EXPECT_EQ(Split("  /opt/srv/server \t--port  9\n-v "),
            Words({"/opt/srv/server", "--port", "9", "-v"}));
}

TEST(SplitCommandLine, SingleQuotesKeepEverything) {
  EXPECT_EQ(Split(R"(/bin/x 'a b' 'c"d' 'e\f' '$HOME')"),
            Words({"/bin/x", "a b", "c\"d", "e\\f", "$HOME"}));
}

TEST(SplitCommandLine, DoubleQuotesEscapeOnlyTheirFive) {
  EXPECT_EQ(Split(R"(/bin/x "a b" "q\"q" "b\\s" "d\$" "t\`" "keep\n\x")"),
            Words({"/bin/x", "a b", "q\"q", "b\\s", "d$", "t`", "keep\\n\\x"}));
  EXPECT_EQ(Split("/bin/x \"line\\\ncontinued\""), Words({"/bin/x", "linecontinued"}));
}

TEST(SplitCommandLine, BackslashOutsideQuotes) {
  EXPECT_EQ(Split(R"(/bin/x a\ b \'c \"d e\\f \$g)"),
            Words({"/bin/x", "a b", "'c", "\"d", "e\\f", "$g"}));
  EXPECT_EQ(Split("/bin/x a\\\nb c \\\n d"), Words({"/bin/x", "ab", "c", "d"}));
  // Escaped operators are ordinary characters.
  EXPECT_EQ(Split(R"(/bin/x \| \; \> \#c)"), Words({"/bin/x", "|", ";", ">", "#c"}));
}

TEST(SplitCommandLine, QuotesJoinAdjacentText) {
  EXPECT_EQ(Split(R"(/bin/x pre'mid'"post" --opt="a b")"),
            Words({"/bin/x", "premidpost", "--opt=a b"}));
}

TEST(SplitCommandLine, EmptyQuotesAreEmptyArguments) {
  EXPECT_EQ(Split(R"(/bin/x '' "" a'')"), Words({"/bin/x", "", "", "a"}));
}

TEST(SplitCommandLine, NothingIsExpanded) {
  EXPECT_EQ(Split("/bin/x $HOME ${PATH} \"$(id)\" * ?.txt [ab] ~ ~root/x a=b"),
            Words({"/bin/x", "$HOME", "${PATH}", "$(id)", "*", "?.txt", "[ab]", "~", "~root/x",
                   "a=b"}));
  // Unquoted, command substitution is refused for its parenthesis.
  EXPECT_EQ(Refusal("/bin/x $(id)"),
            "the LocalServer32 command line has an unquoted '(' at offset 8, a shell operator; "
            "comsec runs the server without a shell, so quote it to pass it as an argument");
}

TEST(SplitCommandLine, QuotedOperatorsAndHashArePassedOn) {
  EXPECT_EQ(Split(R"(/bin/x '|' "&&" ';' '#' a#b)"),
            Words({"/bin/x", "|", "&&", ";", "#", "a#b"}));
}

TEST(SplitCommandLine, EmbeddingIsLeftAsWritten) {
  EXPECT_EQ(Split("/opt/srv/server -Embedding"), Words({"/opt/srv/server", "-Embedding"}));
  EXPECT_EQ(Split("/opt/srv/server /Embedding"), Words({"/opt/srv/server", "/Embedding"}));
  EXPECT_EQ(Split("/opt/srv/server"), Words({"/opt/srv/server"}));
}

TEST(SplitCommandLine, RefusesEmptyAndBlank) {
  EXPECT_EQ(Refusal(""),
            "the LocalServer32 command line is empty; it must name the server's executable");
  EXPECT_EQ(Refusal(" \t\n"),
            "the LocalServer32 command line is empty; it must name the server's executable");
  EXPECT_EQ(Refusal("\\\n"),
            "the LocalServer32 command line is empty; it must name the server's executable");
}

TEST(SplitCommandLine, RefusesUnterminatedQuotes) {
  EXPECT_EQ(Refusal("/bin/x 'abc"),
            "the LocalServer32 command line has a single quote that is never closed, opened "
            "at offset 7");
  EXPECT_EQ(Refusal("/bin/x \"abc"),
            "the LocalServer32 command line has a double quote that is never closed, opened "
            "at offset 7");
  // The escaped quote does not close it.
  EXPECT_EQ(Refusal(R"(/bin/x "abc\")"),
            "the LocalServer32 command line has a double quote that is never closed, opened "
            "at offset 7");
  EXPECT_EQ(Refusal("/bin/x \"abc\\"),
            "the LocalServer32 command line has a double quote that is never closed, opened "
            "at offset 7");
  EXPECT_EQ(Refusal("'"),
            "the LocalServer32 command line has a single quote that is never closed, opened "
            "at offset 0");
}

TEST(SplitCommandLine, RefusesTrailingBackslash) {
  EXPECT_EQ(Refusal("/bin/x a\\"),
            "the LocalServer32 command line ends with a lone backslash (escaping nothing) at "
            "offset 8");
}

TEST(SplitCommandLine, RefusesNul) {
  using namespace std::string_literals;
  const std::string expected =
      "the LocalServer32 command line holds a NUL character at offset 8; no argument can "
      "carry one";
  EXPECT_EQ(Refusal("/bin/x a\0b"s), expected);
  EXPECT_EQ(Refusal("/bin/x '\0'"s), expected);
  EXPECT_EQ(Refusal("/bin/x \"\0\""s), expected);
  EXPECT_EQ(Refusal("/bin/x \\\0"s), expected);
}

TEST(SplitCommandLine, RefusesUnquotedShellOperators) {
  for (char op : std::string("|&;<>()`")) {
    const std::string line = std::string("/bin/x a") + op + "b";
    EXPECT_EQ(Refusal(line), std::string("the LocalServer32 command line has an unquoted '") +
                                 op +
                                 "' at offset 8, a shell operator; comsec runs the server "
                                 "without a shell, so quote it to pass it as an argument")
        << line;
  }
  EXPECT_EQ(Refusal("/bin/x > /tmp/log"),
            "the LocalServer32 command line has an unquoted '>' at offset 7, a shell operator; "
            "comsec runs the server without a shell, so quote it to pass it as an argument");
}

TEST(SplitCommandLine, RefusesAComment) {
  EXPECT_EQ(Refusal("/bin/x #comment"),
            "the LocalServer32 command line has a word starting with an unquoted '#' at offset "
            "7, which a shell would take for a comment; quote it to pass it as an argument");
}

TEST(SplitCommandLine, RefusesOverlongLines) {
  const std::string at_limit = "/bin/x " + std::string(kMaxCommandLineBytes - 7, 'a');
  EXPECT_EQ(Split(at_limit).size(), 2u);
  EXPECT_EQ(Refusal(at_limit + "a"),
            "the LocalServer32 command line is 32768 bytes long; comsec accepts at most 32767 "
            "(Windows's CreateProcess limit)");
}

TEST(SplitCommandLine, RefusalCarriesThePosition) {
  auto words = SplitCommandLine("/bin/x 'abc");
  ASSERT_FALSE(words.ok());
  EXPECT_EQ(words.status().position(), std::optional<size_t>(7));
}

}  // namespace
}  // namespace comsec::activation
