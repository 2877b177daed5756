// The activation properties BLOBs ([MS-DCOM] 2.2.22): impacket's captured
// request and a Windows-shaped one built here from the IDL types decode
// property by property; every malformed BLOB is refused whole with its
// exact HRESULT; the reply encodes as the specification says and impacket's
// own parser (tests/activation/impacket_props_out.py) reads it back.
#include "comsec/activation/activation_properties.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "comsec/base/hex.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/objref.h"
#include "comsec/ndr/idl_support.h"

namespace comsec::activation {
namespace {

using nlohmann::json;

std::vector<uint8_t> ImpacketRequest() {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) +
                   "/dcom/impacket-RemoteCreateInstance-pActProperties.objref.hex");
  std::string hex;
  in >> hex;
  auto bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

// Offsets in the impacket fixture (416 bytes): the OBJREF_CUSTOM's 48-byte
// head, dwSize, dwReserved, then the CustomHeader stream whose NDR starts
// after its 16 bytes of stream headers.
constexpr size_t kDwSize = 48;
constexpr size_t kHeaderNdr = 56 + 16;
constexpr size_t kTotalSize = kHeaderNdr + 0;
constexpr size_t kCIfs = kHeaderNdr + 16;
constexpr size_t kPclsid = kHeaderNdr + 52;  // after the array's conformance
constexpr size_t kPSizes = kPclsid + 4 * 16 + 4;
constexpr size_t kFirstProperty = 56 + 152;  // headerSize 152

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t Get32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 |
         uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

Guid G(const char* text) { return *Guid::Parse(text); }

// A BLOB as a sender lays it out: each stream pickled, the header
// describing them in the order given, wrapped in an OBJREF_CUSTOM.
struct Property {
  Guid clsid;
  std::vector<uint8_t> stream;
};
template <typename T>
Property Pickled(const Guid& clsid, const T& value) {
  auto s = ndr::EncodePickled(value);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return {clsid, *s};
}
std::vector<uint8_t> BuildIn(const std::vector<Property>& props,
                             const Guid& clsid = CLSID_ActivationPropertiesIn) {
  idl::CustomHeader h;
  h.destCtx = 2;
  h.cIfs = static_cast<uint32_t>(props.size());
  h.pclsid.emplace();
  h.pSizes.emplace();
  uint32_t sum = 0;
  for (const Property& p : props) {
    h.pclsid->push_back(p.clsid);
    h.pSizes->push_back(static_cast<uint32_t>(p.stream.size()));
    sum += static_cast<uint32_t>(p.stream.size());
  }
  auto sizing = ndr::EncodePickled(h);
  EXPECT_TRUE(sizing.ok());
  h.headerSize = static_cast<uint32_t>(sizing->size());
  h.totalSize = h.headerSize + sum;
  auto header = ndr::EncodePickled(h);
  com::Objref o;
  o.type = com::OBJREF_CUSTOM;
  o.iid = IID_IActivationPropertiesIn;
  o.clsid = clsid;
  std::vector<uint8_t>& blob = o.custom_data;
  for (uint32_t v : {h.totalSize, 0u})
    for (int i = 0; i < 4; ++i) blob.push_back(static_cast<uint8_t>(v >> (8 * i)));
  blob.insert(blob.end(), header->begin(), header->end());
  for (const Property& p : props)
    blob.insert(blob.end(), p.stream.begin(), p.stream.end());
  return com::EncodeObjref(o);
}

const Guid kClass = G("87654321-4321-4321-4321-cba987654321");
const Guid kIid = G("12345678-1234-1234-1234-123456789abc");

idl::InstantiationInfoData Instantiation() {
  idl::InstantiationInfoData v;
  v.classId = kClass;
  v.classCtx = 0x14;  // CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER
  v.cIID = 2;
  v.pIID = std::vector<Guid>{kIid, kComGuid(0)};  // and IID_IUnknown
  v.clientCOMVersion = {5, 7};
  return v;
}
idl::ScmRequestInfoData ScmRequest() {
  idl::ScmRequestInfoData v;
  auto& r = v.remoteRequest.emplace();
  r.ClientImpLevel = 2;
  r.cRequestedProtseqs = 2;
  r.pRequestedProtseqs = std::vector<uint16_t>{7, 0x1f};
  return v;
}

// Windows's shape: SpecialSystemProperties first, six properties, a client
// context OBJREF and a server name.
std::vector<Property> WindowsProperties() {
  idl::SpecialPropertiesData special;
  special.dwSessionId = 0xffffffff;
  special.dwDefaultAuthnLvl = 5;
  special.dwOrigClsctx = 0x10;
  special.Reserved2 = 0x1122334455667788ull;

  idl::ActivationContextInfoData context;
  context.pIFDClientCtx = idl::MInterfacePointer{4, {0xde, 0xad, 0xbe, 0xef}};

  idl::SecurityInfoData security;
  auto& server = security.pServerInfo.emplace();
  server.pwszName = u"WIN-SERVER";

  idl::LocationInfoData location;
  location.processId = 4242;

  return {Pickled(CLSID_SpecialSystemProperties, special),
          Pickled(CLSID_InstantiationInfo, Instantiation()),
          Pickled(CLSID_ActivationContextInfo, context),
          Pickled(CLSID_SecurityInfo, security),
          Pickled(CLSID_ServerLocationInfo, location),
          Pickled(CLSID_ScmRequestInfo, ScmRequest())};
}

void ExpectRefused(const Result<ActivationPropertiesIn>& r, HResult code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
}

// ==== The requests real clients send ======================================

TEST(ActivationPropertiesIn, DecodesImpacketsFourPropertyRequest) {
  auto in = DecodeActivationPropertiesIn(ImpacketRequest());
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->dest_ctx, 2u);
  EXPECT_EQ(in->order,
            (std::vector<Guid>{CLSID_InstantiationInfo,
                               CLSID_ActivationContextInfo,
                               CLSID_ServerLocationInfo, CLSID_ScmRequestInfo}));
  EXPECT_EQ(in->instantiation.classId, kClass);
  EXPECT_EQ(*in->instantiation.pIID, std::vector<Guid>{kIid});
  EXPECT_EQ(in->instantiation.clientCOMVersion, (idl::COMVERSION{5, 7}));
  ASSERT_TRUE(in->scm_request.remoteRequest);
  EXPECT_EQ(*in->scm_request.remoteRequest->pRequestedProtseqs,
            std::vector<uint16_t>{7});
  ASSERT_TRUE(in->context.has_value());
  EXPECT_FALSE(in->context->pIFDClientCtx);
  ASSERT_TRUE(in->location.has_value());
  EXPECT_FALSE(in->special || in->security || in->instance);
  EXPECT_TRUE(in->unknown.empty());
}

TEST(ActivationPropertiesIn, DecodesAWindowsStyleSixPropertyRequestByClsid) {
  auto in = DecodeActivationPropertiesIn(BuildIn(WindowsProperties()));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->order.size(), 6u);
  EXPECT_EQ(in->order[0], CLSID_SpecialSystemProperties);
  ASSERT_TRUE(in->special.has_value());
  EXPECT_EQ(in->special->dwSessionId, 0xffffffffu);
  EXPECT_EQ(in->special->dwDefaultAuthnLvl, 5u);
  EXPECT_EQ(in->special->Reserved2, 0x1122334455667788ull);
  EXPECT_EQ(in->instantiation, Instantiation());
  EXPECT_EQ(in->scm_request, ScmRequest());
  ASSERT_TRUE(in->context && in->context->pIFDClientCtx);
  EXPECT_EQ(in->context->pIFDClientCtx->abData,
            (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  ASSERT_TRUE(in->security && in->security->pServerInfo);
  EXPECT_EQ(*in->security->pServerInfo->pwszName, u"WIN-SERVER");
  ASSERT_TRUE(in->location.has_value());
  EXPECT_EQ(in->location->processId, 4242u);
}

TEST(ActivationPropertiesIn, PositionDoesNotMatterOnlyTheClsid) {
  std::vector<Property> props = WindowsProperties();
  std::reverse(props.begin(), props.end());
  auto in = DecodeActivationPropertiesIn(BuildIn(props));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->order.front(), CLSID_ScmRequestInfo);
  EXPECT_EQ(in->instantiation, Instantiation());
  EXPECT_TRUE(in->special.has_value());
}

TEST(ActivationPropertiesIn, UnknownPropertyIsKeptUndecoded) {
  std::vector<Property> props = {Pickled(CLSID_InstantiationInfo, Instantiation()),
                                 {kComGuid(0x1b8), std::vector<uint8_t>(24, 0x5a)},
                                 Pickled(CLSID_ScmRequestInfo, ScmRequest())};
  auto in = DecodeActivationPropertiesIn(BuildIn(props));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_EQ(in->unknown.size(), 1u);
  EXPECT_EQ(in->unknown[0].clsid, kComGuid(0x1b8));
  EXPECT_EQ(in->unknown[0].stream, std::vector<uint8_t>(24, 0x5a));
}

TEST(ActivationPropertiesIn, InstanceInfoFileNameIsDecoded) {
  idl::InstanceInfoData instance;
  instance.fileName = u"C:\\doc.txt";
  instance.mode = 0x10;
  std::vector<Property> props = {Pickled(CLSID_InstantiationInfo, Instantiation()),
                                 Pickled(CLSID_InstanceInfo, instance),
                                 Pickled(CLSID_ScmRequestInfo, ScmRequest())};
  auto in = DecodeActivationPropertiesIn(BuildIn(props));
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  ASSERT_TRUE(in->instance && in->instance->fileName);
  EXPECT_EQ(*in->instance->fileName, u"C:\\doc.txt");
}

// ==== Refusals: exact HRESULT, no partial result ==========================

TEST(ActivationPropertiesIn, TruncatedBlobIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  b.pop_back();  // dwSize now claims one byte more than follows
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, EveryTruncationIsRefused) {
  const std::vector<uint8_t> full = ImpacketRequest();
  for (size_t n = 0; n < full.size(); ++n) {
    auto r = DecodeActivationPropertiesIn(std::span(full).first(n));
    ASSERT_FALSE(r.ok()) << n;
    // Short of the OBJREF_CUSTOM's head it is no OBJREF at all.
    EXPECT_EQ(r.status().code(),
              n < kDwSize ? RPC_E_INVALID_OBJREF : RPC_X_BAD_STUB_DATA)
        << n << ": " << r.status().ToString();
  }
}

TEST(ActivationPropertiesIn, WrongObjrefSignatureIsInvalidObjref) {
  std::vector<uint8_t> b = ImpacketRequest();
  b[0] ^= 0xff;
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_E_INVALID_OBJREF);
}

TEST(ActivationPropertiesIn, WrongClsidIsInvalidObjref) {
  auto r = DecodeActivationPropertiesIn(
      BuildIn(WindowsProperties(), CLSID_ActivationPropertiesOut));
  ExpectRefused(r, RPC_E_INVALID_OBJREF);
  EXPECT_EQ(r.status().position(), 24u);
}

TEST(ActivationPropertiesIn, WrongIidIsInvalidObjref) {
  std::vector<uint8_t> b = ImpacketRequest();
  b[8] = 0xa3;  // IID_IActivationPropertiesOut
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_E_INVALID_OBJREF);
}

TEST(ActivationPropertiesIn, PropertySizeBeyondTheBufferIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  ASSERT_EQ(Get32(b, kPSizes + 12), 48u);  // ScmRequestInfo, the last
  Put32(b, kPSizes + 12, 4096);
  auto r = DecodeActivationPropertiesIn(b);
  ExpectRefused(r, RPC_X_BAD_STUB_DATA);
  EXPECT_EQ(r.status().position(), kFirstProperty + 88 + 40 + 32);
}

TEST(ActivationPropertiesIn, DuplicatePropertyIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  // pclsid[1], ActivationContextInfo, becomes a second InstantiationInfo.
  ASSERT_EQ(b[kPclsid + 16], 0xa5);
  b[kPclsid + 16] = 0xab;
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
  // Built whole the same way.
  std::vector<Property> props = WindowsProperties();
  props.push_back(props[1]);
  ExpectRefused(DecodeActivationPropertiesIn(BuildIn(props)),
                RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, TotalSizeThatLiesIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  ASSERT_EQ(Get32(b, kTotalSize), 360u);
  for (uint32_t lie : {352u, 368u, 0u, 0xffffffffu}) {
    Put32(b, kTotalSize, lie);
    auto r = DecodeActivationPropertiesIn(b);
    ExpectRefused(r, RPC_X_BAD_STUB_DATA);
    EXPECT_EQ(r.status().position(), kHeaderNdr) << lie;
  }
}

TEST(ActivationPropertiesIn, DwSizeThatLiesIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  Put32(b, kDwSize, 359);
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, SizesShortOfTotalSizeAreBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  Put32(b, kPSizes + 12, 40);  // 8 bytes of ScmRequestInfo left unclaimed
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, CIfsOutsideItsRangeIsBadStubData) {
  std::vector<uint8_t> b = ImpacketRequest();
  Put32(b, kCIfs, 11);
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
  Put32(b, kCIfs, 3);  // no longer the arrays' conformance
  ExpectRefused(DecodeActivationPropertiesIn(b), RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, PropertyOfAnotherStreamVersionIsRefused) {
  std::vector<uint8_t> b = ImpacketRequest();
  ASSERT_EQ(b[kFirstProperty], 1);  // InstantiationInfo's stream version
  b[kFirstProperty] = 2;
  auto r = DecodeActivationPropertiesIn(b);
  ExpectRefused(r, RPC_X_WRONG_ES_VERSION);
  EXPECT_NE(r.status().message().find("InstantiationInfo"), std::string::npos)
      << r.status().ToString();
}

TEST(ActivationPropertiesIn, PropertyThatDoesNotDecodeAsItsTypeIsRefused) {
  // LocationInfo's bytes labelled InstantiationInfo: too short for it.
  std::vector<Property> props = {
      {CLSID_InstantiationInfo, Pickled(CLSID_ServerLocationInfo,
                                        idl::LocationInfoData{}).stream},
      Pickled(CLSID_ScmRequestInfo, ScmRequest())};
  ExpectRefused(DecodeActivationPropertiesIn(BuildIn(props)),
                RPC_X_BAD_STUB_DATA);
}

TEST(ActivationPropertiesIn, MissingInstantiationOrScmRequestIsBadStubData) {
  ExpectRefused(DecodeActivationPropertiesIn(
                    BuildIn({Pickled(CLSID_ScmRequestInfo, ScmRequest())})),
                RPC_X_BAD_STUB_DATA);
  ExpectRefused(DecodeActivationPropertiesIn(BuildIn(
                    {Pickled(CLSID_InstantiationInfo, Instantiation())})),
                RPC_X_BAD_STUB_DATA);
  // remoteRequest NULL (2.2.22.2.4: never).
  ExpectRefused(DecodeActivationPropertiesIn(BuildIn(
                    {Pickled(CLSID_InstantiationInfo, Instantiation()),
                     Pickled(CLSID_ScmRequestInfo, idl::ScmRequestInfoData{})})),
                RPC_X_BAD_STUB_DATA);
}

// ==== The request, encoded ================================================

// WindowsProperties() as an ActivationPropertiesIn.
ActivationPropertiesIn WindowsRequest() {
  auto in = DecodeActivationPropertiesIn(BuildIn(WindowsProperties()));
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  return in.ok() ? *in : ActivationPropertiesIn{};
}

// What the encoder must send for WindowsProperties(): the same streams, but
// InstantiationInfo's thisSize its own stream's size.
std::vector<Property> WindowsPropertiesAsSent() {
  std::vector<Property> props = WindowsProperties();
  idl::InstantiationInfoData inst = Instantiation();
  inst.thisSize = static_cast<uint32_t>(props[1].stream.size());
  props[1] = Pickled(CLSID_InstantiationInfo, inst);
  return props;
}

TEST(ActivationPropertiesInEncoding, IsByteForByteTheSpecificationsLayout) {
  auto bytes = EncodeActivationPropertiesIn(WindowsRequest());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, BuildIn(WindowsPropertiesAsSent()));

  const std::vector<uint8_t>& b = *bytes;
  EXPECT_EQ(Get32(b, 44), b.size() - 48 + 8);  // OBJREF_CUSTOM reserved
  const uint32_t dw_size = Get32(b, kDwSize);
  EXPECT_EQ(dw_size, b.size() - 56);
  EXPECT_EQ(Get32(b, kDwSize + 4), 0u);        // dwReserved
  EXPECT_EQ(Get32(b, 56), 0x00081001u);        // version 1, LE, 8
  EXPECT_EQ(Get32(b, 60), 0xccccccccu);
  const uint32_t header_obl = Get32(b, 64);
  EXPECT_EQ(header_obl % 8, 0u);               // the pad counted
  EXPECT_EQ(Get32(b, 68), 0u);
  EXPECT_EQ(Get32(b, kTotalSize), dw_size);
  EXPECT_EQ(Get32(b, kTotalSize + 4), 16 + header_obl);  // headerSize
  EXPECT_EQ(Get32(b, kTotalSize + 8), 0u);                // dwReserved
  EXPECT_EQ(Get32(b, kTotalSize + 12), MSHCTX_DIFFERENTMACHINE);
  EXPECT_EQ(Get32(b, kCIfs), 6u);
  for (size_t i = 0; i < 16; ++i) EXPECT_EQ(b[kCIfs + 4 + i], 0) << i;  // classInfoClsid
  // Each property: a v1 stream whose ObjectBufferLength counts its pad,
  // fillers as the specification says, pSizes its full size.
  const size_t sizes = kPclsid + 6 * 16 + 4;
  size_t at = 56 + 16 + header_obl;
  for (int i = 0; i < 6; ++i) {
    const uint32_t size = Get32(b, sizes + 4 * i);
    EXPECT_EQ(size % 8, 0u) << i;
    EXPECT_EQ(Get32(b, at), 0x00081001u) << i;
    EXPECT_EQ(Get32(b, at + 4), 0xccccccccu) << i;
    EXPECT_EQ(Get32(b, at + 8) + 16, size) << i;
    EXPECT_EQ(Get32(b, at + 12), 0u) << i;
    at += size;
  }
  EXPECT_EQ(at, b.size());
}

TEST(ActivationPropertiesInEncoding, PutsThePropertiesInWindowsOrderWhateverOrderWasRead) {
  std::vector<Property> props = WindowsProperties();
  std::reverse(props.begin(), props.end());
  auto in = DecodeActivationPropertiesIn(BuildIn(props));
  ASSERT_TRUE(in.ok());
  auto bytes = EncodeActivationPropertiesIn(*in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, BuildIn(WindowsPropertiesAsSent()));
}

TEST(ActivationPropertiesInEncoding, RoundTripsThroughTheDecoder) {
  ActivationPropertiesIn in = WindowsRequest();
  idl::InstanceInfoData instance;
  instance.fileName = u"/srv/doc.txt";
  in.instance = instance;
  in.unknown.push_back({kComGuid(0x1b8), std::vector<uint8_t>(24, 0x5a)});
  auto bytes = EncodeActivationPropertiesIn(in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = DecodeActivationPropertiesIn(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->order,
            (std::vector<Guid>{CLSID_SpecialSystemProperties, CLSID_InstantiationInfo,
                               CLSID_ActivationContextInfo, CLSID_SecurityInfo,
                               CLSID_ServerLocationInfo, CLSID_InstanceInfo,
                               CLSID_ScmRequestInfo, kComGuid(0x1b8)}));
  EXPECT_EQ(back->dest_ctx, in.dest_ctx);
  idl::InstantiationInfoData inst = in.instantiation;
  EXPECT_NE(back->instantiation.thisSize, 0u);
  inst.thisSize = back->instantiation.thisSize;
  EXPECT_EQ(back->instantiation, inst);
  EXPECT_EQ(back->scm_request, in.scm_request);
  EXPECT_EQ(back->special, in.special);
  EXPECT_EQ(back->context, in.context);
  EXPECT_EQ(back->security, in.security);
  EXPECT_EQ(back->location, in.location);
  EXPECT_EQ(back->instance, in.instance);
  EXPECT_EQ(back->unknown, in.unknown);
  // And again: the encoding is a fixed point.
  auto again = EncodeActivationPropertiesIn(*back);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
}

TEST(ActivationPropertiesInEncoding, ImpacketsRequestReencodesWithZeroFillers) {
  const std::vector<uint8_t> impacket = ImpacketRequest();
  auto in = DecodeActivationPropertiesIn(impacket);
  ASSERT_TRUE(in.ok());
  auto bytes = EncodeActivationPropertiesIn(*in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  // Same properties and order; impacket's 0xAA/0xBF/0xFA pads became zeros
  // and its ObjectBufferLengths now count them.
  EXPECT_EQ(bytes->size(), impacket.size());
  EXPECT_NE(*bytes, impacket);
  auto back = DecodeActivationPropertiesIn(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->order, in->order);
  EXPECT_EQ(back->scm_request, in->scm_request);
  EXPECT_EQ(*back->instantiation.pIID, *in->instantiation.pIID);
}

TEST(ActivationPropertiesInEncoding, RefusesWhatCannotBeSent) {
  auto refused = [](const ActivationPropertiesIn& in, std::string_view part) {
    auto r = EncodeActivationPropertiesIn(in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    EXPECT_NE(r.status().message().find(part), std::string_view::npos) << r.status().ToString();
  };
  ActivationPropertiesIn in = WindowsRequest();
  in.instantiation.pIID.reset();
  refused(in, "1..32768 interfaces, not 0");
  in = WindowsRequest();
  in.instantiation.cIID = 3;
  refused(in, "cIID 3 is not pIID's 2 entries");
  in = WindowsRequest();
  in.scm_request.remoteRequest.reset();
  refused(in, "needs its remoteRequest");
  in = WindowsRequest();
  in.scm_request.remoteRequest->cRequestedProtseqs = 5;
  refused(in, "cRequestedProtseqs 5 is not pRequestedProtseqs' 2 entries");
  in = WindowsRequest();
  for (uint32_t i = 0; i < 5; ++i) in.unknown.push_back({kComGuid(0x300 + i), {}});
  refused(in, "at most 10 properties, not 11");
  in = WindowsRequest();
  in.unknown.push_back({CLSID_SecurityInfo, {}});
  refused(in, "would be listed twice");
}

std::string RunPython(const char* script, const std::vector<uint8_t>& objref) {
  std::string cmd = "/usr/bin/python3 " + std::string(COMSEC_SOURCE_DIR) +
                    "/tests/activation/" + script + " " + ToHex(objref);
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0) << out;
  return out;
}

TEST(ActivationPropertiesInEncoding, ImpacketReadsTheRequestPropertyByProperty) {
  auto bytes = EncodeActivationPropertiesIn(WindowsRequest());
  ASSERT_TRUE(bytes.ok());
  const std::string text = RunPython("impacket_props_in.py", *bytes);
  ASSERT_FALSE(text.empty());
  json j = json::parse(text);
  EXPECT_EQ(j["iid"], IID_IActivationPropertiesIn.ToString());
  EXPECT_EQ(j["clsid"], CLSID_ActivationPropertiesIn.ToString());
  EXPECT_EQ(j["reserved"], bytes->size() - 48 + 8);
  EXPECT_EQ(j["dwSize"], bytes->size() - 56);
  EXPECT_EQ(j["totalSize"], j["dwSize"]);
  EXPECT_EQ(j["destCtx"], 2);
  EXPECT_EQ(j["cIfs"], 6);
  EXPECT_EQ(j["classInfoClsid"], Guid{}.ToString());
  EXPECT_EQ(j["pclsid"],
            json::array({CLSID_SpecialSystemProperties.ToString(),
                         CLSID_InstantiationInfo.ToString(), CLSID_ActivationContextInfo.ToString(),
                         CLSID_SecurityInfo.ToString(), CLSID_ServerLocationInfo.ToString(),
                         CLSID_ScmRequestInfo.ToString()}));
  uint32_t sum = 0;
  for (size_t i = 0; i < 6; ++i) {
    const json& st = j["streams"][i];
    EXPECT_EQ(st["version"], 1);
    EXPECT_EQ(st["endianness"], 0x10);
    EXPECT_EQ(st["commonHeaderLength"], 8);
    EXPECT_EQ(st["filler"], 0xcccccccc);
    EXPECT_EQ(st["privateFiller"], 0);
    EXPECT_EQ(st["ObjectBufferLength"].get<uint32_t>() + 16, j["pSizes"][i].get<uint32_t>());
    sum += j["pSizes"][i].get<uint32_t>();
  }
  EXPECT_EQ(j["propertyBytes"], sum);
  EXPECT_EQ(j["totalSize"], j["headerSize"].get<uint32_t>() + sum);
  const json& inst = j["instantiation"];
  EXPECT_EQ(inst["classId"], kClass.ToString());
  EXPECT_EQ(inst["classCtx"], 0x14);
  EXPECT_EQ(inst["cIID"], 2);
  EXPECT_EQ(inst["pIID"], json::array({kIid.ToString(), kComGuid(0).ToString()}));
  EXPECT_EQ(inst["thisSize"], j["pSizes"][1]);
  EXPECT_EQ(inst["clientCOMVersion"], json::array({5, 7}));
  EXPECT_EQ(j["special"]["dwSessionId"], 0xffffffffu);
  EXPECT_EQ(j["special"]["dwDefaultAuthnLvl"], 5);
  EXPECT_EQ(j["special"]["dwOrigClsctx"], 0x10);
  EXPECT_EQ(j["context"]["pIFDClientCtx"], true);
  EXPECT_EQ(j["security"]["pwszName"], "WIN-SERVER");
  EXPECT_EQ(j["location"]["processId"], 4242);
  EXPECT_EQ(j["scmRequest"]["ClientImpLevel"], 2);
  EXPECT_EQ(j["scmRequest"]["pRequestedProtseqs"], json::array({7, 0x1f}));
}

// ==== The reply ===========================================================

// "127.0.0.1[1350]" over TCP (tower 7), security binding NTLM (10).
idl::DUALSTRINGARRAY Bindings() {
  idl::DUALSTRINGARRAY d;
  for (char c : std::string("\x07" "127.0.0.1[1350]")) d.aStringArray.push_back(uint8_t(c));
  d.aStringArray.push_back(0);
  d.aStringArray.push_back(0);
  d.wSecurityOffset = static_cast<uint16_t>(d.aStringArray.size());
  for (uint16_t v : {10, 0xffff, 0, 0}) d.aStringArray.push_back(v);
  d.wNumEntries = static_cast<uint16_t>(d.aStringArray.size());
  return d;
}

ActivationPropertiesOut Reply() {
  ActivationPropertiesOut out;
  com::Objref std_objref;
  std_objref.type = com::OBJREF_STANDARD;
  std_objref.iid = kIid;
  std_objref.std = {0, 5, 0x1122334455667788ull, 0x99, G("00001234-0000-0000-0000-0000000000aa")};
  out.interfaces.push_back({kIid, S_OK, com::EncodeObjref(std_objref)});
  out.interfaces.push_back({kComGuid(0x1b), E_NOINTERFACE, {}});
  out.oxid = 0x1122334455667788ull;
  out.oxid_bindings = Bindings();
  out.ipid_rem_unknown = G("0000abcd-1111-2222-3333-444455556666");
  out.authn_hint = 6;
  return out;
}

TEST(ActivationPropertiesOut, EncodesExactlyAsTheSpecificationSays) {
  auto bytes = EncodeActivationPropertiesOut(Reply());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  const std::vector<uint8_t>& b = *bytes;
  auto objref = com::DecodeObjref(b);
  ASSERT_TRUE(objref.ok());
  EXPECT_EQ(objref->type, com::OBJREF_CUSTOM);
  EXPECT_EQ(objref->iid, IID_IActivationPropertiesOut);
  EXPECT_EQ(objref->clsid, CLSID_ActivationPropertiesOut);
  EXPECT_EQ(Get32(b, 40), 0u);                        // cbExtension
  EXPECT_EQ(Get32(b, 44), b.size() - 48 + 8);          // reserved
  const uint32_t dw_size = Get32(b, 48);
  EXPECT_EQ(dw_size, b.size() - 56);
  EXPECT_EQ(Get32(b, 52), 0u);                         // dwReserved
  // The header stream: version 1, little-endian, 8, 0xCCCCCCCC, then
  // ObjectBufferLength (a multiple of 8, the pad counted) and filler 0.
  EXPECT_EQ(Get32(b, 56), 0x00081001u);
  EXPECT_EQ(Get32(b, 60), 0xccccccccu);
  const uint32_t header_obl = Get32(b, 64);
  EXPECT_EQ(header_obl % 8, 0u);
  EXPECT_EQ(Get32(b, 68), 0u);
  EXPECT_EQ(Get32(b, kTotalSize), dw_size);             // totalSize
  EXPECT_EQ(Get32(b, kTotalSize + 4), 16 + header_obl);  // headerSize
  EXPECT_EQ(Get32(b, kTotalSize + 12), MSHCTX_DIFFERENTMACHINE);
  EXPECT_EQ(Get32(b, kCIfs), 2u);
  // Each property stream: its pSizes entry is its full size, a multiple of
  // 8 that its ObjectBufferLength + 16 equals, fillers as sent.
  size_t at = 56 + 16 + header_obl;
  const size_t sizes = kTotalSize + 52 + 2 * 16 + 4;
  for (int i = 0; i < 2; ++i) {
    const uint32_t size = Get32(b, sizes + 4 * i);
    EXPECT_EQ(size % 8, 0u);
    EXPECT_EQ(Get32(b, at), 0x00081001u);
    EXPECT_EQ(Get32(b, at + 4), 0xccccccccu);
    EXPECT_EQ(Get32(b, at + 8) + 16, size);
    EXPECT_EQ(Get32(b, at + 12), 0u);
    at += size;
  }
  EXPECT_EQ(at, b.size());

  auto again = DecodeActivationPropertiesOut(b);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->interfaces.size(), 2u);
  EXPECT_EQ(again->interfaces[0].objref, Reply().interfaces[0].objref);
  EXPECT_TRUE(again->interfaces[1].objref.empty());
  EXPECT_EQ(again->interfaces[1].hr, E_NOINTERFACE);
  EXPECT_EQ(again->oxid_bindings, Bindings());
  EXPECT_EQ(again->ipid_rem_unknown, Reply().ipid_rem_unknown);
  EXPECT_EQ(again->authn_hint, 6u);
}

TEST(ActivationPropertiesOut, NoInterfacesIsInvalidArg) {
  ActivationPropertiesOut out = Reply();
  out.interfaces.clear();
  auto r = EncodeActivationPropertiesOut(out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
}

std::string RunImpacket(const std::vector<uint8_t>& objref) {
  std::string cmd = "/usr/bin/python3 " + std::string(COMSEC_SOURCE_DIR) +
                    "/tests/activation/impacket_props_out.py " + ToHex(objref);
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  EXPECT_EQ(pclose(p), 0) << out;
  return out;
}

TEST(ActivationPropertiesOut, ImpacketReadsTheReplyAsDcomConnectionDoes) {
  const ActivationPropertiesOut reply = Reply();
  auto bytes = EncodeActivationPropertiesOut(reply);
  ASSERT_TRUE(bytes.ok());
  const std::string text = RunImpacket(*bytes);
  ASSERT_FALSE(text.empty());
  json j = json::parse(text);
  EXPECT_EQ(j["signature"], com::kObjrefSignature);
  EXPECT_EQ(j["flags"], 4);
  EXPECT_EQ(j["iid"], IID_IActivationPropertiesOut.ToString());
  EXPECT_EQ(j["clsid"], CLSID_ActivationPropertiesOut.ToString());
  EXPECT_EQ(j["cbExtension"], 0);
  EXPECT_EQ(j["dwSize"], bytes->size() - 56);
  EXPECT_EQ(j["totalSize"], j["dwSize"]);
  EXPECT_EQ(j["cIfs"], 2);
  EXPECT_EQ(j["pclsid"], json::array({CLSID_PropsOutInfo.ToString(),
                                      CLSID_ScmReplyInfo.ToString()}));
  const json& po = j["propsOut"];
  EXPECT_EQ(po["cIfs"], 2);
  EXPECT_EQ(po["piid"], json::array({kIid.ToString(), kComGuid(0x1b).ToString()}));
  EXPECT_EQ(po["phresults"], json::array({0, E_NOINTERFACE.value()}));
  EXPECT_EQ(po["ppIntfData"][0], ToHex(reply.interfaces[0].objref));
  EXPECT_TRUE(po["ppIntfData"][1].is_null());
  const json& s = j["scmReply"];
  EXPECT_EQ(s["Oxid"], reply.oxid);
  EXPECT_EQ(s["ipidRemUnknown"], reply.ipid_rem_unknown.ToString());
  EXPECT_EQ(s["authnHint"], 6);
  EXPECT_EQ(s["serverVersion"], json::array({5, 7}));
  EXPECT_EQ(s["wNumEntries"], reply.oxid_bindings.wNumEntries);
  EXPECT_EQ(s["wSecurityOffset"], reply.oxid_bindings.wSecurityOffset);
  EXPECT_EQ(s["aStringArray"].get<std::vector<uint16_t>>(),
            reply.oxid_bindings.aStringArray);
  ASSERT_EQ(s["bindings"].size(), 1u);
  EXPECT_EQ(s["bindings"][0]["wTowerId"], 7);
  EXPECT_EQ(s["bindings"][0]["aNetworkAddr"], "127.0.0.1[1350]");
}

}  // namespace
}  // namespace comsec::activation
