// The well-known SIDs comsec uses, and the SDDL SID aliases of
// [MS-DTYP] 2.5.1.1 in both directions.
//
// Some aliases are relative to a domain (DA = <domain>-512, LA = <domain>-500)
// or to the forest root domain (EA = <root>-519). They resolve only when the
// caller supplies that domain SID; without it they are an error rather than a
// guess.
#pragma once

#include <optional>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/security/sid.h"

namespace comsec::security {

// Domains that SDDL aliases may be relative to. Either may be null.
struct SidAliasContext {
  const Sid* domain = nullptr;       // the machine or account domain
  const Sid* root_domain = nullptr;  // the forest root; defaults to `domain`
};

// Resolves a two-letter SDDL alias (upper case, as Windows requires).
// E_INVALIDARG-class error (ERROR_INVALID_SID) for an unknown alias or a
// domain-relative one without its domain.
Result<Sid> SidFromAlias(std::string_view alias,
                         const SidAliasContext& context = {});

// The alias Windows writes for `sid`, or "" when it has none.
std::string_view AliasForSid(const Sid& sid,
                             const SidAliasContext& context = {});

// A display name for well-known SIDs ("NT AUTHORITY\SYSTEM",
// "BUILTIN\Administrators", "Everyone"), or "" when not well known.
std::string_view WellKnownSidName(const Sid& sid);

// The SIDs the security model names directly.
namespace well_known {
const Sid& Null();                  // S-1-0-0
const Sid& Everyone();              // S-1-1-0      WD
const Sid& Local();                 // S-1-2-0      (LOCAL logon group)
const Sid& CreatorOwner();          // S-1-3-0      CO
const Sid& OwnerRights();           // S-1-3-4      OW
const Sid& Network();               // S-1-5-2      NU
const Sid& Interactive();           // S-1-5-4      IU
const Sid& Service();               // S-1-5-6      SU
const Sid& Anonymous();             // S-1-5-7      AN
const Sid& PrincipalSelf();         // S-1-5-10     PS
const Sid& AuthenticatedUsers();    // S-1-5-11     AU
const Sid& LocalSystem();           // S-1-5-18     SY
const Sid& LocalService();          // S-1-5-19     LS
const Sid& NetworkService();        // S-1-5-20     NS
const Sid& BuiltinAdministrators(); // S-1-5-32-544 BA
const Sid& BuiltinUsers();          // S-1-5-32-545 BU
const Sid& BuiltinGuests();         // S-1-5-32-546 BG
const Sid& DistributedComUsers();   // S-1-5-32-562 (no alias)
}  // namespace well_known

// Unix identities as Samba maps them: S-1-22-1-uid and S-1-22-2-gid.
Sid UnixUserSid(uint32_t uid);
Sid UnixGroupSid(uint32_t gid);
// The uid/gid inside such a SID, if it is one.
std::optional<uint32_t> UnixUidOf(const Sid& sid);
std::optional<uint32_t> UnixGidOf(const Sid& sid);

}  // namespace comsec::security
