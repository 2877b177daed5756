// NDR20 decoding and encoding, and the hostile-input cases 34–37 of
// reference/rpc-conformance-cases.md.
#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"

#include <gtest/gtest.h>

#include "comsec/base/hex.h"
#include "comsec/ndr/encoder.h"
#include "ndr_sample_type.h"

namespace comsec::ndr {
namespace {

std::vector<uint8_t> Hex(const char* h) { return *FromHex(h); }

TEST(NdrDecoder, PrimitivesAlignFromTheStubStart) {
  auto b = Hex("01" "00" "0302" "07060504" "0f0e0d0c0b0a0908");
  Decoder d(b);
  EXPECT_EQ(*d.U8(), 1);
  EXPECT_EQ(*d.U16(), 0x0203);  // one byte of padding first
  EXPECT_EQ(*d.U32(), 0x04050607u);
  EXPECT_EQ(*d.U64(), 0x08090a0b0c0d0e0full);
  EXPECT_TRUE(d.ExpectEnd().ok());
  auto c = Hex("04030201" "00000000" "0807060504030201");
  Decoder d2(c);
  EXPECT_EQ(*d2.U32(), 0x01020304u);
  EXPECT_EQ(*d2.U64(), 0x0102030405060708ull);  // four bytes of padding
  EXPECT_EQ(d2.offset(), 16u);
}

TEST(NdrDecoder, BigEndianDataRepresentation) {
  auto b = Hex("0102" "0000" "01020304" "0102030405060708");
  Decoder d(b, DataRep{false});
  EXPECT_EQ(*d.U16(), 0x0102);
  EXPECT_EQ(*d.U32(), 0x01020304u);
  EXPECT_EQ(*d.U64(), 0x0102030405060708ull);
}

TEST(NdrDecoder, DataRepLabels) {
  const uint8_t le[] = {0x10, 0, 0, 0}, be[] = {0x00, 0, 0, 0},
                ebcdic[] = {0x11, 0, 0, 0}, vax[] = {0x10, 2, 0, 0};
  EXPECT_TRUE(DataRep::FromBytes(le)->little_endian);
  EXPECT_FALSE(DataRep::FromBytes(be)->little_endian);
  EXPECT_EQ(DataRep::FromBytes(ebcdic).status().code(), RPC_S_UNSUPPORTED_TYPE);
  EXPECT_FALSE(DataRep::FromBytes(vax).ok());
}

TEST(NdrDecoder, UuidAndContextHandle) {
  Guid g = *Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21");
  Encoder e;
  e.U8(7);
  e.Context({0, g});
  EXPECT_EQ(e.size(), 24u);  // 1 + 3 padding + 4 + 16
  Decoder d(e.bytes());
  (void)d.U8();
  auto h = d.Context();
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->uuid, g);
  EXPECT_FALSE(h->IsNull());
}

TEST(NdrDecoder, TruncationIsBadStubData) {
  auto b = Hex("010203");
  Decoder d(b);
  auto v = d.U32();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), RPC_X_BAD_STUB_DATA);
  EXPECT_EQ(v.status().code().value(), 0x800706F7u);
}

// Case 34: a huge conformance is refused before anything is allocated.
TEST(NdrDecoder, HugeConformanceRefusedUpFront) {
  auto b = Hex("ffffffff" "0000000000000000");
  Decoder d(b);
  auto n = d.Conformance(1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), RPC_X_BAD_STUB_DATA);
  // Within the limit but beyond the bytes present: refused too.
  auto c = Hex("00010000" "00000000");
  Decoder d2(c);
  EXPECT_FALSE(d2.Conformance(4).ok());
  Limits small;
  small.max_elements = 4;
  auto e = Hex("05000000" "0000000000000000000000000000000000000000");
  Decoder d3(e, DataRep::Native(), small);
  EXPECT_FALSE(d3.Conformance(1).ok());
}

// Case 35: offset + actual_count beyond max_count.
TEST(NdrDecoder, VarianceBeyondConformanceRefused) {
  auto b = Hex("04000000" "02000000" "03000000" "0000000000");
  Decoder d(b);
  uint32_t max = *d.Conformance(1);
  auto v = d.VarianceOf(max, 1);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("exceeds max_count 4"), std::string::npos);
  auto wrap = Hex("04000000" "ffffffff" "02000000");
  Decoder d2(wrap);
  EXPECT_FALSE(d2.VarianceOf(*d2.Conformance(0), 1).ok());
}

TEST(NdrDecoder, Strings) {
  Encoder e;
  e.CString("abc");
  e.WString(u"h\u00e9llo");
  Decoder d(e.bytes());
  EXPECT_EQ(*d.CString(), "abc");
  EXPECT_EQ(*d.WString(), u"h\u00e9llo");
  // Missing NUL, embedded NUL, non-zero offset, zero count.
  for (const char* bad : {"03000000" "00000000" "03000000" "616263",
                          "03000000" "00000000" "03000000" "610000",
                          "04000000" "01000000" "03000000" "61626300",
                          "00000000" "00000000" "00000000"}) {
    auto b = Hex(bad);
    Decoder bd(b);
    EXPECT_FALSE(bd.CString().ok()) << bad;
  }
}

TEST(NdrDecoder, Pointers) {
  auto b = Hex("00000000" "04000200" "04000200" "08000200");
  Decoder d(b);
  auto ref = d.RefPointer();
  ASSERT_FALSE(ref.ok());
  EXPECT_EQ(ref.status().code(), RPC_X_NULL_REF_POINTER);
  auto first = d.PtrPointer();
  EXPECT_TRUE(first->first);
  auto alias = d.PtrPointer();
  EXPECT_EQ(alias->id, first->id);
  EXPECT_FALSE(alias->first);
  EXPECT_TRUE(d.PtrPointer()->first);
}

TEST(NdrDecoder, DeferredReferentsKeepQueueOrder) {
  auto b = Hex("01000000" "02000000" "03000000");
  Decoder d(b);
  std::vector<uint32_t> seen;
  d.Defer([&](Decoder& x) -> Status {
    COMSEC_ASSIGN_OR_RETURN(uint32_t v, x.U32());
    seen.push_back(v);
    x.Defer([&](Decoder& y) -> Status {
      COMSEC_ASSIGN_OR_RETURN(uint32_t w, y.U32());
      seen.push_back(w);
      return Status();
    });
    return Status();
  });
  d.Defer([&](Decoder& x) -> Status {
    COMSEC_ASSIGN_OR_RETURN(uint32_t v, x.U32());
    seen.push_back(v);
    return Status();
  });
  ASSERT_TRUE(d.RunDeferred().ok());
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 2, 3}));
}

sample::Sample MakeSample() {
  sample::Sample s;
  s.id = 42;
  s.name = u"comsec";
  s.stamp = 0x1122334455667788ull;
  s.items.emplace(2);
  (*s.items)[0].kind = 1;
  (*s.items)[1].kind = 2;
  (*s.items)[1].next = std::make_unique<sample::Item>();
  (*s.items)[1].next->kind = 3;
  return s;
}

TEST(NdrSample, RoundTrips) {
  sample::Sample s = MakeSample();
  Encoder e;
  sample::Write(e, s);
  Decoder d(e.bytes());
  auto back = sample::Read(d);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == s);
  EXPECT_TRUE(d.ExpectEnd().ok());
  // Referent ids as Windows allocates them.
  EXPECT_EQ(ToHex(std::span(e.bytes()).subspan(4, 4)), "00000200");
}

// Case 35: a structure's count field that disagrees with the array.
TEST(NdrSample, CountMustMatchConformance) {
  Encoder e;
  sample::Write(e, MakeSample());
  std::vector<uint8_t> b = e.bytes();
  b[8] = 3;  // count = 3, max_count stays 2
  Decoder d(b);
  auto s = sample::Read(d);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), RPC_X_BAD_STUB_DATA);
}

// Case 36: a NULL pointer with a non-zero size_is count.
TEST(NdrSample, NullPointerWithCountRefused) {
  sample::Sample s;
  s.id = 1;
  Encoder e;
  sample::Write(e, s);
  std::vector<uint8_t> b = e.bytes();
  b[8] = 5;  // count 5, items pointer NULL
  Decoder d(b);
  EXPECT_FALSE(sample::Read(d).ok());
}

// Case 36: 200-deep nesting stops at the depth limit without exhausting
// the stack.
TEST(NdrSample, DeepNestingStopsAtTheLimit) {
  sample::Sample s;
  s.items.emplace(1);
  sample::Item* tail = &(*s.items)[0];
  for (int i = 0; i < 200; ++i) {
    tail->next = std::make_unique<sample::Item>();
    tail = tail->next.get();
  }
  Encoder e;
  sample::Write(e, s);
  Decoder d(e.bytes());
  auto r = sample::Read(d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting deeper than 64"), std::string::npos);
  Limits deep;
  deep.max_depth = 300;
  Decoder ok(e.bytes(), DataRep::Native(), deep);
  EXPECT_TRUE(sample::Read(ok).ok());
  // Release the chain iteratively; a 200-deep recursive destructor is fine
  // here but the habit matters.
  while ((*s.items)[0].next) (*s.items)[0].next = std::move((*s.items)[0].next->next);
}

// Every truncation of a valid encoding fails cleanly.
TEST(NdrSample, EveryTruncationFails) {
  Encoder e;
  sample::Write(e, MakeSample());
  const std::vector<uint8_t>& full = e.bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    Decoder d(prefix);
    EXPECT_FALSE(sample::Read(d).ok()) << n;
  }
}

}  // namespace
}  // namespace comsec::ndr

namespace comsec::ndr {
namespace {

// Pads carry no meaning: up to 7 trailing bytes of any value end a stub
// (impacket pads with 0xAA); an eighth is data nobody read.
TEST(DecoderTest, TrailingPadOfAnyValueEndsAStub) {
  const std::vector<uint8_t> seven = {1, 0, 0, 0, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
  Decoder d(seven);
  ASSERT_TRUE(d.U32().ok());
  EXPECT_TRUE(d.ExpectEnd().ok());
  const std::vector<uint8_t> eight = {1, 0, 0, 0, 0xAA, 0xAA, 0xAA, 0xAA,
                                      0xAA, 0xAA, 0xAA, 0xAA};
  Decoder e(eight);
  ASSERT_TRUE(e.U32().ok());
  Status s = e.ExpectEnd();
  EXPECT_EQ(s.code(), RPC_X_BAD_STUB_DATA);
  EXPECT_NE(s.message().find("8 bytes follow the stub data"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace comsec::ndr
