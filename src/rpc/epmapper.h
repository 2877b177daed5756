// The endpoint mapper (interface e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0,
// C706 appendix O; [MS-RPCE] 2.2.1.2): servers register where their
// interfaces listen, clients ask where to connect.
//
// Implemented: ept_insert (0), ept_delete (1), ept_lookup (2), ept_map (3)
// and ept_lookup_handle_free (4), towers for ncacn_ip_tcp and ncalrpc;
// ept_inq_object and ept_mgmt_delete fault with nca_s_op_rng_error.
//
// Who may change the map: registration and removal are accepted only over
// ncalrpc, where the kernel names the caller (SO_PEERCRED). Every entry
// remembers the uid that registered it, and an entry's slot — its object,
// interface UUID and major version, and protocol sequence — belongs to that
// uid: another uid may neither replace, delete nor shadow it (root may).
// Each uid holds at most EndpointMapperLimits::max_entries_per_uid entries.
// TCP callers, loopback included, may only look up. A refused change
// answers EPT_S_CANT_PERFORM_OP (0x6D8), the value [MS-RPCE] 2.2.1.2.1
// gives it on Windows and the one Samba's _epm_Insert returns to a caller
// that is not a privileged ncalrpc client (Samba wraps it in an
// op_rng_error fault; we answer the status, as the IDL's error_status_t
// is meant to carry it). The map is left as it was.
//
// Enumeration (ept_lookup): entries come back in pieces of at most
// max_ents. While more remain the reply carries a lookup context handle
// (kept per association group, a bounded number); the piece that ends the
// enumeration carries a null handle and status 0, as Windows answers
// (impacket's and the DCE reference client's loops stop at the null
// handle). A lookup that matches nothing, or a continuation whose entries
// have since gone, answers EPT_S_NOT_REGISTERED (0x16C9A0D6) with a null
// handle, so a client looping until that status ends too. A handle this
// mapper did not issue to the caller's association group faults with
// nca_s_fault_context_mismatch, as the RPC runtime does for a stale
// context handle.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/ndr/decoder.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/tower.h"

namespace comsec::rpc {

SyntaxId EndpointMapperSyntax();

// EPT_S_NOT_REGISTERED (0x16C9A0D6): no (more) endpoints match.
inline constexpr uint32_t EPT_S_NOT_REGISTERED = 0x16C9A0D6;
// EPT_S_CANT_PERFORM_OP (0x6D8, Win32 1752): the caller may not make this
// change ([MS-RPCE] 2.2.1.2.1).
inline constexpr uint32_t EPT_S_CANT_PERFORM_OP = 0x6D8;
// EPT_S_CANT_CREATE (0x76B, Win32 1899): the entry cannot be created — here,
// the registering uid already holds its quota.
inline constexpr uint32_t EPT_S_CANT_CREATE = 0x76B;

// ept_lookup's inquiry types and version options ([MS-RPCE] 2.2.1.2.4).
inline constexpr uint32_t RPC_C_EP_ALL_ELTS = 0;
inline constexpr uint32_t RPC_C_EP_MATCH_BY_IF = 1;
inline constexpr uint32_t RPC_C_EP_MATCH_BY_OBJ = 2;
inline constexpr uint32_t RPC_C_EP_MATCH_BY_BOTH = 3;
inline constexpr uint32_t RPC_C_VERS_ALL = 1;
inline constexpr uint32_t RPC_C_VERS_COMPATIBLE = 2;
inline constexpr uint32_t RPC_C_VERS_EXACT = 3;
inline constexpr uint32_t RPC_C_VERS_MAJOR_ONLY = 4;
inline constexpr uint32_t RPC_C_VERS_UPTO = 5;

struct EndpointEntry {
  Guid object;
  Tower tower;
  std::string annotation;
};

struct EndpointMapperLimits {
  // Entries one uid may register: a server registers a few interfaces on a
  // few bindings, so 256 is generous, and it keeps one local user from
  // growing the daemon without bound.
  size_t max_entries_per_uid = 256;
  // Entries in all; the same reason, for many uids at once.
  size_t max_entries = 4096;
  // Unfinished enumerations per association group; opening one more
  // forgets that group's oldest.
  size_t max_lookups_per_group = 8;
  // Unfinished enumerations in all (groups come and go without telling the
  // mapper); opening one more forgets the oldest anywhere.
  size_t max_lookups = 256;
};

// What ept_lookup asks for.
struct LookupQuery {
  uint32_t inquiry_type = RPC_C_EP_ALL_ELTS;
  Guid object;
  std::optional<SyntaxId> interface;
  uint32_t vers_option = RPC_C_VERS_ALL;
};

// One ept_lookup answer.
struct LookupPiece {
  std::vector<EndpointEntry> entries;
  ndr::ContextHandle handle;  // null when the enumeration is over
  uint32_t status = 0;
};

// The registered endpoints and the open enumerations. Thread-safe: every
// method may be called from any connection's thread.
class EndpointMapper {
 public:
  // `logger` (null: none; must outlive the mapper) gets an event for each
  // refused change, epm.insert_refused or epm.delete_refused, with the
  // caller's uid (extra "uid"), the owner's (extra "owner_uid") when
  // another uid's entry was in the way, the entry's interface, the reason
  // and the status as an HRESULT. Events are logged with the map locked:
  // the logger's sinks must not call back into the mapper.
  explicit EndpointMapper(EndpointMapperLimits limits = {}, const Logger* logger = nullptr);

  // Registers `entries` for `uid`, all or none: 0, EPT_S_CANT_PERFORM_OP
  // when one would take or shadow a slot another uid holds (unless `uid` is
  // root), EPT_S_CANT_CREATE past a limit. With `replace`, the entries
  // already in each slot are removed first.
  uint32_t Insert(const std::vector<EndpointEntry>& entries, bool replace, uint32_t uid);
  // Removes the entries matching `entries` (slot and endpoint), all or
  // none: EPT_S_CANT_PERFORM_OP when one belongs to another uid.
  uint32_t Delete(const std::vector<EndpointEntry>& entries, uint32_t uid);
  // Entries for `interface` (same UUID and major, minor at least as high)
  // over `protseq`, newest first, at most `max`.
  std::vector<EndpointEntry> Map(const Guid& object, const SyntaxId& interface,
                                 const std::string& protseq, size_t max) const;
  // The next piece of an enumeration: a null `handle` starts one; any other
  // continues the one this mapper gave `assoc_group` (E_HANDLE-class
  // nca_s_fault_context_mismatch otherwise).
  Result<LookupPiece> Lookup(const LookupQuery& query, const ndr::ContextHandle& handle,
                             uint32_t max_ents, uint32_t assoc_group);
  // Ends an enumeration early (ept_lookup_handle_free).
  Status FreeLookup(const ndr::ContextHandle& handle, uint32_t assoc_group);

  size_t size() const;
  size_t open_lookups() const;
  // The uid that registered the newest entry in `entry`'s slot.
  std::optional<uint32_t> OwnerOf(const EndpointEntry& entry) const;

  // The endpoint mapper's RPC interface, serving this table.
  InterfaceRegistration Interface();

  // Where the mapper's refusals are logged (null: nowhere); the wire
  // handlers log theirs there too.
  void LogRefusal(const LogEvent& event) const { Log(event); }

 private:
  struct Registered {
    EndpointEntry entry;
    uint32_t owner_uid;
    uint64_t seq;  // insertion order; enumerations resume after one
  };
  struct Enumeration {
    uint32_t assoc_group;
    LookupQuery query;
    uint64_t after_seq;  // entries up to this one were returned
    uint64_t opened;     // for forgetting the oldest
  };
  // REQUIRES: mu_ held.
  void ForgetOldestLookupLocked(std::optional<uint32_t> assoc_group);
  void Log(const LogEvent& event) const {
    if (logger_) logger_->Log(event);
  }

  const EndpointMapperLimits limits_;
  const Logger* const logger_;
  mutable std::mutex mu_;
  std::vector<Registered> entries_;  // ascending seq
  uint64_t next_seq_ = 1;
  std::map<Guid, Enumeration> lookups_;
  uint64_t lookup_clock_ = 0;
};

// Client side. `mapper` is comsecd's binding; registration and removal
// must use its ncalrpc endpoint, where `options.trusted_server_uids` says
// who may serve it (default: root or this process's uid). A refusal comes
// back as the mapper's status as an HRESULT (EPT_S_CANT_PERFORM_OP is
// 0x800706D8).
Status EptInsert(const StringBinding& mapper, const std::vector<EndpointEntry>& entries,
                 ClientOptions options = {});
Status EptDelete(const StringBinding& mapper, const std::vector<EndpointEntry>& entries,
                 ClientOptions options = {});
Result<StringBinding> EptMap(const StringBinding& mapper, const SyntaxId& interface,
                             const std::string& protseq, ClientOptions options = {});
// Every entry, asking for `max_ents` per call until the mapper ends the
// enumeration (a null handle or EPT_S_NOT_REGISTERED).
Result<std::vector<EndpointEntry>> EptLookupAll(const StringBinding& mapper,
                                                uint32_t max_ents = 500,
                                                ClientOptions options = {});
// One ept_lookup call, and ept_lookup_handle_free, on a client already bound
// to EndpointMapperSyntax().
Result<LookupPiece> EptLookup(Client& client, const LookupQuery& query,
                              const ndr::ContextHandle& handle, uint32_t max_ents);
Status EptLookupHandleFree(Client& client, const ndr::ContextHandle& handle);

}  // namespace comsec::rpc
