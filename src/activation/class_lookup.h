// What the registry says about a class the SCM is asked for
// (HKLM\SOFTWARE\Classes\CLSID\{clsid} and its AppID, R128, R159–R162):
// how its server starts (LocalServer32's command line, or InprocServer32's
// library in a DllSurrogate), under which AppID's security, as whom
// (RunAs). Read in one transaction, so a class and its AppID are seen
// together.
//
// Thread-safety: a free function on a transaction the caller owns.
#pragma once

#include <optional>
#include <string>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/config/store.h"

namespace comsec::activation {

struct ClassRegistrationInfo {
  Guid clsid;
  bool registered = false;  // the CLSID key exists
  // The AppID value, GUID_NULL when absent (then the class follows the
  // machine defaults, as an AppID with no values does).
  Guid appid;
  bool appid_registered = false;
  std::string local_server;     // LocalServer32's default value ("" = none)
  std::string inproc_server;    // InprocServer32's default value
  // The AppID's DllSurrogate value is present ("" = the default surrogate).
  bool dll_surrogate = false;
  std::string dll_surrogate_path;
  std::optional<std::string> run_as;  // the AppID's RunAs; absent = As Activator
};

// REGDB_E_CLASSNOTREG is not an error here: `registered` says it. Errors
// are the store's, or RPC_E_INVALID_DATA... for a malformed AppID value
// (CO_E_APPNOTFOUND when the AppID value is not a GUID).
Result<ClassRegistrationInfo> LookUpClass(config::ReadTransaction& tx, const Guid& clsid);

}  // namespace comsec::activation
