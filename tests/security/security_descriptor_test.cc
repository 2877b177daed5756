// The binary self-relative form ([MS-DTYP] 2.4.6): exact layout, decoding,
// and hostile input — truncation at every byte, overlong buffers, offsets
// and sizes that overrun, counts that overflow, byte mutations.
#include "comsec/base/win32_error.h"
#include "comsec/security/security_descriptor.h"

#include <gtest/gtest.h>

#include "comsec/base/hex.h"
#include "comsec/security/sddl.h"

namespace comsec::security {
namespace {

// R175's XP SP2 MachineLaunchRestriction in the layout Windows writes:
// header, DACL at 0x14, then owner (0x48) and group (0x58).
constexpr char kLaunchRestrictionSddl[] =
    "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";
constexpr char kLaunchRestrictionHex[] =
    "01000480" "48000000" "58000000" "00000000" "14000000"  // header
    "02003400" "02000000"                                  // ACL: rev 2, 52 bytes, 2 ACEs
    "00001800" "1f000000" "010200000000000520000000" "20020000"  // (A;;0x1f;;;BA)
    "00001400" "0b000000" "010100000000000100000000"             // (A;;0xb;;;WD)
    "010200000000000520000000" "20020000"                  // owner BA
    "010200000000000520000000" "20020000";                 // group BA

std::vector<uint8_t> Bytes(const char* hex) { return *FromHex(hex); }

TEST(SecurityDescriptor, EncodesInWindowsLayout) {
  auto sd = ParseSddl(kLaunchRestrictionSddl);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(ToHex(sd->Encode()), kLaunchRestrictionHex);
}

TEST(SecurityDescriptor, DecodesWindowsLayout) {
  auto sd = SecurityDescriptor::Decode(Bytes(kLaunchRestrictionHex));
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  EXPECT_EQ(*FormatSddl(*sd), kLaunchRestrictionSddl);
  EXPECT_EQ(sd->control, SE_SELF_RELATIVE | SE_DACL_PRESENT);
  EXPECT_EQ(sd->dacl->aces[1].mask, 0xbu);
}

// Parts may come in any order; Samba writes owner, group, SACL, DACL.
TEST(SecurityDescriptor, DecodesOtherPartOrders) {
  // Owner at 0x14 (16 bytes), group at 0x24 (12 bytes), DACL at 0x30.
  std::vector<uint8_t>   b = Bytes("01000480" "14000000" "24000000" "00000000" "30000000"
            "010200000000000520000000" "20020000"
            "010100000000000512000000"
            "02001c00" "01000000" "00001400" "03000000"
            "010100000000000100000000");
  auto sd = SecurityDescriptor::Decode(b);
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  EXPECT_EQ(*FormatSddl(*sd), "O:BAG:SYD:(A;;CCDC;;;WD)");
}

TEST(SecurityDescriptor, NullDaclIsPresentWithoutAcl) {
  auto sd = SecurityDescriptor::Decode(
      Bytes("01000480" "00000000" "00000000" "00000000" "00000000"));
  ASSERT_TRUE(sd.ok());
  EXPECT_TRUE(sd->HasNullDacl());
  EXPECT_EQ(*FormatSddl(*sd), "D:NO_ACCESS_CONTROL");
}

TEST(SecurityDescriptor, TruncationAtEveryLengthIsAnError) {
  std::vector<uint8_t> full = Bytes(kLaunchRestrictionHex);
  for (size_t n = 0; n < full.size(); ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    auto sd = SecurityDescriptor::Decode(prefix);
    EXPECT_FALSE(sd.ok()) << "length " << n;
  }
}

TEST(SecurityDescriptor, OverlongBufferIsAnError) {
  std::vector<uint8_t> b = Bytes(kLaunchRestrictionHex);
  b.push_back(0);
  auto sd = SecurityDescriptor::Decode(b);
  ASSERT_FALSE(sd.ok());
  EXPECT_NE(sd.status().message().find("1 bytes follow"), std::string::npos)
      << sd.status().message();
  EXPECT_EQ(sd.status().position(), 0x68u);
}

struct Corruption {
  const char* what;
  size_t offset;
  std::vector<uint8_t> bytes;
};

// Each corruption of the vector must be refused, with a clear error.
TEST(SecurityDescriptor, RejectsCorruptFields) {
  const Corruption cases[] = {
      {"revision 2", 0, {2}},
      {"not self-relative", 3, {0x00}},
      {"owner offset outside", 4, {0xff, 0, 0, 0}},
      {"owner offset inside the header", 4, {0x04, 0, 0, 0}},
      {"DACL offset outside", 16, {0x00, 0x10, 0, 0}},
      {"ACL revision 3", 0x14, {3}},
      {"ACL size below its header", 0x16, {4, 0}},
      {"ACL size beyond the buffer", 0x16, {0xff, 0x00}},
      {"ACE count the ACL cannot hold", 0x18, {0xff, 0xff}},
      {"ACE count one too many", 0x18, {3, 0}},
      {"ACE size overruns the ACL", 0x1e, {0x30, 0}},
      {"ACE size below 16", 0x1e, {0x0c, 0}},
      {"ACE size not a multiple of 4", 0x1e, {0x19, 0}},
      {"unknown ACE type", 0x1c, {0x16}},
      {"compound ACE type", 0x1c, {0x04}},
      {"object ACE in a revision 2 ACL", 0x1c, {0x05}},
      {"SID revision in an ACE", 0x24, {2}},
      {"SID with 16 sub-authorities in an ACE", 0x25, {16}},
      {"SID sub-authorities overrun the ACE", 0x25, {3}},
      {"owner SID with 16 sub-authorities", 0x49, {16}},
      {"slack after an allow ACE's SID", 0x25, {1}},
  };
  for (const Corruption& c : cases) {
    std::vector<uint8_t> b = Bytes(kLaunchRestrictionHex);
    for (size_t i = 0; i < c.bytes.size(); ++i) b[c.offset + i] = c.bytes[i];
    auto sd = SecurityDescriptor::Decode(b);
    EXPECT_FALSE(sd.ok()) << c.what;
    if (!sd.ok()) {
      EXPECT_FALSE(sd.status().message().empty()) << c.what;
      EXPECT_TRUE(sd.status().position().has_value()) << c.what;
    }
  }
}

TEST(SecurityDescriptor, AceOverrunNamesTheAceAndBytes) {
  std::vector<uint8_t> b = Bytes(kLaunchRestrictionHex);
  b[0x36] = 0x20;  // second ACE claims 32 bytes; 20 remain in the ACL
  auto sd = SecurityDescriptor::Decode(b);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), ERROR_INVALID_ACL);
  EXPECT_NE(sd.status().message().find("ACE 1 overruns the ACL by 12 bytes"),
            std::string::npos)
      << sd.status().message();
}

TEST(SecurityDescriptor, AbsentDaclOffsetIsIgnoredWhenNotPresent) {
  std::vector<uint8_t> b = Bytes(kLaunchRestrictionHex);
  b[2] = 0x00;  // clear SE_DACL_PRESENT: the DACL bytes are now unused
  auto sd = SecurityDescriptor::Decode(b);
  // The DACL is ignored, as Windows ignores it; its bytes still lie before
  // the owner and group, so nothing trails the descriptor.
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  EXPECT_FALSE(sd->DaclPresent());
}

// No mutation may crash; whatever decodes must re-encode and decode again.
TEST(SecurityDescriptor, ByteMutationsNeverCrash) {
  const std::vector<uint8_t> base = Bytes(kLaunchRestrictionHex);
  int decoded = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    for (int delta : {1, 0x7f, 0x80, 0xff}) {
      std::vector<uint8_t> b = base;
      b[i] = static_cast<uint8_t>(b[i] + delta);
      auto sd = SecurityDescriptor::Decode(b);
      if (!sd.ok()) continue;
      ++decoded;
      auto again = SecurityDescriptor::Decode(sd->Encode());
      ASSERT_TRUE(again.ok()) << "byte " << i;
      EXPECT_EQ(again->dacl, sd->dacl);
      EXPECT_EQ(again->owner, sd->owner);
    }
  }
  EXPECT_GT(decoded, 0);
}

TEST(SecurityDescriptor, RefusesHugeBuffersUpFront) {
  std::vector<uint8_t> big(kMaxSecurityDescriptorBytes + 1, 0);
  big[0] = 1;
  big[3] = 0x80;
  EXPECT_FALSE(SecurityDescriptor::Decode(big).ok());
}

TEST(SecurityDescriptor, ObjectAcesRoundTrip) {
  auto sd = ParseSddl(
      "D:(OA;CI;RP;4c164200-20c0-11d0-a768-00aa006e0529;"
      "bf967aba-0de6-11d0-a285-00aa003049e2;AU)(A;;CC;;;WD)");
  ASSERT_TRUE(sd.ok());
  std::vector<uint8_t> bytes = sd->Encode();
  EXPECT_EQ(bytes[0x14], ACL_REVISION_DS);
  auto back = SecurityDescriptor::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *sd);
}

}  // namespace
}  // namespace comsec::security
