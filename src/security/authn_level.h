// Authentication and impersonation levels (rpcdce.h RPC_C_AUTHN_LEVEL_*,
// RPC_C_IMP_LEVEL_*; "Security in COM": R1, R12). One type for each, in the
// security layer so that the configuration (effective policy, the schema of
// AuthenticationLevel and Legacy*Level values, explain), comcfg and the RPC
// runtime hold and compare the same values. The numbers are Windows's: they
// are what the registry stores, what CoInitializeSecurity takes and what an
// auth_verifier's auth_level carries (C706 13.2.6.1; [MS-RPCE] 2.2.1.1.8).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string_view>

#include "comsec/base/result.h"

namespace comsec::security {

// How much of each packet is protected, in increasing order, so levels
// compare with < (a call at kPkt is below a floor of kPktIntegrity).
// kDefault is a request ("let the runtime choose"), not a level a
// connection runs at.
enum class AuthnLevel : uint8_t {
  kDefault = 0,       // RPC_C_AUTHN_LEVEL_DEFAULT
  kNone = 1,          // RPC_C_AUTHN_LEVEL_NONE
  kConnect = 2,       // RPC_C_AUTHN_LEVEL_CONNECT
  kCall = 3,          // RPC_C_AUTHN_LEVEL_CALL
  kPkt = 4,           // RPC_C_AUTHN_LEVEL_PKT
  kPktIntegrity = 5,  // RPC_C_AUTHN_LEVEL_PKT_INTEGRITY
  kPktPrivacy = 6,    // RPC_C_AUTHN_LEVEL_PKT_PRIVACY
};

// What a server may do with the caller's identity, in increasing order.
enum class ImpLevel : uint8_t {
  kDefault = 0,      // RPC_C_IMP_LEVEL_DEFAULT
  kAnonymous = 1,    // RPC_C_IMP_LEVEL_ANONYMOUS
  kIdentify = 2,     // RPC_C_IMP_LEVEL_IDENTIFY
  kImpersonate = 3,  // RPC_C_IMP_LEVEL_IMPERSONATE
  kDelegate = 4,     // RPC_C_IMP_LEVEL_DELEGATE
};

// Windows's spellings, for code that mirrors a Windows API.
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_DEFAULT = AuthnLevel::kDefault;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_NONE = AuthnLevel::kNone;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_CONNECT = AuthnLevel::kConnect;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_CALL = AuthnLevel::kCall;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_PKT = AuthnLevel::kPkt;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_PKT_INTEGRITY = AuthnLevel::kPktIntegrity;
inline constexpr AuthnLevel RPC_C_AUTHN_LEVEL_PKT_PRIVACY = AuthnLevel::kPktPrivacy;
inline constexpr ImpLevel RPC_C_IMP_LEVEL_DEFAULT = ImpLevel::kDefault;
inline constexpr ImpLevel RPC_C_IMP_LEVEL_ANONYMOUS = ImpLevel::kAnonymous;
inline constexpr ImpLevel RPC_C_IMP_LEVEL_IDENTIFY = ImpLevel::kIdentify;
inline constexpr ImpLevel RPC_C_IMP_LEVEL_IMPERSONATE = ImpLevel::kImpersonate;
inline constexpr ImpLevel RPC_C_IMP_LEVEL_DELEGATE = ImpLevel::kDelegate;

// The number Windows uses (the registry's DWORD, the wire's auth_level).
constexpr uint32_t ToNumber(AuthnLevel level) { return static_cast<uint32_t>(level); }
constexpr uint32_t ToNumber(ImpLevel level) { return static_cast<uint32_t>(level); }

// The level with that number; nullopt outside 0-6 (0-4 for ImpLevel).
std::optional<AuthnLevel> AuthnLevelFromNumber(uint32_t number);
std::optional<ImpLevel> ImpLevelFromNumber(uint32_t number);

// "RPC_C_AUTHN_LEVEL_PKT_PRIVACY", "RPC_C_IMP_LEVEL_IDENTIFY"; for a value
// outside the enum (a cast from an unchecked number) "(invalid level)".
// Static strings (C strings, so that they concatenate with std::string).
const char* AuthnLevelName(AuthnLevel level);
const char* ImpLevelName(ImpLevel level);
// The name without its prefix: "PKT_PRIVACY", "IDENTIFY".
const char* AuthnLevelShortName(AuthnLevel level);
const char* ImpLevelShortName(ImpLevel level);

// Reads a level as a person or a file writes it: the number ("6"), the
// Windows name ("RPC_C_AUTHN_LEVEL_PKT_PRIVACY") or the short name
// ("PKT_PRIVACY", "pkt_privacy"; '-' may stand for '_'), in any case.
// E_INVALIDARG naming the accepted forms otherwise.
Result<AuthnLevel> ParseAuthnLevel(std::string_view text);
Result<ImpLevel> ParseImpLevel(std::string_view text);

// "RPC_C_AUTHN_LEVEL_PKT_PRIVACY (6)", for logs and test failures.
std::ostream& operator<<(std::ostream& out, AuthnLevel level);
std::ostream& operator<<(std::ostream& out, ImpLevel level);

}  // namespace comsec::security
