#include "comcfg/describe.h"

#include <cstdio>

#include "comsec/base/hex.h"
#include "comsec/security/sddl.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::comcfg {

using namespace comsec::security;  // NOLINT: a tool file using its layer

namespace {

struct FlagName {
  uint32_t bit;
  const char* name;
};

constexpr FlagName kControl[] = {
    {SE_OWNER_DEFAULTED, "SE_OWNER_DEFAULTED"},
    {SE_GROUP_DEFAULTED, "SE_GROUP_DEFAULTED"},
    {SE_DACL_PRESENT, "SE_DACL_PRESENT"},
    {SE_DACL_DEFAULTED, "SE_DACL_DEFAULTED"},
    {SE_SACL_PRESENT, "SE_SACL_PRESENT"},
    {SE_SACL_DEFAULTED, "SE_SACL_DEFAULTED"},
    {SE_DACL_TRUSTED, "SE_DACL_TRUSTED"},
    {SE_SERVER_SECURITY, "SE_SERVER_SECURITY"},
    {SE_DACL_AUTO_INHERIT_REQ, "SE_DACL_AUTO_INHERIT_REQ"},
    {SE_SACL_AUTO_INHERIT_REQ, "SE_SACL_AUTO_INHERIT_REQ"},
    {SE_DACL_AUTO_INHERITED, "SE_DACL_AUTO_INHERITED"},
    {SE_SACL_AUTO_INHERITED, "SE_SACL_AUTO_INHERITED"},
    {SE_DACL_PROTECTED, "SE_DACL_PROTECTED"},
    {SE_SACL_PROTECTED, "SE_SACL_PROTECTED"},
    {SE_RM_CONTROL_VALID, "SE_RM_CONTROL_VALID"},
    {SE_SELF_RELATIVE, "SE_SELF_RELATIVE"},
};

constexpr FlagName kAceFlagNames[] = {
    {OBJECT_INHERIT_ACE, "OBJECT_INHERIT_ACE"},
    {CONTAINER_INHERIT_ACE, "CONTAINER_INHERIT_ACE"},
    {NO_PROPAGATE_INHERIT_ACE, "NO_PROPAGATE_INHERIT_ACE"},
    {INHERIT_ONLY_ACE, "INHERIT_ONLY_ACE"},
    {INHERITED_ACE, "INHERITED_ACE"},
    {CRITICAL_ACE_FLAG, "CRITICAL_ACE_FLAG"},
    {SUCCESSFUL_ACCESS_ACE_FLAG, "SUCCESSFUL_ACCESS_ACE_FLAG"},
    {FAILED_ACCESS_ACE_FLAG, "FAILED_ACCESS_ACE_FLAG"},
};

constexpr const char* kAceTypeNames[] = {
    "ACCESS_ALLOWED_ACE_TYPE",
    "ACCESS_DENIED_ACE_TYPE",
    "SYSTEM_AUDIT_ACE_TYPE",
    "SYSTEM_ALARM_ACE_TYPE",
    "ACCESS_ALLOWED_COMPOUND_ACE_TYPE",
    "ACCESS_ALLOWED_OBJECT_ACE_TYPE",
    "ACCESS_DENIED_OBJECT_ACE_TYPE",
    "SYSTEM_AUDIT_OBJECT_ACE_TYPE",
    "SYSTEM_ALARM_OBJECT_ACE_TYPE",
    "ACCESS_ALLOWED_CALLBACK_ACE_TYPE",
    "ACCESS_DENIED_CALLBACK_ACE_TYPE",
    "ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE",
    "ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE",
    "SYSTEM_AUDIT_CALLBACK_ACE_TYPE",
    "SYSTEM_ALARM_CALLBACK_ACE_TYPE",
    "SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE",
    "SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE",
    "SYSTEM_MANDATORY_LABEL_ACE_TYPE",
    "SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE",
    "SYSTEM_SCOPED_POLICY_ID_ACE_TYPE",
    "SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE",
    "SYSTEM_ACCESS_FILTER_ACE_TYPE",
};

template <size_t N>
std::string JoinFlags(uint32_t value, const FlagName (&table)[N]) {
  std::string out;
  uint32_t known = 0;
  for (const FlagName& f : table) {
    if (value & f.bit) {
      if (!out.empty()) out += " | ";
      out += f.name;
      known |= f.bit;
    }
  }
  if (value & ~known) {
    if (!out.empty()) out += " | ";
    out += HexU32(value & ~known);
  }
  return out.empty() ? "0" : out;
}

nlohmann::json AclJson(const SecurityDescriptor& sd, bool dacl) {
  nlohmann::json j;
  const bool present = dacl ? sd.DaclPresent() : sd.SaclPresent();
  const std::optional<Acl>& acl = dacl ? sd.dacl : sd.sacl;
  j["present"] = present;
  j["null"] = present && !acl;
  if (!acl) return j;
  j["revision"] = acl->revision;
  nlohmann::json aces = nlohmann::json::array();
  for (size_t i = 0; i < acl->aces.size(); ++i) {
    const Ace& ace = acl->aces[i];
    nlohmann::json a;
    a["index"] = i;
    a["type"] = AceTypeName(ace.type);
    a["type_value"] = ace.type;
    a["flags"] = ace.flags;
    a["flag_names"] = AceFlagNames(ace.flags);
    a["mask"] = HexU32(ace.mask);
    a["rights"] = FormatSddlRights(ace.mask, ace.type);
    a["com_rights"] = FormatComRights(kComGenericMapping.Map(ace.mask));
    a["sid"] = SidJson(ace.sid);
    if (ace.object_type) a["object_type"] = ace.object_type->ToString();
    if (ace.inherited_object_type) {
      a["inherited_object_type"] = ace.inherited_object_type->ToString();
    }
    if (!ace.application_data.empty()) {
      a["application_data_bytes"] = ace.application_data.size();
    }
    auto sddl = FormatSddlAce(ace);
    if (sddl.ok()) a["sddl"] = *sddl;
    aces.push_back(std::move(a));
  }
  j["aces"] = std::move(aces);
  return j;
}

void DescribeAcl(std::string& out, const SecurityDescriptor& sd, bool dacl) {
  const char* name = dacl ? "DACL" : "SACL";
  const bool present = dacl ? sd.DaclPresent() : sd.SaclPresent();
  const std::optional<Acl>& acl = dacl ? sd.dacl : sd.sacl;
  if (!present) {
    out += std::string(name) + ": not present\n";
    return;
  }
  if (!acl) {
    out += std::string(name) + ": NULL (NO_ACCESS_CONTROL)\n";
    return;
  }
  out += std::string(name) + ": revision " + std::to_string(acl->revision) +
         ", " + std::to_string(acl->aces.size()) + " ACE" +
         (acl->aces.size() == 1 ? "" : "s") + "\n";
  for (size_t i = 0; i < acl->aces.size(); ++i) {
    const Ace& ace = acl->aces[i];
    out += "  [" + std::to_string(i) + "] " + AceSddlOrIndex(*acl, i) + "\n";
    out += "      " + AceTypeName(ace.type) + ", flags " +
           AceFlagNames(ace.flags) + "\n";
    out += "      mask " + HexU32(ace.mask);
    if (ace.IsAllow() || ace.IsDeny()) {
      out += " (COM: " + FormatComRights(kComGenericMapping.Map(ace.mask)) +
             ")";
    }
    out += "\n      " + DescribeSid(ace.sid) + "\n";
  }
}

}  // namespace

std::string DescribeSid(const Sid& sid) {
  std::string alias(AliasForSid(sid));
  std::string name(WellKnownSidName(sid));
  if (auto uid = UnixUidOf(sid)) name = "Unix User\\uid " + std::to_string(*uid);
  if (auto gid = UnixGidOf(sid)) name = "Unix Group\\gid " + std::to_string(*gid);
  std::string out = alias.empty() ? sid.ToString() : alias + " (" + sid.ToString();
  if (!name.empty()) out += (alias.empty() ? " (" : ", ") + name;
  if (!alias.empty() || !name.empty()) out += ")";
  return out;
}

nlohmann::json SidJson(const Sid& sid) {
  nlohmann::json j;
  j["sid"] = sid.ToString();
  std::string_view alias = AliasForSid(sid);
  if (!alias.empty()) j["alias"] = std::string(alias);
  std::string_view name = WellKnownSidName(sid);
  if (!name.empty()) j["name"] = std::string(name);
  if (auto uid = UnixUidOf(sid)) j["unix_uid"] = *uid;
  if (auto gid = UnixGidOf(sid)) j["unix_gid"] = *gid;
  return j;
}

std::string ControlFlagNames(uint16_t control) {
  return JoinFlags(control, kControl);
}

std::string AceTypeName(uint8_t type) {
  return type < std::size(kAceTypeNames) ? kAceTypeNames[type]
                                         : "type " + std::to_string(type);
}

std::string AceFlagNames(uint8_t flags) {
  return JoinFlags(flags, kAceFlagNames);
}

std::string AceSddlOrIndex(const Acl& acl, size_t index) {
  auto sddl = FormatSddlAce(acl.aces[index]);
  return sddl.ok() ? *sddl : "(ACE " + std::to_string(index) + ")";
}

std::string DescribeSecurityDescriptor(const SecurityDescriptor& sd) {
  std::string out;
  out += "control: " + HexU32(sd.control) + " (" + ControlFlagNames(sd.control) +
         ")\n";
  out += "owner: " + (sd.owner ? DescribeSid(*sd.owner) : "none") + "\n";
  out += "group: " + (sd.group ? DescribeSid(*sd.group) : "none") + "\n";
  DescribeAcl(out, sd, true);
  DescribeAcl(out, sd, false);
  return out;
}

nlohmann::json SecurityDescriptorJson(const SecurityDescriptor& sd) {
  nlohmann::json j;
  auto sddl = FormatSddl(sd);
  if (sddl.ok()) j["sddl"] = *sddl;
  j["control"] = HexU32(sd.control);
  j["control_flags"] = ControlFlagNames(sd.control);
  j["owner"] = sd.owner ? SidJson(*sd.owner) : nlohmann::json();
  j["group"] = sd.group ? SidJson(*sd.group) : nlohmann::json();
  j["dacl"] = AclJson(sd, true);
  j["sacl"] = AclJson(sd, false);
  return j;
}

nlohmann::json ComProblemsJson(const std::vector<ComSdProblem>& problems) {
  nlohmann::json arr = nlohmann::json::array();
  for (const ComSdProblem& p : problems) {
    nlohmann::json j;
    j["severity"] =
        p.severity == ComSdProblem::Severity::kError ? "error" : "warning";
    j["rule"] = p.rule;
    j["message"] = p.message;
    if (p.ace) j["ace"] = *p.ace;
    arr.push_back(std::move(j));
  }
  return arr;
}

nlohmann::json TokenJson(const Token& token) {
  nlohmann::json j;
  j["user"] = SidJson(token.user());
  j["logon"] = token.logon() == LogonKind::kLocal ? "local" : "network";
  j["anonymous"] = token.IsAnonymous();
  nlohmann::json groups = nlohmann::json::array();
  for (const SidAndAttributes& g : token.groups()) {
    nlohmann::json gj = SidJson(g.sid);
    gj["attributes"] = HexU32(g.attributes);
    gj["deny_only"] = (g.attributes & SE_GROUP_USE_FOR_DENY_ONLY) != 0;
    gj["enabled"] = (g.attributes & SE_GROUP_ENABLED) != 0;
    groups.push_back(std::move(gj));
  }
  j["groups"] = std::move(groups);
  if (const UnixIdentity* id = token.unix_identity()) {
    j["unix_identity"] = {{"uid", id->uid}, {"gids", id->gids}};
  }
  return j;
}

}  // namespace comsec::comcfg
