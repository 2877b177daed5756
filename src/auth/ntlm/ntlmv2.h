// The NTLMv2 computations of [MS-NLMP] 3.3.2 and 3.4: one-way functions,
// the NTLMv2 response, key exchange, SIGNKEY/SEALKEY and the MIC. Pure
// functions of their inputs, so the known-answer tests of MS-NLMP 4.2.4
// check each one byte for byte.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "comsec/auth/ntlm/crypto.h"
#include "comsec/base/result.h"

namespace comsec::auth::ntlm {

using Challenge8 = std::array<uint8_t, 8>;

// NT hash: MD4(UTF-16LE(password)).
Digest16 NtHash(std::u16string_view password);
// The NT hash of a UTF-8 password; the UTF-16 copy it makes is wiped.
Digest16 NtHashOfPassword(std::string_view utf8_password);
// NTOWFv2 = HMAC-MD5(NT hash, UTF-16LE(Uppercase(user) + domain)), the
// upper case being Windows's (UpcaseUtf16, base/utf16.h).
Digest16 NtOwfV2(const Digest16& nt_hash, std::u16string_view user,
                 std::u16string_view domain);

// The NTLMv2 client blob (NTLMv2_CLIENT_CHALLENGE, [MS-NLMP] 2.2.2.7):
// 0x01 0x01, six zero bytes, the timestamp, the client challenge, four zero
// bytes, the AV pairs (ending with MsvAvEOL) and four zero bytes.
std::vector<uint8_t> MakeNtlmV2Blob(uint64_t timestamp,
                                    const Challenge8& client_challenge,
                                    std::span<const uint8_t> av_pairs);

struct NtlmV2Result {
  Digest16 nt_proof;
  std::vector<uint8_t> nt_response;  // NTProofStr || blob
  std::vector<uint8_t> lm_response;  // LMv2: HMAC || client challenge
  Digest16 session_base_key;
};
NtlmV2Result ComputeNtlmV2(const Digest16& response_key,
                           const Challenge8& server_challenge,
                           const Challenge8& client_challenge,
                           std::span<const uint8_t> blob);

// The parts of a received NTLMv2 response the server needs.
struct ParsedNtlmV2Response {
  std::span<const uint8_t> nt_proof;  // 16 bytes
  std::span<const uint8_t> blob;      // what the proof covers after the challenge
  uint64_t timestamp = 0;
  Challenge8 client_challenge{};
  std::span<const uint8_t> av_pairs;  // up to and including MsvAvEOL
};
// Checks the blob's layout; never reads past `nt_response`.
Result<ParsedNtlmV2Response> ParseNtlmV2Response(std::span<const uint8_t> nt_response);

// ExportedSessionKey from the key exchange: RC4(KXKEY, encrypted key).
Digest16 DecryptSessionKey(const Digest16& key_exchange_key,
                           std::span<const uint8_t, 16> encrypted);
Digest16 EncryptSessionKey(const Digest16& key_exchange_key,
                           const Digest16& exported);

enum class Direction { kClientToServer, kServerToClient };
// SIGNKEY and SEALKEY with extended session security ([MS-NLMP] 3.4.5.2-3);
// SEALKEY honours NTLMSSP_NEGOTIATE_128 / _56 in `flags`.
Digest16 SignKey(const Digest16& exported, Direction d);
std::vector<uint8_t> SealKey(const Digest16& exported, uint32_t flags, Direction d);

// MIC = HMAC-MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
// the last with its MIC field zeroed.
Digest16 ComputeMic(const Digest16& exported, std::span<const uint8_t> negotiate,
                    std::span<const uint8_t> challenge,
                    std::span<const uint8_t> authenticate_zero_mic);

// Now as a FILETIME (100 ns since 1601-01-01 UTC).
uint64_t FileTimeNow();

}  // namespace comsec::auth::ntlm
