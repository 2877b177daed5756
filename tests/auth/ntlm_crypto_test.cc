// Known-answer tests for NTLM's primitives and NTLMv2 computations: MD4
// (RFC 1320), RC4 (published vectors) and MS-NLMP section 4.2 (case 33).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "comsec/auth/ntlm/crypto.h"
#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/auth/ntlm/session_security.h"
#include "comsec/base/hex.h"

namespace comsec::auth::ntlm {
namespace {

std::span<const uint8_t> B(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
template <typename T>
std::string H(const T& bytes) {
  return ToHex(std::span<const uint8_t>(bytes.data(), bytes.size()));
}
std::vector<uint8_t> X(std::string_view hex) { return *FromHex(hex); }

TEST(Md4, Rfc1320Vectors) {
  EXPECT_EQ(H(Md4(B(""))), "31d6cfe0d16ae931b73c59d7e0c089c0");
  EXPECT_EQ(H(Md4(B("a"))), "bde52cb31de33e46245e05fbdbd6fb24");
  EXPECT_EQ(H(Md4(B("abc"))), "a448017aaf21d8525fc10ae87aa6729d");
  EXPECT_EQ(H(Md4(B("message digest"))), "d9130a8164549fe818874806e1c7014b");
  EXPECT_EQ(H(Md4(B("abcdefghijklmnopqrstuvwxyz"))), "d79e1c308aa5bbcdeea8ed63df412da9");
  EXPECT_EQ(H(Md4(B("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))),
            "043f8582f241db351ce627e153e7f0e4");
  EXPECT_EQ(H(Md4(B("1234567890123456789012345678901234567890123456789012345678901234"
                    "5678901234567890"))),
            "e33b4ddc9c38f2199c3e7b164fcc0536");
}

TEST(Rc4, PublishedVectors) {
  auto run = [](std::string_view key, std::string_view text) {
    std::vector<uint8_t> data(text.begin(), text.end());
    Rc4(B(key)).Apply(data);
    return H(data);
  };
  EXPECT_EQ(run("Key", "Plaintext"), "bbf316e8d940af0ad3");
  EXPECT_EQ(run("Wiki", "pedia"), "1021bf0420");
  EXPECT_EQ(run("Secret", "Attack at dawn"), "45a01f645fc35b383552544b9bf5");
}

TEST(Rc4, StreamContinuesAcrossCalls) {
  std::vector<uint8_t> whole(100, 0), parts(100, 0);
  Rc4(B("k")).Apply(whole);
  Rc4 r(B("k"));
  r.Apply(std::span(parts).first(37));
  r.Apply(std::span(parts).subspan(37));
  EXPECT_EQ(whole, parts);
}

TEST(HmacMd5, Rfc2104Vector) {
  std::vector<uint8_t> key(16, 0x0b);
  EXPECT_EQ(H(HmacMd5(key, {B("Hi There")})), "9294727a3638bb1c13f48ef8158bfc9d");
  EXPECT_EQ(H(HmacMd5(B("Jefe"), {B("what do ya want "), B("for nothing?")})),
            "750c783e6ab0b503eaa86e310a5db738");
}

// MS-NLMP 4.2.1: User "User", UserDom "Domain", Passwd "Password",
// ServerChallenge 0123456789abcdef, ClientChallenge aa*8, Time 0,
// RandomSessionKey 55*16.
class MsNlmp424 : public ::testing::Test {
 protected:
  Challenge8 server_ = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  Challenge8 client_ = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
  Digest16 random_session_key_ = [] {
    Digest16 k;
    k.fill(0x55);
    return k;
  }();
  std::vector<uint8_t> TargetInfo() {
    AvPairs p;
    p.SetString(AvId::kNbDomainName, u"Domain");
    p.SetString(AvId::kNbComputerName, u"Server");
    return p.Encode();
  }
};

TEST_F(MsNlmp424, NtHashAndNtOwfV2) {  // case 33
  EXPECT_EQ(H(NtHash(u"Password")), "a4f49c406510bdcab6824ee7c30fd852");
  EXPECT_EQ(H(NtOwfV2(NtHash(u"Password"), u"User", u"Domain")),
            "0c868a403bfd7a93a3001ef22ef02e3f");
}

// [MS-NLMP] 3.3.2 UPPERCASE(User) is Windows's upper case (base/utf16.h).
TEST(NtOwfV2, UppercasesTheUserWithWindowsTable) {
  const Digest16 hash = NtHash(u"Password");
  // impacket's ntlm.NTOWFv2("\u00e9mile", "Password", "Domain"): Python's
  // upper case agrees with Windows's on é.
  EXPECT_EQ(H(NtOwfV2(hash, u"\u00e9mile", u"Domain")), "6cbba0ac8f77839738fee54fe96a2042");
  EXPECT_EQ(H(NtOwfV2(hash, u"\u00c9MILE", u"Domain")), "6cbba0ac8f77839738fee54fe96a2042");
  // Not on the dotless i: Python makes "adm\u0131n" "ADMIN" (impacket's
  // hash of it equals that of "admin"); Windows keeps the letter.
  EXPECT_NE(NtOwfV2(hash, u"adm\u0131n", u"Domain"), NtOwfV2(hash, u"admin", u"Domain"));
  EXPECT_EQ(NtOwfV2(hash, u"adm\u0131n", u"Domain"), NtOwfV2(hash, u"ADM\u0131N", u"Domain"));
  // The domain is hashed as sent.
  EXPECT_NE(NtOwfV2(hash, u"User", u"Domain"), NtOwfV2(hash, u"User", u"DOMAIN"));
}

TEST_F(MsNlmp424, ResponsesAndSessionKey) {  // case 33
  const Digest16 key = NtOwfV2(NtHash(u"Password"), u"User", u"Domain");
  auto blob = MakeNtlmV2Blob(0, client_, TargetInfo());
  NtlmV2Result r = ComputeNtlmV2(key, server_, client_, blob);
  EXPECT_EQ(H(r.lm_response), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
  EXPECT_EQ(H(r.nt_proof), "68cd0ab851e51c96aabc927bebef6a1c");
  EXPECT_EQ(H(r.session_base_key), "8de40ccadbc14a82f15cb0ad0de95ca3");
  EXPECT_EQ(H(EncryptSessionKey(r.session_base_key, random_session_key_)),
            "c5dad2544fc9799094ce1ce90bc9d03e");
  // And the server recovers the exported key from it.
  auto enc = X("c5dad2544fc9799094ce1ce90bc9d03e");
  EXPECT_EQ(DecryptSessionKey(r.session_base_key, std::span<const uint8_t, 16>(enc.data(), 16)),
            random_session_key_);
  // The parsed response gives back the blob's parts.
  auto parsed = ParseNtlmV2Response(r.nt_response);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->client_challenge, client_);
  EXPECT_EQ(parsed->timestamp, 0u);
  EXPECT_EQ(std::vector<uint8_t>(parsed->av_pairs.begin(), parsed->av_pairs.end()), TargetInfo());
}

TEST_F(MsNlmp424, SignAndSealKeysAndSealedMessage) {  // case 33, 4.2.4.4
  const uint32_t flags = 0xe28a8233;  // the example's challenge flags
  EXPECT_EQ(H(SealKey(random_session_key_, flags, Direction::kClientToServer)),
            "59f600973cc4960a25480a7c196e4c58");
  EXPECT_EQ(H(SignKey(random_session_key_, Direction::kClientToServer)),
            "4788dc861b4782f35d43fd98fe1a2d39");
  SessionSecurity client(random_session_key_, flags, /*client=*/true);
  std::u16string text = u"Plaintext";
  std::vector<uint8_t> message = ToUtf16Le(text);
  std::array<uint8_t, 16> sig;
  client.SealAndSign(message, message, sig);
  EXPECT_EQ(H(message), "54e50165bf1936dc996020c1811b0f06fb5f");
  EXPECT_EQ(H(sig), "010000007fb38ec5c55d497600000000");
  // The server side unseals and verifies the same bytes.
  SessionSecurity server(random_session_key_, flags, /*client=*/false);
  EXPECT_TRUE(server.UnsealAndVerify(message, message, sig).ok());
  EXPECT_EQ(message, ToUtf16Le(text));
}

// MS-NLMP 4.2.2.2.1 and 4.2.3.2.2: NTLMv1 responses, for servers that
// allow NTLMv1 (LmCompatibilityLevel < 5).
TEST_F(MsNlmp424, NtlmV1ResponsesForLegacyClients) {
  const Digest16 nt = NtHash(u"Password");
  EXPECT_EQ(H(Desl(nt, server_)), "67c43011f30298a2ad35ece64f16331c44bdbed927841f94");
  Digest16 mixed = Md5({server_, client_});
  EXPECT_EQ(H(Desl(nt, std::span<const uint8_t, 8>(mixed.data(), 8))),
            "7537f803ae367128ca458204bde7caf81e97ed2683267232");
}

TEST(SessionSecurity, DetectsReplayReorderAndTampering) {  // case 25
  Digest16 key;
  key.fill(0x42);
  const uint32_t flags = NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_128 |
                         NTLMSSP_NEGOTIATE_SEAL | NTLMSSP_NEGOTIATE_SIGN;
  auto sign = [&](SessionSecurity& s, std::vector<uint8_t> m) {
    std::array<uint8_t, 16> sig;
    s.Sign(m, sig);
    return sig;
  };
  std::vector<uint8_t> m1 = {1, 2, 3}, m2 = {4, 5, 6};
  {
    SessionSecurity c(key, flags, true), s(key, flags, false);
    auto s1 = sign(c, m1);
    EXPECT_TRUE(s.Verify(m1, s1).ok());
    EXPECT_EQ(s.Verify(m1, s1).code(), SEC_E_OUT_OF_SEQUENCE);  // replay
  }
  {
    SessionSecurity c(key, flags, true), s(key, flags, false);
    auto s1 = sign(c, m1);
    auto s2 = sign(c, m2);
    EXPECT_EQ(s.Verify(m2, s2).code(), SEC_E_OUT_OF_SEQUENCE);  // reordered
    (void)s1;
  }
  {
    SessionSecurity c(key, flags, true), s(key, flags, false);
    auto s1 = sign(c, m1);
    std::vector<uint8_t> altered = m1;
    altered[1] ^= 0x80;
    EXPECT_EQ(s.Verify(altered, s1).code(), SEC_E_MESSAGE_ALTERED);
  }
  {
    // A client's signature is not a server's: the directions have
    // different keys, so a reflected message fails.
    SessionSecurity c(key, flags, true);
    SessionSecurity c2(key, flags, true);
    auto s1 = sign(c, m1);
    EXPECT_FALSE(c2.Verify(m1, s1).ok());
  }
}

TEST(Mic, CoversEveryMessage) {
  Digest16 key;
  key.fill(7);
  std::vector<uint8_t> n = {1}, c = {2}, a = {3};
  Digest16 base = ComputeMic(key, n, c, a);
  std::vector<uint8_t> c2 = {4};
  EXPECT_NE(base, ComputeMic(key, n, c2, a));
  EXPECT_NE(base, ComputeMic(key, a, c, n));
}

TEST(RandomBytes, ServerChallengesNeverRepeat) {  // case 33
  std::set<uint64_t> seen;
  for (int i = 0; i < 100000; ++i) {
    std::array<uint8_t, 8> c;
    RandomBytes(c);
    uint64_t v = 0;
    for (uint8_t b : c) v = v << 8 | b;
    ASSERT_NE(v, 0u);
    ASSERT_TRUE(seen.insert(v).second) << "repeat at " << i;
  }
}

}  // namespace
}  // namespace comsec::auth::ntlm
