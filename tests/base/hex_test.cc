#include "comsec/base/hex.h"

#include <gtest/gtest.h>

namespace comsec {
namespace {

TEST(Hex, RoundTrips) {
  std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "0001abff");
  EXPECT_EQ(*FromHex("0001ABff"), bytes);
}

TEST(Hex, AcceptsRegeditSeparators) {
  std::vector<uint8_t> bytes = {0x01, 0x00, 0x04, 0x80};
  EXPECT_EQ(*FromHex("01,00,04,80"), bytes);
  EXPECT_EQ(*FromHex("01 00\n04:80"), bytes);
}

TEST(Hex, RejectsOddDigitsAndBadCharacters) {
  auto odd = FromHex("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().position(), 2u);
  auto bad = FromHex("abzz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().position(), 2u);
  EXPECT_FALSE(FromHex("a,b").ok());
}

TEST(Hex, DigitValues) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('9'), 9);
  EXPECT_EQ(HexDigitValue('a'), 10);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('x'), -1);
  EXPECT_EQ(HexDigitRun("1fG"), 2u);
  EXPECT_EQ(HexDigitRun(""), 0u);
}

TEST(ParseUnsigned, ReadsEachBase) {
  EXPECT_EQ(*ParseUnsigned("1f", NumberBase::kHex, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("0031", NumberBase::kDecimal, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("0x1F", NumberBase::kDecimalOrHex, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("031", NumberBase::kDecimalOrHex, UINT64_MAX), 31u);
  // C's base 0 (wcstoul in SDDL): a leading 0 is octal.
  EXPECT_EQ(*ParseUnsigned("037", NumberBase::kC, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("0X1f", NumberBase::kC, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("31", NumberBase::kC, UINT64_MAX), 31u);
  EXPECT_EQ(*ParseUnsigned("0", NumberBase::kC, UINT64_MAX), 0u);
  EXPECT_EQ(*ParseUnsigned("ffffffffffffffff", NumberBase::kHex, UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(*ParseUnsigned("ffffffff", NumberBase::kHex, 0xFFFFFFFFu), 0xFFFFFFFFu);
}

TEST(ParseUnsigned, RefusesNamingThePlace) {
  struct Case {
    const char* text;
    NumberBase base;
    uint64_t max;
    size_t position;
    const char* message;
  } cases[] = {
      {"", NumberBase::kHex, 9, 0, "no digits"},
      {"0x", NumberBase::kC, 9, 0, "no digits after 0x"},
      {"0X", NumberBase::kDecimalOrHex, 9, 0, "no digits after 0X"},
      {"12g", NumberBase::kHex, UINT64_MAX, 2, "'g' is not a hex digit"},
      {"0x1g", NumberBase::kC, UINT64_MAX, 3, "'g' is not a hex digit"},
      {"019", NumberBase::kC, UINT64_MAX, 2, "'9' is not an octal digit"},
      {"1a", NumberBase::kDecimal, UINT64_MAX, 1, "'a' is not a decimal digit"},
      {"-1", NumberBase::kDecimal, UINT64_MAX, 0, "'-' is not a decimal digit"},
      {" 1", NumberBase::kC, UINT64_MAX, 0, "' ' is not a decimal digit"},
      {"100000000", NumberBase::kHex, 0xFFFFFFFFu, 0, "exceeds 0xffffffff"},
      {"0x100000000", NumberBase::kC, 0xFFFFFFFFu, 0, "exceeds 0xffffffff"},
      {"256", NumberBase::kDecimal, 255, 0, "exceeds 255"},
      {"7", NumberBase::kDecimal, 6, 0, "exceeds 6"},  // one digit above max
      {"f", NumberBase::kHex, 9, 0, "exceeds 0x9"},
      {"18446744073709551616", NumberBase::kDecimal, UINT64_MAX, 0,
       "exceeds 18446744073709551615"},
  };
  for (const Case& c : cases) {
    auto r = ParseUnsigned(c.text, c.base, c.max);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    EXPECT_EQ(r.status().position(), c.position) << c.text;
    EXPECT_EQ(r.status().message(), c.message) << c.text;
  }
}

}  // namespace
}  // namespace comsec
