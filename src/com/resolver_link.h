// How a process's COM runtime reaches the OXID resolver that registers its
// object exporter, issues its OIDs and runs its objects down
// ([MS-DCOM] 3.1.2.3, 3.2.2.4): comsecd's, over ncalrpc
// (com::ResolverClient), or one of its own (LocalResolverLink below) when
// the process serves without comsecd — then it answers IObjectExporter for
// its own OXID on its own endpoints, and remote clients resolve and ping
// there.
//
// Thread-safety: implementations are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/com/oxid_resolver.h"

namespace comsec::com {

class ResolverLink {
 public:
  virtual ~ResolverLink() = default;
  virtual Result<uint64_t> RegisterOxid(const OxidBindings& bindings,
                                        const Guid& ipid_rem_unknown, uint32_t authn_hint) = 0;
  virtual Result<std::vector<uint64_t>> RegisterOids(uint64_t oxid, uint32_t count,
                                                     bool noping) = 0;
  virtual Status UnregisterOids(uint64_t oxid, std::span<const uint64_t> oids) = 0;
  // Alive; `used` OIDs were called. Returns the OIDs that ran down.
  virtual Result<std::vector<uint64_t>> Heartbeat(uint64_t oxid,
                                                  std::span<const uint64_t> used) = 0;
  virtual Status UnregisterOxid(uint64_t oxid) = 0;
  // Replaces the security bindings `oxid` was registered with (R52: a
  // CoInitializeSecurity with EOAC_MAKE_FULLSIC after the runtime started).
  // comsecd's resolver has no such operation on its wire interface yet:
  // E_NOTIMPL there (TODO(conformance): add it to IComsecOxidRegistration).
  virtual Status SetOxidSecurity(uint64_t oxid,
                                 const std::vector<OxidBindings::Security>& security) {
    (void)oxid;
    (void)security;
    return Status(E_NOTIMPL,
                  "comsecd's OXID resolver cannot change a registered OXID's security bindings; "
                  "set EOAC_MAKE_FULLSIC in ComRuntimeOptions::capabilities instead, so that the "
                  "OXID is registered with the fullsic name");
  }
  // Offers a class object registered for CLSCTX_LOCAL_SERVER to the
  // machine's SCM (comsecd), which then activates it through the process's
  // IComsecServerActivator; returns the SCM's cookie. A process resolving
  // for itself has no SCM: 0, and nothing is offered.
  virtual Result<uint32_t> RegisterClassObject(uint64_t oxid, const Guid& clsid,
                                               uint32_t regcls) {
    (void)oxid;
    (void)clsid;
    (void)regcls;
    return 0u;
  }
  virtual Status RevokeClassObject(uint32_t cookie) {
    (void)cookie;
    return Status();
  }
  // How often clients must ping; the heartbeat runs at half of it.
  virtual std::chrono::milliseconds ping_period() const = 0;
};

// A resolver inside this process, acting for it (its uid and pid).
class LocalResolverLink final : public ResolverLink {
 public:
  // `resolver` must outlive the link.
  explicit LocalResolverLink(OxidResolver* resolver);
  Result<uint64_t> RegisterOxid(const OxidBindings& bindings, const Guid& ipid_rem_unknown,
                                uint32_t authn_hint) override;
  Result<std::vector<uint64_t>> RegisterOids(uint64_t oxid, uint32_t count, bool noping) override;
  Status UnregisterOids(uint64_t oxid, std::span<const uint64_t> oids) override;
  Result<std::vector<uint64_t>> Heartbeat(uint64_t oxid, std::span<const uint64_t> used) override;
  Status UnregisterOxid(uint64_t oxid) override;
  Status SetOxidSecurity(uint64_t oxid,
                         const std::vector<OxidBindings::Security>& security) override;
  std::chrono::milliseconds ping_period() const override { return resolver_->ping_period(); }

 private:
  OxidResolver* const resolver_;
  const OxidOwner self_;
};

}  // namespace comsec::com
