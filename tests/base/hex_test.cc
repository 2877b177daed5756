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

}  // namespace
}  // namespace comsec
