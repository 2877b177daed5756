// The class objects a process has registered: CoRegisterClassObject,
// CoRevokeClassObject, CoResumeClassObjects, and the lookup CoGetClassObject
// and the SCM's activation (issue 15) make in a running server.
//
// Windows's semantics, as "CoRegisterClassObject" and "REGCLS" document
// them:
//   * CLSCTX_LOCAL_SERVER makes the class object available to other
//     processes (through the SCM); CLSCTX_INPROC_SERVER to this process's
//     own CoGetClassObject/CoCreateInstance. REGCLS_MULTIPLEUSE with
//     CLSCTX_LOCAL_SERVER also registers it for CLSCTX_INPROC_SERVER;
//     REGCLS_MULTI_SEPARATE keeps the contexts separate (in-process callers
//     then load their own server, i.e. find nothing here).
//   * REGCLS_SINGLEUSE: once the class object has been handed to one
//     activation from outside, later outside activations no longer see it
//     (the SCM starts another server instance); in-process lookups do not
//     use it up.
//   * REGCLS_SUSPENDED: hidden from outside activations until
//     CoResumeClassObjects; in-process lookups see it at once.
//   * A second registration of a CLSID for a context it is already
//     registered for is CO_E_OBJISREG (decided here: Windows's behaviour for
//     a duplicate registration in one process is not documented; refusing it
//     keeps "which class object answers" unambiguous). Revoking an unknown
//     or revoked cookie is CO_E_OBJNOTREG. A null class object, no
//     supported context, or unknown REGCLS bits are E_INVALIDARG.
//   * Lookups that find nothing are REGDB_E_CLASSNOTREG.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/unknown.h"

namespace comsec::com {

// CLSCTX (wtypes.h): the contexts a class object is registered for or
// looked up in.
inline constexpr uint32_t CLSCTX_INPROC_SERVER = 0x1;
inline constexpr uint32_t CLSCTX_INPROC_HANDLER = 0x2;
inline constexpr uint32_t CLSCTX_LOCAL_SERVER = 0x4;
inline constexpr uint32_t CLSCTX_REMOTE_SERVER = 0x10;

// REGCLS (combaseapi.h).
inline constexpr uint32_t REGCLS_SINGLEUSE = 0;
inline constexpr uint32_t REGCLS_MULTIPLEUSE = 1;
inline constexpr uint32_t REGCLS_MULTI_SEPARATE = 2;
inline constexpr uint32_t REGCLS_SUSPENDED = 4;
inline constexpr uint32_t REGCLS_SURROGATE = 8;
inline constexpr uint32_t REGCLS_AGILE = 0x10;

class ClassTable {
 public:
  // CoRegisterClassObject: the cookie CoRevokeClassObject takes (never 0,
  // never reused).
  Result<uint32_t> Register(const Guid& clsid, IUnknown* class_object, uint32_t clsctx,
                            uint32_t regcls);
  // CoRevokeClassObject.
  Status Revoke(uint32_t cookie);
  // CoResumeClassObjects: every suspended registration becomes visible to
  // outside activations.
  void ResumeAll();
  // The class object for `clsid` as the context `from` asks for it:
  // CLSCTX_INPROC_SERVER for this process's own lookups, CLSCTX_LOCAL_SERVER
  // (or REMOTE_SERVER, the same to a running server) for an activation
  // from outside, which uses up a single-use registration.
  Result<ComPtr<IUnknown>> Get(const Guid& clsid, uint32_t from);
  // The CLSIDs outside activations can get now (what a server tells the
  // SCM it serves).
  std::vector<Guid> ClassesServedToOthers() const;

 private:
  struct Entry {
    Guid clsid;
    ComPtr<IUnknown> object;
    uint32_t clsctx = 0;  // effective: MULTIPLEUSE's implied inproc included
    uint32_t regcls = 0;
    bool suspended = false;
    bool used_up = false;  // a single-use object handed out once
  };
  static bool VisibleToOthers(const Entry& e);

  mutable std::mutex mu_;
  uint32_t next_cookie_ = 1;
  std::map<uint32_t, Entry> entries_;  // by cookie
};

}  // namespace comsec::com
