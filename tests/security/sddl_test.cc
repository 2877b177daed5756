// SDDL parsing and formatting: the canonical table in
// tests/data/security/sddl_canonical.txt, round trips through the binary
// form, and one negative case per kind of malformed input.
#include "comsec/base/win32_error.h"
#include "comsec/security/sddl.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace comsec::security {
namespace {

struct Vector {
  std::string input;
  std::string canonical;
  int line;
};

std::vector<Vector> LoadVectors() {
  std::ifstream in(std::string(COMSEC_TEST_DATA_DIR) +
                   "/security/sddl_canonical.txt");
  std::vector<Vector> out;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    out.push_back({line.substr(0, tab), line.substr(tab + 1), n});
  }
  return out;
}

TEST(Sddl, CanonicalTable) {
  auto vectors = LoadVectors();
  ASSERT_GT(vectors.size(), 30u);
  for (const Vector& v : vectors) {
    auto sd = ParseSddl(v.input);
    ASSERT_TRUE(sd.ok()) << "line " << v.line << ": " << sd.status().ToString();
    auto text = FormatSddl(*sd);
    ASSERT_TRUE(text.ok()) << "line " << v.line;
    EXPECT_EQ(*text, v.canonical) << "line " << v.line;
  }
}

// SDDL -> binary -> SDDL is stable, and so is canonical -> canonical.
TEST(Sddl, RoundTripsThroughBinary) {
  for (const Vector& v : LoadVectors()) {
    auto sd = ParseSddl(v.canonical);
    ASSERT_TRUE(sd.ok()) << "line " << v.line;
    auto decoded = SecurityDescriptor::Decode(sd->Encode());
    ASSERT_TRUE(decoded.ok()) << "line " << v.line << ": "
                              << decoded.status().ToString();
    EXPECT_EQ(*decoded, *sd) << "line " << v.line;
    EXPECT_EQ(*FormatSddl(*decoded), v.canonical) << "line " << v.line;
  }
}

TEST(Sddl, ControlFlags) {
  auto sd = ParseSddl("D:PARAI(A;;CC;;;WD)S:PAI");
  ASSERT_TRUE(sd.ok());
  EXPECT_TRUE(sd->control & SE_DACL_PRESENT);
  EXPECT_TRUE(sd->control & SE_DACL_PROTECTED);
  EXPECT_TRUE(sd->control & SE_DACL_AUTO_INHERITED);
  EXPECT_TRUE(sd->control & SE_DACL_AUTO_INHERIT_REQ);
  EXPECT_TRUE(sd->control & SE_SACL_PRESENT);
  EXPECT_TRUE(sd->control & SE_SACL_PROTECTED);
  EXPECT_TRUE(sd->control & SE_SACL_AUTO_INHERITED);
  auto null_dacl = ParseSddl("D:NO_ACCESS_CONTROL");
  EXPECT_TRUE(null_dacl->HasNullDacl());
  auto empty = ParseSddl("D:");
  EXPECT_FALSE(empty->HasNullDacl());
  EXPECT_TRUE(empty->dacl->aces.empty());
  auto owner_only = ParseSddl("O:SY");
  EXPECT_FALSE(owner_only->DaclPresent());
}

TEST(Sddl, EveryAceFlagCode) {
  auto sd = ParseSddl("D:(A;OICINPIOIDCR;CC;;;WD)S:(AU;SAFA;CC;;;WD)");
  ASSERT_TRUE(sd.ok()) << sd.status().ToString();
  EXPECT_EQ(sd->dacl->aces[0].flags,
            OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE |
                NO_PROPAGATE_INHERIT_ACE | INHERIT_ONLY_ACE | INHERITED_ACE |
                CRITICAL_ACE_FLAG);
  EXPECT_EQ(sd->sacl->aces[0].flags,
            SUCCESSFUL_ACCESS_ACE_FLAG | FAILED_ACCESS_ACE_FLAG);
}

TEST(Sddl, DomainAliasesNeedADomain) {
  EXPECT_FALSE(ParseSddl("O:DA").ok());
  Sid domain(5, {21, 1, 2, 3});
  SddlOptions options;
  options.aliases.domain = &domain;
  auto sd = ParseSddl("O:DAG:DUD:(A;;CC;;;LA)", options);
  ASSERT_TRUE(sd.ok());
  EXPECT_EQ(sd->owner->ToString(), "S-1-5-21-1-2-3-512");
  EXPECT_EQ(*FormatSddl(*sd, options), "O:DAG:DUD:(A;;CC;;;LA)");
  EXPECT_EQ(*FormatSddl(*sd), "O:S-1-5-21-1-2-3-512G:S-1-5-21-1-2-3-513"
                              "D:(A;;CC;;;S-1-5-21-1-2-3-500)");
}

TEST(Sddl, FormatRefusesApplicationData) {
  auto sd = ParseSddl("D:(XA;;FX;;;WD)");
  ASSERT_TRUE(sd.ok());
  sd->dacl->aces[0].application_data = {'a', 'r', 't', 'x', 0, 0, 0, 0};
  auto text = FormatSddl(*sd);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), E_NOTIMPL);
}

struct Bad {
  const char* input;
  size_t position;  // 0-based character position the error names
  HResult code;
};

// One case per kind of malformed SDDL; each names the exact position.
TEST(Sddl, RejectsMalformedInputAtItsPosition) {
  const Bad cases[] = {
      {"", 0, E_INVALIDARG},                                  // empty
      {"X:BA", 0, E_INVALIDARG},                              // unknown component
      {"O:BAO:SY", 4, E_INVALIDARG},                          // duplicate O:
      {"O:", 2, E_INVALIDARG},                                // missing owner SID
      {"O:G:BA", 2, E_INVALIDARG},                            // missing owner SID
      {"O:QQ", 2, ERROR_INVALID_SID},                       // unknown alias
      {"O:S-1-5-x", 8, ERROR_INVALID_SID},                  // bad SID character
      {"O:S-2-5-18", 4, ERROR_INVALID_SID},                 // SID revision
      {"O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", 44,
       ERROR_INVALID_SID},                                  // 16 sub-authorities
      {"O:S-1-5-4294967296", 8, ERROR_INVALID_SID},         // 32-bit overflow
      {"D:(A;;CC;;;WD", 2, E_INVALIDARG},                     // unclosed ACE
      {"D:(A;;CC;;WD)", 12, E_INVALIDARG},                    // 5 fields
      {"D:(A;;CC;;;WD;x)", 14, E_NOTIMPL},                    // 7 fields
      {"D:(XA;;FA;;;WD;(@User.x==1))", 15, E_NOTIMPL},        // conditional
      {"D:(Q;;CC;;;WD)", 3, E_INVALIDARG},                    // unknown type
      {"D:(A;XX;CC;;;WD)", 5, E_INVALIDARG},                  // unknown flag
      {"D:(A;O;CC;;;WD)", 5, E_INVALIDARG},                   // half a flag
      {"D:(A;;CCD;;;WD)", 8, E_INVALIDARG},                   // odd rights
      {"D:(A;;CCQQ;;;WD)", 8, E_INVALIDARG},                  // unknown right
      {"D:(A;;0x100000000;;;WD)", 6, E_INVALIDARG},           // > 32 bits
      {"D:(A;;0x;;;WD)", 6, E_INVALIDARG},                    // 0x no digits
      {"D:(A;;0x1g;;;WD)", 9, E_INVALIDARG},                  // bad hex digit
      {"D:(A;;09;;;WD)", 7, E_INVALIDARG},                    // bad octal digit
      {"D:(A;;CC;4c164200-20c0-11d0-a768-00aa006e0529;;WD)", 9,
       E_INVALIDARG},                                         // GUID on plain ACE
      {"D:(OA;;CC;4c164200-20c0-11d0-a768;;WD)", 10, E_INVALIDARG},  // bad GUID
      {"D:(A;;CC;;;)", 11, E_INVALIDARG},                     // missing SID
      {"S:(A;;CC;;;WD)", 3, E_INVALIDARG},                    // allow in SACL
      {"D:(AU;;CC;;;WD)", 3, E_INVALIDARG},                   // audit in DACL
      {"D:(ML;;NX;;;LW)", 3, E_INVALIDARG},                   // label in DACL
      {"D:NO_ACCESS_CONTROL(A;;CC;;;WD)", 19, E_INVALIDARG},  // ACE after NULL
      {"D:PX(A;;CC;;;WD)", 3, E_INVALIDARG},                  // unknown ACL flag
      {"D:(RA;;CC;;;WD)", 3, E_NOTIMPL},                      // resource attribute
  };
  for (const Bad& b : cases) {
    auto sd = ParseSddl(b.input);
    ASSERT_FALSE(sd.ok()) << b.input;
    EXPECT_EQ(sd.status().code(), b.code) << b.input << ": "
                                          << sd.status().ToString();
    EXPECT_EQ(sd.status().position(), b.position)
        << b.input << ": " << sd.status().ToString();
    EXPECT_NE(sd.status().message().find("character " +
                                         std::to_string(b.position + 1)),
              std::string::npos)
        << sd.status().message();
  }
}

TEST(Sddl, RejectsAnAclBeyondSixtyFourKilobytes) {
  std::string text = "D:";
  // Each ACE with a 5-sub-authority SID takes 8 + 28 = 36 bytes.
  for (int i = 0; i < 2000; ++i) {
    text += "(A;;CC;;;S-1-5-21-1-2-3-" + std::to_string(1000 + i) + ")";
  }
  auto sd = ParseSddl(text);
  ASSERT_FALSE(sd.ok());
  EXPECT_EQ(sd.status().code(), ERROR_INVALID_SECURITY_DESCR);
}

}  // namespace
}  // namespace comsec::security
