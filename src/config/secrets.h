// The secrets file: the account database (HKLM\SAM: the machine domain,
// users with their NT hashes, groups) in its own store file beside the
// policy store, mode 0600 and owned by the user comsecd runs as — as
// Windows keeps the SAM for LSASS alone while the rest of the registry is
// readable. Servers that may not read it validate logons through comsecd
// (auth/ntlm/logon_service.h).
//
//   /var/lib/comsec/store.db           policy (0644, written by its owner)
//   /var/lib/comsec/store.secrets.db   secrets (0600)
//
// A store made before the split kept HKLM\SAM inside the policy store: the
// first open of the secrets file by the policy store's owner moves it
// there and erases it from the policy store (zeroed pages, emptied log).
#pragma once

#include <memory>
#include <string>

#include "comsec/base/result.h"
#include "comsec/config/store.h"

namespace comsec::config {

inline constexpr unsigned kSecretsFileMode = 0600;

// "<dir>/<name>.secrets.db" for "<dir>/<name>.db", else "<path>.secrets.db".
std::string SecretsPathFor(const std::string& store_path);

struct SecretsOptions {
  bool create_if_missing = true;
  bool read_only = false;
};

// Opens the secrets file of the policy store at `store_path`, creating it
// (0600) and migrating an old store's accounts as described above. A
// caller that may not read it gets E_ACCESSDENIED saying who may; a file
// whose mode lets others read it is tightened to 0600 when the caller owns
// it, and refused otherwise.
Result<std::unique_ptr<Store>> OpenSecrets(const std::string& store_path,
                                           const SecretsOptions& options = {});

// Moves HKLM\SAM from `policy` into `secrets` (one transaction there), then
// erases it from `policy` securely. Nothing to do when `policy` has none.
Status MigrateAccountsToSecrets(Store& policy, Store& secrets);

}  // namespace comsec::config
