#include "comsec/base/byte_reader.h"

#include <gtest/gtest.h>

#include "comsec/base/byte_writer.h"

namespace comsec {
namespace {

TEST(ByteReader, ReadsLittleAndBigEndian) {
  const uint8_t bytes[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
                           0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};
  ByteReader r(bytes, "test");
  EXPECT_EQ(*r.U16Le(), 0x0201);
  EXPECT_EQ(*r.U32Le(), 0x06050403u);
  EXPECT_EQ(*r.U48Be(), 0x0708090a0b0cull);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteReader, TruncationIsAnErrorAndDoesNotMove) {
  const uint8_t bytes[] = {0x01, 0x02, 0x03};
  ByteReader r(bytes, "thing");
  EXPECT_EQ(*r.U8(), 1);
  auto v = r.U32Le();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), E_INVALIDARG);
  EXPECT_EQ(v.status().position(), 1u);
  EXPECT_NE(v.status().message().find("thing: truncated"), std::string::npos);
  EXPECT_EQ(r.offset(), 1u);
  EXPECT_FALSE(r.Bytes(3).ok());
  EXPECT_TRUE(r.Bytes(2).ok());
  EXPECT_FALSE(r.Skip(1).ok());
}

TEST(ByteWriter, WritesAndPatches) {
  ByteWriter w;
  w.U8(0xAA);
  w.U16Le(0x1234);
  w.U32Le(0);
  w.PatchU32Le(3, 0xdeadbeef);
  w.U48Be(0x010203040506ull);
  std::vector<uint8_t> expected = {0xAA, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,
                                   0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
  EXPECT_EQ(w.bytes(), expected);
}

}  // namespace
}  // namespace comsec
