// Human and JSON descriptions of security descriptors, ACEs and tokens,
// shared by comcfg's commands.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "comsec/security/access_check.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/security_descriptor.h"
#include "comsec/security/token.h"

namespace comsec::comcfg {

// "SY (S-1-5-18, NT AUTHORITY\SYSTEM)".
std::string DescribeSid(const security::Sid& sid);
nlohmann::json SidJson(const security::Sid& sid);

// "SE_DACL_PRESENT | SE_SELF_RELATIVE".
std::string ControlFlagNames(uint16_t control);
std::string AceTypeName(uint8_t type);
std::string AceFlagNames(uint8_t flags);

// Multi-line text: control, owner, group, each ACL and its ACEs.
std::string DescribeSecurityDescriptor(const security::SecurityDescriptor& sd);
nlohmann::json SecurityDescriptorJson(const security::SecurityDescriptor& sd);

nlohmann::json ComProblemsJson(
    const std::vector<security::ComSdProblem>& problems);
nlohmann::json TokenJson(const security::Token& token);

// The ACE as SDDL, or "(ACE n)" when it cannot be written as SDDL.
std::string AceSddlOrIndex(const security::Acl& acl, size_t index);

}  // namespace comsec::comcfg
