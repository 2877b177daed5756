// SIDs ([MS-DTYP] 2.4.2) and the SDDL aliases of [MS-DTYP] 2.5.1.1.
#include "comsec/base/win32_error.h"
#include "comsec/security/sid.h"

#include <gtest/gtest.h>

#include "comsec/base/hex.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

TEST(Sid, ParsesAndFormats) {
  for (const char* text : {"S-1-5-32-544", "S-1-1-0", "S-1-5-21-1597522630-148096252-1166023319-500",
                           "S-1-0x1234567890AB-7", "S-1-5", "S-1-22-1-4294967295"}) {
    auto sid = Sid::Parse(text);
    ASSERT_TRUE(sid.ok()) << text;
    EXPECT_EQ(sid->ToString(), text);
  }
  EXPECT_EQ(Sid::Parse("s-1-5-18")->ToString(), "S-1-5-18");
  EXPECT_EQ(Sid::Parse("S-1-0x5-18")->ToString(), "S-1-5-18");
}

// [MS-DTYP] 2.4.2.2: big-endian authority, little-endian sub-authorities.
TEST(Sid, BinaryForm) {
  Sid system = *Sid::Parse("S-1-5-18");
  ByteWriter w;
  system.EncodeTo(w);
  EXPECT_EQ(ToHex(w.bytes()), "010100000000000512000000");
  EXPECT_EQ(system.EncodedSize(), 12u);
  auto bytes = *FromHex("01020000000000052000000020020000");
  ByteReader r(bytes, "SID");
  auto ba = Sid::Decode(r);
  ASSERT_TRUE(ba.ok());
  EXPECT_EQ(ba->ToString(), "S-1-5-32-544");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Sid, RejectsMalformedText) {
  for (const char* bad : {"", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-1-5--1", "S-2-5",
                          "X-1-5", "S-1-5-x", "S-1-5-4294967296",
                          "S-1-281474976710656", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
                          "S-1-0x", "S-1-5-0x10"}) {
    auto sid = Sid::Parse(bad);
    EXPECT_FALSE(sid.ok()) << bad;
    if (!sid.ok()) {
      EXPECT_EQ(sid.status().code(), ERROR_INVALID_SID) << bad;
    }
  }
  // Fifteen sub-authorities is the maximum, and fine.
  EXPECT_TRUE(Sid::Parse("S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15").ok());
}

TEST(Sid, RejectsMalformedBinary) {
  struct {
    const char* hex;
    const char* what;
  } cases[] = {
      {"", "empty"},
      {"01", "no count"},
      {"0101000000", "authority truncated"},
      {"0101000000000005", "sub-authority missing"},
      {"01010000000000051200", "sub-authority truncated"},
      {"020100000000000512000000", "revision 2"},
      {"0110000000000005" "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
       "000000000000000000000000000000000000000000000000",
       "16 sub-authorities"},
  };
  for (const auto& c : cases) {
    auto bytes = *FromHex(c.hex);
    ByteReader r(bytes, "SID");
    EXPECT_FALSE(Sid::Decode(r).ok()) << c.what;
  }
}

TEST(Sid, RidsAndDomains) {
  Sid domain = *Sid::Parse("S-1-5-21-1-2-3");
  Sid admin = domain.WithRid(500);
  EXPECT_EQ(admin.ToString(), "S-1-5-21-1-2-3-500");
  EXPECT_EQ(admin.Rid(), 500u);
  EXPECT_TRUE(admin.IsInDomain(domain));
  EXPECT_FALSE(domain.IsInDomain(domain));
  EXPECT_FALSE(Sid::Parse("S-1-5-21-1-2-4-500")->IsInDomain(domain));
}

TEST(Sid, EqualityAndFingerprint) {
  Sid a = *Sid::Parse("S-1-5-32-544");
  Sid b(5, {32, 544});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.fingerprint(), b.fingerprint());
  EXPECT_FALSE(a == *Sid::Parse("S-1-5-32-545"));
  EXPECT_FALSE(*Sid::Parse("S-1-5-32") == *Sid::Parse("S-1-5-32-0"));
  EXPECT_TRUE(*Sid::Parse("S-1-5-32") < *Sid::Parse("S-1-5-32-0"));
}

TEST(SidAlias, EveryAbsoluteAliasBothWays) {
  const struct {
    const char* alias;
    const char* sid;
  } table[] = {
      {"AA", "S-1-5-32-579"}, {"AC", "S-1-15-2-1"},   {"AN", "S-1-5-7"},
      {"AO", "S-1-5-32-548"}, {"AS", "S-1-18-1"},     {"AU", "S-1-5-11"},
      {"BA", "S-1-5-32-544"}, {"BG", "S-1-5-32-546"}, {"BO", "S-1-5-32-551"},
      {"BU", "S-1-5-32-545"}, {"CD", "S-1-5-32-574"}, {"CG", "S-1-3-1"},
      {"CO", "S-1-3-0"},      {"CY", "S-1-5-32-569"}, {"ED", "S-1-5-9"},
      {"ER", "S-1-5-32-573"}, {"ES", "S-1-5-32-576"}, {"HA", "S-1-5-32-578"},
      {"HI", "S-1-16-12288"}, {"HO", "S-1-5-32-584"}, {"IS", "S-1-5-32-568"},
      {"IU", "S-1-5-4"},      {"LS", "S-1-5-19"},     {"LU", "S-1-5-32-559"},
      {"LW", "S-1-16-4096"},  {"ME", "S-1-16-8192"},  {"MP", "S-1-16-8448"},
      {"MU", "S-1-5-32-558"}, {"NO", "S-1-5-32-556"}, {"NS", "S-1-5-20"},
      {"NU", "S-1-5-2"},      {"OW", "S-1-3-4"},      {"PO", "S-1-5-32-550"},
      {"PS", "S-1-5-10"},     {"PU", "S-1-5-32-547"}, {"RA", "S-1-5-32-575"},
      {"RC", "S-1-5-12"},     {"RD", "S-1-5-32-555"}, {"RE", "S-1-5-32-552"},
      {"RM", "S-1-5-32-580"}, {"RU", "S-1-5-32-554"}, {"SH", "S-1-5-32-585"},
      {"SI", "S-1-16-16384"}, {"SO", "S-1-5-32-549"}, {"SS", "S-1-18-2"},
      {"SU", "S-1-5-6"},      {"SY", "S-1-5-18"},     {"UD", "S-1-5-84-0-0-0-0-0"},
      {"WD", "S-1-1-0"},      {"WR", "S-1-5-33"},
  };
  for (const auto& e : table) {
    auto sid = SidFromAlias(e.alias);
    ASSERT_TRUE(sid.ok()) << e.alias;
    EXPECT_EQ(sid->ToString(), e.sid) << e.alias;
    EXPECT_EQ(AliasForSid(*sid), e.alias) << e.sid;
  }
}

TEST(SidAlias, DomainRelativeAliases) {
  EXPECT_EQ(SidFromAlias("DA").status().code(), ERROR_INVALID_SID);
  Sid domain = *Sid::Parse("S-1-5-21-1-2-3");
  Sid root = *Sid::Parse("S-1-5-21-9-9-9");
  SidAliasContext ctx{&domain, &root};
  const struct {
    const char* alias;
    const char* sid;
  } table[] = {
      {"DA", "S-1-5-21-1-2-3-512"}, {"DU", "S-1-5-21-1-2-3-513"},
      {"DG", "S-1-5-21-1-2-3-514"}, {"DC", "S-1-5-21-1-2-3-515"},
      {"DD", "S-1-5-21-1-2-3-516"}, {"CA", "S-1-5-21-1-2-3-517"},
      {"LA", "S-1-5-21-1-2-3-500"}, {"LG", "S-1-5-21-1-2-3-501"},
      {"EA", "S-1-5-21-9-9-9-519"}, {"SA", "S-1-5-21-9-9-9-518"},
      {"PA", "S-1-5-21-9-9-9-520"}, {"RO", "S-1-5-21-9-9-9-498"},
  };
  for (const auto& e : table) {
    auto sid = SidFromAlias(e.alias, ctx);
    ASSERT_TRUE(sid.ok()) << e.alias;
    EXPECT_EQ(sid->ToString(), e.sid) << e.alias;
    EXPECT_EQ(AliasForSid(*sid, ctx), e.alias);
    EXPECT_EQ(AliasForSid(*sid), "") << "no alias without the domain";
  }
  EXPECT_FALSE(SidFromAlias("ZZ").ok());
  EXPECT_FALSE(SidFromAlias("wd").ok());  // aliases are upper case
}

TEST(SidAlias, NamesAndUnixSids) {
  EXPECT_EQ(WellKnownSidName(well_known::LocalSystem()), "NT AUTHORITY\\SYSTEM");
  EXPECT_EQ(WellKnownSidName(well_known::DistributedComUsers()),
            "BUILTIN\\Distributed COM Users");
  EXPECT_EQ(WellKnownSidName(*Sid::Parse("S-1-5-21-1-2-3")), "");
  EXPECT_EQ(UnixUserSid(1000).ToString(), "S-1-22-1-1000");
  EXPECT_EQ(UnixGroupSid(27).ToString(), "S-1-22-2-27");
  EXPECT_EQ(UnixUidOf(UnixUserSid(7)), 7u);
  EXPECT_FALSE(UnixUidOf(UnixGroupSid(7)).has_value());
  EXPECT_EQ(UnixGidOf(UnixGroupSid(7)), 7u);
}

}  // namespace
}  // namespace comsec::security
