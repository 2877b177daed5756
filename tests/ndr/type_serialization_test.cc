// Type serialization version 1 ([MS-RPCE] 2.2.6): the exact bytes we
// write, the five streams of a real activation blob (impacket's
// RemoteCreateInstance, tests/data/dcom/), both byte orders, and every
// malformed header refused with its code.
#include "comsec/ndr/type_serialization.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "comsec/base/hex.h"
#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"

namespace comsec::ndr {
namespace {

std::vector<uint8_t> Hex(const std::string& text) {
  auto bytes = FromHex(text);
  EXPECT_TRUE(bytes.ok()) << text;
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

std::vector<uint8_t> Fixture(const std::string& name) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/dcom/" + name);
  std::string text;
  std::getline(in, text);
  return Hex(text);
}

TEST(TypeSerializationTest, PickleWritesTheSpecifiedHeadersAndZeroPad) {
  Encoder e;
  e.U32(0x11223344);
  e.U8(0x55);
  std::vector<uint8_t> stream = PickleType(e.bytes());
  // Version 1, little-endian, header length 8, filler 0xCCCCCCCC;
  // ObjectBufferLength 8 (5 bytes and 3 of pad), filler 0; zero pad.
  EXPECT_EQ(stream, Hex("01100800cccccccc"
                        "0800000000000000"
                        "4433221155000000"));
}

TEST(TypeSerializationTest, RoundTrip) {
  Encoder e;
  e.U64(0x0102030405060708);
  e.WString(u"pickled");
  std::vector<uint8_t> stream = PickleType(e.bytes());
  auto back = UnpickleType(stream);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->rep.little_endian);
  Decoder d(back->ndr, back->rep);
  EXPECT_EQ(*d.U64(), 0x0102030405060708u);
  EXPECT_EQ(*d.WString(), u"pickled");
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST(TypeSerializationTest, EmptyTypeIsHeadersOnly) {
  std::vector<uint8_t> stream = PickleType({});
  EXPECT_EQ(stream, Hex("01100800cccccccc0000000000000000"));
  auto back = UnpickleType(stream);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->ndr.empty());
}

// impacket's activation blob: the CustomHeader and four properties, each
// its own stream, sized by the CustomHeader's pSizes (0x58, 0x28, 0x20,
// 0x30). impacket writes 0xCCCCCCCC in the private filler and leaves the
// trailing pad (0xFA bytes) out of ObjectBufferLength; both are accepted.
TEST(TypeSerializationTest, ReadsImpacketActivationBlobStreams) {
  std::vector<uint8_t> objref = Fixture("impacket-RemoteCreateInstance-pActProperties.objref.hex");
  ASSERT_EQ(objref.size(), 416u);
  struct Stream {
    size_t offset, size, ndr_length;
  };
  const Stream streams[] = {
      {0x38, 0x98, 0x88},  // CustomHeader
      {0xD0, 0x58, 0x44},  // InstantiationInfoData: 4 bytes of pad uncounted
      {0x128, 0x28, 0x18},  // ActivationContextInfoData
      {0x150, 0x20, 0x10},  // LocationInfoData
      {0x170, 0x30, 0x1A},  // ScmRequestInfoData: 6 bytes of pad uncounted
  };
  for (const Stream& s : streams) {
    SCOPED_TRACE(s.offset);
    auto t = UnpickleType(std::span<const uint8_t>(objref).subspan(s.offset, s.size));
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(t->rep.little_endian);
    EXPECT_EQ(t->ndr.size(), s.ndr_length);
    EXPECT_EQ(t->ndr.data(), objref.data() + s.offset + 16);
  }
  // The CustomHeader's first fields: totalSize 0x168, headerSize 0x98.
  auto header = UnpickleType(std::span<const uint8_t>(objref).subspan(0x38, 0x98));
  ASSERT_TRUE(header.ok());
  Decoder d(header->ndr, header->rep);
  EXPECT_EQ(*d.U32(), 0x168u);
  EXPECT_EQ(*d.U32(), 0x98u);
}

TEST(TypeSerializationTest, ReadsABigEndianStream) {
  // Endianness 0x00: the private header and the body are big-endian; the
  // common header stays little-endian.
  auto t = UnpickleType(Hex("01000800cccccccc"
                            "0000000800000000"
                            "1122334400000000"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->rep.little_endian);
  Decoder d(t->ndr, t->rep);
  EXPECT_EQ(*d.U32(), 0x11223344u);
}

void ExpectRefused(const std::string& hex, HResult code, const std::string& words) {
  auto t = UnpickleType(Hex(hex));
  ASSERT_FALSE(t.ok()) << hex;
  EXPECT_EQ(t.status().code(), code) << t.status().ToString();
  EXPECT_NE(t.status().message().find(words), std::string::npos) << t.status().ToString();
}

TEST(TypeSerializationTest, RefusesMalformedHeaders) {
  ExpectRefused("01100800cccccccc00000000000000", RPC_X_WRONG_ES_VERSION,
                "15 bytes cannot hold the common and private headers");
  ExpectRefused("02100800cccccccc0000000000000000", RPC_X_WRONG_ES_VERSION,
                "version 2, only version 1 is read");
  ExpectRefused("01200800cccccccc0000000000000000", RPC_X_WRONG_ES_VERSION,
                "endianness byte 32 is neither 0x10 nor 0x00");
  ExpectRefused("01101000cccccccc0000000000000000", RPC_X_WRONG_ES_VERSION,
                "CommonHeaderLength 16, must be 8");
  ExpectRefused("01100800cccccccc0900000000000000" "0000000000000000", RPC_X_BAD_STUB_DATA,
                "ObjectBufferLength 9 exceeds the 8 bytes that follow the headers");
  ExpectRefused("01100800cccccccc0000000000000000" "0000000000000000", RPC_X_BAD_STUB_DATA,
                "8 bytes follow the serialized type, more than its padding (offset 16)");
  // A length near 2^32 is refused, not wrapped.
  ExpectRefused("01100800ccccccccffffffff00000000" "00", RPC_X_BAD_STUB_DATA,
                "ObjectBufferLength 4294967295 exceeds the 1 bytes");
}

}  // namespace
}  // namespace comsec::ndr
