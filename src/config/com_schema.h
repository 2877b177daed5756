// The COM configuration schema: every registry value the reference pages
// define for COM security (rules R120–R172 of
// reference/com-security-rules.md), where it lives, its type, its valid
// range, its default, and how a bad value is handled.
//
//   HKLM\SOFTWARE\Microsoft\Ole                     machine-wide (R164)
//   HKLM\SOFTWARE\Microsoft\Ole\AppCompat           DCOM hardening
//   HKLM\SOFTWARE\Policies\Microsoft\Windows NT\DCOM  policy overrides (R165)
//   HKLM\SOFTWARE\Classes\AppID\{AppID}             per application (R162)
//   HKLM\SOFTWARE\Classes\CLSID\{CLSID}             per class (R159, R181)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/config/key_path.h"
#include "comsec/config/reg_value.h"
#include "comsec/security/authn_level.h"
#include "comsec/security/security_descriptor.h"

namespace comsec::config {

// Where a setting lives.
enum class SettingScope : uint8_t {
  kMachine,     // Ole key
  kHardening,   // Ole\AppCompat
  kPolicy,      // Policies\Microsoft\Windows NT\DCOM
  kAppId,       // Classes\AppID\{guid}
  kClsid,       // Classes\CLSID\{guid} (or a subkey, see SettingSpec::subkey)
};

// How a setting's data is read.
enum class SettingKind : uint8_t {
  kDword,                // REG_DWORD within [min, max]
  kAuthenticationLevel,  // REG_DWORD holding an AuthnLevel within [min, max]
  kImpersonationLevel,   // REG_DWORD holding an ImpLevel within [min, max]
  kDwordFlags,           // REG_DWORD whose set bits lie within `max`
  kDwordChoice,          // REG_DWORD equal to `min` or to `max`
  kYesNo,                // REG_SZ "Y"/"N", either case (EnableDCOM)
  kDisabledByNo,         // REG_SZ: on unless N, n, NO, No, no (SRP checks, R132)
  kSecurityDescriptor,   // REG_BINARY self-relative SD
  kSddl,                 // REG_SZ SDDL (policy overrides)
  kString,               // REG_SZ or REG_EXPAND_SZ
  kGuidString,           // REG_SZ "{guid}"
  kMultiString,          // REG_MULTI_SZ
};

// What COM does when a value has the wrong type or an invalid content.
enum class BadValuePolicy : uint8_t {
  kIgnore,        // treated as absent (the default applies)
  kFailClosed,    // an invalid SD grants nothing (R151)
  kFailProcess,   // the process's implicit CIS fails, no call works (R163)
};

struct SettingSpec {
  const char* name;       // value name as Windows spells it ("" = default)
  SettingScope scope;
  const char* subkey;     // below the scope's key, "" for the key itself
  SettingKind kind;
  uint32_t min;           // kDword: inclusive range; kDwordFlags: max = mask
  uint32_t max;
  const char* default_text;  // as `comcfg machine show` prints it
  BadValuePolicy on_bad;
  const char* rule;       // "R164"
  const char* meaning;
};

// Every setting comsec knows, machine settings first.
std::span<const SettingSpec> AllSettings();
// Case-insensitive lookup within one scope; nullptr when unknown.
const SettingSpec* FindSetting(SettingScope scope, std::string_view name);

// Key paths.
KeyPath OleKeyPath();
KeyPath HardeningKeyPath();
KeyPath PolicyKeyPath();
KeyPath AppIdKeyPath(const Guid& appid);
KeyPath ClsidKeyPath(const Guid& clsid);
// The key a setting lives in, for the given AppID/CLSID where relevant.
KeyPath SettingKeyPath(const SettingSpec& spec, const Guid* id = nullptr);

// A setting's value as read, validated against its spec.
struct SettingValue {
  const SettingSpec* spec = nullptr;
  bool present = false;        // the registry value exists
  bool valid = false;          // present and well-formed
  std::string problem;         // why it is invalid (wrong type, range, SD)
  uint32_t dword = 0;          // kDword, kDwordFlags, kAuthenticationLevel, kImpersonationLevel
  bool flag = false;           // kYesNo, kDisabledByNo
  std::string text;            // kString, kGuidString, kSddl
  std::vector<std::string> strings;             // kMultiString
  std::optional<security::SecurityDescriptor> sd;  // kSecurityDescriptor, kSddl
};

// Validates `value` (may be null: absent) against `spec`.
SettingValue InterpretSetting(const SettingSpec& spec, const RegValue* value);

// The level a valid kAuthenticationLevel / kImpersonationLevel setting holds.
// REQUIRES: `v.valid` and the kind matches (a failed check is a bug).
security::AuthnLevel SettingAuthnLevel(const SettingValue& v);
security::ImpLevel SettingImpLevel(const SettingValue& v);

// Encodes user input for `comcfg machine set` / `app set`: a number for
// DWORDs, a number or a name for levels ("PKT_PRIVACY",
// "RPC_C_IMP_LEVEL_IDENTIFY"), Y/N, SDDL for descriptors, text otherwise. E_INVALIDARG with a
// sentence when the input does not fit the spec.
Result<RegValue> EncodeSetting(const SettingSpec& spec, std::string_view input);

// Windows's built-in values when nothing is configured (R114, R144 with
// C2, R167, R175 with C3), as SDDL.
inline constexpr char kBuiltinLaunchPermission[] =
    "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCLCSWRP;;;SY)(A;;CCDCLCSWRP;;;IU)";
inline constexpr char kBuiltinAccessPermission[] =
    "O:BAG:BAD:(A;;CCDCLC;;;PS)(A;;CCDCLC;;;SY)(A;;CCDCLC;;;BA)";
inline constexpr char kDefaultMachineLaunchRestriction[] =
    "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";
inline constexpr char kDefaultMachineAccessRestriction[] =
    "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)";

}  // namespace comsec::config
