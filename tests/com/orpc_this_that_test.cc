// ORPCTHIS/ORPCTHAT ([MS-DCOM] 2.2.13): exact bytes out, liberal in,
// the parameters' offset after headers of any length, and the version rule
// of conformance case 40.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "comsec/base/hex.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/orpc_this_that.h"

namespace comsec::com {
namespace {

std::vector<uint8_t> Fixture(const std::string& name) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/dcom/" + name);
  std::stringstream s;
  s << in.rdbuf();
  std::string hex = s.str();
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  return *FromHex(hex);
}

const Guid kCid = *Guid::Parse("53a92842-618b-7b39-f289-80311815d068");

TEST(OrpcThis, WhatWeSendIsFiveSevenWithoutExtensions) {
  OrpcThis h;
  h.cid = kCid;
  std::vector<uint8_t> out;
  EncodeOrpcThis(h, out);
  EXPECT_EQ(ToHex(out), "05000700" "00000000" "00000000" "4228a9538b61397bf28980311815d068"
                        "00000000");
  OrpcThat t;
  EncodeOrpcThat(t, out);
  EXPECT_EQ(ToHex(out), "00000000" "00000000");
}

// impacket's RemoteCreateInstance request (../shared/fixtures/dcom) starts
// with its ORPCTHIS: 5.7, flags 1, a causality id, no extensions.
TEST(OrpcThis, ImpacketsHeaderDecodes) {
  std::vector<uint8_t> stub = Fixture("impacket-RemoteCreateInstance-request.stub.hex");
  auto d = DecodeOrpcThis(stub, ndr::DataRep{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header.major, 5);
  EXPECT_EQ(d->header.minor, 7);
  EXPECT_EQ(d->header.flags, 1u);
  EXPECT_EQ(d->header.cid, kCid);
  EXPECT_FALSE(d->header.has_extensions);
  EXPECT_EQ(d->params_offset, 32u);
  std::vector<uint8_t> again;
  EncodeOrpcThis(d->header, again);
  EXPECT_EQ(again, std::vector<uint8_t>(stub.begin(), stub.begin() + 32));
}

TEST(OrpcThis, ExtensionsRoundTripAndMoveTheParameters) {
  OrpcThis h;
  h.cid = kCid;
  h.has_extensions = true;
  h.extensions = {{*Guid::Parse("f1f19680-4d2a-11ce-a66a-0020af6e72f4"), {1, 2, 3}}};
  std::vector<uint8_t> out;
  EncodeOrpcThis(h, out);
  // One extent, the array rounded up to two pointers (the second NULL);
  // the extent is a conformant structure, so its max_count (the data
  // rounded up to 8 bytes) comes first.
  EXPECT_EQ(ToHex(std::span(out).subspan(28)),
            "00000200" "01000000" "00000000" "04000200" "02000000" "08000200" "00000000"
            "08000000" "8096f1f12a4dce11a66a0020af6e72f4" "03000000" "0102030000000000");
  out.push_back(0xAA);  // a parameter after the header
  auto d = DecodeOrpcThis(out, ndr::DataRep{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header, h);
  EXPECT_EQ(d->params_offset, out.size() - 1);
}

TEST(OrpcThis, EmptyExtensionArrayIsAccepted) {
  OrpcThis h;
  h.has_extensions = true;
  std::vector<uint8_t> out;
  EncodeOrpcThis(h, out);
  auto d = DecodeOrpcThis(out, ndr::DataRep{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->header.has_extensions);
  EXPECT_TRUE(d->header.extensions.empty());
}

TEST(OrpcThis, BigEndianCallersAreRead) {
  std::vector<uint8_t> be = *FromHex("00050007" "00000002" "00000000"
                                     "53a92842618b7b39f28980311815d068" "00000000");
  auto d = DecodeOrpcThis(be, ndr::DataRep{false});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header.minor, 7);
  EXPECT_EQ(d->header.flags, 2u);
  EXPECT_EQ(d->header.cid, kCid);
}

TEST(OrpcThis, EveryTruncationIsBadStubData) {
  OrpcThis h;
  h.has_extensions = true;
  h.extensions = {{kCid, {9, 9, 9, 9, 9, 9, 9, 9, 9}}, {kCid, {}}};
  std::vector<uint8_t> out;
  EncodeOrpcThis(h, out);
  for (size_t n = 0; n < out.size(); ++n) {
    auto d = DecodeOrpcThis(std::span(out).first(n), ndr::DataRep{});
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_EQ(d.status().code(), RPC_X_BAD_STUB_DATA) << n;
  }
  ASSERT_TRUE(DecodeOrpcThis(out, ndr::DataRep{}).ok());
}

TEST(OrpcThis, TooManyExtensionsAreRefused) {
  OrpcThis h;
  h.has_extensions = true;
  h.extensions.resize(kMaxOrpcExtensions + 1);
  std::vector<uint8_t> out;
  EncodeOrpcThis(h, out);
  auto d = DecodeOrpcThis(out, ndr::DataRep{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), RPC_X_BAD_STUB_DATA);
}

TEST(OrpcThat, ExtensionsAndOffset) {
  OrpcThat t;
  t.flags = 0;
  t.has_extensions = true;
  t.extensions = {{kCid, {7}}};
  std::vector<uint8_t> out;
  EncodeOrpcThat(t, out);
  const size_t header = out.size();
  out.insert(out.end(), {0, 0, 0, 0});  // the HRESULT
  auto d = DecodeOrpcThat(out, ndr::DataRep{});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->header, t);
  EXPECT_EQ(d->params_offset, header);
}

// Conformance case 40: a higher minor version or another major version is
// RPC_E_VERSION_MISMATCH; 5.1 to 5.7 are served.
TEST(ComVersion, Case40HigherMinorOrOtherMajorIsAMismatch) {
  EXPECT_TRUE(CheckComVersion(5, 7).ok());
  EXPECT_TRUE(CheckComVersion(5, 1).ok());
  EXPECT_EQ(CheckComVersion(5, 8).code(), RPC_E_VERSION_MISMATCH);
  EXPECT_EQ(CheckComVersion(6, 0).code(), RPC_E_VERSION_MISMATCH);
  EXPECT_EQ(CheckComVersion(4, 7).code(), RPC_E_VERSION_MISMATCH);
  EXPECT_EQ(CheckComVersion(5, 0).code(), RPC_E_VERSION_MISMATCH);
  EXPECT_EQ(RPC_E_VERSION_MISMATCH.Name(), "RPC_E_VERSION_MISMATCH");
}

}  // namespace
}  // namespace comsec::com
