#include "comcfg/store_access.h"

#include <sys/stat.h>

#include <ostream>

#include "comsec/base/win32_error.h"

namespace comsec::comcfg {

std::string StorePath(const GlobalOptions& global) {
  return global.store.empty() ? kSystemStorePath : global.store;
}

Result<std::unique_ptr<config::Store>> OpenStore(const GlobalOptions& global,
                                                 StoreAccess access) {
  std::string path = StorePath(global);
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status(ERROR_NOT_FOUND,
                  "no configuration store at " + path +
                      "; create one with 'comcfg --store " + path + " init'");
  }
  config::StoreOptions options;
  options.create_if_missing = false;
  options.read_only = access == StoreAccess::kRead;
  return config::Store::Open(path, options);
}

int ReportFailure(const Io& io, const Status& status) {
  io.err << "comcfg: error: " << status.message() << " ["
         << status.code().ToString() << "]\n";
  // Missing keys, values, AppIDs and classes are "not found" (1), and so
  // is a store this user may not change or read ("denied", 1).
  constexpr HResult kClassNotRegistered{0x80040154u};  // REGDB_E_CLASSNOTREG
  constexpr HResult kKeyMissing{0x80040152u};          // REGDB_E_KEYMISSING
  const HResult hr = status.code();
  return hr == ERROR_NOT_FOUND || hr == kClassNotRegistered || hr == E_ACCESSDENIED ||
                 hr == kKeyMissing || hr == ERROR_NO_SUCH_USER ||
                 hr == ERROR_NO_SUCH_GROUP
             ? kExitDenied
             : kExitBadInput;
}

}  // namespace comsec::comcfg
