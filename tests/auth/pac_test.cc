// auth/gssapi/pac.h: the PACTYPE layout and the logon info's
// KERB_VALIDATION_INFO, from an independent encoder (impacket, the vector
// in tests/data/auth/) and from PACs this test builds with comidl's
// generated encoder (idl/ms-pac/pac.idl), then every way a PAC can lie.
#include "comsec/auth/gssapi/pac.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "comsec/auth/gssapi/principal_mapping.h"
#include "comsec/base/hex.h"
#include "comsec/base/hresult.h"
#include "comsec/base/win32_error.h"
#include "comsec/ndr/idl_support.h"
#include "comsec/security/well_known_sids.h"
#include "comsec_auth_gssapi/pac.h"  // generated from idl/ms-pac/pac.idl

namespace comsec::auth::gssapi {
namespace {

namespace idl = ::comsec::idl;
using security::Sid;

// ==== Building PACs ==========================================================

std::vector<uint8_t> ReadHexFile(const std::string& name) {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) + "/auth/" + name);
  std::stringstream text;
  text << in.rdbuf();
  std::string hex;
  for (char c : text.str()) {
    if (!isspace(static_cast<unsigned char>(c))) hex += c;
  }
  auto bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok()) << name;
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

idl::RPC_SID RpcSid(uint64_t authority, std::vector<uint32_t> subs) {
  idl::RPC_SID s;
  s.Revision = 1;
  s.SubAuthorityCount = static_cast<uint8_t>(subs.size());
  for (int i = 0; i < 6; ++i) s.IdentifierAuthority.Value[i] = uint8_t(authority >> (40 - 8 * i));
  s.SubAuthority = std::move(subs);
  return s;
}

idl::RPC_UNICODE_STRING String(std::u16string text) {
  idl::RPC_UNICODE_STRING s;
  s.Length = static_cast<uint16_t>(text.size() * 2);
  s.MaximumLength = s.Length;
  s.Buffer.emplace(text.begin(), text.end());
  return s;
}

constexpr uint32_t kDomain[] = {21, 111, 222, 333};
constexpr uint32_t kUserId = 0xA1B2C3D4;  // a marker the lie tests find the scalars by

// A KERB_VALIDATION_INFO for CONTOSO\carol: user kUserId, primary group
// 513, two domain groups, one extra SID, one resource group.
idl::KERB_VALIDATION_INFO CarolInfo() {
  idl::KERB_VALIDATION_INFO v;
  v.LogonTime = {0x11111111, 0x01DB0000};
  v.EffectiveName = String(u"carol");
  v.FullName = String(u"Carol Example");
  v.LogonServer = String(u"DC7");
  v.LogonDomainName = String(u"CONTOSO");
  v.UserId = kUserId;
  v.PrimaryGroupId = 513;
  v.GroupIds = std::vector<idl::GROUP_MEMBERSHIP>{{513, 7}, {1200, 7}};
  v.GroupCount = 2;
  v.UserFlags = LOGON_EXTRA_SIDS | LOGON_RESOURCE_GROUPS;
  v.LogonDomainId = idl::RPC_SID(RpcSid(5, {21, 111, 222, 333}));
  idl::KERB_SID_AND_ATTRIBUTES extra;
  extra.Sid = idl::RPC_SID(RpcSid(18, {1}));  // S-1-18-1, authentication authority asserted
  extra.Attributes = 7;
  v.ExtraSids = std::vector<idl::KERB_SID_AND_ATTRIBUTES>{extra};
  v.SidCount = 1;
  v.ResourceGroupDomainSid = idl::RPC_SID(RpcSid(5, {21, 9, 8, 7}));
  v.ResourceGroupIds =
      std::vector<idl::GROUP_MEMBERSHIP>{{1601, security::SE_GROUP_RESOURCE | 7}};
  v.ResourceGroupCount = 1;
  return v;
}

// The PAC_LOGON_INFO buffer: the structure pickled (type serialization v1)
// behind a top-level pointer, by the generated encoder.
std::vector<uint8_t> LogonInfoBytes(const idl::KERB_VALIDATION_INFO& v) {
  idl::PAC_LOGON_INFO stream;
  stream.Info = v;
  auto bytes = ndr::EncodePickled(stream);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

struct Buffer {
  uint32_t type;
  std::vector<uint8_t> data;
};

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

// A PACTYPE around `buffers`, each at an 8-byte-aligned offset ([MS-PAC]
// 2.3-2.4).
std::vector<uint8_t> Pac(const std::vector<Buffer>& buffers) {
  std::vector<uint8_t> header, body;
  PutU32(header, static_cast<uint32_t>(buffers.size()));
  PutU32(header, 0);
  const size_t start = 8 + 16 * buffers.size();
  for (const Buffer& b : buffers) {
    PutU32(header, b.type);
    PutU32(header, static_cast<uint32_t>(b.data.size()));
    PutU32(header, static_cast<uint32_t>(start + body.size()));
    PutU32(header, 0);
    body.insert(body.end(), b.data.begin(), b.data.end());
    body.resize((body.size() + 7) / 8 * 8);
  }
  header.insert(header.end(), body.begin(), body.end());
  return header;
}

// The shape MIT's KDC issues (reference/kerberos/NOTES.md §4.2): client
// info, a ticket checksum (16), the two signatures; no logon info.
std::vector<uint8_t> MitLikePac() {
  std::vector<uint8_t> client_info(8 + 2 + 10, 0);
  client_info[8] = 10;
  const std::vector<uint8_t> checksum(16, 0);
  return Pac({{PAC_CLIENT_INFO, client_info},
              {16, checksum},
              {PAC_SERVER_CHECKSUM, checksum},
              {PAC_PRIVSVR_CHECKSUM, checksum}});
}

std::vector<uint8_t> CarolPac() {
  return Pac({{PAC_LOGON_INFO, LogonInfoBytes(CarolInfo())},
              {PAC_SERVER_CHECKSUM, std::vector<uint8_t>(16, 0)}});
}

size_t Find(const std::vector<uint8_t>& hay, std::vector<uint8_t> needle, size_t from = 0) {
  auto it = std::search(hay.begin() + from, hay.end(), needle.begin(), needle.end());
  EXPECT_NE(it, hay.end()) << "marker not found";
  return static_cast<size_t>(it - hay.begin());
}

void SetU32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (8 * i));
}

std::string Hex32(uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

// "SID ATTRIBUTES" lines, as the .expected file lists them.
std::vector<std::string> GroupLines(const PacLogonInfo& info) {
  std::vector<std::string> lines;
  for (const auto& g : info.groups) lines.push_back(g.sid.ToString() + " " + Hex32(g.attributes));
  return lines;
}

// ==== Known answers ==========================================================

// impacket's encoder (tests/data/auth/make_pac_vectors.py): random referent
// ids, 0xAB alignment filler, 0xCCCCCCCC private-header filler.
TEST(Pac, ImpacketLogonInfoKnownAnswer) {
  const std::vector<uint8_t> pac = ReadHexFile("pac_impacket.hex");
  ASSERT_EQ(pac.size(), 672u);
  auto buffers = ParsePac(pac);
  ASSERT_TRUE(buffers.ok()) << buffers.status().ToString();
  ASSERT_EQ(buffers->size(), 4u);
  EXPECT_EQ((*buffers)[0].type, PAC_LOGON_INFO);
  EXPECT_EQ((*buffers)[0].data.data() - pac.data(), 0x48);
  EXPECT_EQ((*buffers)[0].data.size(), 0x228u);
  EXPECT_EQ((*buffers)[1].type, PAC_CLIENT_INFO);
  EXPECT_EQ((*buffers)[3].type, PAC_PRIVSVR_CHECKSUM);

  auto info = LogonInfoFromPac(pac);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->has_value());
  std::ifstream expected(std::string(COMSEC_TEST_DATA_DIR) + "/auth/pac_impacket.expected");
  std::vector<std::string> want_groups;
  std::string line;
  int checked = 0;
  while (std::getline(expected, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.find(' ');
    const std::string key = line.substr(0, sp), value = line.substr(sp + 1);
    std::string got;
    if (key == "name") got = (*info)->QualifiedName();
    if (key == "account") got = (*info)->account_name;
    if (key == "domain") got = (*info)->domain_name;
    if (key == "user_flags") got = Hex32((*info)->user_flags);
    if (key == "user") got = (*info)->user.ToString();
    if (key != "group") {
      EXPECT_EQ(got, value) << key;
      ++checked;
    }
    if (key == "group") want_groups.push_back(value);
  }
  EXPECT_EQ(checked, 5);
  EXPECT_EQ(want_groups.size(), 6u);
  EXPECT_EQ(GroupLines(**info), want_groups);
}

// The generated encoder's stream, byte by byte where the format fixes it:
// the common header (version 1, little-endian, length 8, filler
// 0xCCCCCCCC), the private header (ObjectBufferLength, padded to 8, filler
// 0), the top-level referent id, then LogonTime.
TEST(Pac, GeneratedEncoderWritesTheSpecifiedStream) {
  const std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  ASSERT_GE(b.size(), 28u);
  EXPECT_EQ(ToHex(std::span(b).first(8)), "01100800cccccccc");
  const uint32_t length = b[8] | b[9] << 8 | b[10] << 16 | uint32_t{b[11]} << 24;
  EXPECT_EQ(length, b.size() - 16);
  EXPECT_EQ(length % 8, 0u);
  EXPECT_EQ(ToHex(std::span(b).subspan(12, 4)), "00000000");
  EXPECT_EQ(ToHex(std::span(b).subspan(16, 4)), "00000200");  // referent id 0x00020000
  EXPECT_EQ(ToHex(std::span(b).subspan(20, 8)), "11111111" "0000db01");
  // UserId is the 8th ULONG after the six FILETIMEs and six
  // RPC_UNICODE_STRINGs and the two USHORTs: NDR offset 4 + 48 + 48 + 4.
  EXPECT_EQ(Find(b, {0xD4, 0xC3, 0xB2, 0xA1}), 16u + 104u);
}

TEST(Pac, GeneratedLogonInfoDecodesToItsSids) {
  auto info = LogonInfoFromPac(CarolPac());
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_TRUE(info->has_value());
  const PacLogonInfo& i = **info;
  const Sid domain(5, kDomain);
  EXPECT_EQ(i.user, domain.WithRid(kUserId));
  EXPECT_EQ(i.QualifiedName(), "CONTOSO\\carol");
  EXPECT_EQ(GroupLines(i), (std::vector<std::string>{
                               domain.WithRid(513).ToString() + " 0x00000007",
                               domain.WithRid(1200).ToString() + " 0x00000007",
                               "S-1-18-1 0x00000007",
                               "S-1-5-21-9-8-7-1601 0x20000007",
                           }));
}

TEST(Pac, TokenCarriesThePacGroupsAndTheNetworkLogonGroups) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  (*v.GroupIds)[1].Attributes = security::SE_GROUP_USE_FOR_DENY_ONLY;
  auto info = LogonInfoFromPac(Pac({{PAC_LOGON_INFO, LogonInfoBytes(v)}}));
  ASSERT_TRUE(info.ok() && info->has_value()) << info.status().ToString();
  const security::Token t = (*info)->ToToken();
  const Sid domain(5, kDomain);
  EXPECT_EQ(t.user(), domain.WithRid(kUserId));
  EXPECT_EQ(t.logon(), security::LogonKind::kNetwork);
  EXPECT_TRUE(t.IsMember(domain.WithRid(513)));
  EXPECT_EQ(t.Match(domain.WithRid(1200)), security::SidMatch::kDenyOnly);
  EXPECT_TRUE(t.IsMember(Sid(18, {1})));
  EXPECT_TRUE(t.IsMember(Sid(5, {21, 9, 8, 7, 1601})));
  EXPECT_TRUE(t.IsMember(security::well_known::Everyone()));
  EXPECT_TRUE(t.IsMember(security::well_known::AuthenticatedUsers()));
  EXPECT_TRUE(t.IsMember(security::well_known::Network()));
  EXPECT_FALSE(t.IsMember(security::well_known::Interactive()));
}

// The acceptor's rule 1 (principal_mapping.h).
TEST(Pac, IdentityFromPacNamesDomainBackslashUser) {
  auto id = IdentityFromPac(CarolPac());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(id->has_value());
  EXPECT_EQ((*id)->name, "CONTOSO\\carol");
  EXPECT_EQ((*id)->source, "PAC logon info");
  EXPECT_EQ((*id)->token->user(), Sid(5, kDomain).WithRid(kUserId));
  auto none = IdentityFromPac(MitLikePac());
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
}

// The acceptor's whole rule (ResolveCaller), with a principal map that
// maps the same principal: a verified PAC's logon info wins over it; an
// unverified PAC is ignored; a verified PAC without a logon info (MIT's)
// leaves it to the map; a verified malformed PAC refuses the logon.
class OneEntryMap : public PrincipalMap {
 public:
  Result<std::optional<MappedIdentity>> Find(const std::string& principal) override {
    if (principal != "carol@CONTOSO.COM") return std::optional<MappedIdentity>();
    MappedIdentity id;
    id.name = "HOST\\mapped";
    id.token = std::make_shared<const security::Token>(security::Token::ForAuthenticatedUser(
        Sid(5, {21, 1, 2, 3, 1001}), {}, security::LogonKind::kNetwork));
    id.source = "store principal map";
    return std::optional<MappedIdentity>(std::move(id));
  }
};

TEST(PacRule, VerifiedLogonInfoComesBeforeTheStoreMap) {
  OneEntryMap map;
  const std::string carol = "carol@CONTOSO.COM";
  TicketPac pac{true, true, CarolPac()};
  auto r = ResolveCaller(carol, pac, &map);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->identity.name, "CONTOSO\\carol");
  EXPECT_EQ(r->identity.source, "PAC logon info");
  EXPECT_EQ(r->pac_state, "logon info");

  pac.verified = false;
  r = ResolveCaller(carol, pac, &map);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->identity.name, "HOST\\mapped");
  EXPECT_EQ(r->pac_state, "unverified, ignored");

  r = ResolveCaller(carol, TicketPac{true, true, MitLikePac()}, &map);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->identity.source, "store principal map");
  EXPECT_EQ(r->pac_state, "no logon info");

  r = ResolveCaller(carol, TicketPac{}, &map);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->identity.source, "store principal map");
  EXPECT_EQ(r->pac_state, "absent");

  // No map entry and no Unix account: rule 4.
  r = ResolveCaller("dave@CONTOSO.COM", TicketPac{true, true, MitLikePac()}, &map);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->identity.source, "principal SID");
  EXPECT_EQ(r->identity.token->user(), PrincipalSid("dave@CONTOSO.COM"));
}

TEST(PacRule, VerifiedButMalformedPacRefusesTheLogon) {
  OneEntryMap map;
  std::vector<uint8_t> bad = CarolPac();
  bad[4] = 1;  // Version 1
  auto r = ResolveCaller("carol@CONTOSO.COM", TicketPac{true, true, bad}, &map);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN);
  EXPECT_NE(std::string(r.status().message())
                .find("carol@CONTOSO.COM's ticket carries a PAC that cannot be used: the PAC's "
                      "Version is 1"),
            std::string::npos)
      << r.status().ToString();
  // The same bytes unverified are not read at all.
  EXPECT_TRUE(ResolveCaller("carol@CONTOSO.COM", TicketPac{true, false, bad}, &map).ok());
}

TEST(Pac, SidListsCountOnlyWhenUserFlagsSaySo) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  v.UserFlags = 0;
  auto info = DecodeLogonInfo(LogonInfoBytes(v));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->groups.size(), 2u);  // 513 and 1200: no extra SID, no resource group
}

TEST(Pac, PrimaryGroupIsAddedWhenGroupIdsLeaveItOut) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  v.GroupIds.reset();
  v.GroupCount = 0;
  v.PrimaryGroupId = 1500;
  auto info = DecodeLogonInfo(LogonInfoBytes(v));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->groups.at(0).sid, Sid(5, kDomain).WithRid(1500));
}

TEST(Pac, UnalignedBufferOffsetIsTolerated) {
  std::vector<uint8_t> pac = MitLikePac();
  // Move the first buffer (20 bytes at 72, padded to 24) one byte on:
  // [MS-PAC] 2.4 says Offset MUST be a multiple of 8; we accept it anyway.
  SetU32(pac, 8 + 8, 73);
  auto buffers = ParsePac(pac);
  ASSERT_TRUE(buffers.ok()) << buffers.status().ToString();
  EXPECT_EQ((*buffers)[0].data.data() - pac.data(), 8 + 4 * 16 + 1);
}

// ==== PACTYPE refusals =======================================================

void ExpectRefused(std::span<const uint8_t> pac, HResult code, const std::string& words) {
  auto r = LogonInfoFromPac(pac);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(std::string(r.status().message()).find(words), std::string::npos)
      << r.status().ToString();
}

TEST(PacRefusal, TruncatedPacType) {
  const std::vector<uint8_t> pac = MitLikePac();
  ExpectRefused(std::span(pac).first(0), SEC_E_INVALID_TOKEN, "shorter than its 8-byte PACTYPE");
  ExpectRefused(std::span(pac).first(7), SEC_E_INVALID_TOKEN, "shorter than its 8-byte PACTYPE");
  // The header and the first three PAC_INFO_BUFFERs, not the fourth.
  ExpectRefused(std::span(pac).first(8 + 3 * 16 + 8), SEC_E_INVALID_TOKEN,
                "4 PAC_INFO_BUFFERs need 72 bytes");
  // Every prefix is refused, none crashes: the last buffer ends the PAC.
  for (size_t n = 0; n < pac.size(); ++n) {
    EXPECT_FALSE(LogonInfoFromPac(std::span(pac).first(n)).ok()) << n;
  }
}

TEST(PacRefusal, BadVersion) {
  std::vector<uint8_t> pac = MitLikePac();
  pac[4] = 1;
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "Version is 1, not 0");
}

TEST(PacRefusal, BufferCountZeroOrHuge) {
  std::vector<uint8_t> pac = MitLikePac();
  SetU32(pac, 0, 0);
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "cBuffers is 0");
  SetU32(pac, 0, 0xFFFFFFFF);
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "cBuffers is 4294967295 (1 to 64 accepted)");
  SetU32(pac, 0, 65);
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "cBuffers is 65");
  SetU32(pac, 0, 9);  // within the limit, but the array overruns the 144-byte PAC
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "9 PAC_INFO_BUFFERs need 152 bytes; the PAC has 144");
}

TEST(PacRefusal, BufferOutsideThePac) {
  const std::vector<uint8_t> good = MitLikePac();
  std::vector<uint8_t> pac = good;
  SetU32(pac, 8 + 3 * 16 + 8, static_cast<uint32_t>(pac.size()) + 8);  // offset past the end
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "PAC_INFO_BUFFER 3 (ulType 7");
  pac = good;
  SetU32(pac, 8 + 3 * 16 + 4, 17);  // the last buffer one byte too long
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "past the PAC's end");
  pac = good;
  SetU32(pac, 8 + 3 * 16 + 4, 0xFFFFFFFF);  // a size that wraps offset + size
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "past the PAC's end");
  pac = good;
  SetU32(pac, 8 + 3 * 16 + 12, 1);  // Offset's high 32 bits
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "past the PAC's end");
  pac = good;
  SetU32(pac, 8 + 8, 16);  // the first buffer inside the header
  ExpectRefused(pac, SEC_E_INVALID_TOKEN, "inside the PAC's header");
}

TEST(PacRefusal, TwoLogonInfos) {
  const std::vector<uint8_t> info = LogonInfoBytes(CarolInfo());
  ExpectRefused(Pac({{PAC_LOGON_INFO, info}, {PAC_LOGON_INFO, info}}), SEC_E_INVALID_TOKEN,
                "two PAC_LOGON_INFO buffers");
}

// ==== KERB_VALIDATION_INFO refusals ==========================================

void ExpectInfoRefused(const std::vector<uint8_t>& logon_info, HResult code,
                       const std::string& words) {
  ExpectRefused(Pac({{PAC_LOGON_INFO, logon_info}}), code, words);
}

// Offsets in the stream (16 bytes of headers, then NDR from 0).
constexpr size_t kUserIdAt = 16 + 104;
constexpr size_t kGroupCountAt = kUserIdAt + 8;
constexpr size_t kEffectiveNameAt = 16 + 4 + 48;  // Length, MaximumLength, pointer

TEST(PacRefusal, ConformanceThatDiffersFromGroupCount) {
  std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  ASSERT_EQ(b[kUserIdAt], 0xD4);
  SetU32(b, kGroupCountAt, 3);  // the array's max_count stays 2
  ExpectInfoRefused(b, RPC_X_BAD_STUB_DATA, "max_count differs from size_is");
  SetU32(b, kGroupCountAt, 0x7FFFFFFF);
  ExpectInfoRefused(b, RPC_X_BAD_STUB_DATA, "max_count differs from size_is");
}

TEST(PacRefusal, ArrayConformanceLargerThanTheBytes) {
  std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  // GroupIds' max_count: the deferred array's first word, found after the
  // six strings' characters ("Carol Example" is the longest).
  const size_t at = Find(b, {2, 0, 0, 0, 0x01, 0x02, 0, 0, 7, 0, 0, 0});
  SetU32(b, at, 0x10000000);
  SetU32(b, kGroupCountAt, 0x10000000);
  ExpectInfoRefused(b, RPC_X_BAD_STUB_DATA, "");
}

TEST(PacRefusal, StringLengthsThatLie) {
  std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  ASSERT_EQ(b[kEffectiveNameAt], 10);  // "carol": 10 bytes
  std::vector<uint8_t> lie = b;
  lie[kEffectiveNameAt] = 8;  // Length says 4 characters, actual_count is 5
  ExpectInfoRefused(lie, RPC_X_BAD_STUB_DATA, "actual_count differs from length_is");
  lie = b;
  lie[kEffectiveNameAt + 2] = 12;  // MaximumLength says 6, max_count is 5
  ExpectInfoRefused(lie, RPC_X_BAD_STUB_DATA, "max_count differs from size_is");
  lie = b;
  // The string's actual_count beyond the stream.
  const size_t at = Find(b, {5, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 'c', 0});
  SetU32(lie, at + 8, 0x40000000);
  ExpectInfoRefused(lie, RPC_X_BAD_STUB_DATA, "");
}

TEST(PacRefusal, SidConformanceThatLies) {
  std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  // LogonDomainId: max_count 4, revision 1, count 4, authority 5.
  const std::vector<uint8_t> sid = {4, 0, 0, 0, 1, 4, 0, 0, 0, 0, 0, 5};
  const size_t at = Find(b, sid);
  std::vector<uint8_t> lie = b;
  lie[at + 5] = 3;  // SubAuthorityCount 3, max_count 4
  ExpectInfoRefused(lie, RPC_X_BAD_STUB_DATA, "max_count differs from size_is");
  lie = b;
  lie[at + 4] = 2;  // revision 2
  ExpectInfoRefused(lie, SEC_E_INVALID_TOKEN, "LogonDomainId has revision 2");
}

TEST(PacRefusal, SidsThatCannotBeSids) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  v.LogonDomainId = idl::RPC_SID(RpcSid(5, std::vector<uint32_t>(15, 1)));
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN,
                    "LogonDomainId has 15 sub-authorities and no room for a RID");
  v = CarolInfo();
  (*v.ExtraSids)[0].Sid = idl::RPC_SID(RpcSid(5, std::vector<uint32_t>(16, 1)));
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN, "ExtraSids[0] has 16 sub-authorities");
  v = CarolInfo();
  (*v.ExtraSids)[0].Sid.reset();
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN, "NULL ExtraSids[0]");
  v = CarolInfo();
  v.LogonDomainId.reset();
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN, "no LogonDomainId");
  v = CarolInfo();
  v.ResourceGroupDomainSid.reset();
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN, "no ResourceGroupDomainSid");
}

TEST(PacRefusal, CountsWithNullArrays) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  std::vector<uint8_t> b;
  v.GroupIds.reset();
  v.GroupCount = 0;
  b = LogonInfoBytes(v);
  SetU32(b, kGroupCountAt, 2);  // a count with a NULL pointer
  ExpectInfoRefused(b, SEC_E_INVALID_TOKEN, "GroupCount 2 and a NULL GroupIds");
}

TEST(PacRefusal, NullValidationInfo) {
  idl::PAC_LOGON_INFO stream;
  auto b = ndr::EncodePickled(stream);
  ASSERT_TRUE(b.ok());
  ExpectInfoRefused(*b, SEC_E_INVALID_TOKEN, "NULL KERB_VALIDATION_INFO");
}

TEST(PacRefusal, TooManySids) {
  idl::KERB_VALIDATION_INFO v = CarolInfo();
  v.GroupIds->resize(1020, idl::GROUP_MEMBERSHIP{1300, 7});
  v.GroupCount = 1020;
  // 1020 groups + 1 extra SID + 1 resource group + the primary group = 1023.
  ASSERT_TRUE(DecodeLogonInfo(LogonInfoBytes(v)).ok());
  v.GroupIds->resize(1022, idl::GROUP_MEMBERSHIP{1300, 7});
  v.GroupCount = 1022;
  ExpectInfoRefused(LogonInfoBytes(v), SEC_E_INVALID_TOKEN,
                    "1025 group SIDs (with the primary group); at most 1024");
  // One list past the NDR element limit is refused by the decoder itself.
  PacLimits small;
  small.max_group_sids = 8;
  small.max_string_chars = 8;
  auto r = DecodeLogonInfo(LogonInfoBytes(CarolInfo()), small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_X_BAD_STUB_DATA) << r.status().ToString();  // "Carol Example"
}

TEST(PacRefusal, WrongSerializationVersionAndTrailingBytes) {
  std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  std::vector<uint8_t> lie = b;
  lie[0] = 2;
  ExpectInfoRefused(lie, RPC_X_WRONG_ES_VERSION, "");
  lie = b;
  lie.resize(lie.size() + 16, 0);
  SetU32(lie, 8, static_cast<uint32_t>(lie.size() - 16));  // counted, but not the structure's
  ExpectInfoRefused(lie, RPC_X_BAD_STUB_DATA, "follow the stub data");
}

// Every prefix and every single-byte change of a good logon info decodes or
// is refused with a status; nothing crashes (ASan/UBSan builds make this a
// memory-safety check).
TEST(PacRefusal, EveryTruncationAndByteFlipIsHandled) {
  const std::vector<uint8_t> b = LogonInfoBytes(CarolInfo());
  for (size_t n = 0; n < b.size(); ++n) {
    auto r = DecodeLogonInfo(std::span(b).first(n));
    EXPECT_FALSE(r.ok()) << n;
  }
  size_t refused = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    std::vector<uint8_t> flip = b;
    flip[i] ^= 0xFF;
    if (!DecodeLogonInfo(flip).ok()) ++refused;
  }
  EXPECT_GT(refused, b.size() / 4);
}

}  // namespace
}  // namespace comsec::auth::gssapi
