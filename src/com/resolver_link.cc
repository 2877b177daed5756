#include "comsec/com/resolver_link.h"

#include <unistd.h>

namespace comsec::com {

LocalResolverLink::LocalResolverLink(OxidResolver* resolver)
    : resolver_(resolver),
      self_{static_cast<uint32_t>(getuid()), static_cast<uint32_t>(getpid())} {}

Result<uint64_t> LocalResolverLink::RegisterOxid(const OxidBindings& bindings,
                                                 const Guid& ipid_rem_unknown,
                                                 uint32_t authn_hint) {
  OxidRegistration r;
  r.bindings = bindings;
  r.ipid_rem_unknown = ipid_rem_unknown;
  r.authn_hint = authn_hint;
  return resolver_->RegisterOxid(self_, std::move(r));
}

Result<std::vector<uint64_t>> LocalResolverLink::RegisterOids(uint64_t oxid, uint32_t count,
                                                              bool noping) {
  return resolver_->RegisterOids(self_, oxid, count, noping);
}

Status LocalResolverLink::UnregisterOids(uint64_t oxid, std::span<const uint64_t> oids) {
  return resolver_->UnregisterOids(self_, oxid, oids);
}

Result<std::vector<uint64_t>> LocalResolverLink::Heartbeat(uint64_t oxid,
                                                           std::span<const uint64_t> used) {
  return resolver_->Heartbeat(self_, oxid, used);
}

Status LocalResolverLink::UnregisterOxid(uint64_t oxid) {
  return resolver_->UnregisterOxid(self_, oxid);
}

Status LocalResolverLink::SetOxidSecurity(uint64_t oxid,
                                          const std::vector<OxidBindings::Security>& security) {
  return resolver_->SetOxidSecurity(self_, oxid, security);
}

}  // namespace comsec::com
