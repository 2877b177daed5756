// SPNEGO's tokens (RFC 4178 4.2, [MS-SPNG] 2.2): the initiator's first
// token, an InitialContextToken ([APPLICATION 0], RFC 2743 3.1) holding
// the SPNEGO OID and a NegTokenInit, and every later token of either side,
// a bare NegTokenResp ([1]). DER, decoded from untrusted bytes: every
// length is checked against what encloses it, indefinite lengths and
// multi-byte tags are refused, fields must come in order, and nothing may
// follow a structure. The decoders keep the MechTypeList exactly as it
// arrived (mech_types_der), because mechListMIC covers those bytes
// (RFC 4178 5), not a re-encoding.
//
// Accepted beyond RFC 4178: Windows's NegTokenInit2 ([MS-SPNG] 2.2.1),
// whose [3] is negHints (skipped) and [4] the mechListMIC.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"

namespace comsec::auth::negotiate {

// An OID's DER contents (no tag or length), e.g. 2a 86 48 86 f7 12 01 02 02.
using Oid = std::vector<uint8_t>;

// 1.3.6.1.5.5.2: SPNEGO itself.
const Oid& SpnegoOid();
// 1.2.840.113554.1.2.2: Kerberos v5 (RFC 4121).
const Oid& KerberosOid();
// 1.2.840.48018.1.2.2: Kerberos v5 as Windows 2000 mis-encoded it, which
// Windows still sends first ([MS-KILE] 3.1.5.11).
const Oid& MsKerberosOid();
// 1.3.6.1.4.1.311.2.2.10: NTLMSSP ([MS-NLMP]).
const Oid& NtlmOid();
// "1.2.840.113554.1.2.2", for messages and logs; "(invalid OID)" when the
// contents are not an OID.
std::string OidToString(std::span<const uint8_t> oid);

// Bounds on what a peer may send. A DCE/RPC auth_value is already bounded
// by the fragment size; these keep a hostile token from making us allocate
// or loop more than a real one ever needs (Windows offers at most four
// mechanisms: MS-KRB5, KRB5, NEGOEX, NTLM).
struct SpnegoLimits {
  size_t max_token_bytes = 64 * 1024;
  size_t max_mechanisms = 16;
  size_t max_oid_bytes = 32;
};

struct NegTokenInit {
  // In the initiator's order of preference.
  std::vector<Oid> mech_types;
  // The MechTypeList's DER (tag 30 to the end) as received; what
  // mechListMIC covers. Encode recomputes it.
  std::vector<uint8_t> mech_types_der;
  // reqFlags' BIT STRING contents (deprecated; carried, never acted on).
  std::optional<std::vector<uint8_t>> req_flags;
  // The optimistic token of mech_types[0].
  std::optional<std::vector<uint8_t>> mech_token;
  std::optional<std::vector<uint8_t>> mech_list_mic;
};

enum class NegState : uint8_t {
  kAcceptCompleted = 0,
  kAcceptIncomplete = 1,
  kReject = 2,
  kRequestMic = 3,
};

struct NegTokenResp {
  std::optional<NegState> neg_state;
  std::optional<Oid> supported_mech;
  std::optional<std::vector<uint8_t>> response_token;
  std::optional<std::vector<uint8_t>> mech_list_mic;
};

// The MechTypeList's DER (SEQUENCE OF OBJECT IDENTIFIER).
std::vector<uint8_t> EncodeMechTypeList(const std::vector<Oid>& mechs);
// InitialContextToken { SPNEGO OID, [0] NegTokenInit }; mech_types_der is
// ignored and recomputed from mech_types.
std::vector<uint8_t> EncodeInitialToken(const NegTokenInit& init);
// [1] NegTokenResp.
std::vector<uint8_t> EncodeNegTokenResp(const NegTokenResp& resp);

// SEC_E_INVALID_TOKEN naming the field and byte offset of what is wrong.
Result<NegTokenInit> DecodeInitialToken(std::span<const uint8_t> token,
                                        const SpnegoLimits& limits = {});
Result<NegTokenResp> DecodeNegTokenResp(std::span<const uint8_t> token,
                                        const SpnegoLimits& limits = {});

}  // namespace comsec::auth::negotiate
