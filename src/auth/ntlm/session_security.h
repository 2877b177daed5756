// Message integrity and confidentiality after an NTLM handshake ([MS-NLMP]
// 3.4 with extended session security): per direction a signing key, an
// RC4 sealing handle that runs for the whole session, and a sequence
// number. A signature is Version (1) || Checksum (8) || SeqNum (4), the
// checksum being the first 8 bytes of HMAC-MD5(SigningKey, SeqNum ||
// message), RC4-encrypted with the sealing handle when key exchange was
// negotiated.
//
// The receiver compares the whole signature with the one it computes for
// its own next sequence number, so a replayed, reordered or altered PDU
// fails; the first failure is final (the RPC runtime closes the
// connection, and the RC4 streams could not resynchronise anyway).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "comsec/auth/ntlm/crypto.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/result.h"

namespace comsec::auth::ntlm {

inline constexpr size_t kSignatureSize = 16;

// Thread-safety: one connection's state (sequence numbers, RC4 streams);
// used by one thread at a time.
class SessionSecurity {
 public:
  // `client` selects which direction is outgoing.
  SessionSecurity(const Digest16& exported_session_key, uint32_t flags,
                  bool client);

  // Outgoing: signs `message` (the plaintext) with the next sequence number.
  void Sign(std::span<const uint8_t> message, std::span<uint8_t, 16> signature);
  // Seals `to_seal` in place, then signs `message` computed as it was before
  // sealing. `to_seal` must lie inside `message`.
  void SealAndSign(std::span<uint8_t> message, std::span<uint8_t> to_seal,
                   std::span<uint8_t, 16> signature);

  // Incoming: checks `signature` over `message`.
  Status Verify(std::span<const uint8_t> message,
                std::span<const uint8_t> signature);
  // Unseals `sealed` (inside `message`) in place, then checks the signature
  // over the now-plaintext message.
  Status UnsealAndVerify(std::span<uint8_t> message, std::span<uint8_t> sealed,
                         std::span<const uint8_t> signature);

  // Puts a direction's RC4 handle back to its state when the session
  // began, leaving the sequence number as it is: after SPNEGO's mechListMIC,
  // the first message is sealed and signed with the key state the MIC
  // used ([MS-SPNG] 3.3.5.1; MIT's SPNEGO asks the same of gss-ntlmssp).
  void RestoreOutgoingSealingState() { out_.seal = out_.seal_initial; }
  void RestoreIncomingSealingState() { in_.seal = in_.seal_initial; }

  uint32_t outgoing_sequence() const { return out_.seq; }
  uint32_t incoming_sequence() const { return in_.seq; }

 private:
  struct Direction {
    explicit Direction(const Digest16& sign_key) : sign(sign_key) {}
    HmacMd5Key sign;
    Rc4 seal;
    // `seal` as the session began (RestoreSealingState).
    Rc4 seal_initial;
    uint32_t seq = 0;
  };
  void MakeSignature(Direction& d, std::span<const uint8_t> message,
                     std::span<uint8_t, 16> out);

  bool key_exch_;
  Direction out_;
  Direction in_;
};

}  // namespace comsec::auth::ntlm
