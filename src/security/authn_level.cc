#include "comsec/security/authn_level.h"

#include <array>
#include <ostream>
#include <string>

#include "comsec/base/hex.h"

namespace comsec::security {
namespace {

constexpr std::array<const char*, 7> kAuthnNames = {
    "RPC_C_AUTHN_LEVEL_DEFAULT",       "RPC_C_AUTHN_LEVEL_NONE",
    "RPC_C_AUTHN_LEVEL_CONNECT",       "RPC_C_AUTHN_LEVEL_CALL",
    "RPC_C_AUTHN_LEVEL_PKT",           "RPC_C_AUTHN_LEVEL_PKT_INTEGRITY",
    "RPC_C_AUTHN_LEVEL_PKT_PRIVACY"};
constexpr std::string_view kAuthnPrefix = "RPC_C_AUTHN_LEVEL_";

constexpr std::array<const char*, 5> kImpNames = {
    "RPC_C_IMP_LEVEL_DEFAULT", "RPC_C_IMP_LEVEL_ANONYMOUS", "RPC_C_IMP_LEVEL_IDENTIFY",
    "RPC_C_IMP_LEVEL_IMPERSONATE", "RPC_C_IMP_LEVEL_DELEGATE"};
constexpr std::string_view kImpPrefix = "RPC_C_IMP_LEVEL_";

// What the name functions return for a value outside the enum.
constexpr const char kInvalid[] = "(invalid level)";

// The index of `text` among `names` (full or without `prefix`; any case,
// '-' for '_'), or of its number; -1 when it is neither.
int Lookup(std::string_view text, std::string_view prefix, const char* const* names,
           size_t count) {
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
    auto n = ParseUnsigned(text, NumberBase::kDecimal, count - 1);
    return n.ok() ? static_cast<int>(*n) : -1;
  }
  std::string upper;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    upper += c == '-' ? '_' : c;
  }
  for (size_t i = 0; i < count; ++i) {
    const std::string_view name = names[i];
    if (upper == name || upper == name.substr(prefix.size())) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

std::optional<AuthnLevel> AuthnLevelFromNumber(uint32_t number) {
  if (number >= kAuthnNames.size()) return std::nullopt;
  return static_cast<AuthnLevel>(number);
}

std::optional<ImpLevel> ImpLevelFromNumber(uint32_t number) {
  if (number >= kImpNames.size()) return std::nullopt;
  return static_cast<ImpLevel>(number);
}

const char* AuthnLevelName(AuthnLevel level) {
  const uint32_t n = ToNumber(level);
  return n < kAuthnNames.size() ? kAuthnNames[n] : kInvalid;
}

const char* ImpLevelName(ImpLevel level) {
  const uint32_t n = ToNumber(level);
  return n < kImpNames.size() ? kImpNames[n] : kInvalid;
}

const char* AuthnLevelShortName(AuthnLevel level) {
  const char* name = AuthnLevelName(level);
  return name == kInvalid ? name : name + kAuthnPrefix.size();
}

const char* ImpLevelShortName(ImpLevel level) {
  const char* name = ImpLevelName(level);
  return name == kInvalid ? name : name + kImpPrefix.size();
}

Result<AuthnLevel> ParseAuthnLevel(std::string_view text) {
  const int i = Lookup(text, kAuthnPrefix, kAuthnNames.data(), kAuthnNames.size());
  if (i < 0) {
    return Status(E_INVALIDARG, "\"" + std::string(text) +
                                    "\" is not an authentication level; use 0-6 or a "
                                    "name: DEFAULT, NONE, CONNECT, CALL, PKT, "
                                    "PKT_INTEGRITY, PKT_PRIVACY (RPC_C_AUTHN_LEVEL_...)");
  }
  return static_cast<AuthnLevel>(i);
}

Result<ImpLevel> ParseImpLevel(std::string_view text) {
  const int i = Lookup(text, kImpPrefix, kImpNames.data(), kImpNames.size());
  if (i < 0) {
    return Status(E_INVALIDARG, "\"" + std::string(text) +
                                    "\" is not an impersonation level; use 0-4 or a "
                                    "name: DEFAULT, ANONYMOUS, IDENTIFY, IMPERSONATE, "
                                    "DELEGATE (RPC_C_IMP_LEVEL_...)");
  }
  return static_cast<ImpLevel>(i);
}

std::ostream& operator<<(std::ostream& out, AuthnLevel level) {
  return out << AuthnLevelName(level) << " (" << ToNumber(level) << ")";
}

std::ostream& operator<<(std::ostream& out, ImpLevel level) {
  return out << ImpLevelName(level) << " (" << ToNumber(level) << ")";
}

}  // namespace comsec::security
