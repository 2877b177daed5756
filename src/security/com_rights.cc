#include "comsec/security/com_rights.h"

#include <cstdio>

#include "comsec/base/hex.h"
#include "comsec/security/sddl.h"

namespace comsec::security {
namespace {

struct RightName {
  const char* name;
  uint32_t bit;
};

constexpr RightName kRightNames[] = {
    {"execute", COM_RIGHTS_EXECUTE},
    {"execute_local", COM_RIGHTS_EXECUTE_LOCAL},
    {"execute_remote", COM_RIGHTS_EXECUTE_REMOTE},
    {"activate_local", COM_RIGHTS_ACTIVATE_LOCAL},
    {"activate_remote", COM_RIGHTS_ACTIVATE_REMOTE},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

Result<uint32_t> ParseComRights(std::string_view text) {
  uint32_t mask = 0;
  size_t pos = 0;
  bool any = false;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ',' || text[pos] == ' ')) ++pos;
    if (pos == text.size()) break;
    size_t end = pos;
    while (end < text.size() && text[end] != ',' && text[end] != ' ') ++end;
    std::string_view word = text.substr(pos, end - pos);
    bool found = false;
    for (const RightName& r : kRightNames) {
      if (EqualsIgnoreCase(word, r.name)) {
        mask |= r.bit;
        found = true;
      }
    }
    if (!found && !word.empty() && word[0] >= '0' && word[0] <= '9') {
      // C's base 0, as the access mask of SDDL reads (0x hex, 0 octal).
      auto v = ParseUnsigned(word, NumberBase::kC, 0xFFFFFFFFu);
      if (v.ok()) {
        mask |= static_cast<uint32_t>(*v);
        found = true;
      }
    }
    if (!found) {
      return Status(E_INVALIDARG,
                    "rights: \"" + std::string(word) + "\" at character " +
                        std::to_string(pos + 1) +
                        " is not one of execute, execute_local, "
                        "execute_remote, activate_local, activate_remote or "
                        "a number")
          .WithPosition(pos);
    }
    any = true;
    pos = end;
  }
  if (!any) {
    return Status(E_INVALIDARG, "rights: none given; name at least one of "
                                "execute, execute_local, execute_remote, "
                                "activate_local, activate_remote");
  }
  return mask;
}

std::string FormatComRights(uint32_t mask) {
  std::string out;
  for (const RightName& r : kRightNames) {
    if (mask & r.bit) {
      if (!out.empty()) out += ", ";
      out += r.name;
    }
  }
  uint32_t other = mask & ~kComRightsAll;
  if (other) {
    if (!out.empty()) out += ", ";
    out += HexU32(other);
  }
  return out.empty() ? "none" : out;
}

std::vector<ComSdProblem> ValidateComSecurityDescriptor(
    const SecurityDescriptor& sd) {
  using Severity = ComSdProblem::Severity;
  std::vector<ComSdProblem> out;
  if (!sd.owner) {
    out.push_back({Severity::kWarning, "R64",
                   "the descriptor has no owner; CoInitializeSecurity "
                   "requires one", std::nullopt});
  }
  if (!sd.group) {
    out.push_back({Severity::kWarning, "R64",
                   "the descriptor has no group; CoInitializeSecurity "
                   "requires one", std::nullopt});
  }
  if (!sd.DaclPresent()) {
    out.push_back({Severity::kWarning, "R64",
                   "the descriptor has no DACL, so it grants everyone every "
                   "right, anonymous callers included", std::nullopt});
  } else if (sd.HasNullDacl()) {
    out.push_back({Severity::kWarning, "R64",
                   "the DACL is NULL (NO_ACCESS_CONTROL), so it grants "
                   "everyone every right, anonymous callers included",
                   std::nullopt});
  }
  if (sd.sacl) {
    for (size_t i = 0; i < sd.sacl->aces.size(); ++i) {
      if (sd.sacl->aces[i].type != SYSTEM_MANDATORY_LABEL_ACE_TYPE) {
        out.push_back({Severity::kError, "C6",
                       "SACL ACE " + std::to_string(i) +
                           " is not a mandatory label; COM accepts only "
                           "mandatory-label ACEs in a permission's SACL",
                       std::nullopt});
      }
    }
  }
  if (!sd.dacl) return out;

  std::optional<size_t> first_old, first_new;
  for (size_t i = 0; i < sd.dacl->aces.size(); ++i) {
    const Ace& ace = sd.dacl->aces[i];
    if (!ace.IsAllow() && !ace.IsDeny()) {
      out.push_back({Severity::kWarning, "access-control-lists-for-com.md",
                     "ACE " + std::to_string(i) +
                         " is neither an allow nor a deny ACE; COM ignores "
                         "it", i});
      continue;
    }
    uint32_t mask = kComGenericMapping.Map(ace.mask);
    // Formatted only when a problem needs to name the ACE.
    auto sddl_of = [&ace] {
      auto s = FormatSddlAce(ace);
      return s.ok() ? *s : std::string();
    };
    if (!(mask & COM_RIGHTS_EXECUTE)) {
      std::string sddl = sddl_of();
      out.push_back({Severity::kError, "access-control-lists-for-com.md",
                     "ACE " + std::to_string(i) + " " + sddl + " has mask " +
                         HexU32(ace.mask) +
                         " without COM_RIGHTS_EXECUTE (0x1), which every "
                         "COM ACE must hold",
                     i});
      continue;
    }
    if (mask & ~kComRightsAll) {
      std::string sddl = sddl_of();
      out.push_back({Severity::kWarning, "R116",
                     "ACE " + std::to_string(i) + " " + sddl +
                         " also names rights COM does not define (" +
                         HexU32(mask & ~kComRightsAll) + "); they are ignored",
                     i});
    }
    if ((mask & kComRightsAll) == COM_RIGHTS_EXECUTE) {
      if (!first_old) first_old = i;
    } else if (!first_new) {
      first_new = i;
    }
  }
  if (first_old && first_new) {
    out.push_back(
        {Severity::kError, "R118",
         "the ACL mixes the old format (ACE " + std::to_string(*first_old) +
             " grants only COM_RIGHTS_EXECUTE) with the new format (ACE " +
             std::to_string(*first_new) +
             " names local/remote rights); give every ACE COM_RIGHTS_EXECUTE "
             "plus the local/remote rights it means, or give every ACE only "
             "COM_RIGHTS_EXECUTE",
         *first_old});
  }
  return out;
}

bool IsValidComSecurityDescriptor(const std::vector<ComSdProblem>& problems) {
  for (const ComSdProblem& p : problems) {
    if (p.severity == ComSdProblem::Severity::kError) return false;
  }
  return true;
}

}  // namespace comsec::security
