// com::ResolverClient: how a process that exports COM objects talks to the
// machine's OXID resolver in comsecd (com/oxid_resolver.h), over the
// private IComsecOxidRegistration interface
// (idl/comsec/oxid_registration.idl). ncalrpc only: comsecd refuses TCP
// callers, and records the uid and pid of the process that registers an
// OXID; only that process may change it afterwards.
//
// Use (the object exporter):
//   auto client = ResolverClient::Connect(*StringBinding::Parse("ncalrpc:[epmapper]"));
//   auto oxid = (*client)->RegisterOxid(bindings, ipid_rem_unknown, authn_hint);
//   auto oids = (*client)->RegisterOids(*oxid, n);        // one per exported object
//   every (*client)->ping_period() / 2:
//     auto rundown = (*client)->Heartbeat(*oxid, oids_called_since_last_time);
//     release the objects whose OIDs are in *rundown;
//   (*client)->UnregisterOids(*oxid, oids) / UnregisterOxid(*oxid) when done.
//
// Errors are the resolver's HRESULTs: E_ACCESSDENIED (another process's
// OXID, or a TCP binding), HRESULT_FROM_WIN32(OR_INVALID_OXID) 0x80070776
// (unknown OXID, or dropped after 3 periods without a heartbeat),
// E_INVALIDARG, E_OUTOFMEMORY (a resolver limit); transport failures as
// rpc::Client reports them.
//
// Thread-safety: thread-safe (the rpc::Client underneath multiplexes
// concurrent calls). Not copyable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"
#include "comsec/com/resolver_link.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/client.h"

namespace comsec::com {

class ResolverClient final : public ResolverLink {
 public:
  // Connects and binds to the resolver at `resolver` (comsecd's ncalrpc
  // endpoint, e.g. "ncalrpc:[epmapper]"). E_ACCESSDENIED for a binding
  // that is not ncalrpc (comsecd would refuse it anyway).
  static Result<std::unique_ptr<ResolverClient>> Connect(const rpc::StringBinding& resolver,
                                                         rpc::ClientOptions options = {});
  ~ResolverClient();
  ResolverClient(const ResolverClient&) = delete;
  ResolverClient& operator=(const ResolverClient&) = delete;

  // Registers this process's object exporter: its string bindings (at
  // least one) and security bindings, the IPID of its IRemUnknown, and its
  // authentication hint (an RPC_C_AUTHN_LEVEL_*). Returns the OXID the
  // resolver chose, and sets ping_period().
  Result<uint64_t> RegisterOxid(const OxidBindings& bindings, const Guid& ipid_rem_unknown,
                                uint32_t authn_hint) override;
  // `count` (1-4096) new OIDs for objects of `oxid`. With `noping`
  // (SORF_NOPING objects) the OIDs are unique but never pinged nor run down.
  Result<std::vector<uint64_t>> RegisterOids(uint64_t oxid, uint32_t count,
                                             bool noping = false) override;
  // Forgets OIDs of `oxid` (objects released); unknown ones are skipped.
  Status UnregisterOids(uint64_t oxid, std::span<const uint64_t> oids) override;
  // The SCM's class table (RegisterClassObject / RevokeClassObject).
  Result<uint32_t> RegisterClassObject(uint64_t oxid, const Guid& clsid,
                                       uint32_t regcls) override;
  Status RevokeClassObject(uint32_t cookie) override;
  // Says this process is alive and which OIDs were called since the last
  // heartbeat (each defers its object's reclaim); returns the OIDs whose
  // clients stopped pinging, which the caller releases. Call it every
  // ping_period() / 2: a process silent for 3 periods loses its OXID.
  Result<std::vector<uint64_t>> Heartbeat(uint64_t oxid, std::span<const uint64_t> used) override;
  Status UnregisterOxid(uint64_t oxid) override;

  // The resolver's ping period, known after RegisterOxid (120 s before).
  std::chrono::milliseconds ping_period() const override { return ping_period_; }

 private:
  explicit ResolverClient(std::unique_ptr<rpc::Client> client);

  std::unique_ptr<rpc::Client> client_;
  std::chrono::seconds ping_period_{120};
};

}  // namespace comsec::com
