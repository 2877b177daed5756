// The 0x8003 authenticator checksum parser (RFC 4121 4.1.1): what a
// client that delegates sends, and every malformed form refused with
// SEC_E_INVALID_TOKEN naming the field.
#include "comsec/auth/gssapi/gss_checksum.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <gtest/gtest.h>

#include <vector>

namespace comsec::auth::gssapi {
namespace {

std::vector<uint8_t> Checksum(uint32_t flags, std::vector<uint8_t> tail = {}) {
  std::vector<uint8_t> b = {16, 0, 0, 0};
  b.insert(b.end(), 16, 0xBB);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(flags >> (8 * i)));
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

TEST(GssChecksum, WithoutDelegation) {
  auto c = ParseGssChecksum(Checksum(GSS_C_MUTUAL_FLAG | GSS_C_DCE_STYLE));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->flags, uint32_t{GSS_C_MUTUAL_FLAG | GSS_C_DCE_STYLE});
  EXPECT_TRUE(c->delegation.empty());
}

TEST(GssChecksum, DelegationFieldAndExtensionsAfterIt) {
  auto bytes = Checksum(GSS_C_DELEG_FLAG, {1, 0, 3, 0, 0x76, 0x01, 0x02, 0xEE, 0xEE});
  auto c = ParseGssChecksum(bytes);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->delegation.size(), 3u);
  EXPECT_EQ(c->delegation[0], 0x76);
  EXPECT_EQ(c->delegation.data(), bytes.data() + 28);
}

TEST(GssChecksum, MalformedFormsAreRefused) {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* message;
  };
  auto bad_lgth = Checksum(0);
  bad_lgth[0] = 24;
  const Case cases[] = {
      {"empty", {}, "fewer than the 24"},
      {"short", std::vector<uint8_t>(23, 0), "fewer than the 24"},
      {"Lgth 24", bad_lgth, "not 16"},
      {"DELEG without field", Checksum(GSS_C_DELEG_FLAG), "no delegation field"},
      {"DELEG, 3 bytes", Checksum(GSS_C_DELEG_FLAG, {1, 0, 1}), "no delegation field"},
      {"DlgOpt 2", Checksum(GSS_C_DELEG_FLAG, {2, 0, 1, 0, 9}), "option is 2"},
      {"Dlgth 0", Checksum(GSS_C_DELEG_FLAG, {1, 0, 0, 0}), "empty"},
      {"Dlgth overruns", Checksum(GSS_C_DELEG_FLAG, {1, 0, 5, 0, 1, 2}), "overruns it by 3"},
      {"Dlgth 65535", Checksum(GSS_C_DELEG_FLAG, {1, 0, 0xFF, 0xFF}), "overruns"},
  };
  for (const Case& c : cases) {
    auto r = ParseGssChecksum(c.bytes);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN) << c.what << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.what << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace comsec::auth::gssapi
