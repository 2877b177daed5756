// PolicyCache: effective policies by AppID, valid for one generation of the
// store. A server resolves each application's policy once and serves every
// later request from memory until any process commits a change to the
// store; Refresh() notices that (PRAGMA data_version) and drops everything.
//
// Thread affinity: one thread, like the Store it reads. Policies handed out
// are immutable and may be shared with other threads.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/config/effective_policy.h"
#include "comsec/config/store.h"

namespace comsec::config {

class PolicyCache {
 public:
  // `store` must outlive the cache.
  explicit PolicyCache(Store* store) : store_(store) {}

  // Drops every cached policy if the store changed since the last call.
  // Cheap (one SQLite pragma); call it once per request batch or timer tick.
  Status Refresh();

  // The policy of `appid` for a server that does not call
  // CoInitializeSecurity; resolved from the store on first use.
  Result<std::shared_ptr<const EffectivePolicy>> Get(const Guid& appid);

  size_t size() const { return policies_.size(); }

 private:
  struct GuidHash {
    size_t operator()(const Guid& g) const {
      uint64_t h = g.data1 ^ (uint64_t{g.data2} << 32) ^ (uint64_t{g.data3} << 48);
      for (uint8_t b : g.data4) h = h * 1099511628211ull ^ b;
      return static_cast<size_t>(h);
    }
  };

  Store* store_;
  bool have_generation_ = false;
  uint64_t generation_ = 0;
  std::unordered_map<Guid, std::shared_ptr<const EffectivePolicy>, GuidHash>
      policies_;
};

}  // namespace comsec::config
