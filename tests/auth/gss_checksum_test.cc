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

// ==== ApReqTicket: the Ticket's bytes inside a raw AP-REQ ===================

// A DER element: tag, definite length (long form from 128 bytes, or with
// `force_long` length bytes), contents.
std::vector<uint8_t> Der(uint8_t tag, const std::vector<uint8_t>& contents, int force_long = 0) {
  std::vector<uint8_t> b = {tag};
  const size_t n = contents.size();
  if (n < 128 && force_long == 0) {
    b.push_back(static_cast<uint8_t>(n));
  } else {
    int bytes = force_long ? force_long : (n < 256 ? 1 : n < 65536 ? 2 : 3);
    b.push_back(static_cast<uint8_t>(0x80 | bytes));
    for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<uint8_t>(n >> (8 * i)));
  }
  b.insert(b.end(), contents.begin(), contents.end());
  return b;
}
std::vector<uint8_t> Cat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// pvno [0] 5, msg-type [1] 14, ap-options [2], ticket [3], authenticator [4].
std::vector<uint8_t> ApReq(const std::vector<uint8_t>& ticket_field, int force_long = 0) {
  return Der(0x6E, Der(0x30, Cat({Der(0xA0, Der(0x02, {5})), Der(0xA1, Der(0x02, {14})),
                                  Der(0xA2, Der(0x03, {0, 0x20, 0, 0, 0})), ticket_field,
                                  Der(0xA4, Der(0x30, std::vector<uint8_t>(40, 0xEE)))}),
                         force_long),
             force_long);
}

TEST(ApReqTicket, FindsTheTicketWithShortAndLongLengths) {
  const auto ticket = Der(0x61, std::vector<uint8_t>(300, 0x5A));  // long form itself
  const auto ap_req = ApReq(Der(0xA3, ticket));
  auto t = ApReqTicket(ap_req);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(std::equal(t->begin(), t->end(), ticket.begin(), ticket.end()));
  EXPECT_GE(t->data(), ap_req.data());
  EXPECT_LE(t->data() + t->size(), ap_req.data() + ap_req.size());
  // Four length bytes where one would do: still definite DER lengths.
  const auto small = Der(0x61, {1, 2, 3});
  const auto long_lengths = ApReq(Der(0xA3, small, 4), 4);
  auto t4 = ApReqTicket(long_lengths);
  ASSERT_TRUE(t4.ok()) << t4.status().ToString();
  EXPECT_TRUE(std::equal(t4->begin(), t4->end(), small.begin(), small.end()));
}

TEST(ApReqTicket, MalformedFormsAreRefused) {
  const auto ticket = Der(0x61, {1, 2, 3});
  auto truncated = ApReq(Der(0xA3, ticket));
  truncated.resize(truncated.size() - 10);
  auto overlong = ApReq(Der(0xA3, ticket));
  overlong[1] = 0x84;  // claims 4 length bytes 0x30..., far beyond the input
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* message;
  };
  const Case cases[] = {
      {"empty", {}, "truncated before its length"},
      {"one byte", {0x6E}, "truncated before its length"},
      {"framed GSS token", Der(0x60, {1, 2}), "not [APPLICATION 14]"},
      {"indefinite length", {0x6E, 0x80, 0x30, 0x00, 0x00, 0x00}, "indefinite length"},
      {"5 length bytes", {0x6E, 0x85, 0, 0, 0, 0, 1, 0}, "length of 5 bytes"},
      {"length bytes cut", {0x6E, 0x82, 0x01}, "truncated inside its length"},
      {"outer overruns", overlong, "overruns"},
      {"truncated", truncated, "overruns"},
      {"no SEQUENCE", Der(0x6E, Der(0x31, {})), "no SEQUENCE"},
      {"no ticket field", Der(0x6E, Der(0x30, Der(0xA0, Der(0x02, {5})))), "no ticket field"},
      {"ticket field not a Ticket", ApReq(Der(0xA3, Der(0x30, {1}))), "no [APPLICATION 1]"},
      {"bytes after the Ticket", ApReq(Der(0xA3, Cat({ticket, {0x05, 0x00}}))), "bytes after"},
      {"empty ticket field", ApReq(Der(0xA3, {})), "truncated before its length"},
      {"multi-byte tag", Der(0x6E, Der(0x30, {0x1F, 0x81, 0x00, 0x00})), "multi-byte tag"},
  };
  for (const Case& c : cases) {
    auto r = ApReqTicket(c.bytes);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN) << c.what << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.what << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace comsec::auth::gssapi
