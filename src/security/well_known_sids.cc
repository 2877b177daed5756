#include "comsec/security/well_known_sids.h"

#include <cstring>

#include "comsec/base/win32_error.h"

namespace comsec::security {
namespace {

enum class Base : uint8_t { kAbsolute, kDomain, kRootDomain };

struct AliasEntry {
  char alias[3];
  Base base;
  uint64_t authority;  // absolute entries only
  uint8_t count;
  uint32_t subs[6];    // for relative entries: subs[0] is the RID
};

// [MS-DTYP] 2.5.1.1, in alias order. When two aliases name the same SID the
// first one listed is the one Windows writes.
constexpr AliasEntry kAliases[] = {
    {"AA", Base::kAbsolute, 5, 2, {32, 579}},
    {"AC", Base::kAbsolute, 15, 2, {2, 1}},
    {"AN", Base::kAbsolute, 5, 1, {7}},
    {"AO", Base::kAbsolute, 5, 2, {32, 548}},
    {"AP", Base::kDomain, 0, 1, {525}},
    {"AS", Base::kAbsolute, 18, 1, {1}},
    {"AU", Base::kAbsolute, 5, 1, {11}},
    {"BA", Base::kAbsolute, 5, 2, {32, 544}},
    {"BG", Base::kAbsolute, 5, 2, {32, 546}},
    {"BO", Base::kAbsolute, 5, 2, {32, 551}},
    {"BU", Base::kAbsolute, 5, 2, {32, 545}},
    {"CA", Base::kDomain, 0, 1, {517}},
    {"CD", Base::kAbsolute, 5, 2, {32, 574}},
    {"CG", Base::kAbsolute, 3, 1, {1}},
    {"CN", Base::kDomain, 0, 1, {522}},
    {"CO", Base::kAbsolute, 3, 1, {0}},
    {"CY", Base::kAbsolute, 5, 2, {32, 569}},
    {"DA", Base::kDomain, 0, 1, {512}},
    {"DC", Base::kDomain, 0, 1, {515}},
    {"DD", Base::kDomain, 0, 1, {516}},
    {"DG", Base::kDomain, 0, 1, {514}},
    {"DU", Base::kDomain, 0, 1, {513}},
    {"EA", Base::kRootDomain, 0, 1, {519}},
    {"ED", Base::kAbsolute, 5, 1, {9}},
    {"EK", Base::kRootDomain, 0, 1, {527}},
    {"ER", Base::kAbsolute, 5, 2, {32, 573}},
    {"ES", Base::kAbsolute, 5, 2, {32, 576}},
    {"HA", Base::kAbsolute, 5, 2, {32, 578}},
    {"HI", Base::kAbsolute, 16, 1, {12288}},
    {"HO", Base::kAbsolute, 5, 2, {32, 584}},
    {"IS", Base::kAbsolute, 5, 2, {32, 568}},
    {"IU", Base::kAbsolute, 5, 1, {4}},
    {"KA", Base::kDomain, 0, 1, {526}},
    {"LA", Base::kDomain, 0, 1, {500}},
    {"LG", Base::kDomain, 0, 1, {501}},
    {"LS", Base::kAbsolute, 5, 1, {19}},
    {"LU", Base::kAbsolute, 5, 2, {32, 559}},
    {"LW", Base::kAbsolute, 16, 1, {4096}},
    {"ME", Base::kAbsolute, 16, 1, {8192}},
    {"MP", Base::kAbsolute, 16, 1, {8448}},
    {"MU", Base::kAbsolute, 5, 2, {32, 558}},
    {"NO", Base::kAbsolute, 5, 2, {32, 556}},
    {"NS", Base::kAbsolute, 5, 1, {20}},
    {"NU", Base::kAbsolute, 5, 1, {2}},
    {"OW", Base::kAbsolute, 3, 1, {4}},
    {"PA", Base::kRootDomain, 0, 1, {520}},
    {"PO", Base::kAbsolute, 5, 2, {32, 550}},
    {"PS", Base::kAbsolute, 5, 1, {10}},
    {"PU", Base::kAbsolute, 5, 2, {32, 547}},
    {"RA", Base::kAbsolute, 5, 2, {32, 575}},
    {"RC", Base::kAbsolute, 5, 1, {12}},
    {"RD", Base::kAbsolute, 5, 2, {32, 555}},
    {"RE", Base::kAbsolute, 5, 2, {32, 552}},
    {"RM", Base::kAbsolute, 5, 2, {32, 580}},
    {"RO", Base::kRootDomain, 0, 1, {498}},
    {"RS", Base::kDomain, 0, 1, {553}},
    {"RU", Base::kAbsolute, 5, 2, {32, 554}},
    {"SA", Base::kRootDomain, 0, 1, {518}},
    {"SH", Base::kAbsolute, 5, 2, {32, 585}},
    {"SI", Base::kAbsolute, 16, 1, {16384}},
    {"SO", Base::kAbsolute, 5, 2, {32, 549}},
    {"SS", Base::kAbsolute, 18, 1, {2}},
    {"SU", Base::kAbsolute, 5, 1, {6}},
    {"SY", Base::kAbsolute, 5, 1, {18}},
    {"UD", Base::kAbsolute, 5, 6, {84, 0, 0, 0, 0, 0}},
    {"WD", Base::kAbsolute, 1, 1, {0}},
    {"WR", Base::kAbsolute, 5, 1, {33}},
};

const Sid* BaseFor(const AliasEntry& e, const SidAliasContext& c) {
  if (e.base == Base::kDomain) return c.domain;
  return c.root_domain ? c.root_domain : c.domain;
}

struct NameEntry {
  uint64_t authority;
  uint8_t count;
  uint32_t subs[2];
  const char* name;
};

constexpr NameEntry kNames[] = {
    {0, 1, {0}, "NULL SID"},
    {1, 1, {0}, "Everyone"},
    {2, 1, {0}, "LOCAL"},
    {2, 1, {1}, "CONSOLE LOGON"},
    {3, 1, {0}, "CREATOR OWNER"},
    {3, 1, {1}, "CREATOR GROUP"},
    {3, 1, {4}, "OWNER RIGHTS"},
    {5, 1, {1}, "NT AUTHORITY\\DIALUP"},
    {5, 1, {2}, "NT AUTHORITY\\NETWORK"},
    {5, 1, {3}, "NT AUTHORITY\\BATCH"},
    {5, 1, {4}, "NT AUTHORITY\\INTERACTIVE"},
    {5, 1, {6}, "NT AUTHORITY\\SERVICE"},
    {5, 1, {7}, "NT AUTHORITY\\ANONYMOUS LOGON"},
    {5, 1, {9}, "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS"},
    {5, 1, {10}, "NT AUTHORITY\\SELF"},
    {5, 1, {11}, "NT AUTHORITY\\Authenticated Users"},
    {5, 1, {12}, "NT AUTHORITY\\RESTRICTED"},
    {5, 1, {13}, "NT AUTHORITY\\TERMINAL SERVER USER"},
    {5, 1, {14}, "NT AUTHORITY\\REMOTE INTERACTIVE LOGON"},
    {5, 1, {15}, "NT AUTHORITY\\This Organization"},
    {5, 1, {18}, "NT AUTHORITY\\SYSTEM"},
    {5, 1, {19}, "NT AUTHORITY\\LOCAL SERVICE"},
    {5, 1, {20}, "NT AUTHORITY\\NETWORK SERVICE"},
    {5, 1, {33}, "NT AUTHORITY\\WRITE RESTRICTED"},
    {5, 1, {113}, "NT AUTHORITY\\Local account"},
    {5, 2, {32, 544}, "BUILTIN\\Administrators"},
    {5, 2, {32, 545}, "BUILTIN\\Users"},
    {5, 2, {32, 546}, "BUILTIN\\Guests"},
    {5, 2, {32, 547}, "BUILTIN\\Power Users"},
    {5, 2, {32, 551}, "BUILTIN\\Backup Operators"},
    {5, 2, {32, 555}, "BUILTIN\\Remote Desktop Users"},
    {5, 2, {32, 558}, "BUILTIN\\Performance Monitor Users"},
    {5, 2, {32, 559}, "BUILTIN\\Performance Log Users"},
    {5, 2, {32, 562}, "BUILTIN\\Distributed COM Users"},
    {5, 2, {32, 568}, "BUILTIN\\IIS_IUSRS"},
    {5, 2, {32, 573}, "BUILTIN\\Event Log Readers"},
    {16, 1, {4096}, "Mandatory Label\\Low Mandatory Level"},
    {16, 1, {8192}, "Mandatory Label\\Medium Mandatory Level"},
    {16, 1, {8448}, "Mandatory Label\\Medium Plus Mandatory Level"},
    {16, 1, {12288}, "Mandatory Label\\High Mandatory Level"},
    {16, 1, {16384}, "Mandatory Label\\System Mandatory Level"},
    {15, 2, {2, 1}, "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES"},
};

bool Matches(const Sid& sid, uint64_t authority, uint8_t count,
             const uint32_t* subs) {
  if (sid.authority() != authority || sid.sub_authority_count() != count) {
    return false;
  }
  for (int i = 0; i < count; ++i) {
    if (sid.sub_authority(i) != subs[i]) return false;
  }
  return true;
}

}  // namespace

Result<Sid> SidFromAlias(std::string_view alias,
                         const SidAliasContext& context) {
  for (const AliasEntry& e : kAliases) {
    if (alias != e.alias) continue;
    if (e.base == Base::kAbsolute) {
      return Sid(e.authority, std::span<const uint32_t>(e.subs, e.count));
    }
    const Sid* base = BaseFor(e, context);
    if (base == nullptr) {
      return Status(ERROR_INVALID_SID,
                    "SID alias " + std::string(alias) +
                        " is relative to a domain, and no domain SID is "
                        "configured; write the full S-1-5-21-... SID");
    }
    if (base->sub_authority_count() >= Sid::kMaxSubAuthorities) {
      return Status(ERROR_INVALID_SID, "domain SID " + base->ToString() +
                                             " has no room for a RID");
    }
    return base->WithRid(e.subs[0]);
  }
  return Status(ERROR_INVALID_SID,
                "\"" + std::string(alias) + "\" is not an SDDL SID alias");
}

std::string_view AliasForSid(const Sid& sid, const SidAliasContext& context) {
  for (const AliasEntry& e : kAliases) {
    if (e.base == Base::kAbsolute) {
      if (Matches(sid, e.authority, e.count, e.subs)) return e.alias;
      continue;
    }
    const Sid* base = BaseFor(e, context);
    if (base != nullptr && sid.IsInDomain(*base) && sid.Rid() == e.subs[0]) {
      return e.alias;
    }
  }
  return "";
}

std::string_view WellKnownSidName(const Sid& sid) {
  for (const NameEntry& e : kNames) {
    if (Matches(sid, e.authority, e.count, e.subs)) return e.name;
  }
  return "";
}

namespace well_known {
#define COMSEC_WELL_KNOWN(fn, ...)  \
  const Sid& fn() {                 \
    static const Sid sid(__VA_ARGS__); \
    return sid;                     \
  }
COMSEC_WELL_KNOWN(Null, 0, {0})
COMSEC_WELL_KNOWN(Everyone, 1, {0})
COMSEC_WELL_KNOWN(Local, 2, {0})
COMSEC_WELL_KNOWN(CreatorOwner, 3, {0})
COMSEC_WELL_KNOWN(OwnerRights, 3, {4})
COMSEC_WELL_KNOWN(Network, 5, {2})
COMSEC_WELL_KNOWN(Interactive, 5, {4})
COMSEC_WELL_KNOWN(Service, 5, {6})
COMSEC_WELL_KNOWN(Anonymous, 5, {7})
COMSEC_WELL_KNOWN(PrincipalSelf, 5, {10})
COMSEC_WELL_KNOWN(AuthenticatedUsers, 5, {11})
COMSEC_WELL_KNOWN(LocalSystem, 5, {18})
COMSEC_WELL_KNOWN(LocalService, 5, {19})
COMSEC_WELL_KNOWN(NetworkService, 5, {20})
COMSEC_WELL_KNOWN(BuiltinAdministrators, 5, {32, 544})
COMSEC_WELL_KNOWN(BuiltinUsers, 5, {32, 545})
COMSEC_WELL_KNOWN(BuiltinGuests, 5, {32, 546})
COMSEC_WELL_KNOWN(DistributedComUsers, 5, {32, 562})
#undef COMSEC_WELL_KNOWN
}  // namespace well_known

Sid UnixUserSid(uint32_t uid) { return Sid(22, {1, uid}); }
Sid UnixGroupSid(uint32_t gid) { return Sid(22, {2, gid}); }

std::optional<uint32_t> UnixUidOf(const Sid& sid) {
  if (sid.authority() == 22 && sid.sub_authority_count() == 2 &&
      sid.sub_authority(0) == 1) {
    return sid.sub_authority(1);
  }
  return std::nullopt;
}

std::optional<uint32_t> UnixGidOf(const Sid& sid) {
  if (sid.authority() == 22 && sid.sub_authority_count() == 2 &&
      sid.sub_authority(0) == 2) {
    return sid.sub_authority(1);
  }
  return std::nullopt;
}

}  // namespace comsec::security
