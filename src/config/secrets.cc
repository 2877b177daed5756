#include "comsec/config/secrets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"

namespace comsec::config {
namespace {

constexpr std::string_view kDbSuffix = ".db";

// Tightens a secrets file (and its -wal/-shm) that others could read.
Status CheckMode(const std::string& path) {
  for (const std::string& p : {path, path + "-wal", path + "-shm"}) {
    struct stat st;
    if (lstat(p.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode)) {
      return Status(E_ACCESSDENIED, p + " is not a regular file; refusing to keep secrets in it");
    }
    if ((st.st_mode & 077) == 0) continue;
    if (st.st_uid != geteuid() || chmod(p.c_str(), kSecretsFileMode) != 0) {
      return Status(E_ACCESSDENIED,
                    p + " can be read by other users (mode " +
                        std::to_string((st.st_mode >> 6) & 7) +
                        std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                        "); its owner must make it private: chmod 600 " + p);
    }
  }
  return Status();
}

}  // namespace

std::string SecretsPathFor(const std::string& store_path) {
  if (store_path.size() > kDbSuffix.size() && store_path.ends_with(kDbSuffix)) {
    return store_path.substr(0, store_path.size() - kDbSuffix.size()) + ".secrets.db";
  }
  return store_path + ".secrets.db";
}

Status MigrateAccountsToSecrets(Store& policy, Store& secrets) {
  const KeyPath sam = *KeyPath::Parse(kSamKey);
  std::vector<KeyContents> tree;
  {
    COMSEC_ASSIGN_OR_RETURN(auto read, policy.BeginRead());
    COMSEC_ASSIGN_OR_RETURN(bool present, read->KeyExists(sam));
    if (!present) return Status();
    COMSEC_ASSIGN_OR_RETURN(tree, read->ReadTree(sam));
  }
  {
    COMSEC_ASSIGN_OR_RETURN(auto write, secrets.BeginWrite());
    COMSEC_ASSIGN_OR_RETURN(bool already, write->reader().KeyExists(sam));
    if (already) {
      return Status(E_UNEXPECTED,
                    "both " + policy.path() + " and its secrets file " + secrets.path() +
                        " hold an account database; remove the stale one by hand");
    }
    for (const KeyContents& key : tree) {
      COMSEC_RETURN_IF_ERROR(write->CreateKey(key.path));
      for (const RegValue& v : key.values) COMSEC_RETURN_IF_ERROR(write->SetValue(key.path, v));
    }
    COMSEC_RETURN_IF_ERROR(write->Commit());
  }
  return policy.EraseSecurely(sam);
}

Result<std::unique_ptr<Store>> OpenSecrets(const std::string& store_path,
                                           const SecretsOptions& options) {
  const std::string path = SecretsPathFor(store_path);
  const bool existed = access(path.c_str(), F_OK) == 0;
  const Status private_file(E_ACCESSDENIED,
                            "the account database " + path +
                                " holds password hashes and may be read only by its owner "
                                "(the user comsecd runs as); run the command as that user");
  if (existed && access(path.c_str(), R_OK) != 0 && errno == EACCES) return private_file;
  if (existed) COMSEC_RETURN_IF_ERROR(CheckMode(path));
  if (!existed && (options.read_only || !options.create_if_missing)) {
    return Status(ERROR_NOT_FOUND, "no account database yet (" + path +
                                         " does not exist); create an account with "
                                         "'comcfg user add NAME'");
  }
  StoreOptions o;
  o.create_if_missing = options.create_if_missing;
  o.read_only = options.read_only;
  o.file_mode = kSecretsFileMode;
  auto secrets = Store::Open(path, o);
  if (!secrets.ok()) {
    if (access(path.c_str(), R_OK) != 0 && errno == EACCES) return private_file;
    return secrets.status();
  }
  if (!options.read_only) {
    // Accounts left inside the policy store by an older comsec move here.
    StoreOptions policy_options;
    policy_options.create_if_missing = false;
    if (access(store_path.c_str(), W_OK) == 0) {
      auto policy = Store::Open(store_path, policy_options);
      if (policy.ok()) {
        COMSEC_RETURN_IF_ERROR(MigrateAccountsToSecrets(**policy, **secrets));
      }
    }
  }
  return secrets;
}

}  // namespace comsec::config
