#include "comsec/base/guid.h"

#include <gtest/gtest.h>

namespace comsec {
namespace {

// The IComsecEcho interface id from the RPC issue; any GUID would do.
constexpr char kText[] = "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21";

TEST(Guid, ParsesWithAndWithoutBraces) {
  auto a = Guid::Parse(kText);
  auto b = Guid::Parse("{4B2F6D5E-8C1A-4F3B-9E2D-7C6A5B4E3D21}");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->data1, 0x4b2f6d5eu);
  EXPECT_EQ(a->data2, 0x8c1a);
  EXPECT_EQ(a->data3, 0x4f3b);
  EXPECT_EQ(a->data4[0], 0x9e);
  EXPECT_EQ(a->data4[7], 0x21);
}

TEST(Guid, FormatsLowercaseAndRegistryForm) {
  auto g = Guid::Parse(kText);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->ToString(), kText);
  EXPECT_EQ(g->ToRegistryString(), "{4B2F6D5E-8C1A-4F3B-9E2D-7C6A5B4E3D21}");
}

// [MS-DTYP] 2.3.4.2: Data1..Data3 little-endian, Data4 as bytes.
TEST(Guid, BytesAreLittleEndian) {
  auto g = Guid::Parse("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(g.ok());
  std::array<uint8_t, 16> expected = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44,
                                      0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb,
                                      0xcc, 0xdd, 0xee, 0xff};
  EXPECT_EQ(g->ToBytes(), expected);
  EXPECT_EQ(Guid::FromBytes(expected.data()), *g);
}

TEST(Guid, RejectsMalformedText) {
  for (const char* bad :
       {"", "{}", "{4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21",
        "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d2", "4b2f6d5e8c1a-4f3b-9e2d-7c6a5b4e3d21x",
        "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3dzz", "4b2f6d5e_8c1a_4f3b_9e2d_7c6a5b4e3d21"}) {
    auto g = Guid::Parse(bad);
    EXPECT_FALSE(g.ok()) << bad;
    if (!g.ok()) {
      EXPECT_EQ(g.status().code(), E_INVALIDARG) << bad;
    }
  }
}

TEST(Guid, ReportsPositionOfBadCharacter) {
  auto g = Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3dz1");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().position(), 34u);
}

TEST(Guid, NilIsAllZero) {
  EXPECT_TRUE(Guid{}.IsNil());
  EXPECT_FALSE(Guid::Parse(kText)->IsNil());
}

}  // namespace
}  // namespace comsec
