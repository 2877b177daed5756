// The client side of ORPC for one interface pointer ([MS-DCOM] 3.2.4.2):
// a generated proxy's calls go out as requests to the IPID (the object
// UUID) with ORPCTHIS before the parameters, and come back with ORPCTHAT
// taken off (the proxy reads its [out] parameters from
// CallReply::stub_offset).
//
// This first form owns one association bound to the interface; the proxy
// manager that shares associations, blankets (IClientSecurity) and
// causality across a process's proxies comes next (issues 13, 14).
//
// Thread-safety: Invoke may be called from several threads at once (the
// client multiplexes calls on its association).
#pragma once

#include <memory>

#include "comsec/base/unknown.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/object_channel.h"

namespace comsec::com {

class OrpcChannel final : public rpc::ObjectChannel {
 public:
  // `client` is bound to the interface (its IID, version 0.0);
  // `identity` is what the proxy's IUnknown methods reach and must outlive
  // the channel.
  OrpcChannel(std::unique_ptr<rpc::Client> client, const Guid& ipid, IUnknown* identity);

  Result<rpc::CallReply> Invoke(const Guid& iid, uint16_t opnum,
                                std::span<const uint8_t> stub) override;
  rpc::InterfaceMarshaler* marshaler() override { return nullptr; }
  IUnknown* identity() override { return identity_; }

  rpc::Client& client() { return *client_; }

 private:
  std::unique_ptr<rpc::Client> client_;
  const Guid ipid_;
  IUnknown* const identity_;
};

}  // namespace comsec::com
