// Connection-oriented DCE/RPC PDUs (C706 12.6; [MS-RPCE] 2.2.2): the common
// header, every PDU body, and the authentication verifier (sec_trailer),
// as values. pdu_codec.h reads and writes them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/security/authn_level.h"

namespace comsec::rpc {

// C706 12.6.4.1 PDU types (connection-oriented ones and the datagram
// numbers that share the field).
enum class PduType : uint8_t {
  kRequest = 0,
  kPing = 1,
  kResponse = 2,
  kFault = 3,
  kWorking = 4,
  kNocall = 5,
  kReject = 6,
  kAck = 7,
  kClCancel = 8,
  kFack = 9,
  kCancelAck = 10,
  kBind = 11,
  kBindAck = 12,
  kBindNak = 13,
  kAlterContext = 14,
  kAlterContextResp = 15,
  kAuth3 = 16,
  kShutdown = 17,
  kCoCancel = 18,
  kOrphaned = 19,
};
const char* PduTypeName(PduType type);

// C706 12.6.3.1 pfc_flags.
inline constexpr uint8_t PFC_FIRST_FRAG = 0x01;
inline constexpr uint8_t PFC_LAST_FRAG = 0x02;
inline constexpr uint8_t PFC_PENDING_CANCEL = 0x04;
// [MS-RPCE] 2.2.2.3: the same bit in bind/bind_ack negotiates header signing.
inline constexpr uint8_t PFC_SUPPORT_HEADER_SIGN = 0x04;
inline constexpr uint8_t PFC_RESERVED_1 = 0x08;
inline constexpr uint8_t PFC_CONC_MPX = 0x10;
inline constexpr uint8_t PFC_DID_NOT_EXECUTE = 0x20;
inline constexpr uint8_t PFC_MAYBE = 0x40;
inline constexpr uint8_t PFC_OBJECT_UUID = 0x80;

inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kSecTrailerSize = 8;
// [MS-RPCE] 3.3.3.5.4 / C706: no fragment may be negotiated below this.
inline constexpr uint16_t kMinFragmentSize = 1432;

struct PduHeader {
  uint8_t rpc_vers = 5;
  uint8_t rpc_vers_minor = 0;
  PduType type = PduType::kRequest;
  uint8_t pfc_flags = PFC_FIRST_FRAG | PFC_LAST_FRAG;
  std::array<uint8_t, 4> drep = {0x10, 0, 0, 0};
  uint16_t frag_length = 0;
  uint16_t auth_length = 0;
  uint32_t call_id = 0;
};

// p_syntax_id_t: an interface or transfer syntax and its version.
struct SyntaxId {
  Guid uuid;
  uint16_t major = 0;
  uint16_t minor = 0;
  friend bool operator==(const SyntaxId&, const SyntaxId&) = default;
};

// The NDR20 transfer syntax 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0.
SyntaxId Ndr20Syntax();
// NDR64 71710533-beba-4937-8319-b5dbef9ccc36 v1.0 ([MS-RPCE] 2.2.5).
SyntaxId Ndr64Syntax();
// Bind time feature negotiation 6cb71c2c-9812-4540-xxxx-000000000000 v1.0
// ([MS-RPCE] 3.3.1.5.3): the last 8 bytes carry the bitmask.
bool IsBindTimeFeatureNegotiation(const SyntaxId& syntax, uint64_t* bitmask);

struct ContextElement {
  uint16_t context_id = 0;
  SyntaxId abstract_syntax;
  std::vector<SyntaxId> transfer_syntaxes;
};

struct BindBody {  // bind and alter_context
  uint16_t max_xmit_frag = 0;
  uint16_t max_recv_frag = 0;
  uint32_t assoc_group_id = 0;
  std::vector<ContextElement> contexts;
};

// C706 12.6.4.3 p_cont_def_result_t and provider reasons.
enum class ContextResult : uint16_t {
  kAcceptance = 0,
  kUserRejection = 1,
  kProviderRejection = 2,
  kNegotiateAck = 3,  // [MS-RPCE] 2.2.2.4: bind time feature negotiation
};
inline constexpr uint16_t kReasonNotSpecified = 0;
inline constexpr uint16_t kReasonAbstractSyntaxNotSupported = 1;
inline constexpr uint16_t kReasonTransferSyntaxesNotSupported = 2;
inline constexpr uint16_t kReasonLocalLimitExceeded = 3;

struct ContextResultEntry {
  ContextResult result = ContextResult::kAcceptance;
  uint16_t reason = 0;
  SyntaxId transfer_syntax;
};

struct BindAckBody {  // bind_ack and alter_context_resp
  uint16_t max_xmit_frag = 0;
  uint16_t max_recv_frag = 0;
  uint32_t assoc_group_id = 0;
  std::string secondary_address;  // port_spec, without its NUL
  std::vector<ContextResultEntry> results;
};

// C706 12.6.4.4 / [MS-RPCE] 2.2.2.5 bind_nak reasons.
inline constexpr uint16_t kNakReasonNotSpecified = 0;
inline constexpr uint16_t kNakTemporaryCongestion = 1;
inline constexpr uint16_t kNakLocalLimitExceeded = 2;
inline constexpr uint16_t kNakProtocolVersionNotSupported = 4;
inline constexpr uint16_t kNakAuthenticationTypeNotRecognized = 8;
inline constexpr uint16_t kNakInvalidChecksum = 9;

struct BindNakBody {
  uint16_t reason = 0;
  std::vector<std::pair<uint8_t, uint8_t>> versions;  // (major, minor)
};

struct RequestBody {
  uint32_t alloc_hint = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;
  std::optional<Guid> object;  // present when PFC_OBJECT_UUID
  std::vector<uint8_t> stub;
};

struct ResponseBody {
  uint32_t alloc_hint = 0;
  uint16_t context_id = 0;
  uint8_t cancel_count = 0;
  std::vector<uint8_t> stub;
};

// C706 appendix E / [MS-RPCE] 2.2.2.6 fault status values used by comsec.
inline constexpr uint32_t nca_s_op_rng_error = 0x1C010002;
inline constexpr uint32_t nca_s_unknown_if = 0x1C010003;
inline constexpr uint32_t nca_s_proto_error = 0x1C01000B;
inline constexpr uint32_t nca_s_fault_access_denied = 0x00000005;
inline constexpr uint32_t nca_s_fault_ndr = 0x000006F7;
inline constexpr uint32_t nca_s_fault_sec_pkg_error = 0x00000721;
inline constexpr uint32_t nca_s_fault_context_mismatch = 0x1C00001A;
inline constexpr uint32_t nca_s_fault_remote_no_memory = 0x1C000010;

struct FaultBody {
  uint32_t alloc_hint = 0;
  uint16_t context_id = 0;
  uint8_t cancel_count = 0;
  uint32_t status = 0;
  std::vector<uint8_t> stub;  // extended error information, if any
};

struct EmptyBody {};  // shutdown, co_cancel, orphaned, auth3's padding

// The authentication verifier that ends a PDU when auth_length != 0
// ([MS-RPCE] 2.2.2.11).
struct SecTrailer {
  uint8_t auth_type = 0;
  // The level as the wire carries it: a byte a peer may set to anything.
  // The runtime converts it at this boundary only (WireAuthnLevel,
  // PduAuthnLevel) and holds security::AuthnLevel everywhere else.
  uint8_t auth_level = 0;
  uint8_t auth_pad_length = 0;
  uint8_t auth_reserved = 0;
  uint32_t auth_context_id = 0;
  std::vector<uint8_t> auth_value;
};

// The auth_level byte for `level` (C706 13.2.6.1: RPC_C_AUTHN_LEVEL_*).
constexpr uint8_t WireAuthnLevel(security::AuthnLevel level) {
  return static_cast<uint8_t>(security::ToNumber(level));
}
// The level a received auth_level byte names, when it is one a verifier
// may carry (CONNECT to PKT_PRIVACY); nullopt for any other byte (0
// DEFAULT, 1 NONE, 7-255), which the caller answers as a protocol error
// (conformance case 19).
std::optional<security::AuthnLevel> PduAuthnLevel(uint8_t wire);

using PduBody = std::variant<EmptyBody, BindBody, BindAckBody, BindNakBody,
                             RequestBody, ResponseBody, FaultBody>;

struct Pdu {
  PduHeader header;
  PduBody body;
  std::optional<SecTrailer> auth;
};

}  // namespace comsec::rpc
