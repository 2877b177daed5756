// The Privilege Attribute Certificate ([MS-PAC]): the authorization data a
// Windows KDC puts in every ticket, and from which a Kerberos server learns
// the caller's SIDs and groups without asking a domain controller.
//
// Two layers of decoding, both of untrusted bytes (the PAC came inside a
// ticket, and MIT only says whether its server checksum verified):
//   - ParsePac: the PACTYPE byte layout ([MS-PAC] 2.3-2.4): cBuffers,
//     Version 0, then cBuffers PAC_INFO_BUFFERs {ulType, cbBufferSize,
//     Offset}, each naming a slice of the PAC. Every slice is checked to lie
//     inside the PAC and after the header. Offsets should be multiples of 8
//     ([MS-PAC] 2.4: "MUST be a multiple of eight"); as MIT and Samba do, an
//     unaligned offset is accepted (tolerant), since it changes nothing
//     about where the bytes are.
//   - DecodeLogonInfo: the PAC_LOGON_INFO buffer (ulType 1), a
//     KERB_VALIDATION_INFO serialized with type serialization version 1
//     ([MS-RPCE] 2.2.6), decoded by the NDR that comidl generates from
//     idl/ms-pac/pac.idl, then turned into SIDs ([MS-PAC] 2.5):
//       user    = LogonDomainId + UserId
//       groups  = LogonDomainId + PrimaryGroupId, LogonDomainId + each
//                 GroupIds[i].RelativeId, each ExtraSids[i].Sid (when
//                 UserFlags has LOGON_EXTRA_SIDS), ResourceGroupDomainSid +
//                 each ResourceGroupIds[i].RelativeId (when UserFlags has
//                 LOGON_RESOURCE_GROUPS), each with its SE_GROUP_*
//                 attributes.
//
// Every refusal is a Status: RPC_X_BAD_STUB_DATA for NDR that does not
// decode (the generated decoder's message names the place), and
// SEC_E_INVALID_TOKEN for a PAC whose layout or content is wrong (a bad
// header, a buffer outside the PAC, a missing or malformed SID, more SIDs
// than PacLimits allows). Nothing here aborts on input.
//
// Thread-safety: free functions over their arguments; safe to call from any
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/security/sid.h"
#include "comsec/security/token.h"

namespace comsec::auth::gssapi {

// [MS-PAC] 2.4 PAC_INFO_BUFFER ulType values.
inline constexpr uint32_t PAC_LOGON_INFO = 1;
inline constexpr uint32_t PAC_CREDENTIALS_INFO = 2;
inline constexpr uint32_t PAC_SERVER_CHECKSUM = 6;
inline constexpr uint32_t PAC_PRIVSVR_CHECKSUM = 7;
inline constexpr uint32_t PAC_CLIENT_INFO = 10;
inline constexpr uint32_t PAC_DELEGATION_INFO = 11;
inline constexpr uint32_t PAC_UPN_DNS_INFO = 12;

// [MS-PAC] 2.5 UserFlags bits that decide which SID lists count.
inline constexpr uint32_t LOGON_EXTRA_SIDS = 0x00000020;
inline constexpr uint32_t LOGON_RESOURCE_GROUPS = 0x00000200;

// Bounds on what a PAC may make the decoder do. The PAC arrives in a ticket
// that MIT has already bounded (the AP-REQ is at most the RPC layer's token
// size), so these bound work and the token's size rather than memory.
struct PacLimits {
  // PAC_INFO_BUFFERs in one PAC. Windows KDCs write 4 to 8; MIT writes 5.
  uint32_t max_buffers = 64;
  // Group SIDs in the token built from a logon info (GroupIds + ExtraSids +
  // ResourceGroupIds + the primary group). Windows refuses a logon whose
  // token would hold more than 1024 SIDs (the MaxTokenSize rule, KB327825);
  // we refuse the same rather than truncate, since dropping a group could
  // drop a deny ACE's match.
  uint32_t max_group_sids = 1024;
  // Characters in one RPC_UNICODE_STRING (MaximumLength is 16 bits, so
  // 32767 is the most the format can express).
  uint32_t max_string_chars = 32767;
};

// One PAC_INFO_BUFFER and the bytes it names (a view into the PAC passed
// to ParsePac, which must outlive it).
struct PacBuffer {
  uint32_t type = 0;
  std::span<const uint8_t> data;
};

// Reads the PACTYPE header and its PAC_INFO_BUFFER array. Fails with
// SEC_E_INVALID_TOKEN, naming the field and offset, when the PAC is shorter
// than its header, cBuffers is 0 or above limits.max_buffers or its array
// does not fit, Version is not 0, or a buffer's slice overlaps the header or
// runs past the end.
Result<std::vector<PacBuffer>> ParsePac(std::span<const uint8_t> pac, const PacLimits& limits = {});

// What a KERB_VALIDATION_INFO says about the caller, as SIDs and names.
struct PacLogonInfo {
  security::Sid user;
  // Every group SID in the order listed above, duplicates merged (their
  // attributes OR-ed), with the SE_GROUP_* attributes the PAC gives.
  std::vector<security::SidAndAttributes> groups;
  // EffectiveName and LogonDomainName as UTF-8 (unpaired surrogates become
  // U+FFFD).
  std::string account_name;
  std::string domain_name;
  uint32_t user_flags = 0;

  // "DOMAIN\account", the name a Windows server reports for the caller.
  std::string QualifiedName() const;
  // The network logon token: the PAC's user and groups, then the groups
  // every authenticated network logon carries (Everyone, Authenticated
  // Users, BUILTIN\Users, NETWORK), as security::Token::ForAuthenticatedUser
  // gives them.
  security::Token ToToken() const;
};

// Decodes one PAC_LOGON_INFO buffer (its bytes, as PacBuffer::data or MIT's
// "urn:mspac:logon-info" attribute gives them). RPC_X_BAD_STUB_DATA when
// the type serialization stream or the NDR is malformed (a conformance
// that differs from its count, a string whose lengths lie, bytes left
// over); RPC_X_WRONG_ES_VERSION for another serialization version;
// SEC_E_INVALID_TOKEN when the structure is NULL, LogonDomainId is missing,
// a SID is not revision 1 or has more than 15 sub-authorities (or none
// where a RID is appended), an ExtraSids entry is NULL, resource groups are
// flagged without their domain SID, or there are more groups than
// limits.max_group_sids.
Result<PacLogonInfo> DecodeLogonInfo(std::span<const uint8_t> logon_info,
                                     const PacLimits& limits = {});

// ParsePac, then DecodeLogonInfo on its PAC_LOGON_INFO buffer; nullopt when
// the PAC has none (as MIT's KDC issues them). A PAC with two logon infos is
// refused (SEC_E_INVALID_TOKEN): which one to believe is ambiguous.
Result<std::optional<PacLogonInfo>> LogonInfoFromPac(std::span<const uint8_t> pac,
                                                     const PacLimits& limits = {});

}  // namespace comsec::auth::gssapi
