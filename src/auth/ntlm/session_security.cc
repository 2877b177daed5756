#include "comsec/auth/ntlm/session_security.h"

#include <cstring>

#include "comsec/auth/ntlm/messages.h"

namespace comsec::auth::ntlm {

namespace {
constexpr auto kC2s = ntlm::Direction::kClientToServer;
constexpr auto kS2c = ntlm::Direction::kServerToClient;
}  // namespace

SessionSecurity::SessionSecurity(const Digest16& exported, uint32_t flags,
                                 bool client)
    : key_exch_((flags & NTLMSSP_NEGOTIATE_KEY_EXCH) != 0),
      out_(SignKey(exported, client ? kC2s : kS2c)),
      in_(SignKey(exported, client ? kS2c : kC2s)) {
  out_.seal.Reset(SealKey(exported, flags, client ? kC2s : kS2c));
  in_.seal.Reset(SealKey(exported, flags, client ? kS2c : kC2s));
  out_.seal_initial = out_.seal;
  in_.seal_initial = in_.seal;
}

void SessionSecurity::MakeSignature(Direction& d,
                                    std::span<const uint8_t> message,
                                    std::span<uint8_t, 16> out) {
  const uint8_t seq[4] = {uint8_t(d.seq), uint8_t(d.seq >> 8),
                          uint8_t(d.seq >> 16), uint8_t(d.seq >> 24)};
  Digest16 mac = d.sign.Mac({seq, message});
  out[0] = 1;
  out[1] = out[2] = out[3] = 0;
  std::memcpy(out.data() + 4, mac.data(), 8);
  if (key_exch_) d.seal.Apply(out.subspan(4, 8));
  std::memcpy(out.data() + 12, seq, 4);
  ++d.seq;
}

void SessionSecurity::Sign(std::span<const uint8_t> message,
                           std::span<uint8_t, 16> signature) {
  MakeSignature(out_, message, signature);
}

void SessionSecurity::SealAndSign(std::span<uint8_t> message,
                                  std::span<uint8_t> to_seal,
                                  std::span<uint8_t, 16> signature) {
  // The checksum covers the plaintext and the RC4 stream must encrypt the
  // data before the checksum: compute the MAC first, then seal, then
  // encrypt the checksum.
  const uint32_t seq = out_.seq;
  const uint8_t seqb[4] = {uint8_t(seq), uint8_t(seq >> 8), uint8_t(seq >> 16),
                           uint8_t(seq >> 24)};
  Digest16 mac = out_.sign.Mac({seqb, message});
  out_.seal.Apply(to_seal);
  signature[0] = 1;
  signature[1] = signature[2] = signature[3] = 0;
  std::memcpy(signature.data() + 4, mac.data(), 8);
  if (key_exch_) out_.seal.Apply(signature.subspan(4, 8));
  std::memcpy(signature.data() + 12, seqb, 4);
  ++out_.seq;
}

Status SessionSecurity::Verify(std::span<const uint8_t> message,
                               std::span<const uint8_t> signature) {
  if (signature.size() != kSignatureSize) {
    return Status(SEC_E_MESSAGE_ALTERED,
                  "NTLM signature of " + std::to_string(signature.size()) +
                      " bytes (need 16)");
  }
  const uint32_t claimed = uint32_t{signature[12]} | uint32_t{signature[13]} << 8 |
                           uint32_t{signature[14]} << 16 |
                           uint32_t{signature[15]} << 24;
  const uint32_t expected = in_.seq;
  std::array<uint8_t, 16> mine;
  MakeSignature(in_, message, mine);
  if (claimed != expected) {
    return Status(SEC_E_OUT_OF_SEQUENCE,
                  "NTLM sequence number " + std::to_string(claimed) +
                      " where " + std::to_string(expected) +
                      " was due (a replayed or reordered message)");
  }
  if (!SecretEquals(mine, signature)) {
    return Status(SEC_E_MESSAGE_ALTERED,
                  "NTLM signature does not match the message (altered in "
                  "transit or signed with another key)");
  }
  return Status::Ok();
}

Status SessionSecurity::UnsealAndVerify(std::span<uint8_t> message,
                                        std::span<uint8_t> sealed,
                                        std::span<const uint8_t> signature) {
  in_.seal.Apply(sealed);
  return Verify(message, signature);
}

}  // namespace comsec::auth::ntlm
