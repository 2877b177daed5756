// Windows's discretionary access check ([MS-DTYP] 2.5.3.2).
#include "comsec/security/access_check.h"

#include <gtest/gtest.h>

#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

constexpr uint32_t kRead = 0x1, kWrite = 0x2, kExec = 0x4;
constexpr GenericMapping kMapping{kRead, kWrite, kExec, kRead | kWrite | kExec};

const Sid kUser(5, {21, 1, 2, 3, 1001});
const Sid kGroupA(5, {21, 1, 2, 3, 2001});
const Sid kGroupB(5, {21, 1, 2, 3, 2002});

Token MakeToken() {
  Token t(kUser, LogonKind::kNetwork);
  t.AddGroup(kGroupA);
  t.AddGroup(well_known::Everyone());
  return t;
}

AccessCheckResult Check(const char* sddl, uint32_t desired,
                        const Token& token = MakeToken()) {
  auto sd = ParseSddl(sddl);
  EXPECT_TRUE(sd.ok()) << sddl;
  return AccessCheck(*sd, token, desired, AccessCheckOptions{kMapping, false});
}

TEST(AccessCheck, NullDaclGrantsEverything) {
  auto r = Check("D:NO_ACCESS_CONTROL", kWrite);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kNullDacl);
  EXPECT_EQ(r.granted, kWrite);
}

TEST(AccessCheck, AbsentDaclGrantsEverything) {
  auto r = Check("O:BA", kWrite);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kNoDacl);
}

TEST(AccessCheck, EmptyDaclGrantsNothing) {
  auto r = Check("D:", kRead);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kEmptyDacl);
  EXPECT_EQ(r.granted, 0u);
}

TEST(AccessCheck, DenyBeforeAllowDenies) {
  auto r = Check("D:(D;;0x1;;;S-1-5-21-1-2-3-2001)(A;;0x7;;;WD)", kRead);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kDeniedByAce);
  EXPECT_EQ(r.deciding_ace, 0u);
  EXPECT_EQ(r.denied, kRead);
}

TEST(AccessCheck, AllowBeforeDenyAllows) {
  auto r = Check("D:(A;;0x7;;;WD)(D;;0x1;;;S-1-5-21-1-2-3-2001)", kRead);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 0u);
}

TEST(AccessCheck, DenyOfAnUnrequestedBitDoesNotMatter) {
  auto r = Check("D:(D;;0x2;;;WD)(A;;0x7;;;WD)", kRead);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 1u);
}

TEST(AccessCheck, DenyOfAStillOpenBitDeniesAfterPartialGrant) {
  auto r = Check("D:(A;;0x1;;;WD)(D;;0x3;;;WD)(A;;0x7;;;WD)", kRead | kWrite);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 1u);
  EXPECT_EQ(r.granted, kRead);
  EXPECT_EQ(r.denied, kWrite);
}

TEST(AccessCheck, AllowsAccumulateAndTheLastNeededDecides) {
  auto r = Check(
      "D:(A;;0x1;;;WD)(A;;0x1;;;S-1-5-21-1-2-3-2001)(A;;0x2;;;"
      "S-1-5-21-1-2-3-1001)(A;;0x4;;;WD)",
      kRead | kWrite);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 2u);
}

TEST(AccessCheck, MissingBitsAreReported) {
  auto r = Check("D:(A;;0x1;;;WD)(A;;0x2;;;S-1-5-21-1-2-3-2002)", kRead | kWrite);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kNotGranted);
  EXPECT_EQ(r.missing(), kWrite);
  EXPECT_FALSE(r.deciding_ace.has_value());
}

TEST(AccessCheck, InheritOnlyAcesAreSkipped) {
  EXPECT_FALSE(Check("D:(A;IO;0x1;;;WD)", kRead).allowed);
  EXPECT_TRUE(Check("D:(D;IO;0x1;;;WD)(A;;0x1;;;WD)", kRead).allowed);
}

TEST(AccessCheck, DenyOnlyGroupMatchesDenyButNotAllow) {
  Token t = MakeToken();
  t.AddGroup(kGroupB, SE_GROUP_USE_FOR_DENY_ONLY);
  EXPECT_FALSE(Check("D:(A;;0x1;;;S-1-5-21-1-2-3-2002)", kRead, t).allowed);
  auto r = Check("D:(D;;0x1;;;S-1-5-21-1-2-3-2002)(A;;0x1;;;WD)", kRead, t);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.deciding_ace, 0u);
}

TEST(AccessCheck, DisabledGroupMatchesNothing) {
  Token t = MakeToken();
  t.AddGroup(kGroupB, SE_GROUP_MANDATORY);  // not SE_GROUP_ENABLED
  EXPECT_FALSE(Check("D:(A;;0x1;;;S-1-5-21-1-2-3-2002)", kRead, t).allowed);
  EXPECT_TRUE(Check("D:(D;;0x1;;;S-1-5-21-1-2-3-2002)(A;;0x1;;;WD)", kRead, t)
                  .allowed);
}

TEST(AccessCheck, GenericRightsAreMappedInRequestAndAces) {
  auto r = Check("D:(A;;GA;;;WD)", kRead | kExec);
  EXPECT_TRUE(r.allowed);
  auto g = Check("D:(A;;0x7;;;WD)", GENERIC_READ | GENERIC_EXECUTE);
  EXPECT_TRUE(g.allowed);
  EXPECT_EQ(g.requested, kRead | kExec);
  EXPECT_FALSE(Check("D:(A;;GR;;;WD)", kWrite).allowed);
}

TEST(AccessCheck, MaximumAllowedCollectsEveryGrant) {
  auto r = Check("D:(D;;0x2;;;WD)(A;;0x7;;;WD)", MAXIMUM_ALLOWED);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.granted, kRead | kExec);
  auto none = Check("D:(A;;0x7;;;S-1-5-21-1-2-3-2002)", MAXIMUM_ALLOWED);
  EXPECT_FALSE(none.allowed);
  auto with_bit = Check("D:(A;;0x1;;;WD)", MAXIMUM_ALLOWED | kWrite);
  EXPECT_FALSE(with_bit.allowed);
}

TEST(AccessCheck, OwnerHoldsReadControlAndWriteDac) {
  auto r = Check("O:S-1-5-21-1-2-3-1001D:", READ_CONTROL | WRITE_DAC);
  EXPECT_TRUE(r.allowed);
  EXPECT_FALSE(r.deciding_ace.has_value());
  // An OWNER RIGHTS ACE replaces the implicit rights.
  EXPECT_FALSE(Check("O:S-1-5-21-1-2-3-1001D:(A;;0x1;;;OW)", WRITE_DAC).allowed);
  EXPECT_FALSE(Check("O:BAD:", READ_CONTROL).allowed);
}

TEST(AccessCheck, NothingRequestedIsRefused) {
  auto r = Check("D:(A;;0x7;;;WD)", 0);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reason, AccessReason::kNothingRequested);
}

TEST(AccessCheck, OnlyAllowAndDenyAcesAreEvaluated) {
  EXPECT_FALSE(Check("D:(OA;;0x1;4c164200-20c0-11d0-a768-00aa006e0529;;WD)",
                     kRead)
                   .allowed);
  EXPECT_FALSE(Check("D:(XA;;0x1;;;WD)", kRead).allowed);
  EXPECT_TRUE(
      Check("D:(XD;;0x1;;;WD)(A;;0x1;;;WD)", kRead).allowed);
}

TEST(AccessCheck, DescribesItsReason) {
  EXPECT_EQ(DescribeAccessReason(Check("D:(A;;0x1;;;WD)", kRead)),
            "granted by ACE 0");
  EXPECT_EQ(DescribeAccessReason(Check("D:(D;;0x1;;;WD)", kRead)),
            "denied by ACE 0, which denies 0x1");
  EXPECT_EQ(DescribeAccessReason(Check("D:(A;;0x1;;;WD)", kWrite)),
            "no ACE grants 0x2 to this caller");
}

}  // namespace
}  // namespace comsec::security
