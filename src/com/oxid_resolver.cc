#include "comsec/com/oxid_resolver.h"

#include <openssl/rand.h>

#include <algorithm>

#include "comsec/base/check.h"

namespace comsec::com {
namespace {

// RPC_X_BAD_STUB_DATA as the NDR layer reports it.
Status BadBindings(std::string what) {
  return Status(RPC_X_BAD_STUB_DATA, "DUALSTRINGARRAY: " + std::move(what));
}

std::string Hex64(uint64_t v) {
  char text[19];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(v));
  return text;
}

std::string OwnerText(const OxidOwner& o) {
  return "uid " + std::to_string(o.uid) + " pid " + std::to_string(o.pid);
}

}  // namespace

// ==== DUALSTRINGARRAY ========================================================

std::vector<uint16_t> OxidBindings::Encode(uint16_t* security_offset) const {
  std::vector<uint16_t> out;
  for (const String& s : strings) {
    out.push_back(s.tower_id);
    out.insert(out.end(), s.address.begin(), s.address.end());
    out.push_back(0);
  }
  if (strings.empty()) out.push_back(0);  // an empty list is two NULs
  out.push_back(0);
  *security_offset = static_cast<uint16_t>(out.size());
  for (const Security& s : security) {
    out.push_back(s.authn_svc);
    out.push_back(s.authz_svc);
    out.insert(out.end(), s.principal.begin(), s.principal.end());
    out.push_back(0);
  }
  if (security.empty()) out.push_back(0);
  out.push_back(0);
  return out;
}

Result<OxidBindings> OxidBindings::Decode(uint16_t security_offset,
                                          std::span<const uint16_t> a) {
  if (security_offset > a.size()) {
    return BadBindings("wSecurityOffset " + std::to_string(security_offset) +
                       " is past the array's " + std::to_string(a.size()) + " entries");
  }
  OxidBindings out;
  // String bindings: [wTowerId, aNetworkAddr..., 0]... then 0.
  size_t i = 0;
  while (i < security_offset && a[i] != 0) {
    String s;
    s.tower_id = a[i++];
    const size_t start = i;
    while (i < security_offset && a[i] != 0) ++i;
    if (i >= security_offset) {
      return BadBindings("string binding at entry " + std::to_string(start - 1) +
                         " is not terminated before the security bindings");
    }
    s.address.assign(a.begin() + start, a.begin() + i);
    ++i;
    out.strings.push_back(std::move(s));
  }
  // Security bindings: [wAuthnSvc, wAuthzSvc, aPrincName..., 0]... then 0.
  i = security_offset;
  while (i < a.size() && a[i] != 0) {
    if (i + 1 >= a.size()) {
      return BadBindings("security binding at entry " + std::to_string(i) + " is truncated");
    }
    Security s;
    s.authn_svc = a[i];
    s.authz_svc = a[i + 1];
    i += 2;
    const size_t start = i;
    while (i < a.size() && a[i] != 0) ++i;
    if (i >= a.size()) {
      return BadBindings("security binding at entry " + std::to_string(start - 2) +
                         " is not terminated");
    }
    s.principal.assign(a.begin() + start, a.begin() + i);
    ++i;
    out.security.push_back(std::move(s));
  }
  return out;
}

// ==== The tables =============================================================
// Invariants (mu_ held): every Oid's oxid is in oxids_ and lists the OID;
// oxids_per_uid_ counts oxids_ by owner uid; sets hold OIDs that may have
// run down since (removed when the set is next pinged or swept).

OxidResolver::OxidResolver(OxidResolverOptions options) : options_(std::move(options)) {
  last_sweep_ = Now();
}

OxidResolver::TimePoint OxidResolver::Now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

std::chrono::steady_clock::duration OxidResolver::Timeout() const {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.ping_period) *
         kMissedPings;
}

uint64_t OxidResolver::NewIdLocked() {
  for (;;) {
    uint64_t id = 0;
    // RAND_bytes fails only when the CSPRNG cannot be seeded; handing out
    // a guessable id would be worse than stopping.
    COMSEC_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof id) == 1,
                 "the CSPRNG failed");
    if (id != 0 && issued_.insert(id).second) return id;
  }
}

Result<OxidResolver::Oxid*> OxidResolver::OwnedLocked(const OxidOwner& owner, uint64_t oxid,
                                                      const char* op) {
  auto it = oxids_.find(oxid);
  if (it == oxids_.end()) {
    return Status(HResult::FromWin32(OR_INVALID_OXID),
                  "OXID " + Hex64(oxid) + " is not registered (or its process stopped "
                  "calling Heartbeat)");
  }
  if (!(it->second.owner == owner)) {
    if (options_.logger) {
      options_.logger->Log(
          LogEvent(std::string("oxid.") + op + "_refused", LogSeverity::kWarning,
                   std::string("refused ") + op + " of OXID " + Hex64(oxid) +
                       ": it belongs to another process")
              .Peer(OwnerText(owner))
              .Reason("not_owner")
              .Hresult(E_ACCESSDENIED)
              .Extra("oxid", Hex64(oxid))
              .Extra("owner", OwnerText(it->second.owner)));
    }
    return Status(E_ACCESSDENIED, "OXID " + Hex64(oxid) +
                                      " belongs to another process: only the process that "
                                      "registered it may change it");
  }
  return &it->second;
}

void OxidResolver::DropOxidLocked(uint64_t oxid) {
  auto it = oxids_.find(oxid);
  if (it == oxids_.end()) return;
  for (uint64_t oid : it->second.oids) oids_.erase(oid);
  auto per = oxids_per_uid_.find(it->second.owner.uid);
  if (per != oxids_per_uid_.end() && --per->second == 0) oxids_per_uid_.erase(per);
  oxids_.erase(it);
}

void OxidResolver::MaybeSweepLocked(TimePoint now) {
  if (now - last_sweep_ >= options_.ping_period / 4) SweepLocked(now);
}

void OxidResolver::SweepLocked(TimePoint now) {
  last_sweep_ = now;
  const auto timeout = Timeout();
  // Processes that stopped heartbeating: their OXIDs and OIDs go.
  std::vector<uint64_t> dead;
  for (const auto& [id, oxid] : oxids_) {
    if (now - oxid.last_heartbeat >= timeout) dead.push_back(id);
  }
  for (uint64_t id : dead) {
    if (options_.logger) {
      options_.logger->Log(LogEvent("oxid.dropped", LogSeverity::kInfo,
                                    "OXID " + Hex64(id) +
                                        " dropped: its process stopped calling Heartbeat")
                               .Peer(OwnerText(oxids_[id].owner))
                               .Extra("oxid", Hex64(id)));
    }
    DropOxidLocked(id);
  }
  // Ping sets nobody pinged.
  std::erase_if(sets_, [&](const auto& kv) { return now - kv.second.last_ping >= timeout; });
  // OIDs nobody pinged or used: they run down, and their process hears of
  // it at its next heartbeat.
  for (auto it = oids_.begin(); it != oids_.end();) {
    if (now - it->second.last_ping >= timeout) {
      Oxid& owner = oxids_.at(it->second.oxid);
      owner.oids.erase(it->first);
      owner.rundown.push_back(it->first);
      it = oids_.erase(it);
    } else {
      ++it;
    }
  }
}

void OxidResolver::PingSetLocked(PingSet& set, TimePoint now) {
  set.last_ping = now;
  for (auto it = set.oids.begin(); it != set.oids.end();) {
    auto oid = oids_.find(*it);
    if (oid == oids_.end()) {
      it = set.oids.erase(it);  // ran down or unregistered since
    } else {
      oid->second.last_ping = now;
      ++it;
    }
  }
}

// ==== Registration ===========================================================

Result<uint64_t> OxidResolver::RegisterOxid(const OxidOwner& owner,
                                            OxidRegistration registration) {
  if (registration.bindings.strings.empty()) {
    return Status(E_INVALIDARG, "an OXID needs at least one string binding");
  }
  uint16_t offset = 0;
  if (registration.bindings.Encode(&offset).size() > options_.limits.max_binding_entries) {
    return Status(E_INVALIDARG, "the bindings exceed " +
                                    std::to_string(options_.limits.max_binding_entries) +
                                    " entries");
  }
  std::lock_guard lock(mu_);
  const TimePoint now = Now();
  MaybeSweepLocked(now);
  const size_t mine = oxids_per_uid_.contains(owner.uid) ? oxids_per_uid_[owner.uid] : 0;
  if (mine >= options_.limits.max_oxids_per_uid || oxids_.size() >= options_.limits.max_oxids) {
    if (options_.logger) {
      options_.logger->Log(LogEvent("oxid.register_refused", LogSeverity::kWarning,
                                    "refused RegisterOxid: the OXID limit is reached")
                               .Peer(OwnerText(owner))
                               .Reason("limit")
                               .Hresult(E_OUTOFMEMORY));
    }
    return Status(E_OUTOFMEMORY, "this user holds " + std::to_string(mine) +
                                     " OXIDs (at most " +
                                     std::to_string(options_.limits.max_oxids_per_uid) +
                                     " per uid, " + std::to_string(options_.limits.max_oxids) +
                                     " in all)");
  }
  const uint64_t id = NewIdLocked();
  Oxid& oxid = oxids_[id];
  oxid.owner = owner;
  oxid.registration = std::move(registration);
  oxid.last_heartbeat = now;
  ++oxids_per_uid_[owner.uid];
  return id;
}

Result<std::vector<uint64_t>> OxidResolver::RegisterOids(const OxidOwner& owner, uint64_t oxid,
                                                         uint32_t count, bool noping) {
  if (count == 0 || count > 4096) return Status(E_INVALIDARG, "count must be 1-4096");
  std::lock_guard lock(mu_);
  const TimePoint now = Now();
  MaybeSweepLocked(now);
  COMSEC_ASSIGN_OR_RETURN(Oxid * o, OwnedLocked(owner, oxid, "register_oids"));
  if (!noping && (o->oids.size() + count > options_.limits.max_oids_per_oxid ||
                  oids_.size() + count > options_.limits.max_oids)) {
    return Status(E_OUTOFMEMORY, "OXID " + Hex64(oxid) + " would hold more than " +
                                     std::to_string(options_.limits.max_oids_per_oxid) +
                                     " OIDs (or the machine more than " +
                                     std::to_string(options_.limits.max_oids) + ")");
  }
  std::vector<uint64_t> out(count);
  for (uint64_t& id : out) {
    id = NewIdLocked();
    if (noping) continue;
    o->oids.insert(id);
    oids_[id] = Oid{oxid, now};
  }
  return out;
}

Status OxidResolver::UnregisterOids(const OxidOwner& owner, uint64_t oxid,
                                    std::span<const uint64_t> oids) {
  std::lock_guard lock(mu_);
  MaybeSweepLocked(Now());
  COMSEC_ASSIGN_OR_RETURN(Oxid * o, OwnedLocked(owner, oxid, "unregister_oids"));
  for (uint64_t id : oids) {
    if (o->oids.erase(id) != 0) oids_.erase(id);
  }
  return Status();
}

Status OxidResolver::UnregisterOxid(const OxidOwner& owner, uint64_t oxid) {
  std::lock_guard lock(mu_);
  MaybeSweepLocked(Now());
  COMSEC_RETURN_IF_ERROR(OwnedLocked(owner, oxid, "unregister_oxid").status());
  DropOxidLocked(oxid);
  return Status();
}

Status OxidResolver::SetOxidSecurity(const OxidOwner& owner, uint64_t oxid,
                                     std::vector<OxidBindings::Security> security) {
  std::lock_guard lock(mu_);
  COMSEC_ASSIGN_OR_RETURN(Oxid * o, OwnedLocked(owner, oxid, "set_oxid_security"));
  o->registration.bindings.security = std::move(security);
  return Status();
}

Result<std::vector<uint64_t>> OxidResolver::Heartbeat(const OxidOwner& owner, uint64_t oxid,
                                                      std::span<const uint64_t> used) {
  std::lock_guard lock(mu_);
  const TimePoint now = Now();
  COMSEC_ASSIGN_OR_RETURN(Oxid * o, OwnedLocked(owner, oxid, "heartbeat"));
  o->last_heartbeat = now;
  // A call since the last heartbeat counts as a ping (case 43); only this
  // OXID's own OIDs are refreshed.
  for (uint64_t id : used) {
    auto it = oids_.find(id);
    if (it != oids_.end() && it->second.oxid == oxid) it->second.last_ping = now;
  }
  MaybeSweepLocked(now);
  // The sweep may have moved entries (never this OXID: it just beat).
  Oxid& self = oxids_.at(oxid);
  std::vector<uint64_t> out;
  out.swap(self.rundown);
  return out;
}

// ==== IObjectExporter ========================================================

uint32_t OxidResolver::ResolveOxid(uint64_t oxid, std::span<const uint16_t> protseqs,
                                   ResolvedOxid* out) {
  std::lock_guard lock(mu_);
  MaybeSweepLocked(Now());
  auto it = oxids_.find(oxid);
  if (it == oxids_.end()) return OR_INVALID_OXID;
  const OxidRegistration& r = it->second.registration;
  out->ipid_rem_unknown = r.ipid_rem_unknown;
  out->authn_hint = r.authn_hint;
  out->version = r.version;
  out->bindings.security = r.bindings.security;
  out->bindings.strings.clear();
  for (const OxidBindings::String& s : r.bindings.strings) {
    if (std::find(protseqs.begin(), protseqs.end(), s.tower_id) != protseqs.end()) {
      out->bindings.strings.push_back(s);
    }
  }
  if (out->bindings.strings.empty()) {
    for (const OxidBindings::String& s : r.bindings.strings) {
      if (s.tower_id == kTowerIdTcp) out->bindings.strings.push_back(s);
    }
  }
  return 0;
}

uint32_t OxidResolver::SimplePing(uint64_t setid) {
  std::lock_guard lock(mu_);
  const TimePoint now = Now();
  MaybeSweepLocked(now);
  auto it = sets_.find(setid);
  if (setid == 0 || it == sets_.end()) return OR_INVALID_SET;
  PingSetLocked(it->second, now);
  return 0;
}

uint32_t OxidResolver::ComplexPing(uint64_t* setid, uint16_t sequence,
                                   std::span<const uint64_t> add, std::span<const uint64_t> del,
                                   uint16_t* backoff_factor) {
  *backoff_factor = 0;
  std::lock_guard lock(mu_);
  const TimePoint now = Now();
  MaybeSweepLocked(now);
  PingSet* set = nullptr;
  bool created = false;
  if (*setid == 0) {
    if (sets_.size() >= options_.limits.max_sets) return OR_NOMEM;
    created = true;
  } else {
    auto it = sets_.find(*setid);
    if (it == sets_.end()) return OR_INVALID_SET;
    set = &it->second;
    // A sequence number not newer than the last (mod 2^16) is a replay or
    // a reordered request: ping, change nothing.
    const auto ahead = static_cast<uint16_t>(sequence - set->sequence);
    if (ahead == 0 || ahead >= 0x8000) {
      PingSetLocked(*set, now);
      return 0;
    }
  }
  // Only the OIDs the resolver knows are added; unknown ones are ignored.
  // Counted first so that a refused call leaves the set as it was.
  // A repeated OID counts once; the scratch set never holds more than the
  // per-set bound + 1.
  std::unordered_set<uint64_t> known;
  const size_t current = set ? set->oids.size() : 0;
  for (uint64_t id : add) {
    if (!oids_.contains(id)) continue;
    if (set && set->oids.contains(id)) continue;
    known.insert(id);
    if (current + known.size() > options_.limits.max_oids_per_set) return OR_NOMEM;
  }
  if (created) {
    *setid = NewIdLocked();
    set = &sets_[*setid];
  }
  for (uint64_t id : del) set->oids.erase(id);
  set->oids.insert(known.begin(), known.end());
  set->sequence = sequence;
  PingSetLocked(*set, now);
  return 0;
}

// ==== Inspection =============================================================

std::optional<OxidResolver::TimePoint> OxidResolver::RundownDeadline(uint64_t oid) const {
  std::lock_guard lock(mu_);
  auto it = oids_.find(oid);
  if (it == oids_.end()) return std::nullopt;
  return it->second.last_ping + Timeout();
}

std::optional<OxidOwner> OxidResolver::OwnerOf(uint64_t oxid) const {
  std::lock_guard lock(mu_);
  auto it = oxids_.find(oxid);
  if (it == oxids_.end()) return std::nullopt;
  return it->second.owner;
}

size_t OxidResolver::oxid_count() const {
  std::lock_guard lock(mu_);
  return oxids_.size();
}

size_t OxidResolver::oid_count() const {
  std::lock_guard lock(mu_);
  return oids_.size();
}

size_t OxidResolver::set_count() const {
  std::lock_guard lock(mu_);
  return sets_.size();
}

size_t OxidResolver::set_size(uint64_t setid) const {
  std::lock_guard lock(mu_);
  auto it = sets_.find(setid);
  return it == sets_.end() ? 0 : it->second.oids.size();
}

void OxidResolver::SweepForTesting() {
  std::lock_guard lock(mu_);
  SweepLocked(Now());
}

OxidBindings OxidResolver::own_bindings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return options_.own_bindings;
}

void OxidResolver::SetOwnBindings(OxidBindings bindings) {
  std::lock_guard<std::mutex> lock(mu_);
  options_.own_bindings = std::move(bindings);
}

}  // namespace comsec::com
