#include "comsec/base/utf16.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comsec {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(Utf, Utf8ToUtf16LeCoversEveryLength) {
  // U+0024, U+00A2, U+20AC, U+10348: one to four bytes each.
  auto r = Utf8ToUtf16Le("$\xC2\xA2\xE2\x82\xAC\xF0\x90\x8D\x88");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Bytes{0x24, 0, 0xA2, 0, 0xAC, 0x20, 0x00, 0xD8, 0x48, 0xDF}));
  EXPECT_TRUE(Utf8ToUtf16Le("")->empty());
  // U+0000 converts like any character.
  EXPECT_EQ(*Utf8ToUtf16Le(std::string("\0", 1)), (Bytes{0, 0}));
  // The extremes: U+FFFF and U+10FFFF.
  EXPECT_EQ(*Utf8ToUtf16Le("\xEF\xBF\xBF"), (Bytes{0xFF, 0xFF}));
  EXPECT_EQ(*Utf8ToUtf16Le("\xF4\x8F\xBF\xBF"),
            (Bytes{0xFF, 0xDB, 0xFF, 0xDF}));
}

TEST(Utf, Utf8ToUtf16LeRejectsMalformedInputWithPosition) {
  struct Case {
    std::string input;
    size_t position;
  };
  const Case cases[] = {
      {"ab\x80", 2},            // continuation without a lead
      {"a\xC0\x80", 1},         // overlong NUL
      {"a\xC1\xBF", 1},         // overlong
      {"\xE0\x80\xAF", 0},      // overlong 3-byte
      {"\xF0\x80\x80\xAF", 0},  // overlong 4-byte
      {"xy\xED\xA0\x80", 2},    // encoded high surrogate
      {"\xED\xBF\xBF", 0},      // encoded low surrogate
      {"\xF4\x90\x80\x80", 0},  // above U+10FFFF
      {"\xF5\x80\x80\x80", 0},  // never valid
      {"\xFF", 0},              // never valid
      {"abc\xE2\x82", 3},       // truncated at the end
      {"\xE2\x28\xA1", 0},      // truncated by an ASCII byte
      {"ok\xF0\x9F\x98", 2},    // truncated 4-byte
  };
  for (const Case& c : cases) {
    auto r = Utf8ToUtf16Le(c.input);
    ASSERT_FALSE(r.ok()) << testing::PrintToString(c.input);
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    EXPECT_EQ(r.status().position(), c.position)
        << testing::PrintToString(c.input);
    EXPECT_NE(r.status().message().find("byte " + std::to_string(c.position)),
              std::string_view::npos)
        << r.status().message();
  }
}

TEST(Utf, Utf16LeToUtf8DecodesPairsAndNul) {
  const Bytes in = {'a', 0, 0, 0, 0x3D, 0xD8, 0x00, 0xDE, 0xAC, 0x20};
  auto r = Utf16LeToUtf8(in.data(), in.size());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::string("a\0\xF0\x9F\x98\x80\xE2\x82\xAC", 9));
  EXPECT_EQ(*Utf16LeToUtf8(nullptr, 0), "");
}

TEST(Utf, Utf16LeToUtf8RejectsUnpairedSurrogatesAndOddLength) {
  struct Case {
    Bytes input;
    size_t position;
  };
  const Case cases[] = {
      {{'a', 0, 0x00, 0xD8}, 2},                  // high at the end
      {{0x00, 0xD8, 'a', 0}, 0},                  // high then not low
      {{0x00, 0xD8, 0x00, 0xD8, 0x00, 0xDC}, 0},  // high then high
      {{'a', 0, 'b', 0, 0x00, 0xDC}, 4},          // lone low
      {{'a', 0, 'b'}, 2},                         // half a character
  };
  for (const Case& c : cases) {
    auto r = Utf16LeToUtf8(c.input.data(), c.input.size());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    EXPECT_EQ(r.status().position(), c.position);
    EXPECT_NE(r.status().message().find("byte " + std::to_string(c.position)),
              std::string_view::npos)
        << r.status().message();
  }
}

TEST(Utf, RoundTripsEveryPlane) {
  std::string all;
  for (char32_t cp : {0x1u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u,
                      0xFFFDu, 0x10000u, 0x1F600u, 0x10FFFFu}) {
    // Build UTF-8 by way of UTF-16 to check both directions agree.
    Bytes u16;
    if (cp < 0x10000) {
      u16 = {static_cast<uint8_t>(cp), static_cast<uint8_t>(cp >> 8)};
    } else {
      const uint32_t x = cp - 0x10000;
      const uint32_t hi = 0xD800 + (x >> 10), lo = 0xDC00 + (x & 0x3FF);
      u16 = {static_cast<uint8_t>(hi), static_cast<uint8_t>(hi >> 8),
             static_cast<uint8_t>(lo), static_cast<uint8_t>(lo >> 8)};
    }
    auto utf8 = Utf16LeToUtf8(u16.data(), u16.size());
    ASSERT_TRUE(utf8.ok());
    EXPECT_EQ(*Utf8ToUtf16Le(*utf8), u16);
    all += *utf8;
  }
  auto u16 = Utf8ToUtf16Le(all);
  ASSERT_TRUE(u16.ok());
  EXPECT_EQ(*Utf16LeToUtf8(u16->data(), u16->size()), all);
}

TEST(Utf, CodeUnitFormsAgreeWithTheByteForms) {
  const std::string text = "a\xC3\xA9\xF0\x9F\x98\x80";  // a, é, U+1F600
  EXPECT_EQ(Utf8ToUtf16Lossy(text), (std::u16string{u'a', 0xE9, 0xD83D, 0xDE00}));
  EXPECT_EQ(Utf16ToUtf8Lossy(Utf8ToUtf16Lossy(text)), text);
  // Lossy: each bad byte and each unpaired surrogate becomes U+FFFD.
  EXPECT_EQ(Utf8ToUtf16Lossy("x\xFFy"), (std::u16string{u'x', 0xFFFD, u'y'}));
  EXPECT_EQ(Utf16ToUtf8Lossy(std::u16string{0xD800, u'z'}), "\xEF\xBF\xBDz");
  const Bytes odd = {'a', 0, 'b'};
  EXPECT_EQ(Utf16LeToUtf8Lossy(odd.data(), odd.size()), "a\xEF\xBF\xBD");
  EXPECT_EQ(Utf8ToUtf16LeLossy("\xC0"), (Bytes{0xFD, 0xFF}));
}

// ==== Windows's upper case ===================================================

TEST(Upcase, MapsOneCodeUnitToOneAsWindowsDoes) {
  EXPECT_EQ(UpcaseCodeUnit(u'a'), u'A');
  EXPECT_EQ(UpcaseCodeUnit(u'Z'), u'Z');
  EXPECT_EQ(UpcaseCodeUnit(0x00E9), 0x00C9);  // é -> É
  EXPECT_EQ(UpcaseCodeUnit(0x00FF), 0x0178);  // ÿ -> Ÿ, outside Latin-1
  EXPECT_EQ(UpcaseCodeUnit(0x0451), 0x0401);  // ё -> Ё
  EXPECT_EQ(UpcaseCodeUnit(0x03C3), 0x03A3);  // σ -> Σ
  EXPECT_EQ(UpcaseCodeUnit(0x1F80), 0x1F88);  // ᾀ -> ᾈ (simple mapping)
  EXPECT_EQ(UpcaseCodeUnit(0xFF41), 0xFF21);  // fullwidth a -> fullwidth A
  // No expansions and no mappings that do not round-trip: Windows leaves
  // these as they are (the table of [MS-UCODEREF] 3.1.5.3 has no entry).
  EXPECT_EQ(UpcaseCodeUnit(0x00DF), 0x00DF);  // ß, not "SS"
  EXPECT_EQ(UpcaseCodeUnit(0x0131), 0x0131);  // ı (dotless i), not I
  EXPECT_EQ(UpcaseCodeUnit(0x017F), 0x017F);  // ſ (long s), not S
  EXPECT_EQ(UpcaseCodeUnit(0x00B5), 0x00B5);  // µ (micro sign), not Μ
  EXPECT_EQ(UpcaseCodeUnit(0x03C2), 0x03C2);  // ς (final sigma), not Σ
  EXPECT_EQ(UpcaseCodeUnit(0x01C5), 0x01C5);  // ǅ (title case), not Ǆ
  EXPECT_EQ(UpcaseCodeUnit(0x0130), 0x0130);  // İ is already upper case
  EXPECT_EQ(UpcaseCodeUnit(0x212A), 0x212A);  // Kelvin sign
  // Surrogates never change.
  for (char16_t s = 0xD800; s != 0xE000; ++s) ASSERT_EQ(UpcaseCodeUnit(s), s);
  EXPECT_FALSE(UpcaseTableUnicodeVersion().empty());
}

TEST(Upcase, NeverMapsBetweenAsciiAndTheRest) {
  // So names that are ASCII compare exactly as before, and a non-ASCII
  // letter can never pass for an ASCII one ("ı" for "i" in "admın").
  for (uint32_t u = 0; u <= 0xFFFF; ++u) {
    const char16_t up = UpcaseCodeUnit(static_cast<char16_t>(u));
    ASSERT_EQ(u < 0x80, up < 0x80) << std::hex << u;
    if (u < 0x80) {
      ASSERT_EQ(up, u >= 'a' && u <= 'z' ? u - 0x20 : u) << std::hex << u;
    }
  }
}

TEST(Upcase, IsIdempotent) {
  for (uint32_t u = 0; u <= 0xFFFF; ++u) {
    const char16_t up = UpcaseCodeUnit(static_cast<char16_t>(u));
    ASSERT_EQ(UpcaseCodeUnit(up), up) << std::hex << u;
  }
}

TEST(Upcase, Utf16StringsUpcaseUnitByUnit) {
  EXPECT_EQ(UpcaseUtf16(u"\u00e9mile"), u"\u00c9MILE");
  // U+10428 DESERET SMALL LETTER LONG I has an upper case (U+10400), but
  // Windows's table covers code units, so the pair is left as it is.
  const std::u16string deseret = u"\U00010428";
  ASSERT_EQ(deseret.size(), 2u);
  EXPECT_EQ(UpcaseUtf16(deseret), deseret);
}

TEST(AccountName, ComparesWithWindowsUpperCase) {
  EXPECT_TRUE(AccountNamesEqual("\xC3\xA9mile", "\xC3\x89MILE"));   // émile, ÉMILE
  EXPECT_TRUE(AccountNamesEqual("Administrator", "ADMINISTRATOR"));
  EXPECT_TRUE(AccountNamesEqual("\xD1\x91lka", "\xD0\x81LKA"));       // ёlka, ЁLKA
  EXPECT_FALSE(AccountNamesEqual("\xC3\xA9mile", "EMILE"));          // no accent folding
  EXPECT_FALSE(AccountNamesEqual("bob", "bobby"));
  EXPECT_EQ(*UpcaseAccountName("\xC3\xA9mile"), "\xC3\x89MILE");
  EXPECT_EQ(*UpcaseAccountName(""), "");
}

TEST(AccountName, TurkishDotlessIIsItsOwnLetter) {
  // "admın" (U+0131) is not "admin": Windows does not upcase ı to I, so the
  // two are different accounts, and "İ" (U+0130) is not "I" either.
  EXPECT_EQ(*UpcaseAccountName("adm\xC4\xB1n"), "ADM\xC4\xB1N");
  EXPECT_FALSE(AccountNamesEqual("adm\xC4\xB1n", "admin"));
  EXPECT_FALSE(AccountNamesEqual("adm\xC4\xB1n", "ADMIN"));
  EXPECT_FALSE(AccountNamesEqual("\xC4\xB0", "I"));
  EXPECT_TRUE(AccountNamesEqual("adm\xC4\xB1n", "ADM\xC4\xB1N"));
}

TEST(AccountName, SupplementaryCharactersStayAsTheyAre) {
  // U+1F600 and U+10428: four-byte UTF-8, a surrogate pair in UTF-16.
  EXPECT_EQ(*UpcaseAccountName("x\xF0\x9F\x98\x80y"), "X\xF0\x9F\x98\x80Y");
  EXPECT_EQ(*UpcaseAccountName("\xF0\x90\x90\xA8"), "\xF0\x90\x90\xA8");
  EXPECT_FALSE(AccountNamesEqual("\xF0\x90\x90\xA8", "\xF0\x90\x90\x80"));
}

TEST(AccountName, RefusesInvalidUtf8NamingTheByte) {
  auto r = UpcaseAccountName("ab\xC3(");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
  EXPECT_EQ(r.status().position(), 2u);
  EXPECT_EQ(r.status().message(),
            "account name: invalid UTF-8 at byte 2: truncated UTF-8 sequence");
  auto overlong = UpcaseAccountName("\xC0\xA0");
  ASSERT_FALSE(overlong.ok());
  EXPECT_EQ(overlong.status().message(),
            "account name: invalid UTF-8 at byte 0: overlong UTF-8 sequence");
  // An invalid name equals nothing, not even itself.
  EXPECT_FALSE(AccountNamesEqual("ab\xFF", "ab\xFF"));
  EXPECT_FALSE(AccountNamesEqual("ab\xFF", "AB\xFF"));
}

TEST(Upcase, Utf8KeepsBytesThatAreNotUtf8) {
  // The store's keys may hold any bytes; those pass through.
  EXPECT_EQ(UpcaseUtf8("a\xFF\xC3\xA9"), "A\xFF\xC3\x89");
}

}  // namespace
}  // namespace comsec
