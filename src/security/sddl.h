// SDDL: the Security Descriptor Definition Language
// ([MS-DTYP] 2.5.1; reference/com-security/security-descriptor-string-format.md,
// ace-strings.md, sid-strings.md).
//
//   O:owner G:group D:dacl_flags(ace)(ace)... S:sacl_flags(ace)...
//   ace = (type;flags;rights;object_guid;inherit_object_guid;sid)
//
// Parsing accepts every ACE type and flag of ace-strings.md, rights as
// two-letter codes or a number (0x-hex or decimal), SIDs as aliases or
// S-1-... strings, and whitespace between components and ACEs. Conditional
// expressions and resource attributes (the seventh ACE field) are refused
// with a clear error: comsec does not evaluate them. Every error names the
// 1-based character position and sets Status::position() to the 0-based one.
//
// Formatting writes the canonical form Windows writes: components in the
// order O, G, D, S; aliases where a SID has one; rights as codes when every
// bit has one, otherwise 0x-hex. Parse(Format(sd)) == sd for any descriptor
// SDDL can express.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/security/security_descriptor.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {

struct SddlOptions {
  // Domain SIDs for domain-relative aliases (DA, DU, LA, EA, ...).
  SidAliasContext aliases;
};

Result<SecurityDescriptor> ParseSddl(std::string_view text,
                                     const SddlOptions& options = {});

// Fails only for descriptors SDDL cannot express: ACEs carrying
// application data (conditional expressions, claims) or ACE flag bits that
// have no SDDL code.
Result<std::string> FormatSddl(const SecurityDescriptor& sd,
                               const SddlOptions& options = {});

// One ACE, "(A;;CCDC;;;SY)"; used by explanations.
Result<std::string> FormatSddlAce(const Ace& ace,
                                  const SddlOptions& options = {});

// A SID as SDDL writes it: alias or S-1-... .
std::string FormatSddlSid(const Sid& sid, const SddlOptions& options = {});
// A SID as SDDL reads it.
Result<Sid> ParseSddlSid(std::string_view text,
                         const SddlOptions& options = {});

// Rights as SDDL writes them for an ACE of `ace_type`.
std::string FormatSddlRights(uint32_t mask,
                             uint8_t ace_type = 0 /*ACCESS_ALLOWED*/);

}  // namespace comsec::security
