#include "comsec/security/sddl.h"

#include <array>
#include <cstdio>

#include "comsec/base/hex.h"
#include "comsec/security/access_mask.h"

namespace comsec::security {
namespace {

struct Code {
  const char* text;
  uint32_t value;
};

// ace-strings.md, "ace_type".
constexpr Code kAceTypes[] = {
    {"A", ACCESS_ALLOWED_ACE_TYPE},
    {"D", ACCESS_DENIED_ACE_TYPE},
    {"AU", SYSTEM_AUDIT_ACE_TYPE},
    {"AL", SYSTEM_ALARM_ACE_TYPE},
    {"OA", ACCESS_ALLOWED_OBJECT_ACE_TYPE},
    {"OD", ACCESS_DENIED_OBJECT_ACE_TYPE},
    {"OU", SYSTEM_AUDIT_OBJECT_ACE_TYPE},
    {"OL", SYSTEM_ALARM_OBJECT_ACE_TYPE},
    {"XA", ACCESS_ALLOWED_CALLBACK_ACE_TYPE},
    {"XD", ACCESS_DENIED_CALLBACK_ACE_TYPE},
    {"ZA", ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE},
    {"XU", SYSTEM_AUDIT_CALLBACK_ACE_TYPE},
    {"ML", SYSTEM_MANDATORY_LABEL_ACE_TYPE},
    {"RA", SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE},
    {"SP", SYSTEM_SCOPED_POLICY_ID_ACE_TYPE},
    {"TL", SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE},
    {"FL", SYSTEM_ACCESS_FILTER_ACE_TYPE},
};

// ace-strings.md, "ace_flags", in the order Windows writes them.
constexpr Code kAceFlags[] = {
    {"OI", OBJECT_INHERIT_ACE},       {"CI", CONTAINER_INHERIT_ACE},
    {"NP", NO_PROPAGATE_INHERIT_ACE}, {"IO", INHERIT_ONLY_ACE},
    {"ID", INHERITED_ACE},            {"SA", SUCCESSFUL_ACCESS_ACE_FLAG},
    {"FA", FAILED_ACCESS_ACE_FLAG},   {"CR", CRITICAL_ACE_FLAG},
};

// Composite rights, written when a mask equals one exactly.
constexpr Code kCompositeRights[] = {
    {"FA", FILE_ALL_ACCESS},  {"FR", FILE_GENERIC_READ},
    {"FW", FILE_GENERIC_WRITE}, {"FX", FILE_GENERIC_EXECUTE},
    {"KA", KEY_ALL_ACCESS},   {"KR", KEY_READ},
    {"KW", KEY_WRITE},        {"KX", KEY_EXECUTE},
};

// Single-bit rights in the order Windows writes them ("CCDCLCSWRPWP...").
constexpr Code kBitRights[] = {
    {"CC", ADS_RIGHT_DS_CREATE_CHILD}, {"DC", ADS_RIGHT_DS_DELETE_CHILD},
    {"LC", ADS_RIGHT_ACTRL_DS_LIST},   {"SW", ADS_RIGHT_DS_SELF},
    {"RP", ADS_RIGHT_DS_READ_PROP},    {"WP", ADS_RIGHT_DS_WRITE_PROP},
    {"DT", ADS_RIGHT_DS_DELETE_TREE},  {"LO", ADS_RIGHT_DS_LIST_OBJECT},
    {"CR", ADS_RIGHT_DS_CONTROL_ACCESS}, {"SD", DELETE},
    {"RC", READ_CONTROL},              {"WD", WRITE_DAC},
    {"WO", WRITE_OWNER},               {"GA", GENERIC_ALL},
    {"GR", GENERIC_READ},              {"GW", GENERIC_WRITE},
    {"GX", GENERIC_EXECUTE},
};

constexpr Code kLabelRights[] = {
    {"NW", SYSTEM_MANDATORY_LABEL_NO_WRITE_UP},
    {"NR", SYSTEM_MANDATORY_LABEL_NO_READ_UP},
    {"NX", SYSTEM_MANDATORY_LABEL_NO_EXECUTE_UP},
};

bool IsDaclType(uint8_t type) {
  switch (type) {
    case ACCESS_ALLOWED_ACE_TYPE:
    case ACCESS_DENIED_ACE_TYPE:
    case ACCESS_ALLOWED_OBJECT_ACE_TYPE:
    case ACCESS_DENIED_OBJECT_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_ACE_TYPE:
    case ACCESS_DENIED_CALLBACK_ACE_TYPE:
    case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE:
      return true;
    default:
      return false;
  }
}

template <size_t N>
const Code* Lookup(const Code (&table)[N], std::string_view text) {
  for (const Code& c : table) {
    if (text == c.text) return &c;
  }
  return nullptr;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class Parser {
 public:
  Parser(std::string_view text, const SddlOptions& options)
      : text_(text), options_(options) {}

  Result<SecurityDescriptor> Run() {
    SecurityDescriptor sd;
    bool seen[4] = {};
    SkipSpace();
    if (pos_ == text_.size()) return Error(pos_, "the descriptor is empty");
    while (pos_ < text_.size()) {
      if (!AtComponent(pos_)) {
        return Error(pos_, "expected O:, G:, D: or S:");
      }
      char c = text_[pos_];
      int slot = c == 'O' ? 0 : c == 'G' ? 1 : c == 'D' ? 2 : 3;
      if (seen[slot]) {
        return Error(pos_, std::string("the ") + c + ": component appears twice");
      }
      seen[slot] = true;
      pos_ += 2;
      switch (c) {
        case 'O': {
          COMSEC_ASSIGN_OR_RETURN(sd.owner, ParseComponentSid("owner"));
          break;
        }
        case 'G': {
          COMSEC_ASSIGN_OR_RETURN(sd.group, ParseComponentSid("group"));
          break;
        }
        case 'D':
          COMSEC_RETURN_IF_ERROR(ParseAcl(sd, /*dacl=*/true));
          break;
        case 'S':
          COMSEC_RETURN_IF_ERROR(ParseAcl(sd, /*dacl=*/false));
          break;
      }
      SkipSpace();
    }
    COMSEC_RETURN_IF_ERROR(sd.CheckEncodable());
    return sd;
  }

 private:
  Status Error(size_t pos, std::string_view what,
               HResult code = E_INVALIDARG) const {
    std::string m = "SDDL: ";
    m += what;
    m += " at character ";
    m += std::to_string(pos + 1);
    return Status(code, std::move(m)).WithPosition(pos);
  }

  void SkipSpace() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  bool AtComponent(size_t p) const {
    if (p + 1 >= text_.size() || text_[p + 1] != ':') return false;
    char c = text_[p];
    return c == 'O' || c == 'G' || c == 'D' || c == 'S';
  }

  Result<Sid> ParseSidAt(std::string_view token, size_t at) const {
    auto sid = ParseSddlSid(token, options_);
    if (!sid.ok()) {
      size_t inner = sid.status().position().value_or(0);
      if (token.size() == 2) inner = 0;
      // The SID parser names the position inside the SID; this error names
      // it inside the whole descriptor instead.
      std::string_view message = sid.status().message();
      size_t suffix = message.rfind(" at character ");
      if (suffix != std::string_view::npos) message = message.substr(0, suffix);
      return Error(at + inner, message, sid.status().code());
    }
    return sid;
  }

  // O: and G: values run to the next component, whitespace or the end.
  Result<Sid> ParseComponentSid(const char* what) {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < text_.size() && !IsSpace(text_[pos_]) && !AtComponent(pos_)) {
      ++pos_;
    }
    if (pos_ == start) {
      return Error(start, std::string("the ") + what + " SID is missing");
    }
    return ParseSidAt(text_.substr(start, pos_ - start), start);
  }

  Status ParseAcl(SecurityDescriptor& sd, bool dacl) {
    uint16_t flags = 0;
    bool null_acl = false;
    const uint16_t kProtected = dacl ? SE_DACL_PROTECTED : SE_SACL_PROTECTED;
    const uint16_t kAutoInherited =
        dacl ? SE_DACL_AUTO_INHERITED : SE_SACL_AUTO_INHERITED;
    const uint16_t kAutoInheritReq =
        dacl ? SE_DACL_AUTO_INHERIT_REQ : SE_SACL_AUTO_INHERIT_REQ;
    // Flags: P, AI, AR, NO_ACCESS_CONTROL, in any order.
    while (pos_ < text_.size() && text_[pos_] != '(' && !IsSpace(text_[pos_]) &&
           !AtComponent(pos_)) {
      std::string_view rest = text_.substr(pos_);
      if (rest.starts_with("NO_ACCESS_CONTROL")) {
        null_acl = true;
        pos_ += 17;
      } else if (rest.starts_with("AI")) {
        flags |= kAutoInherited;
        pos_ += 2;
      } else if (rest.starts_with("AR")) {
        flags |= kAutoInheritReq;
        pos_ += 2;
      } else if (rest.starts_with("P")) {
        flags |= kProtected;
        pos_ += 1;
      } else {
        return Error(pos_, std::string("unknown ") + (dacl ? "DACL" : "SACL") +
                               " flag; expected P, AI, AR, NO_ACCESS_CONTROL "
                               "or an ACE in parentheses");
      }
    }
    Acl acl;
    for (;;) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '(') break;
      if (null_acl) {
        return Error(pos_, "NO_ACCESS_CONTROL means there is no ACL, so no "
                           "ACE may follow it");
      }
      COMSEC_ASSIGN_OR_RETURN(Ace ace, ParseAce(dacl, acl.aces.size()));
      acl.aces.push_back(std::move(ace));
    }
    acl.revision = acl.RequiredRevision();
    sd.control |= flags;
    if (dacl) {
      null_acl ? sd.SetNullDacl() : sd.SetDacl(std::move(acl));
    } else {
      sd.control |= SE_SACL_PRESENT;
      if (!null_acl) sd.sacl = std::move(acl);
    }
    return Status();
  }

  Result<Ace> ParseAce(bool dacl, size_t index) {
    const size_t open = pos_;
    size_t close = open + 1;
    while (close < text_.size() && text_[close] != ')') {
      if (text_[close] == '(') {
        return Error(close,
                     "conditional expressions and resource attributes are "
                     "not supported; comsec evaluates only plain ACEs",
                     E_NOTIMPL);
      }
      ++close;
    }
    if (close >= text_.size()) {
      return Error(open, "ACE " + std::to_string(index) +
                             " opens a parenthesis it never closes");
    }
    // Split into fields, remembering where each starts.
    std::array<std::string_view, 6> field;
    std::array<size_t, 6> at{};
    size_t n = 0;
    size_t start = open + 1;
    for (size_t i = open + 1; i <= close; ++i) {
      if (i == close || text_[i] == ';') {
        if (n == 6) {
          return Error(start, "ACE " + std::to_string(index) +
                                  " has more than 6 fields; conditional "
                                  "expressions and resource attributes are "
                                  "not supported",
                       E_NOTIMPL);
        }
        field[n] = text_.substr(start, i - start);
        at[n] = start;
        ++n;
        start = i + 1;
      }
    }
    if (n != 6) {
      return Error(close, "ACE " + std::to_string(index) + " has " +
                              std::to_string(n) +
                              " fields; type;flags;rights;object_guid;"
                              "inherit_object_guid;sid expected");
    }
    Ace ace;
    // Type.
    const Code* type = Lookup(kAceTypes, field[0]);
    if (type == nullptr) return Error(at[0], "unknown ACE type");
    ace.type = static_cast<uint8_t>(type->value);
    if (ace.type == SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE ||
        ace.type == SYSTEM_ACCESS_FILTER_ACE_TYPE) {
      return Error(at[0],
                   "resource attribute and access filter ACEs need a "
                   "seventh field, which comsec does not support",
                   E_NOTIMPL);
    }
    if (IsDaclType(ace.type) != dacl) {
      return Error(at[0], std::string("ACE type ") + std::string(field[0]) +
                              " belongs in the " + (dacl ? "SACL" : "DACL") +
                              ", not the " + (dacl ? "DACL" : "SACL"));
    }
    // Flags.
    for (size_t i = 0; i < field[1].size(); i += 2) {
      const Code* flag = Lookup(kAceFlags, field[1].substr(i, 2));
      if (flag == nullptr) return Error(at[1] + i, "unknown ACE flag");
      ace.flags |= static_cast<uint8_t>(flag->value);
    }
    // Rights.
    COMSEC_ASSIGN_OR_RETURN(ace.mask, ParseRights(field[2], at[2]));
    // Object GUIDs.
    for (int k = 3; k <= 4; ++k) {
      if (field[k].empty()) continue;
      if (!Ace::IsObjectType(ace.type)) {
        return Error(at[k], "only object ACEs (OA, OD, OU, OL, ZA) carry "
                            "object GUIDs");
      }
      auto guid = Guid::Parse(field[k]);
      if (!guid.ok()) {
        return Error(at[k] + guid.status().position().value_or(0),
                     "malformed GUID");
      }
      (k == 3 ? ace.object_type : ace.inherited_object_type) = *guid;
    }
    // ace-strings.md: an object ACE with neither GUID is written as the plain
    // type (the note on OA; OD behaves the same on Windows).
    if (!ace.object_type && !ace.inherited_object_type) {
      if (ace.type == ACCESS_ALLOWED_OBJECT_ACE_TYPE) {
        ace.type = ACCESS_ALLOWED_ACE_TYPE;
      } else if (ace.type == ACCESS_DENIED_OBJECT_ACE_TYPE) {
        ace.type = ACCESS_DENIED_ACE_TYPE;
      }
    }
    // SID.
    if (field[5].empty()) return Error(at[5], "the ACE's SID is missing");
    COMSEC_ASSIGN_OR_RETURN(ace.sid, ParseSidAt(field[5], at[5]));
    pos_ = close + 1;
    return ace;
  }

  Result<uint32_t> ParseRights(std::string_view f, size_t at) const {
    if (f.empty()) return uint32_t{0};
    if (f[0] >= '0' && f[0] <= '9') {
      // wcstoul with base 0, as Windows reads it: 0x hex, 0 octal, decimal.
      auto value = ParseUnsigned(f, NumberBase::kC, 0xFFFFFFFFu);
      if (!value.ok()) {
        return Error(at + *value.status().position(),
                     "access mask: " + std::string(value.status().message()));
      }
      return static_cast<uint32_t>(*value);
    }
    if (f.size() % 2 != 0) {
      return Error(at + f.size() - 1,
                   "rights are two-letter codes; a letter is left over");
    }
    uint32_t mask = 0;
    for (size_t i = 0; i < f.size(); i += 2) {
      std::string_view code = f.substr(i, 2);
      const Code* found = Lookup(kBitRights, code);
      if (!found) found = Lookup(kCompositeRights, code);
      if (!found) found = Lookup(kLabelRights, code);
      if (found) mask |= found->value;
      if (!found) {
        return Error(at + i, "unknown access right \"" + std::string(code) +
                                 "\"");
      }
    }
    return mask;
  }

  std::string_view text_;
  const SddlOptions& options_;
  size_t pos_ = 0;
};

}  // namespace

Result<Sid> ParseSddlSid(std::string_view text, const SddlOptions& options) {
  if (text.size() == 2 && text[0] >= 'A' && text[0] <= 'Z' && text[1] >= 'A' &&
      text[1] <= 'Z') {
    return SidFromAlias(text, options.aliases);
  }
  return Sid::Parse(text);
}

std::string FormatSddlSid(const Sid& sid, const SddlOptions& options) {
  std::string_view alias = AliasForSid(sid, options.aliases);
  return alias.empty() ? sid.ToString() : std::string(alias);
}

std::string FormatSddlRights(uint32_t mask, uint8_t ace_type) {
  const std::string hex = HexU32(mask);
  if (mask == 0) return hex;
  if (ace_type == SYSTEM_MANDATORY_LABEL_ACE_TYPE) {
    if (mask & ~uint32_t{7}) return hex;
    std::string out;
    for (const Code& c : kLabelRights) {
      if (mask & c.value) out += c.text;
    }
    return out;
  }
  for (const Code& c : kCompositeRights) {
    if (mask == c.value) return c.text;
  }
  uint32_t covered = 0;
  std::string out;
  for (const Code& c : kBitRights) {
    if (mask & c.value) {
      out += c.text;
      covered |= c.value;
    }
  }
  return covered == mask ? out : hex;
}

Result<std::string> FormatSddlAce(const Ace& ace, const SddlOptions& options) {
  const char* type = nullptr;
  for (const Code& c : kAceTypes) {
    if (c.value == ace.type) type = c.text;
  }
  if (type == nullptr) {
    return Status(E_INVALIDARG, "ACE type " + std::to_string(ace.type) +
                                    " has no SDDL name");
  }
  if (!ace.application_data.empty()) {
    return Status(E_NOTIMPL,
                  "an ACE of type " + std::string(type) + " carries " +
                      std::to_string(ace.application_data.size()) +
                      " bytes of application data (a condition or claim), "
                      "which comsec cannot write as SDDL; use the binary form");
  }
  std::string out = "(";
  out += type;
  out += ';';
  uint8_t written = 0;
  for (const Code& c : kAceFlags) {
    if (ace.flags & c.value) {
      out += c.text;
      written |= static_cast<uint8_t>(c.value);
    }
  }
  if (written != ace.flags) {
    char bits[8];
    std::snprintf(bits, sizeof bits, "0x%02x", ace.flags & ~written);
    return Status(E_INVALIDARG,
                  std::string("ACE flag bits ") + bits + " have no SDDL code");
  }
  out += ';';
  out += FormatSddlRights(ace.mask, ace.type);
  out += ';';
  if (ace.object_type) out += ace.object_type->ToString();
  out += ';';
  if (ace.inherited_object_type) out += ace.inherited_object_type->ToString();
  out += ';';
  out += FormatSddlSid(ace.sid, options);
  out += ')';
  return out;
}

namespace {

Status AppendAcl(std::string& out, const SecurityDescriptor& sd, bool dacl,
                 const SddlOptions& options) {
  const std::optional<Acl>& acl = dacl ? sd.dacl : sd.sacl;
  out += dacl ? "D:" : "S:";
  uint16_t c = sd.control;
  if (c & (dacl ? SE_DACL_PROTECTED : SE_SACL_PROTECTED)) out += 'P';
  if (c & (dacl ? SE_DACL_AUTO_INHERIT_REQ : SE_SACL_AUTO_INHERIT_REQ)) {
    out += "AR";
  }
  if (c & (dacl ? SE_DACL_AUTO_INHERITED : SE_SACL_AUTO_INHERITED)) {
    out += "AI";
  }
  if (!acl) {
    out += "NO_ACCESS_CONTROL";
    return Status();
  }
  for (size_t i = 0; i < acl->aces.size(); ++i) {
    auto ace = FormatSddlAce(acl->aces[i], options);
    if (!ace.ok()) {
      return Status(ace.status().code(),
                    std::string(dacl ? "DACL" : "SACL") + " ACE " +
                        std::to_string(i) + ": " +
                        std::string(ace.status().message()));
    }
    out += *ace;
  }
  return Status();
}

}  // namespace

Result<SecurityDescriptor> ParseSddl(std::string_view text,
                                     const SddlOptions& options) {
  return Parser(text, options).Run();
}

Result<std::string> FormatSddl(const SecurityDescriptor& sd,
                               const SddlOptions& options) {
  std::string out;
  if (sd.owner) out += "O:" + FormatSddlSid(*sd.owner, options);
  if (sd.group) out += "G:" + FormatSddlSid(*sd.group, options);
  if (sd.DaclPresent()) COMSEC_RETURN_IF_ERROR(AppendAcl(out, sd, true, options));
  if (sd.SaclPresent()) COMSEC_RETURN_IF_ERROR(AppendAcl(out, sd, false, options));
  return out;
}

}  // namespace comsec::security
