// COM's own IAccessControl (CLSID_DCOMAccessControl, R157-R158): a list of
// allow and deny entries for trustees, each granting or denying
// COM_RIGHTS_EXECUTE, that a server hands to CoInitializeSecurity with
// EOAC_ACCESS_CONTROL (R49, R65) so that every call is checked against it
// (R143).
//
//   auto acl = std::make_shared<DcomAccessControl>();
//   ActrlAccess list;                       // one property entry, lpProperty NULL
//   list.entries = {{Trustee::OfSid(alice_sid), ACTRL_ACCESS_ALLOWED, COM_RIGHTS_EXECUTE}};
//   acl->GrantAccessRights(list);
//   cis.capabilities = EOAC_ACCESS_CONTROL;
//   cis.sec_desc = CoInitializeSecurityParams::SecDesc::kAccessControl;
//   cis.access_control = acl;
//
// As COM's implementation: GrantAccessRights merges (new denies, old
// denies, new allows, old allows); SetAccessRights replaces;
// RevokeAccessRights removes a trustee's explicit entries only (it may
// still get access through a group); SetOwner is E_NOTIMPL; every method
// takes exactly one property entry with no property name (E_INVALIDARG
// otherwise); IsAccessAllowed answers only during a call and only for that
// call's client (CO_E_TRUSTEEDOESNTMATCHCLIENT), for the rights 0 and 1.
// Entries are evaluated in order, as AccessCheck reads an ACL.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/hresult.h"
#include "comsec/base/result.h"
#include "comsec/com/process_security.h"
#include "comsec/security/sid.h"
#include "comsec/security/token.h"

namespace comsec::com {

// CLSID_DCOMAccessControl {0000031D-0000-0000-C000-000000000046}.
inline constexpr Guid kClsidDcomAccessControl{0x0000031Du, 0x0000, 0x0000,
                                              {0xC0, 0, 0, 0, 0, 0, 0, 0x46}};

// ACTRL_ACCESS_ENTRY.fAccessFlags (R156).
inline constexpr uint32_t ACTRL_ACCESS_ALLOWED = 0x00000000;
inline constexpr uint32_t ACTRL_ACCESS_DENIED = 0x10000000;

// R158.
inline constexpr HResult CO_E_TRUSTEEDOESNTMATCHCLIENT{0x80010127u};
inline constexpr HResult CO_E_ACCESSCHECKFAILED{0x8001012Au};
inline constexpr HResult CO_E_INVALIDSID{0x8001012Du};
inline constexpr HResult CO_E_NOMATCHINGSIDFOUND{0x8001012Fu};

// TRUSTEE_W: by SID (TRUSTEE_IS_SID) or by name (TRUSTEE_IS_NAME), a name
// being resolved by the object's name resolver.
struct Trustee {
  std::optional<security::Sid> sid;
  std::string name;
  static Trustee OfSid(security::Sid s) { return Trustee{std::move(s), {}}; }
  static Trustee OfName(std::string n) { return Trustee{std::nullopt, std::move(n)}; }
};

struct ActrlAccessEntry {
  Trustee trustee;
  uint32_t access_flags = ACTRL_ACCESS_ALLOWED;
  uint32_t access = 1;  // COM_RIGHTS_EXECUTE
};

// ACTRL_ACCESSW with its one ACTRL_PROPERTY_ENTRY: `property_entries` is
// cEntries (COM's implementation takes 1), `property` lpProperty (NULL).
struct ActrlAccess {
  uint32_t property_entries = 1;
  std::optional<std::u16string> property;
  std::vector<ActrlAccessEntry> entries;
};

class DcomAccessControl final : public AccessControl {
 public:
  // Resolves TRUSTEE_IS_NAME names to SIDs; the default takes SID strings,
  // SDDL aliases and unix:NAME. CO_E_NOMATCHINGSIDFOUND when it cannot.
  using NameResolver = std::function<Result<security::Sid>(const std::string&)>;
  explicit DcomAccessControl(NameResolver resolver = {});

  HResult GrantAccessRights(const ActrlAccess& list);
  HResult SetAccessRights(const ActrlAccess& list);
  HResult SetOwner(const Trustee* owner, const Trustee* group);  // E_NOTIMPL
  HResult RevokeAccessRights(const std::optional<std::u16string>& property,
                             const std::vector<Trustee>& trustees);
  Result<ActrlAccess> GetAllAccessRights(const std::optional<std::u16string>& property) const;
  // IsAccessAllowed as COM's callers make it: during a call, for its client.
  Result<bool> IsAccessAllowed(const Trustee& trustee,
                               const std::optional<std::u16string>& property,
                               uint32_t rights) const;

  // The seam the access check uses (R143), with the caller's token.
  Result<bool> IsAccessAllowed(const security::Token& trustee, uint32_t rights) override;

 private:
  struct Entry {
    security::Sid sid;
    bool deny;
    uint32_t access;
  };
  Result<std::vector<Entry>> Resolve(const ActrlAccess& list) const;
  Result<security::Sid> SidOf(const Trustee& t) const;
  bool Check(const security::Token& token, uint32_t rights) const;

  NameResolver resolver_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;
};

}  // namespace comsec::com
