// The endpoint mapper (interface e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0,
// C706 appendix O; [MS-RPCE] 2.2.1.2): servers register where their
// interfaces listen, clients ask where to connect.
//
// Implemented: ept_insert (0), ept_delete (1), ept_lookup (2) and ept_map
// (3), towers for ncacn_ip_tcp and ncalrpc. Registration and removal are accepted only from
// this machine — ncalrpc, or TCP from a loopback address — as Windows
// accepts them only locally; a remote caller gets status 5. ept_lookup answers in one reply (a null entry
// handle); the handle/management calls fault with nca_s_op_rng_error.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "base/guid.h"
#include "rpc/interface.h"
#include "rpc/tower.h"

namespace comsec::rpc {

SyntaxId EndpointMapperSyntax();

// EPT_S_NOT_REGISTERED (0x16C9A0D6): no endpoint matches.
inline constexpr uint32_t EPT_S_NOT_REGISTERED = 0x16C9A0D6;

struct EndpointEntry {
  Guid object;
  Tower tower;
  std::string annotation;
};

// The registered endpoints. Thread-safe.
class EndpointMapper {
 public:
  void Insert(const EndpointEntry& entry, bool replace);
  void Delete(const EndpointEntry& entry);
  // Entries for `interface` (same UUID and major, minor at least as high)
  // over `protseq`, at most `max`.
  std::vector<EndpointEntry> Map(const Guid& object, const SyntaxId& interface,
                                 const std::string& protseq, size_t max) const;
  size_t size() const;
  std::vector<EndpointEntry> All() const;

  // The endpoint mapper's RPC interface, serving this table.
  InterfaceRegistration Interface();

 private:
  mutable std::mutex mu_;
  std::vector<EndpointEntry> entries_;
};

// Client side: registers entries with the mapper at `mapper` (an ncalrpc or
// TCP binding) and resolves an interface to a binding.
Status EptInsert(const StringBinding& mapper,
                 const std::vector<EndpointEntry>& entries);
Result<StringBinding> EptMap(const StringBinding& mapper,
                             const SyntaxId& interface,
                             const std::string& protseq);

}  // namespace comsec::rpc
