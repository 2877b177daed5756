// OBJREF codec ([MS-DCOM] 2.2.18): known answers on real bytes (impacket's
// captured RemoteCreateInstance, and OBJREFs built by impacket's dcomrt
// structures, tests/data/dcom/objref/gen_impacket_objrefs.py), round trips
// of every type, and every refusal with its exact status.
#include "comsec/com/objref.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "comsec/base/hex.h"

namespace comsec::com {
namespace {

std::vector<uint8_t> Fixture(const std::string& name) {
  std::ifstream f(std::string(COMSEC_TEST_DATA_DIR "/dcom/") + name);
  std::stringstream text;
  text << f.rdbuf();
  std::string hex = text.str();
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' '))
    hex.pop_back();
  auto bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

Guid G(const char* text) { return *Guid::Parse(text); }

const char kIidHello[] = "7d2a5e10-3c4b-4f6a-9b8c-1d2e3f405162";
const char kClsidHello[] = "7d2a5e11-3c4b-4f6a-9b8c-1d2e3f405162";
const char kIpid[] = "00007c02-1a2b-3c4d-5e6f-708192a3b4c5";

// The DUALSTRINGARRAY gen_impacket_objrefs.py writes into every vector.
OxidBindings ImpacketBindings() {
  OxidBindings b;
  b.strings = {{kTowerIdTcp, u"host.example[49712]"},
               {kTowerIdTcp, u"192.0.2.7[49712]"}};
  b.security = {{kAuthnNtlm, 0xFFFF, u""},
                {kAuthnKerberos, 0xFFFF, u"host/host.example"}};
  return b;
}

void ExpectImpacketStd(const StdObjref& s, uint32_t flags) {
  EXPECT_EQ(s.flags, flags);
  EXPECT_EQ(s.public_refs, 5u);
  EXPECT_EQ(s.oxid, 0x1122334455667788u);
  EXPECT_EQ(s.oid, 0x0102030405060708u);
  EXPECT_EQ(s.ipid, G(kIpid));
}

void ExpectInvalid(std::span<const uint8_t> bytes, const std::string& context) {
  auto r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok()) << context;
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF)
      << context << ": " << r.status().ToString();
}

// One of each type, with every field set, for round trips and truncations.
std::vector<Objref> Samples() {
  std::vector<Objref> out;
  Objref s;
  s.type = OBJREF_STANDARD;
  s.iid = G(kIidHello);
  s.std = {SORF_NOPING, 5, 0xfedcba9876543210u, 0x0123456789abcdefu, G(kIpid)};
  s.resolver = ImpacketBindings();
  out.push_back(s);

  Objref h = s;
  h.type = OBJREF_HANDLER;
  h.clsid = G(kClsidHello);
  h.resolver.security.clear();  // an empty list: two NULs
  out.push_back(h);

  Objref c;
  c.type = OBJREF_CUSTOM;
  c.iid = G(kIidHello);
  c.clsid = G(kClsidHello);
  c.custom_data = {1, 2, 3, 4, 5};
  out.push_back(c);

  Objref e = s;
  e.type = OBJREF_EXTENDED;
  e.std.flags = 0;
  e.elements = {
      {G("00000011-0000-0000-c000-000000000046"), {'a', 'b', 'c'}},
      {G("00000012-0000-0000-c000-000000000046"), std::vector<uint8_t>(16, 7)}};
  out.push_back(e);
  return out;
}

// ==== Known answers =========================================================

// impacket's captured pActProperties: OBJREF_CUSTOM, IID
// IActivationPropertiesIn, CLSID_ActivationPropertiesIn, 368 bytes of
// activation blob (dwSize 0x168 + 8), reserved 0x178.
TEST(Objref, DecodesImpacketActivationProperties) {
  const auto bytes =
      Fixture("impacket-RemoteCreateInstance-pActProperties.objref.hex");
  ASSERT_EQ(bytes.size(), 416u);
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_CUSTOM);
  EXPECT_EQ(r->iid, G("000001a2-0000-0000-c000-000000000046"));
  EXPECT_EQ(r->clsid, G("00000338-0000-0000-c000-000000000046"));
  EXPECT_EQ(r->custom_extension, 0u);
  ASSERT_EQ(r->custom_data.size(), 368u);
  // The activation blob's dwSize (0x168) and dwReserved.
  EXPECT_EQ(
      std::vector<uint8_t>(r->custom_data.begin(), r->custom_data.begin() + 8),
      (std::vector<uint8_t>{0x68, 0x01, 0, 0, 0, 0, 0, 0}));
  // Re-encoded byte for byte (reserved = size + 8, as captured).
  EXPECT_EQ(EncodeObjref(*r), bytes);
}

// The same OBJREF inside the captured request stub: an MInterfacePointer
// (conformance, ulCntData, abData) whose abData is the fixture above.
TEST(Objref, FixtureIsTheMInterfacePointerOfTheRequest) {
  const auto stub = Fixture("impacket-RemoteCreateInstance-request.stub.hex");
  const auto objref =
      Fixture("impacket-RemoteCreateInstance-pActProperties.objref.hex");
  const uint8_t meow[] = {0x4d, 0x45, 0x4f, 0x57};
  auto at =
      std::search(stub.begin(), stub.end(), std::begin(meow), std::end(meow));
  ASSERT_NE(at, stub.end());
  const size_t offset = at - stub.begin();
  ASSERT_GE(offset, 8u);
  EXPECT_EQ(stub[offset - 4] | stub[offset - 3] << 8, 416);  // ulCntData
  ASSERT_GE(stub.size(), offset + 416);
  EXPECT_EQ(std::vector<uint8_t>(at, at + 416), objref);
  auto r = DecodeObjref(std::span(stub).subspan(offset, 416));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_CUSTOM);
}

TEST(Objref, DecodesImpacketStandard) {
  const auto bytes = Fixture("objref/impacket-standard.objref.hex");
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_STANDARD);
  EXPECT_EQ(r->iid, G(kIidHello));
  ExpectImpacketStd(r->std, 0);
  EXPECT_EQ(r->resolver, ImpacketBindings());
  EXPECT_EQ(EncodeObjref(*r), bytes);
}

TEST(Objref, DecodesImpacketHandlerWithNoPing) {
  const auto bytes = Fixture("objref/impacket-handler.objref.hex");
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_HANDLER);
  EXPECT_EQ(r->iid, G("00000000-0000-0000-c000-000000000046"));
  ExpectImpacketStd(r->std, SORF_NOPING);
  EXPECT_TRUE(r->std.flags & SORF_NOPING);
  EXPECT_EQ(r->clsid, G(kClsidHello));
  EXPECT_EQ(r->resolver, ImpacketBindings());
  EXPECT_EQ(EncodeObjref(*r), bytes);
}

TEST(Objref, DecodesImpacketCustom) {
  const auto bytes = Fixture("objref/impacket-custom.objref.hex");
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_CUSTOM);
  EXPECT_EQ(r->clsid, G(kClsidHello));
  std::vector<uint8_t> data(21);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<uint8_t>(i + 1);
  EXPECT_EQ(r->custom_data, data);
  EXPECT_EQ(EncodeObjref(*r), bytes);
}

TEST(Objref, DecodesImpacketExtended) {
  const auto bytes = Fixture("objref/impacket-extended.objref.hex");
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->type, OBJREF_EXTENDED);
  ExpectImpacketStd(r->std, 0);
  EXPECT_EQ(r->resolver, ImpacketBindings());
  ASSERT_EQ(r->elements.size(), 1u);
  EXPECT_EQ(r->elements[0].data_id, G("00000011-0000-0000-c000-000000000046"));
  const std::string text = "envoy-context";
  EXPECT_EQ(r->elements[0].data,
            std::vector<uint8_t>(text.begin(), text.end()));
  EXPECT_EQ(EncodeObjref(*r), bytes);
}

// ==== Round trips ===========================================================

TEST(Objref, EveryTypeRoundTrips) {
  for (const Objref& o : Samples()) {
    const auto bytes = EncodeObjref(o);
    auto r = DecodeObjref(bytes);
    ASSERT_TRUE(r.ok()) << o.type << ": " << r.status().ToString();
    EXPECT_EQ(*r, o) << "type " << o.type;
    EXPECT_EQ(EncodeObjref(*r), bytes);
  }
}

TEST(Objref, DataElementsArePaddedToEightWithZeros) {
  Objref e = Samples()[3];
  const auto bytes = EncodeObjref(e);
  // The first element: cbSize 3, cbRounded 8, "abc" and five zeros, then the
  // second: cbSize 16, cbRounded 16.
  const std::vector<uint8_t> first = {3,   0,   0,   0, 8, 0, 0, 0,
                                      'a', 'b', 'c', 0, 0, 0, 0, 0};
  auto at = std::search(bytes.begin(), bytes.end(), first.begin(), first.end());
  ASSERT_NE(at, bytes.end());
  EXPECT_EQ(bytes.end() - at, 16 + 16 + 8 + 16);
}

// ==== Refusals ==============================================================

TEST(Objref, TruncationAtEveryOffsetIsRefused) {
  for (const Objref& o : Samples()) {
    const auto bytes = EncodeObjref(o);
    // A custom OBJREF's data runs to the end of its buffer: past its
    // 48-byte header a shorter buffer is shorter data, not a truncation.
    const size_t refused_below = o.type == OBJREF_CUSTOM ? 48 : bytes.size();
    for (size_t n = 0; n < refused_below; ++n) {
      ExpectInvalid(
          std::span(bytes).first(n),
          "type " + std::to_string(o.type) + " cut at " + std::to_string(n));
    }
  }
  const auto custom = EncodeObjref(Samples()[2]);
  for (size_t n = 48; n <= custom.size(); ++n) {
    auto r = DecodeObjref(std::span(custom).first(n));
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_EQ(r->custom_data.size(), n - 48);
  }
}

TEST(Objref, TruncationNamesTheOffset) {
  const auto bytes = EncodeObjref(Samples()[0]);
  auto r = DecodeObjref(std::span(bytes).first(30));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  ASSERT_TRUE(r.status().position().has_value());
  EXPECT_EQ(*r.status().position(), 28u);  // at STDOBJREF's cPublicRefs
  EXPECT_NE(r.status().message().find("truncated"), std::string_view::npos)
      << r.status().message();
}

TEST(Objref, WrongSignatureIsRefused) {
  auto bytes = EncodeObjref(Samples()[0]);
  bytes[0] = 'W';  // "WEOW"
  auto r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_EQ(r.status().position(), std::optional<size_t>(0));
  EXPECT_NE(r.status().message().find("signature 0x574f4557"),
            std::string_view::npos)
      << r.status().message();
  // Big-endian "MEOW" is not the signature either.
  bytes[0] = 0x57, bytes[1] = 0x4f, bytes[2] = 0x45, bytes[3] = 0x4d;
  ExpectInvalid(bytes, "byte-swapped signature");
}

TEST(Objref, FlagsMustBeExactlyOneType) {
  auto bytes = EncodeObjref(Samples()[0]);
  for (uint32_t flags : {0u, 3u, 5u, 6u, 9u, 0x10u, 0x101u, 0xffffffffu}) {
    bytes[4] = static_cast<uint8_t>(flags);
    bytes[5] = static_cast<uint8_t>(flags >> 8);
    bytes[6] = static_cast<uint8_t>(flags >> 16);
    bytes[7] = static_cast<uint8_t>(flags >> 24);
    auto r = DecodeObjref(bytes);
    ASSERT_FALSE(r.ok()) << flags;
    EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
    EXPECT_EQ(r.status().position(), std::optional<size_t>(4));
  }
}

TEST(Objref, TrailingBytesAreIgnored) {
  for (const Objref& o : Samples()) {
    if (o.type == OBJREF_CUSTOM) continue;
    auto bytes = EncodeObjref(o);
    bytes.insert(bytes.end(), {0xde, 0xad, 0xbe, 0xef, 0x00});
    auto r = DecodeObjref(bytes);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, o);
  }
}

// Offsets in the standard sample: saResAddr at 64 (wNumEntries,
// wSecurityOffset, entries from 68).
TEST(Objref, MalformedDualStringArrayIsInvalidObjref) {
  const auto good = EncodeObjref(Samples()[0]);
  auto bytes = good;
  bytes[66] = 0xff;  // wSecurityOffset past the array
  bytes[67] = 0x00;
  auto r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(),
            RPC_E_INVALID_OBJREF);  // not RPC_X_BAD_STUB_DATA
  EXPECT_EQ(r.status().position(), std::optional<size_t>(64));
  EXPECT_NE(r.status().message().find("saResAddr"), std::string_view::npos);

  // wNumEntries two short: the last principal loses its NUL.
  bytes = good;
  bytes[64] -= 2;
  ExpectInvalid(bytes, "unterminated security binding");

  // wNumEntries past the limit (and past the buffer): refused on the count.
  bytes = good;
  bytes[64] = static_cast<uint8_t>((kMaxObjrefBindingEntries + 1) & 0xff);
  bytes[65] = static_cast<uint8_t>((kMaxObjrefBindingEntries + 1) >> 8);
  r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_NE(r.status().message().find("4097 entries"), std::string_view::npos)
      << r.status().message();
}

TEST(Objref, ExtendedSignaturesAreChecked) {
  const auto good = EncodeObjref(Samples()[3]);
  const size_t sig1 = 24 + 40;
  ASSERT_EQ(good[sig1], 0x56);
  auto bytes = good;
  bytes[sig1] ^= 1;
  auto r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_NE(r.status().message().find("Signature1"), std::string_view::npos);

  const size_t entries = good[sig1 + 4] | good[sig1 + 5] << 8;
  const size_t sig2 = sig1 + 4 + 4 + 2 * entries + 4;
  ASSERT_EQ(good[sig2], 0x56);
  bytes = good;
  bytes[sig2 + 3] = 0;
  r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_NE(r.status().message().find("Signature2"), std::string_view::npos);
}

// Builds an extended OBJREF with `count` in nElms and the given raw
// element bytes after Signature2.
std::vector<uint8_t> ExtendedWith(uint32_t count,
                                  const std::vector<uint8_t>& elements) {
  Objref e = Samples()[3];
  e.elements.clear();
  auto bytes = EncodeObjref(e);
  bytes.resize(bytes.size() - 8);  // drop nElms 0, Signature2
  for (int i = 0; i < 4; ++i)
    bytes.push_back(static_cast<uint8_t>(count >> (8 * i)));
  for (int i = 0; i < 4; ++i) {
    bytes.push_back(static_cast<uint8_t>(kObjrefExtendedSignature >> (8 * i)));
  }
  bytes.insert(bytes.end(), elements.begin(), elements.end());
  return bytes;
}

std::vector<uint8_t> Element(uint32_t size, uint32_t rounded, size_t present) {
  std::vector<uint8_t> out(16, 0x11);
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(size >> (8 * i)));
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<uint8_t>(rounded >> (8 * i)));
  out.insert(out.end(), present, 0x5a);
  return out;
}

TEST(Objref, ExtendedElementLimits) {
  // nElms 0 is accepted (the spec sends 1), 16 is, 17 is not.
  auto r = DecodeObjref(ExtendedWith(0, {}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->elements.empty());
  std::vector<uint8_t> sixteen;
  for (int i = 0; i < 16; ++i) {
    auto el = Element(1, 8, 8);
    sixteen.insert(sixteen.end(), el.begin(), el.end());
  }
  r = DecodeObjref(ExtendedWith(16, sixteen));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->elements.size(), 16u);
  EXPECT_EQ(r->elements[15].data,
            std::vector<uint8_t>{0x5a});  // padding dropped
  r = DecodeObjref(ExtendedWith(17, sixteen));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_NE(r.status().message().find("nElms 17"), std::string_view::npos);
  // nElms says 2, one element present: truncated.
  ExpectInvalid(ExtendedWith(2, Element(1, 8, 8)), "missing element");

  // cbRounded below cbSize; cbSize past the limit; cbRounded past the data.
  ExpectInvalid(ExtendedWith(1, Element(9, 8, 16)), "cbRounded < cbSize");
  r = DecodeObjref(ExtendedWith(
      1, Element(kMaxObjrefElementData + 1, kMaxObjrefElementData + 8, 0)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_NE(r.status().message().find("cbSize"), std::string_view::npos);
  ExpectInvalid(ExtendedWith(1, Element(3, 8, 7)),
                "Data shorter than cbRounded");
  // Liberal: cbRounded larger than round8(cbSize), cbSize 0.
  r = DecodeObjref(ExtendedWith(1, Element(3, 24, 24)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->elements[0].data.size(), 3u);
  r = DecodeObjref(ExtendedWith(1, Element(0, 0, 0)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->elements[0].data.empty());
}

TEST(Objref, CustomDataLimitAndIgnoredFields) {
  Objref c = Samples()[2];
  c.custom_data.assign(kMaxObjrefCustomData, 0x42);
  auto bytes = EncodeObjref(c);
  auto r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->custom_data.size(), kMaxObjrefCustomData);
  bytes.push_back(0x42);
  r = DecodeObjref(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_INVALID_OBJREF);
  EXPECT_EQ(r.status().position(), std::optional<size_t>(48));

  // cbExtension and reserved are ignored on receipt (2.2.18.6); cbExtension
  // is reported, and sent as 0.
  bytes = EncodeObjref(Samples()[2]);
  bytes[40] = 7;                 // cbExtension
  bytes[44] = bytes[47] = 0xff;  // reserved
  r = DecodeObjref(bytes);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->custom_extension, 7u);
  EXPECT_EQ(r->custom_data, Samples()[2].custom_data);
  const auto again = EncodeObjref(*r);
  EXPECT_EQ(again[40], 0);
  EXPECT_EQ(again, EncodeObjref(Samples()[2]));
}

}  // namespace
}  // namespace comsec::com
