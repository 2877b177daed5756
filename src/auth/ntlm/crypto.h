// The primitives NTLM needs ([MS-NLMP] 6): MD4 and RC4, which OpenSSL 3
// keeps only in its legacy provider, are implemented here and checked
// against their RFC test vectors; MD5 and HMAC-MD5 come from OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "comsec/base/secret.h"

// OpenSSL's EVP_MD_CTX, kept out of this header.
struct evp_md_ctx_st;

namespace comsec::auth::ntlm {

// Hashes, keys and MACs: wiped when freed, since most of them are secrets.
using Digest16 = SecretArray<16>;

// RFC 1320.
Digest16 Md4(std::span<const uint8_t> data);
// RFC 1321, over the concatenation of `parts`.
Digest16 Md5(std::initializer_list<std::span<const uint8_t>> parts);
// RFC 2104 HMAC-MD5 over the concatenation of `parts`.
Digest16 HmacMd5(std::span<const uint8_t> key,
                 std::initializer_list<std::span<const uint8_t>> parts);

// DES-ECB of one 8-byte block under the 7-byte key `key7` expanded with
// parity bits ([MS-NLMP] 6 DES). OpenSSL 3 keeps single DES in its legacy
// provider; three-key 3DES with three equal keys computes the same block.
std::array<uint8_t, 8> DesBlock(std::span<const uint8_t, 7> key7,
                                std::span<const uint8_t, 8> block);
// DESL(K, D): DES(K[0..6], D) || DES(K[7..13], D) || DES(K[14..15] || Z(5), D).
std::array<uint8_t, 24> Desl(const std::array<uint8_t, 16>& key,
                             std::span<const uint8_t, 8> data);

// HMAC-MD5 under one key, for the per-PDU signatures: the key's inner and
// outer states are hashed once, and each MAC copies them into a scratch
// context instead of allocating and re-keying (the hot path of signing).
class HmacMd5Key {
 public:
  explicit HmacMd5Key(std::span<const uint8_t> key);
  ~HmacMd5Key();
  HmacMd5Key(const HmacMd5Key&) = delete;
  HmacMd5Key& operator=(const HmacMd5Key&) = delete;

  Digest16 Mac(std::initializer_list<std::span<const uint8_t>> parts);

 private:
  ::evp_md_ctx_st* inner_;
  ::evp_md_ctx_st* outer_;
  ::evp_md_ctx_st* scratch_;
};

// RC4 as a stream: each Apply continues the key stream, which is what
// NTLM's sealing handles need ([MS-NLMP] 3.4.3: one handle per direction
// for the whole session).
class Rc4 {
 public:
  Rc4() = default;
  explicit Rc4(std::span<const uint8_t> key) { Reset(key); }
  // The permutation is the sealing key in another form: wiped.
  ~Rc4() { WipeSecret(s_.data(), s_.size()); }
  Rc4(const Rc4&) = default;
  Rc4& operator=(const Rc4&) = default;
  void Reset(std::span<const uint8_t> key);
  // XORs the key stream into `data` in place.
  void Apply(std::span<uint8_t> data);

 private:
  std::array<uint8_t, 256> s_{};
  uint8_t i_ = 0;
  uint8_t j_ = 0;
};

// Fills `out` from OpenSSL's CSPRNG; aborts if it cannot (no key material
// is ever made from a weaker source).
void RandomBytes(std::span<uint8_t> out);

// Constant-time comparison of equal-length secrets.
bool SecretEquals(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace comsec::auth::ntlm
