// The machine's OXID resolver ([MS-DCOM] 3.1.2, the object resolver's
// tables): which process exports each OXID and where it listens, which
// OIDs belong to it, and the ping sets remote clients keep alive. comsecd
// owns the one instance; its wire faces are com/oxid_resolver_service.h
// (IObjectExporter for clients, IComsecOxidRegistration for local
// processes, idl/comsec/oxid_registration.idl).
//
// Identifiers: OXIDs, OIDs and SETIDs are non-zero 64-bit values drawn
// from OpenSSL's CSPRNG (RAND_bytes) and never issued twice in a
// resolver's lifetime (every issued value is remembered).
//
// Garbage collection ([MS-DCOM] 3.1.2.2, 3.2.2; conformance cases 42, 43):
//   - an OID's "last ping" is set when it is registered, when a ping set
//     holding it is pinged (SimplePing, ComplexPing) and when its process
//     reports it used (Heartbeat: a call defers reclaim, case 43). At
//     last ping + kMissedPings (3) × ping period the OID runs down: it
//     leaves the tables and the next Heartbeat of its process reports it;
//   - a ping set not pinged for 3 periods is forgotten;
//   - an OXID whose process has not called Heartbeat for 3 periods is
//     dropped with its OIDs (the process died).
// Expiry is checked lazily: every operation sweeps the tables when a
// quarter period has passed since the last sweep, so an OID runs down
// between 3 and 3¼ periods after its last ping, and its process hears of
// it at its next heartbeat. With the default period (120 s) the deadline
// is 6 minutes (RundownDeadline, case 42).
//
// SORF_NOPING objects: their OIDs are issued (unique) but never entered
// into the OID table: they cannot be pinged and never run down.
//
// ComplexPing adding an OID the resolver does not know: ignored, the call
// succeeds (Windows's behaviour; [MS-DCOM] 3.1.2.5.1.3 asks only that the
// OIDs found be added). Pinned by OxidResolver.ComplexPingIgnoresUnknownOids.
// A SETID it does not know: OR_INVALID_SET (0x778), for SimplePing and for
// ComplexPing with a non-zero SETID (case 44).
//
// Bounds (OxidResolverLimits): OXIDs per uid and in all, OIDs per OXID and
// in all, ping sets and OIDs per set. ComplexPing's work is linear in its
// arrays (at most 65535 + 65535 lookups in hash tables) and its memory
// never exceeds the per-set bound, whatever cAddToSet says.
//
// Thread-safety: thread-safe. Every method may be called from any thread
// (comsecd's connection threads); one mutex guards the tables. The logger
// is called with the mutex held: its sinks must not call back.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/base/win32_error.h"

namespace comsec::com {

// [MS-ERREF] 2.2 object resolver statuses, as IObjectExporter returns them
// (error_status_t, Win32 values).
inline constexpr uint32_t OR_INVALID_OXID = 0x776;  // 1910
inline constexpr uint32_t OR_INVALID_OID = 0x777;   // 1911
inline constexpr uint32_t OR_INVALID_SET = 0x778;   // 1912
// ERROR_NOT_ENOUGH_MEMORY: a bound of the resolver was reached.
inline constexpr uint32_t OR_NOMEM = 8;

// [MS-DCOM] 2.2.19.3 wTowerId values (the RPC protocol identifiers of
// [MS-RPCE] 2.2.1.1.7; comsec's ncalrpc is the floor id rpc/tower.cc writes).
inline constexpr uint16_t kTowerIdTcp = 0x07;      // ncacn_ip_tcp
inline constexpr uint16_t kTowerIdNcalrpc = 0x10;  // ncalrpc

// [MS-DCOM] 2.2.19.4 wAuthnSvc values a resolver advertises.
inline constexpr uint16_t kAuthnNtlm = 10;       // RPC_C_AUTHN_WINNT
inline constexpr uint16_t kAuthnKerberos = 16;   // RPC_C_AUTHN_GSS_KERBEROS
inline constexpr uint16_t kAuthnNegotiate = 9;   // RPC_C_AUTHN_GSS_NEGOTIATE
inline constexpr uint16_t kAuthzNone = 0xFFFF;   // COM_C_AUTHZ_NONE

// A DUALSTRINGARRAY ([MS-DCOM] 2.2.19) as values: string bindings (tower
// id + network address, "127.0.0.1[13540]") and security bindings.
struct OxidBindings {
  struct String {
    uint16_t tower_id = kTowerIdTcp;
    std::u16string address;
    friend bool operator==(const String&, const String&) = default;
  };
  struct Security {
    uint16_t authn_svc = kAuthnNtlm;
    uint16_t authz_svc = kAuthzNone;
    std::u16string principal;
    friend bool operator==(const Security&, const Security&) = default;
  };
  std::vector<String> strings;
  std::vector<Security> security;
  friend bool operator==(const OxidBindings&, const OxidBindings&) = default;

  // The aStringArray of 2.2.19 and its wSecurityOffset: each binding
  // NUL-terminated, each list ended by an extra NUL (an empty list is two
  // NULs). wNumEntries is the array's size.
  std::vector<uint16_t> Encode(uint16_t* security_offset) const;
  // The reverse, bounds-checked (the array comes from another process or
  // machine): RPC_X_BAD_STUB_DATA when the offset lies outside the array
  // or a binding is not NUL-terminated inside its list. Entries after the
  // security list's terminator are ignored (wNumEntries may exceed what is
  // used, [MS-DCOM] 2.2.19.2).
  static Result<OxidBindings> Decode(uint16_t security_offset,
                                     std::span<const uint16_t> array);
};

struct ComVersion {
  uint16_t major = 5;
  uint16_t minor = 7;
  friend bool operator==(const ComVersion&, const ComVersion&) = default;
};

// Who registered an OXID: the ncalrpc caller's kernel-proven credentials.
struct OxidOwner {
  uint32_t uid = 0;
  uint32_t pid = 0;
  friend bool operator==(const OxidOwner&, const OxidOwner&) = default;
};

// What a process registers for its object exporter.
struct OxidRegistration {
  OxidBindings bindings;
  Guid ipid_rem_unknown;
  uint32_t authn_hint = 0;  // RPC_C_AUTHN_LEVEL_*
  ComVersion version;
};

// ResolveOxid's answer.
struct ResolvedOxid {
  OxidBindings bindings;  // string bindings filtered to the request
  Guid ipid_rem_unknown;
  uint32_t authn_hint = 0;
  ComVersion version;
};

struct OxidResolverLimits {
  // A process registers one OXID per apartment: a few. 64 per uid keeps
  // one local user from growing comsecd without bound.
  size_t max_oxids_per_uid = 64;
  size_t max_oxids = 4096;
  // Objects one process exports at once, and all processes.
  size_t max_oids_per_oxid = 65536;
  size_t max_oids = 1 << 20;
  // Ping sets: remote clients create them unauthenticated, so their number
  // is bounded in all; each expires after 3 silent periods.
  size_t max_sets = 16384;
  // OIDs one set holds (a client pings all its proxies to this machine in
  // one set).
  size_t max_oids_per_set = 65536;
  // u16 entries of one registered DUALSTRINGARRAY.
  size_t max_binding_entries = 4096;
};

struct OxidResolverOptions {
  // The ping period ([MS-DCOM] 3.2.2: 120 s); an OID runs down after
  // kMissedPings of them without a ping.
  std::chrono::milliseconds ping_period = std::chrono::seconds(120);
  OxidResolverLimits limits;
  // ServerAlive2's answer: the resolver's own string bindings (addresses
  // without endpoints) and security bindings (the packages offered).
  OxidBindings own_bindings;
  // The clock; tests inject theirs. Null: std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Refusals (oxid.*_refused, warning) and rundowns (oxid.dropped, info).
  // May be null; must outlive the resolver.
  const Logger* logger = nullptr;
};

class OxidResolver {
 public:
  static constexpr int kMissedPings = 3;
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit OxidResolver(OxidResolverOptions options);
  OxidResolver(const OxidResolver&) = delete;
  OxidResolver& operator=(const OxidResolver&) = delete;

  // ---- The registration interface (local processes) ----

  // A new OXID owned by `owner`. E_INVALIDARG for bindings past the limit
  // or without a string binding; E_OUTOFMEMORY past the OXID limits.
  Result<uint64_t> RegisterOxid(const OxidOwner& owner, OxidRegistration registration);
  // `count` new OIDs of `oxid` (1-4096). With `noping` they are issued but
  // not tracked (SORF_NOPING). OR_INVALID_OXID (as HRESULT) for an
  // unknown OXID, E_ACCESSDENIED for another owner's, E_OUTOFMEMORY past
  // the OID limits.
  Result<std::vector<uint64_t>> RegisterOids(const OxidOwner& owner, uint64_t oxid,
                                             uint32_t count, bool noping);
  // Forgets the OIDs of `oxid` listed (unknown ones are skipped).
  Status UnregisterOids(const OxidOwner& owner, uint64_t oxid, std::span<const uint64_t> oids);
  Status UnregisterOxid(const OxidOwner& owner, uint64_t oxid);
  // Replaces `oxid`'s security bindings (R52); OR_INVALID_OXID or
  // E_ACCESSDENIED as RegisterOids.
  Status SetOxidSecurity(const OxidOwner& owner, uint64_t oxid,
                         std::vector<OxidBindings::Security> security);
  // The process is alive; `used` OIDs were called since its last
  // heartbeat (their reclaim is deferred). Returns the OIDs of `oxid` that
  // ran down since the last heartbeat (each reported once).
  Result<std::vector<uint64_t>> Heartbeat(const OxidOwner& owner, uint64_t oxid,
                                          std::span<const uint64_t> used);

  // ---- IObjectExporter (remote clients) ----

  // 0 or OR_INVALID_OXID. The string bindings are those whose tower id
  // the client requested; when none is, the TCP ones (a client asking only
  // for protseqs we do not serve gets tower 7, as Windows answers).
  uint32_t ResolveOxid(uint64_t oxid, std::span<const uint16_t> protseqs, ResolvedOxid* out);
  // 0 or OR_INVALID_SET.
  uint32_t SimplePing(uint64_t setid);
  // `*setid` 0 creates a set (its id returned there). 0, OR_INVALID_SET,
  // or OR_NOMEM past the set bounds (the set is left as it was). A
  // sequence number not newer than the set's last (mod 2^16) pings the set
  // without changing it (a replayed request).
  uint32_t ComplexPing(uint64_t* setid, uint16_t sequence, std::span<const uint64_t> add,
                       std::span<const uint64_t> del, uint16_t* backoff_factor);
  OxidBindings own_bindings() const;
  // Sets what ServerAlive2 answers, for a resolver created before its
  // server listens (a process's own resolver learns its ports then).
  void SetOwnBindings(OxidBindings bindings);
  std::chrono::milliseconds ping_period() const { return options_.ping_period; }

  // ---- Inspection ----

  // When `oid` runs down if nothing pings or uses it again; nullopt for an
  // unknown or no-ping OID.
  std::optional<TimePoint> RundownDeadline(uint64_t oid) const;
  std::optional<OxidOwner> OwnerOf(uint64_t oxid) const;
  size_t oxid_count() const;
  size_t oid_count() const;
  size_t set_count() const;
  size_t set_size(uint64_t setid) const;
  // Runs the expiry sweep now, whatever the time since the last.
  void SweepForTesting();

 private:
  struct Oxid {
    OxidOwner owner;
    OxidRegistration registration;
    TimePoint last_heartbeat;
    std::unordered_set<uint64_t> oids;
    std::vector<uint64_t> rundown;  // ran down, not yet reported
  };
  struct Oid {
    uint64_t oxid = 0;
    TimePoint last_ping;
  };
  struct PingSet {
    std::unordered_set<uint64_t> oids;
    uint16_t sequence = 0;
    TimePoint last_ping;
  };

  TimePoint Now() const;
  std::chrono::steady_clock::duration Timeout() const;
  // A fresh non-zero id never issued before. REQUIRES: mu_ held.
  uint64_t NewIdLocked();
  // Finds `oxid` for a change by `owner`: OR_INVALID_OXID or
  // E_ACCESSDENIED (logged as oxid.<op>_refused).
  Result<Oxid*> OwnedLocked(const OxidOwner& owner, uint64_t oxid, const char* op);
  void DropOxidLocked(uint64_t oxid);
  void MaybeSweepLocked(TimePoint now);
  void SweepLocked(TimePoint now);
  void PingSetLocked(PingSet& set, TimePoint now);

  OxidResolverOptions options_;  // own_bindings guarded by mu_
  mutable std::mutex mu_;
  std::unordered_set<uint64_t> issued_;  // guarded by mu_
  std::unordered_map<uint64_t, Oxid> oxids_;  // guarded by mu_
  std::map<uint32_t, size_t> oxids_per_uid_;  // guarded by mu_
  std::unordered_map<uint64_t, Oid> oids_;  // guarded by mu_
  std::unordered_map<uint64_t, PingSet> sets_;  // guarded by mu_
  TimePoint last_sweep_;  // guarded by mu_
};

}  // namespace comsec::com
