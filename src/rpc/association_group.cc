#include "comsec/rpc/association_group.h"

#include <openssl/rand.h>

#include "comsec/base/check.h"

namespace comsec::rpc {

uint32_t AssociationGroups::Create(Transport transport) {
  std::lock_guard<std::mutex> lock(mu_);
  uint32_t id = 0;
  while (id == 0 || groups_.count(id)) {
    COMSEC_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) == 1,
                 "RAND_bytes failed");
  }
  groups_.emplace(id, Group{transport, 1, std::nullopt});
  return id;
}

AssociationGroups::JoinResult AssociationGroups::Join(uint32_t id, Transport transport) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return JoinResult::kNoSuchGroup;
  if (it->second.transport != transport) return JoinResult::kOtherTransport;
  ++it->second.members;
  return JoinResult::kJoined;
}

void AssociationGroups::SetOwner(uint32_t id, const std::string& principal) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(id);
  if (it != groups_.end() && !it->second.owner) it->second.owner = principal;
}

bool AssociationGroups::IsOwner(uint32_t id, const std::string& principal) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(id);
  return it != groups_.end() && it->second.owner && *it->second.owner == principal;
}

void AssociationGroups::Leave(uint32_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(id);
  if (it != groups_.end() && --it->second.members == 0) groups_.erase(it);
}

size_t AssociationGroups::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_.size();
}

}  // namespace comsec::rpc
