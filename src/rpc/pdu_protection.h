// Per-PDU protection, one implementation for client and server
// ([MS-RPCE] 3.3.1.5.2.2, 2.2.2.11): an outgoing request, response or
// fault gets a sec_trailer naming its authentication context and, at CALL
// and above, the context's signature (the stub sealed at PKT_PRIVACY); a
// received one has its verifier checked against the context it names and
// its stub unsealed. At CONNECT a PDU carries no verifier at all.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/rpc/pdu.h"
#include "comsec/rpc/security_package.h"

namespace comsec::rpc {

// The authentication context a PDU travels under.
struct PduAuth {
  SecurityContext* context = nullptr;
  uint8_t auth_type = RPC_C_AUTHN_NONE;
  security::AuthnLevel level = security::AuthnLevel::kNone;
  uint32_t context_id = 0;
  // PFC_SUPPORT_HEADER_SIGN was negotiated on the association.
  bool header_signing = false;

  // PDUs under this context carry a signature (R4: CALL counts as PKT).
  bool Signs() const { return context != nullptr && level >= security::AuthnLevel::kCall; }
};

// Where a request's or response's stub starts in its fragment.
size_t StubOffset(const Pdu& pdu);

// Encodes `pdu`; when auth.Signs(), with a sec_trailer and the context's
// protection. A PDU that cannot be protected is never sent unprotected:
// the failure is returned.
Result<std::vector<uint8_t>> EncodeProtected(Pdu& pdu, const PduAuth& auth);

// Checks a received request or response whose verifier names `auth`'s
// context (the caller matched type, level and id) and returns its stub:
// unsealed, without auth padding. SEC_E_MESSAGE_ALTERED (or the package's
// own code) when the signature does not check; RPC_S_PROTOCOL_ERROR when
// the verifier has the wrong size.
Result<std::vector<uint8_t>> VerifyProtected(std::span<const uint8_t> fragment,
                                             const Pdu& pdu, const PduAuth& auth);

// The bytes a fragment of this kind spends outside its stub when it
// carries at most `max_frag` bytes: header, body prefix, object UUID,
// sec_trailer, up to 3 bytes of padding and the signature. An estimate
// when the package's signature size depends on the stub length (see
// FragmentSize).
size_t FragmentOverhead(const PduAuth* auth, bool request, bool has_object,
                        size_t max_frag);

// The exact size of a fragment of this kind carrying `stub_length` bytes of
// stub: header, body prefix, object UUID, and, when auth->Signs(), the stub
// padded to 4, the sec_trailer and SignatureSize of the padded stub. A
// package's signature may shrink as the stub grows (block-cipher padding
// kept in the signature: SignatureSize(n) = c + 16 - n % 16), so no single
// SignatureSize bounds every fragment; the fragmenter checks each one.
size_t FragmentSize(const PduAuth* auth, bool request, bool has_object,
                    size_t stub_length);

}  // namespace comsec::rpc
