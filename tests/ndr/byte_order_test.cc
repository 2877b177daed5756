// NDR decoding in the sender's integer representation (C706 14.2: the
// receiver makes it right): every primitive, UUIDs and context handles,
// conformant and conformant-varying arrays, strings and pointers decode the
// same from a little-endian and a big-endian sender. The stubs are packed
// here by hand, not by ndr::Encoder (which writes only little-endian), and
// fixed big-endian byte strings pin the wire form itself.
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "comsec/base/hex.h"
#include "comsec/ndr/decoder.h"

namespace comsec::ndr {
namespace {

// Writes NDR20 primitives, aligned to their size, in either byte order.
class Packer {
 public:
  explicit Packer(bool little_endian) : le_(little_endian) {}

  Packer& Align(size_t n) {
    while (bytes_.size() % n != 0) bytes_.push_back(0);
    return *this;
  }
  Packer& U8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  Packer& U16(uint16_t v) { return Int(v, 2); }
  Packer& U32(uint32_t v) { return Int(v, 4); }
  Packer& U64(uint64_t v) { return Int(v, 8); }
  Packer& Raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b);
    return *this;
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  Packer& Int(uint64_t v, size_t size) {
    Align(size);
    for (size_t i = 0; i < size; ++i) {
      const size_t shift = 8 * (le_ ? i : size - 1 - i);
      bytes_.push_back(static_cast<uint8_t>(v >> shift));
    }
    return *this;
  }

  bool le_;
  std::vector<uint8_t> bytes_;
};

class ByteOrder : public ::testing::TestWithParam<bool> {
 protected:
  bool little_endian() const { return GetParam(); }
  Packer Pack() const { return Packer(little_endian()); }
  DataRep rep() const { return DataRep{little_endian()}; }
};

TEST_P(ByteOrder, EveryPrimitive) {
  Packer p = Pack();
  p.U8(0xA5).U16(0x0102).U32(0x01020304).U64(0x0102030405060708ull);
  p.U32(static_cast<uint32_t>(-2)).U16(7).U8(0x5A).U32(0xFFFFFFFEu);
  Decoder d(p.bytes(), rep());
  EXPECT_EQ(*d.U8(), 0xA5);
  EXPECT_EQ(*d.U16(), 0x0102);
  EXPECT_EQ(*d.U32(), 0x01020304u);
  EXPECT_EQ(*d.U64(), 0x0102030405060708ull);
  EXPECT_EQ(*d.I32(), -2);
  EXPECT_EQ(*d.Enum16(), 7);
  EXPECT_EQ(*d.U8(), 0x5A);
  EXPECT_EQ(*d.U32(), 0xFFFFFFFEu);
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST_P(ByteOrder, UuidAndContextHandle) {
  // A UUID's three integer fields follow the sender's order; its eight
  // trailing bytes are bytes.
  const Guid g = *Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21");
  Packer p = Pack();
  p.U8(1);
  p.U32(0x4b2f6d5e).U16(0x8c1a).U16(0x4f3b);
  p.Raw({0x9e, 0x2d, 0x7c, 0x6a, 0x5b, 0x4e, 0x3d, 0x21});
  p.U32(0x00000002);  // context handle attributes
  p.U32(0x4b2f6d5e).U16(0x8c1a).U16(0x4f3b);
  p.Raw({0x9e, 0x2d, 0x7c, 0x6a, 0x5b, 0x4e, 0x3d, 0x21});
  Decoder d(p.bytes(), rep());
  (void)d.U8();
  auto u = d.Uuid();
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(*u, g);
  auto h = d.Context();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->attributes, 2u);
  EXPECT_EQ(h->uuid, g);
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST_P(ByteOrder, ConformantArray) {
  // [size_is(3)] unsigned short a[]: max_count, then the elements.
  Packer p = Pack();
  p.U32(3).U16(0x1234).U16(0xABCD).U16(0x0001);
  Decoder d(p.bytes(), rep());
  auto n = d.Conformance(2);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(*d.U16(), 0x1234);
  EXPECT_EQ(*d.U16(), 0xABCD);
  EXPECT_EQ(*d.U16(), 0x0001);
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST_P(ByteOrder, ConformantVaryingArray) {
  // max_count 4, offset 1, actual_count 2 of unsigned long.
  Packer p = Pack();
  p.U32(4).U32(1).U32(2).U32(0xDEADBEEF).U32(0x00C0FFEE);
  Decoder d(p.bytes(), rep());
  auto max = d.Conformance(0);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, 4u);
  auto v = d.VarianceOf(*max, 4);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->offset, 1u);
  EXPECT_EQ(v->actual_count, 2u);
  EXPECT_EQ(*d.U32(), 0xDEADBEEFu);
  EXPECT_EQ(*d.U32(), 0x00C0FFEEu);
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST_P(ByteOrder, Strings) {
  Packer p = Pack();
  p.U32(7).U32(0).U32(7).Raw({'c', 'o', 'm', 's', 'e', 'c', 0});
  const std::u16string wide =
      u"h\u00e9\u20acl";  // two bytes apart in each order
  p.U32(5).U32(0).U32(5);
  for (char16_t c : wide) p.U16(static_cast<uint16_t>(c));
  p.U16(0);
  Decoder d(p.bytes(), rep());
  auto s = d.CString();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, "comsec");
  auto w = d.WString();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(*w, wide);
  EXPECT_TRUE(d.ExpectEnd().ok());
}

TEST_P(ByteOrder, Pointers) {
  Packer p = Pack();
  p.U32(0x00020000).U32(0x00020004).U32(0x00020008).U32(0x00020008).U32(0);
  Decoder d(p.bytes(), rep());
  EXPECT_EQ(*d.UniquePointer(), 0x00020000u);
  EXPECT_EQ(*d.RefPointer(), 0x00020004u);
  auto first = d.PtrPointer();
  EXPECT_EQ(first->id, 0x00020008u);
  EXPECT_TRUE(first->first);
  auto alias = d.PtrPointer();
  EXPECT_EQ(alias->id, 0x00020008u);
  EXPECT_FALSE(alias->first);
  auto null_ref = d.RefPointer();
  ASSERT_FALSE(null_ref.ok());
  EXPECT_EQ(null_ref.status().code(), RPC_X_NULL_REF_POINTER);
}

TEST_P(ByteOrder, CountsBeyondTheBytesAreRefusedInEitherOrder) {
  // 0x100 elements of one byte, eight bytes present.
  Packer p = Pack();
  p.U32(0x100).U32(0).U32(0);
  Decoder d(p.bytes(), rep());
  auto n = d.Conformance(1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), RPC_X_BAD_STUB_DATA);
}

INSTANTIATE_TEST_SUITE_P(Ndr, ByteOrder, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "LittleEndian" : "BigEndian";
                         });

std::vector<uint8_t> Hex(const char* h) { return *FromHex(h); }

// The wire form itself: IComsecEcho's Add(2, 40) and Echo(3 bytes) requests
// and a [string] wchar_t* as a big-endian sender writes them.
TEST(NdrBigEndian, IComsecEchoStubs) {
  auto add =
      Hex("00000002"
          "00000028");
  Decoder a(add, DataRep{false});
  EXPECT_EQ(*a.I32(), 2);
  EXPECT_EQ(*a.I32(), 40);
  EXPECT_TRUE(a.ExpectEnd().ok());

  auto echo =
      Hex("00000003"
          "00000003"
          "616263");
  Decoder e(echo, DataRep{false});
  EXPECT_EQ(*e.U32(), 3u);
  ASSERT_EQ(*e.Conformance(1), 3u);
  auto bytes = e.Bytes(3);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), "abc");
  EXPECT_TRUE(e.ExpectEnd().ok());

  auto name =
      Hex("00000003"
          "00000000"
          "00000003"
          "0068"
          "20ac"
          "0000");
  Decoder w(name, DataRep{false});
  EXPECT_EQ(*w.WString(), u"h\u20ac");
}

// Read in the wrong order, the same bytes are refused rather than misread
// into a huge allocation: 00000003 is 0x03000000 little-endian.
TEST(NdrBigEndian, WrongOrderIsRefusedNotMisread) {
  auto echo =
      Hex("00000003"
          "00000003"
          "616263");
  Decoder d(echo, DataRep{true});
  EXPECT_EQ(*d.U32(), 0x03000000u);
  auto n = d.Conformance(1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), RPC_X_BAD_STUB_DATA);
}

TEST(NdrBigEndian, DataRepLabelsRoundTrip) {
  for (bool le : {true, false}) {
    const auto label = DataRep{le}.ToBytes();
    auto back = DataRep::FromBytes(label.data());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->little_endian, le);
  }
  EXPECT_EQ(DataRep{false}.ToBytes()[0], 0x00);
  EXPECT_EQ(DataRep{true}.ToBytes()[0], 0x10);
}

}  // namespace
}  // namespace comsec::ndr
