#include "comsec/com/class_table.h"

#include <utility>

#include "comsec/base/hresult.h"

namespace comsec::com {
namespace {

constexpr uint32_t kContexts = CLSCTX_INPROC_SERVER | CLSCTX_INPROC_HANDLER |
                               CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER;
constexpr uint32_t kRegclsBits = REGCLS_MULTIPLEUSE | REGCLS_MULTI_SEPARATE | REGCLS_SUSPENDED |
                                 REGCLS_SURROGATE | REGCLS_AGILE;
constexpr uint32_t kOutside = CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER;

}  // namespace

bool ClassTable::VisibleToOthers(const Entry& e) {
  return (e.clsctx & kOutside) != 0 && !e.suspended && !e.used_up;
}

Result<uint32_t> ClassTable::Register(const Guid& clsid, IUnknown* class_object,
                                      uint32_t clsctx, uint32_t regcls) {
  if (class_object == nullptr) return Status(E_INVALIDARG, "no class object to register");
  if ((clsctx & kContexts) == 0 || (clsctx & ~kContexts) != 0) {
    return Status(E_INVALIDARG, "CoRegisterClassObject: dwClsContext must name "
                                "CLSCTX_INPROC_SERVER and/or CLSCTX_LOCAL_SERVER");
  }
  if ((regcls & ~kRegclsBits) != 0 ||
      ((regcls & REGCLS_MULTIPLEUSE) && (regcls & REGCLS_MULTI_SEPARATE))) {
    return Status(E_INVALIDARG, "CoRegisterClassObject: unknown or conflicting REGCLS flags");
  }
  Entry e;
  e.clsid = clsid;
  e.object = ComPtr<IUnknown>(class_object);
  e.regcls = regcls;
  e.clsctx = clsctx;
  // MULTIPLEUSE for other processes serves this one too (REGCLS's doc).
  if ((regcls & REGCLS_MULTIPLEUSE) && (clsctx & CLSCTX_LOCAL_SERVER)) {
    e.clsctx |= CLSCTX_INPROC_SERVER;
  }
  e.suspended = (regcls & REGCLS_SUSPENDED) != 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [cookie, other] : entries_) {
    if (other.clsid == clsid && (other.clsctx & e.clsctx) != 0) {
      return Status(CO_E_OBJISREG, "class " + clsid.ToString() +
                                       " is already registered for that context (cookie " +
                                       std::to_string(cookie) + ")");
    }
  }
  const uint32_t cookie = next_cookie_++;
  entries_.emplace(cookie, std::move(e));
  return cookie;
}

Status ClassTable::Revoke(uint32_t cookie) {
  ComPtr<IUnknown> released;  // released after the lock
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(cookie);
  if (it == entries_.end()) {
    return Status(CO_E_OBJNOTREG, "no class object is registered with cookie " +
                                      std::to_string(cookie));
  }
  released = std::move(it->second.object);
  entries_.erase(it);
  return Status::Ok();
}

void ClassTable::ResumeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [cookie, e] : entries_) e.suspended = false;
}

Result<ComPtr<IUnknown>> ClassTable::Get(const Guid& clsid, uint32_t from) {
  const bool outside = (from & kOutside) != 0;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [cookie, e] : entries_) {
    if (e.clsid != clsid) continue;
    if (outside) {
      if (!VisibleToOthers(e)) continue;
      if ((e.regcls & (REGCLS_MULTIPLEUSE | REGCLS_MULTI_SEPARATE)) == 0) e.used_up = true;
      return e.object;
    }
    if (e.clsctx & from & (CLSCTX_INPROC_SERVER | CLSCTX_INPROC_HANDLER)) return e.object;
  }
  return Status(REGDB_E_CLASSNOTREG, "class " + clsid.ToString() +
                                         " has no class object registered here for that context");
}

std::vector<Guid> ClassTable::ClassesServedToOthers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Guid> out;
  for (const auto& [cookie, e] : entries_) {
    if (VisibleToOthers(e)) out.push_back(e.clsid);
  }
  return out;
}

}  // namespace comsec::com
