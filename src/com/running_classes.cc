#include "comsec/com/running_classes.h"

#include <algorithm>

#include "comsec/com/class_table.h"

namespace comsec::com {

Result<uint32_t> RunningClassTable::Register(const OxidOwner& owner, uint64_t oxid,
                                             const Guid& clsid, uint32_t regcls) {
  if (clsid == Guid{}) return Status(E_INVALIDARG, "a class object needs a CLSID");
  std::lock_guard<std::mutex> lock(mu_);
  const size_t mine = static_cast<size_t>(std::count_if(
      entries_.begin(), entries_.end(),
      [&](const ClassRegistration& e) { return e.owner == owner; }));
  if (mine >= kMaxPerProcess || entries_.size() >= kMaxEntries) {
    return Status(E_OUTOFMEMORY, "too many class objects registered with the SCM");
  }
  ClassRegistration e;
  e.cookie = next_cookie_++;
  if (next_cookie_ == 0) next_cookie_ = 1;
  e.clsid = clsid;
  e.owner = owner;
  e.oxid = oxid;
  e.multiple_use = (regcls & REGCLS_MULTIPLEUSE) != 0;
  entries_.push_back(e);
  changed_.notify_all();
  return e.cookie;
}

Status RunningClassTable::Revoke(const OxidOwner& owner, uint32_t cookie) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const ClassRegistration& e) { return e.cookie == cookie; });
  if (it == entries_.end()) {
    return Status(CO_E_OBJNOTREG, "no class object is registered with cookie " +
                                      std::to_string(cookie));
  }
  if (!(it->owner == owner)) {
    return Status(E_ACCESSDENIED, "the class object was registered by another process");
  }
  entries_.erase(it);
  return Status();
}

void RunningClassTable::ForgetOxid(uint64_t oxid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(entries_, [&](const ClassRegistration& e) { return e.oxid == oxid; });
}

std::optional<ClassRegistration> RunningClassTable::TakeLocked(
    const Guid& clsid, std::optional<uint32_t> pid, std::optional<uint32_t> uid,
    const std::function<bool(const ClassRegistration&)>& usable) {
  // Stale entries first: they would otherwise be chosen and fail.
  std::erase_if(entries_,
                [&](const ClassRegistration& e) { return e.clsid == clsid && !usable(e); });
  auto matches = [&](const ClassRegistration& e) {
    return e.clsid == clsid && (!pid || e.owner.pid == *pid) && (!uid || e.owner.uid == *uid);
  };
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (matches(*it) && it->multiple_use) return *it;
  }
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (matches(*it)) {
      ClassRegistration e = *it;
      entries_.erase(it);
      return e;
    }
  }
  return std::nullopt;
}

std::optional<ClassRegistration> RunningClassTable::Take(
    const Guid& clsid, std::optional<uint32_t> uid,
    const std::function<bool(const ClassRegistration&)>& usable) {
  std::lock_guard<std::mutex> lock(mu_);
  return TakeLocked(clsid, std::nullopt, uid, usable);
}

std::optional<ClassRegistration> RunningClassTable::WaitFor(
    const Guid& clsid, uint32_t pid, std::chrono::steady_clock::time_point deadline,
    const std::function<bool(const ClassRegistration&)>& usable) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (auto e = TakeLocked(clsid, pid, std::nullopt, usable)) return e;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return TakeLocked(clsid, pid, std::nullopt, usable);
    }
  }
}

void RunningClassTable::Restore(const ClassRegistration& entry) {
  if (entry.multiple_use) return;  // never removed
  std::lock_guard<std::mutex> lock(mu_);
  entries_.insert(entries_.begin(), entry);
  changed_.notify_all();
}

size_t RunningClassTable::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace comsec::com
