// SPNEGO's DER tokens (auth/negotiate/spnego_token.h): known encodings
// (RFC 4178's shapes; the 9-byte accept-completed MIT sends), round trips,
// Windows's NegTokenInit2, and every malformation the decoder must refuse
// with SEC_E_INVALID_TOKEN.
#include "comsec/auth/negotiate/spnego_token.h"

#include <gtest/gtest.h>

#include "comsec/base/hex.h"

namespace comsec::auth::negotiate {
namespace {

std::vector<uint8_t> H(std::string_view hex) { return *FromHex(hex); }

TEST(SpnegoToken, KnownInitialToken) {
  NegTokenInit init;
  init.mech_types = {KerberosOid()};
  init.mech_token = std::vector<uint8_t>{0x01};
  const auto bytes = EncodeInitialToken(init);
  EXPECT_EQ(ToHex(bytes),
            "602006062b0601050502a0163014a00d300b06092a864886f712010202a203040101");
  auto back = DecodeInitialToken(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->mech_types, init.mech_types);
  EXPECT_EQ(*back->mech_token, *init.mech_token);
  EXPECT_EQ(ToHex(back->mech_types_der), "300b06092a864886f712010202");
  EXPECT_FALSE(back->mech_list_mic);
}

TEST(SpnegoToken, KnownAcceptCompleted) {
  NegTokenResp r;
  r.neg_state = NegState::kAcceptCompleted;
  EXPECT_EQ(ToHex(EncodeNegTokenResp(r)), "a1073005a0030a0100");
  auto back = DecodeNegTokenResp(H("a1073005a0030a0100"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->neg_state, NegState::kAcceptCompleted);
  EXPECT_FALSE(back->supported_mech || back->response_token || back->mech_list_mic);
}

TEST(SpnegoToken, RoundTripsWithLongLengths) {
  NegTokenResp r;
  r.neg_state = NegState::kAcceptIncomplete;
  r.supported_mech = NtlmOid();
  r.response_token = std::vector<uint8_t>(70000 - 100, 0xab);
  r.mech_list_mic = std::vector<uint8_t>(16, 0x5a);
  const auto bytes = EncodeNegTokenResp(r);
  SpnegoLimits big;
  big.max_token_bytes = 1 << 20;
  auto back = DecodeNegTokenResp(bytes, big);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back->response_token, *r.response_token);
  EXPECT_EQ(*back->mech_list_mic, *r.mech_list_mic);
  EXPECT_EQ(*back->supported_mech, NtlmOid());
  // Over the default limit: refused before anything is read.
  EXPECT_EQ(DecodeNegTokenResp(bytes).status().code(), SEC_E_INVALID_TOKEN);
}

TEST(SpnegoToken, OidsPrint) {
  EXPECT_EQ(OidToString(KerberosOid()), "1.2.840.113554.1.2.2");
  EXPECT_EQ(OidToString(MsKerberosOid()), "1.2.840.48018.1.2.2");
  EXPECT_EQ(OidToString(NtlmOid()), "1.3.6.1.4.1.311.2.2.10");
  EXPECT_EQ(OidToString(SpnegoOid()), "1.3.6.1.5.5.2");
  EXPECT_EQ(OidToString(H("2a86")), "(invalid OID)");
}

// [MS-SPNG] 2.2.1: negHints in [3] is skipped, the MIC is in [4]; the MIC
// covers mechTypes exactly as received, even in a non-minimal encoding.
TEST(SpnegoToken, NegTokenInit2AndRawMechTypes) {
  // mechTypes with a long-form length (81 0b) for 11 bytes.
  const std::string mech_types = "30810b06092a864886f712010202";
  const std::string seq = "a00e" + mech_types + "a3063004a0021b00" + "a4060404deadbeef";
  const std::string choice = "a022" "3020" + seq;
  const std::string token = "602c" "06062b0601050502" + choice;
  auto init = DecodeInitialToken(H(token));
  ASSERT_TRUE(init.ok()) << init.status().ToString();
  EXPECT_EQ(ToHex(init->mech_types_der), mech_types);
  ASSERT_TRUE(init->mech_list_mic);
  EXPECT_EQ(ToHex(*init->mech_list_mic), "deadbeef");
}

struct Bad {
  const char* hex;
  const char* why;  // a fragment of the message
};

TEST(SpnegoToken, MalformedInitialTokensAreRefused) {
  const Bad cases[] = {
      {"", "missing"},
      {"60", "truncated"},
      {"6080", "indefinite"},
      {"6085ffffffffff", "length of 5 bytes"},
      {"6084ffffffff", "claims"},
      {"602106062b0601050502a0163014a00d300b06092a864886f712010202a20304010100", "follow"},
      {"600906062a864886f712", "claims"},
      {"600806062b0601050503", "not SPNEGO"},
      {"600a06062b0601050502a000", "NegTokenInit is missing"},
      {"600e06062b0601050502a0043002a100", "reqFlags is missing"},
      {"601006062b0601050502a0063004a0023000", "mechTypes is empty"},
      {"601006062b0601050502a0063004a2020400", "no mechTypes"},
      {"601006062b0601050502a0063004a5020400", "unknown field"},
      {"602206062b0601050502a0183016a203040101a00f300d060b2a864886f7120102020202", "out of order"},
      {"601406062b0601050502a00a3008a00630040602" "2a88", "ends inside an arc"},
      {"601206062b0601050502a0083006a00430020600", "empty OID"},
      {"601306062b0601050502a0093007a0053003020101", "tag 0x02"},
      {"6003bf0100", "multi-byte tag"},
  };
  for (const Bad& c : cases) {
    auto r = DecodeInitialToken(H(c.hex));
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN) << c.hex;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.hex << ": " << r.status().ToString();
  }
}

TEST(SpnegoToken, TooManyMechanismsAreRefused) {
  NegTokenInit init;
  for (int i = 0; i < 17; ++i) init.mech_types.push_back(NtlmOid());
  auto r = DecodeInitialToken(EncodeInitialToken(init));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than 16"), std::string::npos) << r.status().ToString();
  init.mech_types.resize(16);
  EXPECT_TRUE(DecodeInitialToken(EncodeInitialToken(init)).ok());
}

TEST(SpnegoToken, MalformedResponsesAreRefused) {
  const Bad cases[] = {
      {"a0073005a0030a0100", "tag 0xa0"},
      {"a1073005a0030a0104", "negState"},
      {"a1083006a0040a020000", "negState"},
      {"a1073005a0030a010000", "follow"},
      {"a1093007a0030a0100a000", "out of order"},
      {"a1073005a4030a0100", "unknown field"},
      {"a1083006a0030a010000", "truncated"},
      {"a1053003a10100", "truncated"},
      {"a1073005a2030a0100", "tag 0x0a"},
  };
  for (const Bad& c : cases) {
    auto r = DecodeNegTokenResp(H(c.hex));
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.status().code(), SEC_E_INVALID_TOKEN) << c.hex;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.hex << ": " << r.status().ToString();
  }
}

}  // namespace
}  // namespace comsec::auth::negotiate
