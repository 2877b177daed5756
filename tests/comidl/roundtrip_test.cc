// Generated NDR20 codecs of constructs.idl: encode → decode → equal for
// each construct, exact bytes for hand-checked cases (alignment, hoisted
// conformance, depth-first referents, full-pointer aliasing, unions),
// big-endian decoding, and the checks a hostile stub meets (correlation,
// range, counts larger than the stub, nesting depth).
#include <gtest/gtest.h>

#include "comsec/base/hex.h"
#include "constructs.h"

namespace comsec::idl {
namespace {

template <typename T>
std::vector<uint8_t> Bytes(const T& v) {
  ndr::Encoder e;
  Status s = Encode(e, v);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::move(e).Take();
}

template <typename T>
Result<T> Parse(const std::vector<uint8_t>& bytes, ndr::DataRep rep = ndr::DataRep::Native()) {
  ndr::Decoder d(bytes, rep);
  T v{};
  COMSEC_RETURN_IF_ERROR(Decode(d, v));
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  return v;
}

std::vector<uint8_t> Hex(std::string_view h) {
  std::string clean;
  for (char c : h) {
    if (c != ' ') clean += c;
  }
  return *FromHex(clean);
}

template <typename T>
void ExpectRoundTrip(const T& v, std::string_view hex) {
  std::vector<uint8_t> b = Bytes(v);
  EXPECT_EQ(ToHex(b), ToHex(Hex(hex)));
  auto back = Parse<T>(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == v);
}

TEST(ComidlRoundTrip, StructAlignsEachMemberFromTheStubStart) {
  ExpectRoundTrip(Aligned{1, 0x0807060504030201, 0x0a09},
                  "01000000 00000000 0102030405060708 090a");
}

TEST(ComidlRoundTrip, ConformantStructHoistsMaxCount) {
  ExpectRoundTrip(Conformant{3, {1, 2, 3}}, "03000000 03000000 0100 0200 0300");
}

TEST(ComidlRoundTrip, NestedConformantStructHoistsToTheOutermostFront) {
  ExpectRoundTrip(Outer{9, {2, {5, 6}}}, "02000000 09000000 02000000 0500 0600");
}

TEST(ComidlRoundTrip, MaxIsIsTheLastIndex) {
  ExpectRoundTrip(Maxed{2, {7, 8, 9}}, "03000000 02000000 0700 0800 0900");
  auto r = Parse<Maxed>(Hex("03000000 03000000 0700 0800 0900"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("max_count differs from max_is + 1"), std::string::npos);
}

TEST(ComidlRoundTrip, EmbeddedReferentsFollowDepthFirst) {
  Tree t;
  t.left = Node{1, Node{2, {}}};
  t.right = Node{3, {}};
  t.label = u"ab";
  ExpectRoundTrip(t,
                  "00000200 04000200 08000200"  // left, right, label ids
                  " 01000000 0c000200"          // *left: 1, next
                  " 02000000 00000000"          // *left->next: 2, NULL
                  " 03000000 00000000"          // *right: 3, NULL
                  " 03000000 00000000 03000000 6100 6200 0000");  // "ab"
}

TEST(ComidlRoundTrip, FullPointersAliasOneReferent) {
  Aliased a;
  a.a = std::make_shared<int32_t>(7);
  a.b = a.a;
  std::vector<uint8_t> b = Bytes(a);
  EXPECT_EQ(ToHex(b), ToHex(Hex("00000200 00000200 07000000")));
  auto back = Parse<Aliased>(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->a && back->b);
  EXPECT_EQ(back->a.get(), back->b.get());
  EXPECT_EQ(*back->a, 7);

  Aliased distinct;
  distinct.a = std::make_shared<int32_t>(7);
  distinct.b = std::make_shared<int32_t>(8);
  std::vector<uint8_t> d = Bytes(distinct);
  EXPECT_EQ(ToHex(d), ToHex(Hex("00000200 04000200 07000000 08000000")));
  auto back2 = Parse<Aliased>(d);
  ASSERT_TRUE(back2.ok());
  EXPECT_NE(back2->a.get(), back2->b.get());
  EXPECT_EQ(*back2->b, 8);
}

TEST(ComidlRoundTrip, VaryingArrayBehindAPointer) {
  Varying v{5, 1, 2, std::vector<int32_t>{10, 20}};
  ExpectRoundTrip(v,
                  "05000000 01000000 02000000 00000200"
                  " 05000000 01000000 02000000 0a000000 14000000");
}

TEST(ComidlRoundTrip, VaryingArrayChecksLengthIsAgainstActualCount) {
  auto r = Parse<Varying>(Hex("05000000 01000000 03000000 00000200"
                              " 05000000 01000000 02000000 0a000000 14000000"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  EXPECT_NE(r.status().ToString().find("actual_count differs from length_is"), std::string::npos);
}

TEST(ComidlRoundTrip, EncapsulatedUnionAlignsItsArmsToTheLargest) {
  Encapsulated big;
  big.kind = 3;
  big.big = 0x1122334455667788;
  ExpectRoundTrip(big, "0300 000000000000 8877665544332211");
  Encapsulated text;
  text.kind = 2;
  text.text = u"x";
  ExpectRoundTrip(text, "0200 000000000000 00000200 02000000 00000000 02000000 7800 0000");
  Encapsulated none;
  none.kind = 9;
  ExpectRoundTrip(none, "0900 000000000000");
}

TEST(ComidlRoundTrip, NonEncapsulatedUnionFollowsItsSwitchIs) {
  Tagged t;
  t.level = 2;
  t.body.tag = 2;
  t.body.aligned_arm = Aligned{1, 2, 3};
  ExpectRoundTrip(t, "0200 0200 00000000 01000000 00000000 0200000000000000 0300");
  t.body.tag = 1;  // differs from level
  ndr::Encoder e;
  EXPECT_EQ(Encode(e, t).code(), ndr::RPC_S_INVALID_TAG);
  auto r = Parse<Tagged>(Hex("0100 0200 00000000 01000000 00000000 0200000000000000 0300"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("discriminant differs from its switch_is"),
            std::string::npos);
}

TEST(ComidlRoundTrip, FixedArraysStringsGuidAndFloats) {
  Fixed f;
  f.matrix = {{{1, 2, 3}, {4, 5, 6}}};
  f.name = "abc";
  f.id = *Guid::Parse("01020304-0506-0708-090a-0b0c0d0e0f10");
  f.f = 1.5f;
  f.g = -2.25;
  f.flag = 1;
  ExpectRoundTrip(f,
                  "01000000 02000000 03000000 04000000 05000000 06000000"
                  " 00000000 04000000 61626300"
                  " 04030201 0605 0807 090a0b0c0d0e0f10"
                  " 0000c03f 000000000000 02c0 01");
  f.name = "12345678";  // no room for the NUL
  ndr::Encoder e;
  EXPECT_EQ(Encode(e, f).code(), ndr::RPC_X_INVALID_BOUND);
}

TEST(ComidlRoundTrip, BigEndianStubsDecode) {
  auto r = Parse<Conformant>(Hex("00000003 00000003 0001 0002 0003"), ndr::DataRep{false});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Conformant{3, {1, 2, 3}}));
  auto a = Parse<Aligned>(Hex("01000000 00000000 0102030405060708 090a"), ndr::DataRep{false});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->h, 0x0102030405060708);
  EXPECT_EQ(a->s, 0x090a);
}

TEST(ComidlHostile, SizeIsMustMatchMaxCount) {
  auto r = Parse<Conformant>(Hex("03000000 02000000 0100 0200 0300"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  EXPECT_NE(r.status().ToString().find("max_count differs from size_is"), std::string::npos);
}

TEST(ComidlHostile, RangeIsEnforced) {
  std::string hex = "11000000 11000000";
  for (int i = 0; i < 17; ++i) hex += " 0000";
  auto r = Parse<Conformant>(Hex(hex));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("outside its [range(0, 16)]"), std::string::npos);
}

TEST(ComidlHostile, CountLargerThanTheStubIsRefusedBeforeAllocating) {
  auto r = Parse<Conformant>(Hex("ffffffff ffffffff 0100"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA);
  auto v = Parse<Varying>(Hex("05000000 00000000 05000000 00000200 ffffff7f 00000000 ffffff7f"));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), RPC_X_BAD_STUB_DATA);
}

TEST(ComidlHostile, FullPointerIdReusedForAnotherTypeIsRefused) {
  // The same id for a long and, inside the referent... a Tree cannot do
  // that; Aliased's two longs share a type, so the id is accepted there.
  auto ok = Parse<Aliased>(Hex("00000200 00000200 07000000"));
  EXPECT_TRUE(ok.ok());
  ndr::Decoder d(Hex("00000000"));
  auto first = ndr::FullReferent<int32_t>(d, 0x20000);
  ASSERT_TRUE(first.ok());
  auto other = ndr::FullReferent<int64_t>(d, 0x20000);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), RPC_X_BAD_STUB_DATA);
}

TEST(ComidlHostile, NestingDeeperThanTheLimitIsRefused) {
  Node head{0, {}};
  Node* tail = &head;
  for (int i = 1; i < 100; ++i) {
    tail->next = Node{i, {}};
    tail = &*tail->next;
  }
  std::vector<uint8_t> b = Bytes(head);
  auto r = Parse<Node>(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("nesting deeper than 64"), std::string::npos);
  ndr::Limits roomy;
  roomy.max_depth = 200;
  ndr::Decoder d(b, ndr::DataRep::Native(), roomy);
  Node back;
  ASSERT_TRUE(Decode(d, back).ok());
  EXPECT_TRUE(back == head);
}

TEST(ComidlHostile, UnionWithoutAnArmForTheDiscriminant) {
  auto r = Parse<Tagged>(Hex("0300 0300"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("union Plain has no arm for discriminant 3"),
            std::string::npos);
}

// [MS-RPCE] 2.2.6: headers, the value padded to 8, the pad counted.
TEST(ComidlPickling, TypeSerializationVersion1) {
  auto stream = ndr::EncodePickled(Conformant{3, {1, 2, 3}});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(ToHex(*stream), ToHex(Hex("01100800 cccccccc 10000000 00000000"
                                      " 03000000 03000000 01000200 03000000")));
  Conformant back;
  ASSERT_TRUE(ndr::DecodePickled(*stream, back).ok());
  EXPECT_EQ(back, (Conformant{3, {1, 2, 3}}));
  // impacket: ObjectBufferLength without its 0xAA pad, filler 0xcccccccc.
  Conformant imp;
  Status s = ndr::DecodePickled(Hex("01100800 cccccccc 0e000000 cccccccc"
                                    " 03000000 03000000 01000200 0300aaaa"),
                                imp);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(imp, (Conformant{3, {1, 2, 3}}));
  // Big-endian data: the common header stays little-endian ([MS-RPCE]
  // 2.2.6.1), the private header and the body follow the data's order.
  Conformant be;
  s = ndr::DecodePickled(Hex("01000800 cccccccc 0000000e 00000000"
                             " 00000003 00000003 00010002 0003"),
                         be);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(be, (Conformant{3, {1, 2, 3}}));
  EXPECT_EQ(ndr::DecodePickled(Hex("02100800 cccccccc 00000000 00000000"), be).code(),
            RPC_X_WRONG_ES_VERSION);
  EXPECT_EQ(ndr::DecodePickled(Hex("01100800 cccccccc 20000000 00000000 00000000"), be).code(),
            RPC_X_BAD_STUB_DATA);
}

TEST(ComidlTypes, ConstantsAndEnums) {
  EXPECT_EQ(kMaxItems, 16);
  EXPECT_STREQ(kGreeting, "hello");
  EXPECT_EQ(BLUE, 0x7FFF);
  EXPECT_EQ(WIDE_B, 70000);
  EXPECT_EQ(ConstructsSyntax().major, 2);
  EXPECT_EQ(ConstructsSyntax().minor, 1);
  EXPECT_EQ(ConstructsSyntax().uuid.ToString(), "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0");
}

}  // namespace
}  // namespace comsec::idl
