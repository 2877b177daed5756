#include "comsec/com/dcom_access_control.h"

#include <algorithm>

#include "comsec/com/server_security.h"
#include "comsec/security/access_check.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::com {
namespace {

Result<security::Sid> DefaultResolve(const std::string& name) {
  if (name.rfind("unix:", 0) == 0) {
    auto user = security::LookupUnixUserByName(name.substr(5));
    if (user.ok()) return security::UnixUserSid(user->uid);
    return Status(CO_E_NOMATCHINGSIDFOUND, "no Unix user " + name.substr(5));
  }
  if (auto sid = security::Sid::Parse(name); sid.ok()) return *sid;
  if (auto alias = security::SidFromAlias(name); alias.ok()) return *alias;
  return Status(CO_E_NOMATCHINGSIDFOUND, "no SID for trustee name '" + name + "'");
}

Status CheckProperty(uint32_t property_entries, const std::optional<std::u16string>& property) {
  // COM's implementation: one property entry, lpProperty NULL (R157).
  if (property_entries != 1) {
    return Status(E_INVALIDARG, "IAccessControl: COM's implementation takes exactly one property "
                                "entry (cEntries = 1)");
  }
  if (property) return Status(E_INVALIDARG, "IAccessControl: lpProperty must be NULL");
  return Status::Ok();
}

}  // namespace

DcomAccessControl::DcomAccessControl(NameResolver resolver)
    : resolver_(resolver ? std::move(resolver) : NameResolver(DefaultResolve)) {}

Result<security::Sid> DcomAccessControl::SidOf(const Trustee& t) const {
  if (t.sid) return *t.sid;
  if (t.name.empty()) return Status(CO_E_INVALIDSID, "IAccessControl: a trustee without SID or name");
  return resolver_(t.name);
}

Result<std::vector<DcomAccessControl::Entry>> DcomAccessControl::Resolve(
    const ActrlAccess& list) const {
  COMSEC_RETURN_IF_ERROR(CheckProperty(list.property_entries, list.property));
  std::vector<Entry> out;
  for (const ActrlAccessEntry& e : list.entries) {
    if (e.access_flags != ACTRL_ACCESS_ALLOWED && e.access_flags != ACTRL_ACCESS_DENIED) {
      return Status(E_INVALIDARG, "IAccessControl: fAccessFlags is neither ACTRL_ACCESS_ALLOWED "
                                  "nor ACTRL_ACCESS_DENIED");
    }
    if (e.access & ~security::COM_RIGHTS_EXECUTE) {
      return Status(E_INVALIDARG, "IAccessControl: COM's implementation knows only "
                                  "COM_RIGHTS_EXECUTE (1)");
    }
    COMSEC_ASSIGN_OR_RETURN(security::Sid sid, SidOf(e.trustee));
    out.push_back({std::move(sid), e.access_flags == ACTRL_ACCESS_DENIED,
                   e.access == 0 ? security::COM_RIGHTS_EXECUTE : e.access});
  }
  return out;
}

HResult DcomAccessControl::GrantAccessRights(const ActrlAccess& list) {
  auto added = Resolve(list);
  if (!added.ok()) return added.status().code();
  std::lock_guard<std::mutex> lock(mu_);
  // New denies, old denies, new allows, old allows (R157).
  std::vector<Entry> merged;
  for (bool deny : {true, false}) {
    for (const auto* from : {&*added, &entries_}) {
      for (const Entry& e : *from) {
        if (e.deny == deny) merged.push_back(e);
      }
    }
  }
  entries_ = std::move(merged);
  return S_OK;
}

HResult DcomAccessControl::SetAccessRights(const ActrlAccess& list) {
  auto entries = Resolve(list);
  if (!entries.ok()) return entries.status().code();
  std::lock_guard<std::mutex> lock(mu_);
  entries_ = std::move(*entries);
  return S_OK;
}

HResult DcomAccessControl::SetOwner(const Trustee*, const Trustee*) {
  return E_NOTIMPL;  // R157: COM's implementation does not implement it
}

HResult DcomAccessControl::RevokeAccessRights(const std::optional<std::u16string>& property,
                                              const std::vector<Trustee>& trustees) {
  if (Status s = CheckProperty(1, property); !s.ok()) return s.code();
  if (trustees.empty()) return E_INVALIDARG;
  std::vector<security::Sid> sids;
  for (const Trustee& t : trustees) {
    auto sid = SidOf(t);
    if (!sid.ok()) return sid.status().code();
    sids.push_back(*sid);
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Only the explicit entries: membership of a granted group still counts.
  std::erase_if(entries_, [&](const Entry& e) {
    return std::find(sids.begin(), sids.end(), e.sid) != sids.end();
  });
  return S_OK;
}

Result<ActrlAccess> DcomAccessControl::GetAllAccessRights(
    const std::optional<std::u16string>& property) const {
  COMSEC_RETURN_IF_ERROR(CheckProperty(1, property));
  ActrlAccess out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : entries_) {
    out.entries.push_back({Trustee::OfSid(e.sid), e.deny ? ACTRL_ACCESS_DENIED : ACTRL_ACCESS_ALLOWED,
                           e.access});
  }
  return out;
}

bool DcomAccessControl::Check(const security::Token& token, uint32_t rights) const {
  security::SecurityDescriptor sd;
  sd.owner = security::well_known::BuiltinAdministrators();
  sd.group = security::well_known::BuiltinAdministrators();
  security::Acl acl;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Entry& e : entries_) {
      security::Ace ace;
      ace.type = e.deny ? security::ACCESS_DENIED_ACE_TYPE : security::ACCESS_ALLOWED_ACE_TYPE;
      ace.mask = e.access;
      ace.sid = e.sid;
      acl.aces.push_back(std::move(ace));
    }
  }
  sd.SetDacl(std::move(acl));
  return security::AccessCheck(sd, token, rights == 0 ? security::COM_RIGHTS_EXECUTE : rights)
      .allowed;
}

Result<bool> DcomAccessControl::IsAccessAllowed(const Trustee& trustee,
                                                const std::optional<std::u16string>& property,
                                                uint32_t rights) const {
  COMSEC_RETURN_IF_ERROR(CheckProperty(1, property));
  if (rights > security::COM_RIGHTS_EXECUTE) {
    return Status(E_INVALIDARG, "IAccessControl::IsAccessAllowed: COM's implementation takes the "
                                "rights 0 and 1 only");
  }
  // Only during a call, and only for its client (R157).
  COMSEC_ASSIGN_OR_RETURN(std::shared_ptr<ServerSecurity> call, CoGetCallContext());
  const auto& token = call->security().token;
  COMSEC_ASSIGN_OR_RETURN(security::Sid sid, SidOf(trustee));
  if (!token || token->user() != sid) {
    return Status(CO_E_TRUSTEEDOESNTMATCHCLIENT,
                  "IAccessControl::IsAccessAllowed: the trustee is not the call's client");
  }
  return Check(*token, rights);
}

Result<bool> DcomAccessControl::IsAccessAllowed(const security::Token& trustee, uint32_t rights) {
  return Check(trustee, rights);
}

}  // namespace comsec::com
