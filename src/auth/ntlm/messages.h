// NTLM messages ([MS-NLMP] 2.2): NEGOTIATE, CHALLENGE, AUTHENTICATE and
// the AV_PAIR list, decoded from untrusted bytes and encoded.
//
// Decoding is strict: the signature and message type must match, every
// payload field must lie inside the message, and AV pair lists must be
// terminated. Field contents are copied out, so a decoded message owns
// its data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"

namespace comsec::auth::ntlm {

// NegotiateFlags ([MS-NLMP] 2.2.2.5).
inline constexpr uint32_t NTLMSSP_NEGOTIATE_UNICODE = 0x00000001;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_OEM = 0x00000002;
inline constexpr uint32_t NTLMSSP_REQUEST_TARGET = 0x00000004;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_SIGN = 0x00000010;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_SEAL = 0x00000020;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_DATAGRAM = 0x00000040;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_LM_KEY = 0x00000080;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_NTLM = 0x00000200;
inline constexpr uint32_t NTLMSSP_ANONYMOUS = 0x00000800;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED = 0x00001000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED = 0x00002000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_ALWAYS_SIGN = 0x00008000;
inline constexpr uint32_t NTLMSSP_TARGET_TYPE_DOMAIN = 0x00010000;
inline constexpr uint32_t NTLMSSP_TARGET_TYPE_SERVER = 0x00020000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x00080000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_IDENTIFY = 0x00100000;
inline constexpr uint32_t NTLMSSP_REQUEST_NON_NT_SESSION_KEY = 0x00400000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_TARGET_INFO = 0x00800000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_VERSION = 0x02000000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_128 = 0x20000000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_KEY_EXCH = 0x40000000;
inline constexpr uint32_t NTLMSSP_NEGOTIATE_56 = 0x80000000;

// AV_PAIR ids ([MS-NLMP] 2.2.2.1).
enum class AvId : uint16_t {
  kEol = 0,
  kNbComputerName = 1,
  kNbDomainName = 2,
  kDnsComputerName = 3,
  kDnsDomainName = 4,
  kDnsTreeName = 5,
  kFlags = 6,
  kTimestamp = 7,
  kSingleHost = 8,
  kTargetName = 9,
  kChannelBindings = 10,
};
// MsvAvFlags bits.
inline constexpr uint32_t kAvFlagConstrained = 0x1;
inline constexpr uint32_t kAvFlagMicPresent = 0x2;
inline constexpr uint32_t kAvFlagUntrustedSpn = 0x4;

struct AvPair {
  AvId id;
  std::vector<uint8_t> value;
};

// An AV_PAIR list. Decode requires MsvAvEOL and refuses duplicates of the
// ids MS-NLMP allows once; Encode appends MsvAvEOL.
struct AvPairs {
  std::vector<AvPair> pairs;

  static Result<AvPairs> Decode(std::span<const uint8_t> bytes);
  std::vector<uint8_t> Encode() const;
  const AvPair* Find(AvId id) const;
  void Set(AvId id, std::vector<uint8_t> value);
  void SetString(AvId id, std::u16string_view value);
  std::optional<uint32_t> Flags() const;
};

// The 8-byte VERSION structure ([MS-NLMP] 2.2.2.10), opaque here.
using Version = std::array<uint8_t, 8>;
// What comsec reports: 10.0 build 20348, NTLMSSP revision 15.
inline constexpr Version kOurVersion = {10, 0, 0x7C, 0x4F, 0, 0, 0, 15};

struct NegotiateMessage {
  uint32_t flags = 0;
  std::string domain;       // OEM, when supplied
  std::string workstation;  // OEM, when supplied
  std::optional<Version> version;

  static Result<NegotiateMessage> Decode(std::span<const uint8_t> bytes);
  std::vector<uint8_t> Encode() const;
};

struct ChallengeMessage {
  uint32_t flags = 0;
  std::u16string target_name;
  std::array<uint8_t, 8> server_challenge{};
  // The raw target info, kept byte-exact: the client's NTLMv2 blob copies
  // it and the MIC covers it.
  std::vector<uint8_t> target_info;
  std::optional<Version> version;

  static Result<ChallengeMessage> Decode(std::span<const uint8_t> bytes);
  std::vector<uint8_t> Encode() const;
};

struct AuthenticateMessage {
  std::vector<uint8_t> lm_response;
  std::vector<uint8_t> nt_response;
  std::u16string domain;
  std::u16string user;
  std::u16string workstation;
  std::vector<uint8_t> encrypted_session_key;
  uint32_t flags = 0;
  std::optional<Version> version;
  // The MIC field and its offset in the decoded message, when the payload
  // starts late enough for one (Decode cannot know whether it is meant to
  // be a MIC; the NTLMv2 blob's MsvAvFlags says so).
  std::optional<std::array<uint8_t, 16>> mic;

  static Result<AuthenticateMessage> Decode(std::span<const uint8_t> bytes);
  // Encodes with a Version and a MIC field when `with_mic` (zeroed if
  // `mic` is empty); the MIC lies at kMicOffset.
  std::vector<uint8_t> Encode(bool with_mic) const;
};

inline constexpr size_t kMicOffset = 72;

// UTF-16LE conversions for the wire strings; the UTF-8 ones are
// base/utf16.h's lossy converters (U+FFFD for bad input). Names are
// upcased with base/utf16.h's UpcaseUtf16 (Windows's table), the one rule
// for account names.
std::vector<uint8_t> ToUtf16Le(std::u16string_view s);
std::u16string FromUtf16Le(std::span<const uint8_t> bytes);
std::u16string Utf8ToUtf16(std::string_view s);
std::string Utf16ToUtf8(std::u16string_view s);

}  // namespace comsec::auth::ntlm
