// The endpoint map itself: entries with their owners, and enumerations.
// The RPC interface and the client helpers are in epmapper_interface.cc.
#include "comsec/base/win32_error.h"
#include "comsec/rpc/epmapper.h"

#include <sys/random.h>

#include <algorithm>

namespace comsec::rpc {
namespace {

// The slot an entry occupies: what a client's ept_map cannot tell apart.
// The minor version is left out on purpose: ept_map returns a v1.5 entry to
// a client asking for v1.0, so another uid's v1.5 would shadow v1.0.
bool SameSlot(const EndpointEntry& a, const EndpointEntry& b) {
  return a.object == b.object && a.tower.interface.uuid == b.tower.interface.uuid &&
         a.tower.interface.major == b.tower.interface.major &&
         a.tower.protseq == b.tower.protseq;
}

bool SameInterface(const SyntaxId& registered, const SyntaxId& wanted) {
  return registered.uuid == wanted.uuid && registered.major == wanted.major &&
         registered.minor >= wanted.minor;
}

// vers_option ([MS-RPCE] 2.2.1.2.4) applied to a registered version.
bool VersionMatches(const SyntaxId& registered, const SyntaxId& wanted, uint32_t option) {
  switch (option) {
    case RPC_C_VERS_ALL: return true;
    case RPC_C_VERS_COMPATIBLE:
      return registered.major == wanted.major && registered.minor >= wanted.minor;
    case RPC_C_VERS_EXACT:
      return registered.major == wanted.major && registered.minor == wanted.minor;
    case RPC_C_VERS_MAJOR_ONLY: return registered.major == wanted.major;
    case RPC_C_VERS_UPTO:
      return registered.major < wanted.major ||
             (registered.major == wanted.major && registered.minor <= wanted.minor);
    default: return false;
  }
}

bool QueryIsValid(const LookupQuery& q) {
  switch (q.inquiry_type) {
    case RPC_C_EP_ALL_ELTS:
    case RPC_C_EP_MATCH_BY_OBJ: return true;
    case RPC_C_EP_MATCH_BY_IF:
    case RPC_C_EP_MATCH_BY_BOTH:
      return q.interface.has_value() && q.vers_option >= RPC_C_VERS_ALL &&
             q.vers_option <= RPC_C_VERS_UPTO;
    default: return false;
  }
}

bool Matches(const LookupQuery& q, const EndpointEntry& e) {
  const bool by_if = q.inquiry_type == RPC_C_EP_MATCH_BY_IF ||
                     q.inquiry_type == RPC_C_EP_MATCH_BY_BOTH;
  const bool by_obj = q.inquiry_type == RPC_C_EP_MATCH_BY_OBJ ||
                      q.inquiry_type == RPC_C_EP_MATCH_BY_BOTH;
  if (by_obj && !(e.object == q.object)) return false;
  if (by_if && !(e.tower.interface.uuid == q.interface->uuid &&
                 VersionMatches(e.tower.interface, *q.interface, q.vers_option))) {
    return false;
  }
  return true;
}

std::string Describe(const EndpointEntry& e) {
  return e.tower.interface.uuid.ToString() + " v" + std::to_string(e.tower.interface.major) +
         "." + std::to_string(e.tower.interface.minor) + " over " + e.tower.protseq;
}

// An epm.insert_refused or epm.delete_refused event by `uid`: "refused
// ept_insert WHAT: WHY".
LogEvent Refused(bool insert, const std::string& what, uint32_t uid, const std::string& why,
                 uint32_t status) {
  LogEvent e(insert ? "epm.insert_refused" : "epm.delete_refused", LogSeverity::kWarning,
             std::string("refused ") + (insert ? "ept_insert " : "ept_delete ") + what +
                 " by uid " + std::to_string(uid) + ": " + why);
  e.Reason(why).Hresult(HResult::FromWin32(status)).Extra("uid", std::to_string(uid));
  return e;
}

// The same, for a change another uid's entry stands in the way of.
LogEvent RefusedOwned(bool insert, const EndpointEntry& e, uint32_t uid, uint32_t owner) {
  LogEvent event = Refused(insert, "of " + Describe(e), uid,
                           "uid " + std::to_string(owner) + " registered it",
                           EPT_S_CANT_PERFORM_OP);
  const SyntaxId& i = e.tower.interface;
  return event.Interface(i.uuid, i.major, i.minor).Extra("owner_uid", std::to_string(owner));
}

// An unguessable handle, so that one association group cannot continue (or
// free) another's enumeration by guessing.
Guid NewHandleUuid() {
  uint8_t bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return Guid::FromBytes(bytes);
}

const Status kContextMismatch(HResult(nca_s_fault_context_mismatch),
                              "the lookup handle is not one this endpoint mapper gave "
                              "this association (finished, freed or forgotten)");

}  // namespace

SyntaxId EndpointMapperSyntax() {
  return {*Guid::Parse("e1af8308-5d1f-11c9-91a4-08002b14a0fa"), 3, 0};
}

EndpointMapper::EndpointMapper(EndpointMapperLimits limits, const Logger* logger)
    : limits_(limits), logger_(logger) {}

uint32_t EndpointMapper::Insert(const std::vector<EndpointEntry>& entries, bool replace,
                                uint32_t uid) {
  // More than a uid may ever hold is refused before any comparison, so that
  // one huge request cannot hold the map's lock for long.
  if (entries.size() > limits_.max_entries_per_uid) {
    Log(Refused(/*insert=*/true, "of " + std::to_string(entries.size()) + " entries", uid,
                "more than the " + std::to_string(limits_.max_entries_per_uid) +
                    " a uid may hold",
                EPT_S_CANT_CREATE));
    return EPT_S_CANT_CREATE;
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Checked whole before anything changes: all or none.
  if (uid != 0) {
    for (const EndpointEntry& e : entries) {
      for (const Registered& r : entries_) {
        if (r.owner_uid != uid && SameSlot(r.entry, e)) {
          Log(RefusedOwned(/*insert=*/true, e, uid, r.owner_uid));
          return EPT_S_CANT_PERFORM_OP;
        }
      }
    }
  }
  auto replaced = [&](const Registered& r) {
    if (!replace) return false;
    return std::any_of(entries.begin(), entries.end(),
                       [&](const EndpointEntry& e) { return SameSlot(r.entry, e); });
  };
  size_t kept_total = 0, kept_mine = 0;
  for (const Registered& r : entries_) {
    if (replaced(r)) continue;
    ++kept_total;
    if (r.owner_uid == uid) ++kept_mine;
  }
  if (kept_mine + entries.size() > limits_.max_entries_per_uid ||
      kept_total + entries.size() > limits_.max_entries) {
    Log(Refused(/*insert=*/true, "of " + std::to_string(entries.size()) + " entries", uid,
                "it would hold " + std::to_string(kept_mine + entries.size()) + " (at most " +
                    std::to_string(limits_.max_entries_per_uid) + " per uid, " +
                    std::to_string(limits_.max_entries) + " in all)",
                EPT_S_CANT_CREATE));
    return EPT_S_CANT_CREATE;
  }
  std::erase_if(entries_, replaced);
  for (const EndpointEntry& e : entries) entries_.push_back({e, uid, next_seq_++});
  return 0;
}

uint32_t EndpointMapper::Delete(const std::vector<EndpointEntry>& entries, uint32_t uid) {
  // No map holds more; as in Insert, a huge request is refused at once.
  if (entries.size() > limits_.max_entries) return EPT_S_CANT_PERFORM_OP;
  std::lock_guard<std::mutex> lock(mu_);
  auto matches = [&](const Registered& r) {
    return std::any_of(entries.begin(), entries.end(), [&](const EndpointEntry& e) {
      return SameSlot(r.entry, e) && r.entry.tower.interface == e.tower.interface &&
             r.entry.tower.endpoint == e.tower.endpoint;
    });
  };
  if (uid != 0) {
    for (const Registered& r : entries_) {
      if (r.owner_uid != uid && matches(r)) {
        Log(RefusedOwned(/*insert=*/false, r.entry, uid, r.owner_uid));
        return EPT_S_CANT_PERFORM_OP;
      }
    }
  }
  std::erase_if(entries_, matches);
  return 0;
}

std::vector<EndpointEntry> EndpointMapper::Map(const Guid& object, const SyntaxId& interface,
                                               const std::string& protseq,
                                               size_t max) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EndpointEntry> out;
  for (auto it = entries_.rbegin(); it != entries_.rend() && out.size() < max; ++it) {
    if (SameInterface(it->entry.tower.interface, interface) &&
        it->entry.tower.protseq == protseq &&
        (object.IsNil() || it->entry.object == object)) {
      out.push_back(it->entry);
    }
  }
  return out;
}

void EndpointMapper::ForgetOldestLookupLocked(std::optional<uint32_t> assoc_group) {
  auto oldest = lookups_.end();
  for (auto it = lookups_.begin(); it != lookups_.end(); ++it) {
    if (assoc_group && it->second.assoc_group != *assoc_group) continue;
    if (oldest == lookups_.end() || it->second.opened < oldest->second.opened) oldest = it;
  }
  if (oldest != lookups_.end()) lookups_.erase(oldest);
}

Result<LookupPiece> EndpointMapper::Lookup(const LookupQuery& query,
                                           const ndr::ContextHandle& handle,
                                           uint32_t max_ents, uint32_t assoc_group) {
  std::lock_guard<std::mutex> lock(mu_);
  LookupQuery q = query;
  uint64_t after = 0;
  auto open = lookups_.end();
  if (!handle.IsNull()) {
    open = lookups_.find(handle.uuid);
    if (open == lookups_.end() || open->second.assoc_group != assoc_group ||
        handle.attributes != 0) {
      return kContextMismatch;
    }
    q = open->second.query;  // a continuation keeps the query it began with
    after = open->second.after_seq;
  } else if (!QueryIsValid(q)) {
    LookupPiece refused;
    refused.status = EPT_S_CANT_PERFORM_OP;
    return refused;
  }
  LookupPiece piece;
  bool more = false;
  uint64_t last = after;
  for (const Registered& r : entries_) {
    if (r.seq <= after || !Matches(q, r.entry)) continue;
    if (piece.entries.size() == max_ents) {
      more = true;
      break;
    }
    piece.entries.push_back(r.entry);
    last = r.seq;
  }
  if (piece.entries.empty() && !(more && max_ents == 0)) {
    if (open != lookups_.end()) lookups_.erase(open);
    piece.status = EPT_S_NOT_REGISTERED;
    return piece;
  }
  if (!more && open == lookups_.end()) {
    // Answered whole in one call: a null handle and status 0, as Windows
    // answers (and impacket's hept_lookup, which stops at a null handle and
    // raises on any status, expects).
    return piece;
  }
  // An enumeration in pieces keeps its handle through its last piece; the
  // call after it is answered EPT_S_NOT_REGISTERED with a null handle
  // (C706 and [MS-RPCE] 2.2.1.2.4, as Samba answers), so a client that
  // loops until that status ends cleanly.
  if (open == lookups_.end()) {
    size_t in_group = 0;
    for (const auto& [id, e] : lookups_) in_group += e.assoc_group == assoc_group;
    if (in_group >= limits_.max_lookups_per_group) ForgetOldestLookupLocked(assoc_group);
    if (lookups_.size() >= limits_.max_lookups) ForgetOldestLookupLocked(std::nullopt);
    Guid id = NewHandleUuid();
    open = lookups_.emplace(id, Enumeration{assoc_group, q, 0, ++lookup_clock_}).first;
  }
  open->second.after_seq = last;
  piece.handle = ndr::ContextHandle{0, open->first};
  return piece;
}

Status EndpointMapper::FreeLookup(const ndr::ContextHandle& handle, uint32_t assoc_group) {
  if (handle.IsNull()) return Status();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = lookups_.find(handle.uuid);
  if (it == lookups_.end() || it->second.assoc_group != assoc_group) return kContextMismatch;
  lookups_.erase(it);
  return Status();
}

size_t EndpointMapper::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

size_t EndpointMapper::open_lookups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lookups_.size();
}

std::optional<uint32_t> EndpointMapper::OwnerOf(const EndpointEntry& entry) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (SameSlot(it->entry, entry)) return it->owner_uid;
  }
  return std::nullopt;
}

}  // namespace comsec::rpc
