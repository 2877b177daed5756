#include "comsec/config/reg_value.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace comsec::config {
namespace {

using Bytes = std::vector<uint8_t>;

TEST(RegValue, TypeNamesRoundTrip) {
  for (uint32_t t = 0; t <= 11; ++t) {
    const std::string name = RegTypeName(static_cast<RegType>(t));
    auto parsed = ParseRegTypeName(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(static_cast<uint32_t>(*parsed), t) << name;
  }
  EXPECT_EQ(RegTypeName(RegType::kSz), "REG_SZ");
  EXPECT_EQ(RegTypeName(RegType::kQword), "REG_QWORD");
  EXPECT_EQ(RegTypeName(static_cast<RegType>(0x1234)), "REG_0x1234");
  EXPECT_EQ(*ParseRegTypeName("REG_0x1234"), static_cast<RegType>(0x1234));
  EXPECT_EQ(*ParseRegTypeName("reg_expand_sz"), RegType::kExpandSz);
  EXPECT_EQ(*ParseRegTypeName("REG_DWORD_LITTLE_ENDIAN"), RegType::kDword);
}

TEST(RegValue, UnknownTypeNameIsInvalidArg) {
  for (const char* bad :
       {"", "REG_", "SZ", "REG_0x", "REG_0x123456789", "REG_0xZZ", "REG_SZ "}) {
    auto parsed = ParseRegTypeName(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), E_INVALIDARG);
  }
}

TEST(RegValue, StringBuilderStoresUtf16LeWithNul) {
  RegValue v = RegValue::String("Name", "Aé€");
  EXPECT_EQ(v.type, RegType::kSz);
  EXPECT_EQ(v.data, (Bytes{'A', 0, 0xE9, 0, 0xAC, 0x20, 0, 0}));
  EXPECT_EQ(*v.AsString(), "Aé€");

  RegValue e = RegValue::String("Path", "%SystemRoot%", RegType::kExpandSz);
  EXPECT_EQ(e.type, RegType::kExpandSz);
  EXPECT_EQ(*e.AsString(), "%SystemRoot%");

  EXPECT_EQ(RegValue::String("", "").data, (Bytes{0, 0}));
}

TEST(RegValue, StringBuilderReplacesInvalidUtf8) {
  RegValue v = RegValue::String("", std::string("a\xFF"
                                                "b",
                                                3));
  EXPECT_EQ(v.data, (Bytes{'a', 0, 0xFD, 0xFF, 'b', 0, 0, 0}));
}

TEST(RegValue, NonBmpCharacterIsASurrogatePair) {
  RegValue v = RegValue::String("", "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(v.data, (Bytes{0x3D, 0xD8, 0x00, 0xDE, 0, 0}));
  EXPECT_EQ(*v.AsString(), "\xF0\x9F\x98\x80");
}

TEST(RegValue, AsStringStopsAtNulAndToleratesMissingTerminator) {
  RegValue v;
  v.type = RegType::kSz;
  v.data = {'a', 0, 'b', 0};  // no terminator: read to the end
  EXPECT_EQ(*v.AsString(), "ab");
  v.data = {'a', 0, 0, 0, 'b', 0, 0, 0};
  EXPECT_EQ(*v.AsString(), "a");
  v.data = {};
  EXPECT_EQ(*v.AsString(), "");
}

TEST(RegValue, AsStringRejectsOddLengthAndBadUtf16) {
  RegValue v;
  v.name = "Odd";
  v.type = RegType::kSz;
  v.data = {'a', 0, 'b'};
  auto odd = v.AsString();
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), E_INVALIDARG);
  EXPECT_NE(odd.status().message().find("\"Odd\""), std::string_view::npos);

  v.data = {0x00, 0xDC, 0, 0};  // lone low surrogate
  EXPECT_FALSE(v.AsString().ok());
}

TEST(RegValue, AsStringRejectsOtherTypes) {
  auto r = RegValue::Dword("Level", 5).AsString();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
  EXPECT_NE(r.status().message().find("REG_DWORD"), std::string_view::npos);
}

TEST(RegValue, MultiStringRoundTrips) {
  RegValue v = RegValue::MultiString("List", {"one", "two", "ünï"});
  EXPECT_EQ(v.type, RegType::kMultiSz);
  auto list = v.AsMultiString();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::string>{"one", "two", "ünï"}));
  // Two NULs at the end: one for "ünï", one for the empty string.
  ASSERT_GE(v.data.size(), 4u);
  EXPECT_EQ(Bytes(v.data.end() - 4, v.data.end()), (Bytes{0, 0, 0, 0}));
}

TEST(RegValue, EmptyMultiStringIsOneNul) {
  RegValue v = RegValue::MultiString("", {});
  EXPECT_EQ(v.data, (Bytes{0, 0}));
  EXPECT_TRUE(v.AsMultiString()->empty());
}

TEST(RegValue, MultiStringStopsAtEmptyStringAndToleratesNoTerminator) {
  RegValue v;
  v.type = RegType::kMultiSz;
  v.data = {'a', 0, 0, 0, 0, 0, 'b', 0, 0, 0};
  EXPECT_EQ(*v.AsMultiString(), (std::vector<std::string>{"a"}));
  v.data = {'a', 0, 0, 0, 'b', 0};
  EXPECT_EQ(*v.AsMultiString(), (std::vector<std::string>{"a", "b"}));
  v.data = {'a', 0, 'b'};
  EXPECT_FALSE(v.AsMultiString().ok());
}

TEST(RegValue, DwordAndQword) {
  RegValue d = RegValue::Dword("d", 0x12345678);
  EXPECT_EQ(d.data, (Bytes{0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(*d.AsDword(), 0x12345678u);

  RegValue be;
  be.type = RegType::kDwordBigEndian;
  be.data = {0x12, 0x34, 0x56, 0x78};
  EXPECT_EQ(*be.AsDword(), 0x12345678u);

  RegValue q = RegValue::Qword("q", 0x0102030405060708ull);
  EXPECT_EQ(q.type, RegType::kQword);
  EXPECT_EQ(q.data, (Bytes{8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(*q.AsQword(), 0x0102030405060708ull);
}

TEST(RegValue, DwordOfWrongSizeOrTypeIsInvalidArg) {
  RegValue d = RegValue::Dword("d", 1);
  d.data.pop_back();
  auto r = d.AsDword();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
  EXPECT_NE(r.status().message().find("3 bytes"), std::string_view::npos);

  EXPECT_FALSE(RegValue::Qword("q", 1).AsDword().ok());
  EXPECT_FALSE(RegValue::Dword("d", 1).AsQword().ok());
  RegValue q = RegValue::Qword("q", 1);
  q.data.push_back(0);
  EXPECT_FALSE(q.AsQword().ok());
}

TEST(RegValue, BinaryKeepsBytes) {
  RegValue b = RegValue::Binary("b", {0, 1, 2});
  EXPECT_EQ(b.type, RegType::kBinary);
  EXPECT_EQ(b.data, (Bytes{0, 1, 2}));
  EXPECT_EQ(b, RegValue::Binary("b", {0, 1, 2}));
  EXPECT_NE(b, RegValue::Binary("c", {0, 1, 2}));
}

}  // namespace
}  // namespace comsec::config
