#include "comsec/config/policy_cache.h"

namespace comsec::config {

Status PolicyCache::Refresh() {
  COMSEC_ASSIGN_OR_RETURN(uint64_t generation, store_->Generation());
  if (!have_generation_ || generation != generation_) {
    policies_.clear();
    generation_ = generation;
    have_generation_ = true;
  }
  return Status();
}

Result<std::shared_ptr<const EffectivePolicy>> PolicyCache::Get(
    const Guid& appid) {
  auto it = policies_.find(appid);
  if (it != policies_.end()) return it->second;
  if (!have_generation_) COMSEC_RETURN_IF_ERROR(Refresh());
  COMSEC_ASSIGN_OR_RETURN(auto tx, store_->BeginRead());
  COMSEC_ASSIGN_OR_RETURN(EffectivePolicy p,
                          ResolveEffectivePolicy(*tx, appid, nullptr));
  auto shared = std::make_shared<const EffectivePolicy>(std::move(p));
  policies_.emplace(appid, shared);
  return shared;
}

}  // namespace comsec::config
