// The Kerberos server's configuration in the store (issue 12): the keytab
// and service principal names a server accepts with, and the table that
// maps a client's Kerberos principal to a local account of the account
// database (config/accounts.h). The table is the role Active Directory's
// altSecurityIdentities "Kerberos:" mappings play for principals of other
// realms ([MS-KILE] 3.4.5.4.1 names the account a ticket's client maps to):
// it lets a principal without a PAC act as an account with SIDs and groups.
//
// Layout in the policy store (readable by every local COM process; nothing
// here is secret, the keys stay in the keytab file):
//   HKLM\SOFTWARE\comsec\Kerberos               Keytab (REG_SZ),
//                                                ServicePrincipalNames
//                                                (REG_MULTI_SZ)
//   HKLM\SOFTWARE\comsec\Kerberos\PrincipalMap  one REG_SZ per principal:
//                                                name "alice@REALM", data
//                                                the account name "bob"
// Principals are stored with their realm and, like every store name,
// compared without regard to case (as Active Directory compares them).
// Which source wins when several name the caller (PAC, this table,
// auth_to_local) is the Kerberos package's rule: auth/gssapi/
// principal_mapping.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/store.h"

namespace comsec::config {

inline constexpr std::string_view kKerberosKey = "HKEY_LOCAL_MACHINE\\SOFTWARE\\comsec\\Kerberos";
inline constexpr std::string_view kKerberosPrincipalMapKey =
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\comsec\\Kerberos\\PrincipalMap";

struct KerberosConfig {
  // Empty: not configured (a server then needs --keytab or KRB5_KTNAME).
  std::string keytab;
  std::vector<std::string> spns;
  // (principal, account), in the store's order.
  std::vector<std::pair<std::string, std::string>> principal_map;
  // ConstrainedDelegation (REG_DWORD, default 0): servers keep a caller's
  // forwardable service ticket as evidence so that they can call onward as
  // the caller with S4U2Proxy where the KDC allows it
  // (auth/gssapi/kerberos_package.h). Off unless set: a server keeps no
  // caller's ticket it was not asked to.
  bool constrained_delegation = false;
};

// The whole configuration; empty fields where the store has nothing. A
// value of the wrong type fails with E_INVALIDARG naming it.
Result<KerberosConfig> ReadKerberosConfig(ReadTransaction& tx);

// The account `principal` maps to; nullopt when it has no mapping.
Result<std::optional<std::string>> FindPrincipalMapping(ReadTransaction& tx,
                                                        std::string_view principal);

// Sets the keytab and/or replaces the SPN list (only what is given), in
// one transaction. E_INVALIDARG for a relative keytab path or an SPN that
// is not service/host (with an optional @REALM).
Status SetKerberosService(Store& store, const std::optional<std::string>& keytab,
                          const std::optional<std::vector<std::string>>& spns);

// Maps `principal` ("alice@REALM"; a realm is required so that the mapping
// cannot catch a principal of another realm) to `account`, replacing an
// earlier mapping. E_INVALIDARG for a principal without a realm.
Status MapPrincipal(Store& store, std::string_view principal, std::string_view account);
// ERROR_NOT_FOUND when the principal has no mapping.
Status UnmapPrincipal(Store& store, std::string_view principal);

}  // namespace comsec::config
