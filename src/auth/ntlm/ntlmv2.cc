#include "comsec/auth/ntlm/ntlmv2.h"

#include <chrono>
#include <cstring>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/base/byte_reader.h"
#include "comsec/base/utf16.h"

namespace comsec::auth::ntlm {
namespace {

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The magic constants of [MS-NLMP] 3.4.5.2-3, with their terminating NUL.
constexpr char kClientSign[] =
    "session key to client-to-server signing key magic constant";
constexpr char kServerSign[] =
    "session key to server-to-client signing key magic constant";
constexpr char kClientSeal[] =
    "session key to client-to-server sealing key magic constant";
constexpr char kServerSeal[] =
    "session key to server-to-client sealing key magic constant";

}  // namespace

Digest16 NtHash(std::u16string_view password) {
  auto bytes = ToUtf16Le(password);
  Digest16 h = Md4(bytes);
  std::fill(bytes.begin(), bytes.end(), 0);
  return h;
}

Digest16 NtHashOfPassword(std::string_view utf8_password) {
  std::u16string utf16 = Utf8ToUtf16(utf8_password);
  Digest16 hash = NtHash(utf16);
  WipeSecret(utf16.data(), utf16.size() * sizeof(char16_t));
  return hash;
}

Digest16 NtOwfV2(const Digest16& nt_hash, std::u16string_view user,
                 std::u16string_view domain) {
  // [MS-NLMP] 3.3.2: UPPERCASE(User), Windows's upcase (base/utf16.h); the
  // domain is hashed as sent.
  auto text = ToUtf16Le(UpcaseUtf16(user) + std::u16string(domain));
  return HmacMd5(nt_hash, {text});
}

std::vector<uint8_t> MakeNtlmV2Blob(uint64_t timestamp,
                                    const Challenge8& client_challenge,
                                    std::span<const uint8_t> av_pairs) {
  std::vector<uint8_t> blob = {1, 1, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) blob.push_back(uint8_t(timestamp >> (8 * i)));
  blob.insert(blob.end(), client_challenge.begin(), client_challenge.end());
  blob.insert(blob.end(), 4, 0);
  blob.insert(blob.end(), av_pairs.begin(), av_pairs.end());
  blob.insert(blob.end(), 4, 0);
  return blob;
}

NtlmV2Result ComputeNtlmV2(const Digest16& response_key,
                           const Challenge8& server_challenge,
                           const Challenge8& client_challenge,
                           std::span<const uint8_t> blob) {
  NtlmV2Result r;
  r.nt_proof = HmacMd5(response_key, {server_challenge, blob});
  r.nt_response.assign(r.nt_proof.begin(), r.nt_proof.end());
  r.nt_response.insert(r.nt_response.end(), blob.begin(), blob.end());
  Digest16 lm = HmacMd5(response_key, {server_challenge, client_challenge});
  r.lm_response.assign(lm.begin(), lm.end());
  r.lm_response.insert(r.lm_response.end(), client_challenge.begin(),
                       client_challenge.end());
  r.session_base_key = HmacMd5(response_key, {r.nt_proof});
  return r;
}

Result<ParsedNtlmV2Response> ParseNtlmV2Response(
    std::span<const uint8_t> nt_response) {
  // NTProofStr (16) + blob header (28) + at least MsvAvEOL (4).
  if (nt_response.size() < 48) {
    return Status(SEC_E_INVALID_TOKEN,
                  "NTLMv2 response of " + std::to_string(nt_response.size()) +
                      " bytes is too short (at least 48)");
  }
  ParsedNtlmV2Response p;
  p.nt_proof = nt_response.first(16);
  p.blob = nt_response.subspan(16);
  if (p.blob[0] != 1 || p.blob[1] != 1) {
    return Status(SEC_E_INVALID_TOKEN,
                  "NTLMv2 blob has RespType " + std::to_string(p.blob[0]) +
                      ", HiRespType " + std::to_string(p.blob[1]) + " (need 1, 1)");
  }
  for (int i = 0; i < 8; ++i) p.timestamp |= uint64_t{p.blob[8 + i]} << (8 * i);
  std::memcpy(p.client_challenge.data(), p.blob.data() + 16, 8);
  std::span<const uint8_t> pairs = p.blob.subspan(28);
  // Walk to MsvAvEOL without trusting any length beyond the buffer.
  size_t at = 0;
  while (true) {
    if (pairs.size() - at < 4) {
      return Status(SEC_E_INVALID_TOKEN,
                    "NTLMv2 blob's AV pairs end without MsvAvEOL");
    }
    const uint16_t id = uint16_t(pairs[at] | pairs[at + 1] << 8);
    const uint16_t len = uint16_t(pairs[at + 2] | pairs[at + 3] << 8);
    if (len > pairs.size() - at - 4) {
      return Status(SEC_E_INVALID_TOKEN,
                    "NTLMv2 blob's AV pair " + std::to_string(id) +
                        " overruns the response");
    }
    at += 4 + len;
    if (id == 0) break;
  }
  p.av_pairs = pairs.first(at);
  return p;
}

Digest16 DecryptSessionKey(const Digest16& key_exchange_key,
                           std::span<const uint8_t, 16> encrypted) {
  Digest16 out;
  std::memcpy(out.data(), encrypted.data(), 16);
  Rc4(key_exchange_key).Apply(out);
  return out;
}

Digest16 EncryptSessionKey(const Digest16& key_exchange_key,
                           const Digest16& exported) {
  Digest16 out = exported;
  Rc4(key_exchange_key).Apply(out);
  return out;
}

Digest16 SignKey(const Digest16& exported, Direction d) {
  const char* magic = d == Direction::kClientToServer ? kClientSign : kServerSign;
  return Md5({exported, Bytes(std::string_view(magic, std::strlen(magic) + 1))});
}

std::vector<uint8_t> SealKey(const Digest16& exported, uint32_t flags,
                             Direction d) {
  size_t len = 5;
  if (flags & NTLMSSP_NEGOTIATE_128) {
    len = 16;
  } else if (flags & NTLMSSP_NEGOTIATE_56) {
    len = 7;
  }
  const char* magic = d == Direction::kClientToServer ? kClientSeal : kServerSeal;
  Digest16 k = Md5({std::span<const uint8_t>(exported.data(), len),
                    Bytes(std::string_view(magic, std::strlen(magic) + 1))});
  return std::vector<uint8_t>(k.begin(), k.end());
}

Digest16 ComputeMic(const Digest16& exported, std::span<const uint8_t> negotiate,
                    std::span<const uint8_t> challenge,
                    std::span<const uint8_t> authenticate_zero_mic) {
  return HmacMd5(exported, {negotiate, challenge, authenticate_zero_mic});
}

uint64_t FileTimeNow() {
  using namespace std::chrono;
  const auto since_unix =
      duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  return 116444736000000000ull + static_cast<uint64_t>(since_unix / 100);
}

}  // namespace comsec::auth::ntlm
