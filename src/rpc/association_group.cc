#include "rpc/association_group.h"

#include <random>

namespace comsec::rpc {

AssociationGroups::AssociationGroups() {
  // Group ids are not secrets, but a random start keeps ids from two server
  // runs apart, so a client reconnecting to a restarted server cannot join
  // a group that no longer exists by accident.
  std::random_device rd;
  next_ = (rd() & 0x0FFFFFFF) | 0x1000;
}

uint32_t AssociationGroups::Create() {
  std::lock_guard<std::mutex> lock(mu_);
  do {
    ++next_;
  } while (next_ == 0 || members_.count(next_));
  members_[next_] = 1;
  return next_;
}

bool AssociationGroups::Join(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return false;
  ++it->second;
  return true;
}

void AssociationGroups::Leave(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find(id);
  if (it != members_.end() && --it->second == 0) members_.erase(it);
}

size_t AssociationGroups::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return members_.size();
}

}  // namespace comsec::rpc
