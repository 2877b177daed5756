// Association groups (C706 12.6.3.6; [MS-RPCE] 3.3.1.5.3): connections
// from one client that share context handles carry the same
// assoc_group_id. A bind with 0 starts a group; a bind naming a group joins
// it; a bind naming a group that does not exist is refused.
//
// A group is a client's: whoever joins it shares its context handles. So
// ids are random 32-bit values (OpenSSL RAND_bytes), never 0 and never an
// id in use, leaving nothing to guess from a sequence; and a connection
// may join a group only on the creator's transport (ncalrpc or TCP, the
// check Samba's dcesrv_assoc_group_reference makes) and as the creator's
// principal. The principal is known only once authentication completes,
// which for NTLM is after the bind (in auth3), so ServerConnection records
// the creator's principal as its owner when the creator's bind-time
// authentication completes, and checks a joiner's when the joiner's
// completes (an unauthenticated bind, at once). Until the owner is known
// nobody can join.
//
// Thread-safe; shared by every connection of a server.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace comsec::rpc {

class AssociationGroups {
 public:
  enum class Transport : uint8_t { kTcp, kLocal };
  enum class JoinResult : uint8_t { kJoined, kNoSuchGroup, kOtherTransport };

  // A new group on `transport` with one member and no owner yet; a random
  // id, never 0, never one in use.
  uint32_t Create(Transport transport);
  // Joins an existing group on the same transport.
  JoinResult Join(uint32_t id, Transport transport);
  // Records the creator's principal (an opaque key; ServerConnection's
  // PrincipalKey) once it is known. The first owner set stays.
  void SetOwner(uint32_t id, const std::string& principal);
  // True when `principal` is the group's owner; false while the owner is
  // not yet known or the group does not exist.
  bool IsOwner(uint32_t id, const std::string& principal) const;
  // A member left; the group ends with its last member.
  void Leave(uint32_t id);
  size_t size() const;

 private:
  struct Group {
    Transport transport;
    size_t members = 1;
    std::optional<std::string> owner;
  };
  mutable std::mutex mu_;
  std::map<uint32_t, Group> groups_;
};

}  // namespace comsec::rpc
