#include "comsec/auth/ntlm/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstring>

#include "comsec/base/check.h"

namespace comsec::auth::ntlm {
namespace {

inline uint32_t Rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

void Md4Block(uint32_t state[4], const uint8_t block[64]) {
  uint32_t x[16];
  for (int i = 0; i < 16; ++i) {
    x[i] = uint32_t{block[4 * i]} | uint32_t{block[4 * i + 1]} << 8 |
           uint32_t{block[4 * i + 2]} << 16 | uint32_t{block[4 * i + 3]} << 24;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  auto f = [](uint32_t x, uint32_t y, uint32_t z) { return (x & y) | (~x & z); };
  auto g = [](uint32_t x, uint32_t y, uint32_t z) {
    return (x & y) | (x & z) | (y & z);
  };
  auto h = [](uint32_t x, uint32_t y, uint32_t z) { return x ^ y ^ z; };
  static constexpr int kR1[4] = {3, 7, 11, 19};
  static constexpr int kR2[4] = {3, 5, 9, 13};
  static constexpr int kR3[4] = {3, 9, 11, 15};
  static constexpr int kOrder3[16] = {0, 8, 4, 12, 2, 10, 6, 14,
                                      1, 9, 5, 13, 3, 11, 7, 15};
  uint32_t* regs[4] = {&a, &d, &c, &b};  // the rotation a, d, c, b of RFC 1320
  for (int i = 0; i < 16; ++i) {
    uint32_t& r = *regs[i % 4];
    uint32_t& n1 = *regs[(i + 3) % 4];
    uint32_t& n2 = *regs[(i + 2) % 4];
    uint32_t& n3 = *regs[(i + 1) % 4];
    r = Rotl(r + f(n1, n2, n3) + x[i], kR1[i % 4]);
  }
  for (int i = 0; i < 16; ++i) {
    uint32_t& r = *regs[i % 4];
    uint32_t& n1 = *regs[(i + 3) % 4];
    uint32_t& n2 = *regs[(i + 2) % 4];
    uint32_t& n3 = *regs[(i + 1) % 4];
    const int k = (i % 4) * 4 + i / 4;
    r = Rotl(r + g(n1, n2, n3) + x[k] + 0x5A827999u, kR2[i % 4]);
  }
  for (int i = 0; i < 16; ++i) {
    uint32_t& r = *regs[i % 4];
    uint32_t& n1 = *regs[(i + 3) % 4];
    uint32_t& n2 = *regs[(i + 2) % 4];
    uint32_t& n3 = *regs[(i + 1) % 4];
    r = Rotl(r + h(n1, n2, n3) + x[kOrder3[i]] + 0x6ED9EBA1u, kR3[i % 4]);
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

// MD5 fetched once: an implicit fetch on every digest init is measurable on
// the signing path.
const EVP_MD* FetchedMd5() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "MD5", nullptr);
  COMSEC_CHECK(md != nullptr, "OpenSSL has no MD5");
  return md;
}

Digest16 EvpDigest(const EVP_MD* md,
                   std::initializer_list<std::span<const uint8_t>> parts) {
  Digest16 out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  COMSEC_CHECK(ctx != nullptr, "OpenSSL digest failure");
  COMSEC_CHECK(EVP_DigestInit_ex(ctx, md, nullptr) == 1, "OpenSSL digest failure");
  for (auto p : parts) COMSEC_CHECK(EVP_DigestUpdate(ctx, p.data(), p.size()) == 1, "OpenSSL digest failure");
  unsigned int n = 0;
  COMSEC_CHECK(EVP_DigestFinal_ex(ctx, out.data(), &n) == 1 && n == 16, "OpenSSL digest failure");
  EVP_MD_CTX_free(ctx);
  return out;
}

}  // namespace

Digest16 Md4(std::span<const uint8_t> data) {
  uint32_t state[4] = {0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u};
  size_t full = data.size() / 64;
  for (size_t i = 0; i < full; ++i) Md4Block(state, data.data() + 64 * i);
  uint8_t tail[128] = {};
  const size_t rest = data.size() - 64 * full;
  if (rest) std::memcpy(tail, data.data() + 64 * full, rest);
  tail[rest] = 0x80;
  const size_t tail_len = rest < 56 ? 64 : 128;
  const uint64_t bits = uint64_t{data.size()} * 8;
  for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = uint8_t(bits >> (8 * i));
  for (size_t off = 0; off < tail_len; off += 64) Md4Block(state, tail + off);
  Digest16 out{};
  for (int i = 0; i < 4; ++i) {
    for (int b = 0; b < 4; ++b) out[4 * i + b] = uint8_t(state[i] >> (8 * b));
  }
  return out;
}

Digest16 Md5(std::initializer_list<std::span<const uint8_t>> parts) {
  return EvpDigest(FetchedMd5(), parts);
}

Digest16 HmacMd5(std::span<const uint8_t> key,
                 std::initializer_list<std::span<const uint8_t>> parts) {
  return HmacMd5Key(key).Mac(parts);
}

std::array<uint8_t, 8> DesBlock(std::span<const uint8_t, 7> k,
                                std::span<const uint8_t, 8> block) {
  // 56 key bits spread over 8 bytes, the low bit of each left for parity.
  uint8_t key[8] = {
      k[0],
      uint8_t(k[0] << 7 | k[1] >> 1),
      uint8_t(k[1] << 6 | k[2] >> 2),
      uint8_t(k[2] << 5 | k[3] >> 3),
      uint8_t(k[3] << 4 | k[4] >> 4),
      uint8_t(k[4] << 3 | k[5] >> 5),
      uint8_t(k[5] << 2 | k[6] >> 6),
      uint8_t(k[6] << 1),
  };
  uint8_t key3[24];
  for (int i = 0; i < 3; ++i) std::memcpy(key3 + 8 * i, key, 8);
  std::array<uint8_t, 8> out{};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  COMSEC_CHECK(ctx != nullptr, "OpenSSL cipher failure");
  int n = 0;
  COMSEC_CHECK(EVP_EncryptInit_ex(ctx, EVP_des_ede3_ecb(), nullptr, key3, nullptr) == 1 &&
                   EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
                   EVP_EncryptUpdate(ctx, out.data(), &n, block.data(), 8) == 1 && n == 8,
               "OpenSSL 3DES failure");
  EVP_CIPHER_CTX_free(ctx);
  OPENSSL_cleanse(key3, sizeof key3);
  OPENSSL_cleanse(key, sizeof key);
  return out;
}

std::array<uint8_t, 24> Desl(const std::array<uint8_t, 16>& key,
                             std::span<const uint8_t, 8> data) {
  std::array<uint8_t, 24> out{};
  uint8_t third[7] = {key[14], key[15], 0, 0, 0, 0, 0};
  auto a = DesBlock(std::span<const uint8_t, 7>(key.data(), 7), data);
  auto b = DesBlock(std::span<const uint8_t, 7>(key.data() + 7, 7), data);
  auto c = DesBlock(std::span<const uint8_t, 7>(third, 7), data);
  std::memcpy(out.data(), a.data(), 8);
  std::memcpy(out.data() + 8, b.data(), 8);
  std::memcpy(out.data() + 16, c.data(), 8);
  return out;
}

HmacMd5Key::HmacMd5Key(std::span<const uint8_t> key)
    : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), scratch_(EVP_MD_CTX_new()) {
  COMSEC_CHECK(inner_ && outer_ && scratch_, "OpenSSL digest failure");
  uint8_t k[64] = {};
  if (key.size() > 64) {
    Digest16 d = Md5({key});
    std::memcpy(k, d.data(), d.size());
  } else if (!key.empty()) {
    std::memcpy(k, key.data(), key.size());
  }
  uint8_t ipad[64], opad[64];
  for (int i = 0; i < 64; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5C;
  }
  COMSEC_CHECK(EVP_DigestInit_ex(inner_, FetchedMd5(), nullptr) == 1 &&
                   EVP_DigestUpdate(inner_, ipad, 64) == 1 &&
                   EVP_DigestInit_ex(outer_, FetchedMd5(), nullptr) == 1 &&
                   EVP_DigestUpdate(outer_, opad, 64) == 1,
               "OpenSSL digest failure");
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
}

HmacMd5Key::~HmacMd5Key() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
  EVP_MD_CTX_free(scratch_);
}

Digest16 HmacMd5Key::Mac(std::initializer_list<std::span<const uint8_t>> parts) {
  uint8_t inner[16];
  unsigned int n = 0;
  COMSEC_CHECK(EVP_MD_CTX_copy_ex(scratch_, inner_) == 1, "OpenSSL digest failure");
  for (auto p : parts) {
    COMSEC_CHECK(EVP_DigestUpdate(scratch_, p.data(), p.size()) == 1, "OpenSSL digest failure");
  }
  COMSEC_CHECK(EVP_DigestFinal_ex(scratch_, inner, &n) == 1, "OpenSSL digest failure");
  Digest16 out{};
  COMSEC_CHECK(EVP_MD_CTX_copy_ex(scratch_, outer_) == 1 &&
                   EVP_DigestUpdate(scratch_, inner, 16) == 1 &&
                   EVP_DigestFinal_ex(scratch_, out.data(), &n) == 1,
               "OpenSSL digest failure");
  return out;
}

void Rc4::Reset(std::span<const uint8_t> key) {
  COMSEC_CHECK(!key.empty() && key.size() <= 256, "RC4 key of 1..256 bytes");
  for (int i = 0; i < 256; ++i) s_[i] = uint8_t(i);
  uint8_t j = 0;
  for (int i = 0; i < 256; ++i) {
    j = uint8_t(j + s_[i] + key[i % key.size()]);
    std::swap(s_[i], s_[j]);
  }
  i_ = 0;
  j_ = 0;
}

void Rc4::Apply(std::span<uint8_t> data) {
  // A local copy of the state: writes through `data` (uint8_t, which may
  // alias anything) would otherwise force the compiler to reload it.
  uint8_t s[256];
  std::memcpy(s, s_.data(), sizeof s);
  uint8_t i = i_, j = j_;
  uint8_t* p = data.data();
  for (size_t n = 0; n < data.size(); ++n) {
    i = uint8_t(i + 1);
    const uint8_t si = s[i];
    j = uint8_t(j + si);
    const uint8_t sj = s[j];
    s[i] = sj;
    s[j] = si;
    p[n] ^= s[uint8_t(si + sj)];
  }
  std::memcpy(s_.data(), s, sizeof s);
  i_ = i;
  j_ = j;
}

void RandomBytes(std::span<uint8_t> out) {
  COMSEC_CHECK(RAND_bytes(out.data(), static_cast<int>(out.size())) == 1,
               "the OpenSSL random generator failed");
}

bool SecretEquals(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace comsec::auth::ntlm
