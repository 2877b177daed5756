// Association groups (C706 12.6.3.6; [MS-RPCE] 3.3.1.5.3): connections
// from one client that share context handles carry the same
// assoc_group_id. A bind with 0 starts a group; a bind naming a group that
// exists on this server joins it; a bind naming an unknown group is
// refused. Thread-safe; shared by every connection of a server.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>

namespace comsec::rpc {

class AssociationGroups {
 public:
  AssociationGroups();

  // A new group with one member; never returns 0.
  uint32_t Create();
  // Joins an existing group; false when it does not exist.
  bool Join(uint32_t id);
  // A member left; the group ends with its last member.
  void Leave(uint32_t id);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  uint32_t next_;
  std::map<uint32_t, size_t> members_;
};

}  // namespace comsec::rpc
