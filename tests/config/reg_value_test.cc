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

}  // namespace
}  // namespace comsec::config
