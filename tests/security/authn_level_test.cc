#include "comsec/security/authn_level.h"

#include <gtest/gtest.h>

#include <sstream>

namespace comsec::security {
namespace {

TEST(AuthnLevel, NumbersAndNamesAreWindows) {
  EXPECT_EQ(ToNumber(AuthnLevel::kPktPrivacy), 6u);
  EXPECT_EQ(ToNumber(ImpLevel::kDelegate), 4u);
  EXPECT_STREQ(AuthnLevelName(AuthnLevel::kPktPrivacy), "RPC_C_AUTHN_LEVEL_PKT_PRIVACY");
  EXPECT_STREQ(AuthnLevelName(RPC_C_AUTHN_LEVEL_CONNECT), "RPC_C_AUTHN_LEVEL_CONNECT");
  EXPECT_STREQ(ImpLevelName(ImpLevel::kIdentify), "RPC_C_IMP_LEVEL_IDENTIFY");
  EXPECT_STREQ(AuthnLevelShortName(AuthnLevel::kPktIntegrity), "PKT_INTEGRITY");
  EXPECT_STREQ(ImpLevelShortName(ImpLevel::kAnonymous), "ANONYMOUS");
  EXPECT_STREQ(AuthnLevelName(static_cast<AuthnLevel>(7)), "(invalid level)");
  EXPECT_STREQ(AuthnLevelShortName(static_cast<AuthnLevel>(7)), "(invalid level)");
  std::ostringstream out;
  out << AuthnLevel::kCall << "; " << ImpLevel::kImpersonate;
  EXPECT_EQ(out.str(), "RPC_C_AUTHN_LEVEL_CALL (3); RPC_C_IMP_LEVEL_IMPERSONATE (3)");
}

TEST(AuthnLevel, LevelsCompareInProtectionOrder) {
  EXPECT_LT(AuthnLevel::kPkt, AuthnLevel::kPktIntegrity);
  EXPECT_LT(AuthnLevel::kNone, AuthnLevel::kConnect);
  EXPECT_LT(ImpLevel::kIdentify, ImpLevel::kImpersonate);
}

TEST(AuthnLevel, FromNumberRefusesWhatWindowsDoesNotDefine) {
  for (uint32_t n = 0; n <= 6; ++n) EXPECT_EQ(ToNumber(*AuthnLevelFromNumber(n)), n);
  EXPECT_FALSE(AuthnLevelFromNumber(7).has_value());
  for (uint32_t n = 0; n <= 4; ++n) EXPECT_EQ(ToNumber(*ImpLevelFromNumber(n)), n);
  EXPECT_FALSE(ImpLevelFromNumber(5).has_value());
}

TEST(AuthnLevel, ParsesNumbersAndNamesInAnyCase) {
  EXPECT_EQ(*ParseAuthnLevel("6"), AuthnLevel::kPktPrivacy);
  EXPECT_EQ(*ParseAuthnLevel("0"), AuthnLevel::kDefault);
  EXPECT_EQ(*ParseAuthnLevel("RPC_C_AUTHN_LEVEL_PKT_INTEGRITY"), AuthnLevel::kPktIntegrity);
  EXPECT_EQ(*ParseAuthnLevel("pkt-privacy"), AuthnLevel::kPktPrivacy);
  EXPECT_EQ(*ParseAuthnLevel("Connect"), AuthnLevel::kConnect);
  EXPECT_EQ(*ParseImpLevel("identify"), ImpLevel::kIdentify);
  EXPECT_EQ(*ParseImpLevel("RPC_C_IMP_LEVEL_DELEGATE"), ImpLevel::kDelegate);
  EXPECT_EQ(*ParseImpLevel("3"), ImpLevel::kImpersonate);
}

TEST(AuthnLevel, ParseRefusesWithTheAcceptedForms) {
  for (const char* bad : {"7", "", "PKT_", "RPC_C_IMP_LEVEL_IDENTIFY", "-1", "06x", " 6"}) {
    auto r = ParseAuthnLevel(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), E_INVALIDARG);
    EXPECT_EQ(r.status().message(),
              "\"" + std::string(bad) +
                  "\" is not an authentication level; use 0-6 or a name: DEFAULT, NONE, "
                  "CONNECT, CALL, PKT, PKT_INTEGRITY, PKT_PRIVACY (RPC_C_AUTHN_LEVEL_...)");
  }
  EXPECT_FALSE(ParseImpLevel("5").ok());
  EXPECT_FALSE(ParseImpLevel("PKT_PRIVACY").ok());
}

}  // namespace
}  // namespace comsec::security
