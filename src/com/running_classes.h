// The class objects running processes registered for other processes
// (CoRegisterClassObject with CLSCTX_LOCAL_SERVER): comsecd's table, which
// its SCM (activation/scm.h) consults before launching a server — Windows's
// SCM class table. Filled over IComsecOxidRegistration's RegisterClassObject
// (com/oxid_resolver_service.h), each entry owned by the registering
// process's uid and pid and tied to its OXID: only that process may revoke
// it, and an OXID that goes (unregistered, run down, its process dead)
// takes its classes with it, checked by the SCM through OxidResolver::OwnerOf
// whenever it picks an entry.
//
// REGCLS (R131, "CoRegisterClassObject"): a multiple-use entry serves every
// activation; a single-use entry serves one and is then removed, so the
// next activation launches another server.
//
// Thread-safety: every method may be called from any thread; WaitFor blocks
// its caller only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"

namespace comsec::com {

struct ClassRegistration {
  uint32_t cookie = 0;
  Guid clsid;
  OxidOwner owner;
  uint64_t oxid = 0;
  bool multiple_use = false;
};

class RunningClassTable {
 public:
  // At most this many entries per process, and in all (E_OUTOFMEMORY).
  static constexpr size_t kMaxPerProcess = 256;
  static constexpr size_t kMaxEntries = 16384;

  // `regcls`: REGCLS_MULTIPLEUSE (bit 0) or single use; other bits are the
  // registering process's business. E_INVALIDARG for GUID_NULL.
  Result<uint32_t> Register(const OxidOwner& owner, uint64_t oxid, const Guid& clsid,
                            uint32_t regcls);
  // CO_E_OBJNOTREG for an unknown cookie; E_ACCESSDENIED for another
  // process's.
  Status Revoke(const OxidOwner& owner, uint32_t cookie);
  // Forgets every entry of `oxid`.
  void ForgetOxid(uint64_t oxid);

  // The entry an activation of `clsid` uses: the most recent multiple-use
  // entry, else the oldest single-use one, which is removed. `usable`
  // rejects stale entries (their OXID gone): those are removed and skipped.
  // With `uid`, only entries of processes running as that user are chosen
  // (others are kept).
  std::optional<ClassRegistration> Take(const Guid& clsid, std::optional<uint32_t> uid,
                                        const std::function<bool(const ClassRegistration&)>& usable);
  // Like Take, restricted to entries of process `pid`, waiting until one
  // appears or `deadline` passes (a launched server registering).
  std::optional<ClassRegistration> WaitFor(
      const Guid& clsid, uint32_t pid, std::chrono::steady_clock::time_point deadline,
      const std::function<bool(const ClassRegistration&)>& usable);
  // Puts back a single-use entry Take removed when the activation could
  // not use it for a reason of the SCM's (not the server's).
  void Restore(const ClassRegistration& entry);

  size_t size() const;

 private:
  std::optional<ClassRegistration> TakeLocked(
      const Guid& clsid, std::optional<uint32_t> pid, std::optional<uint32_t> uid,
      const std::function<bool(const ClassRegistration&)>& usable);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<ClassRegistration> entries_;  // in registration order
  uint32_t next_cookie_ = 1;
};

}  // namespace comsec::com
