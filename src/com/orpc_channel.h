// The client side of ORPC for one interface pointer ([MS-DCOM] 3.2.4.2):
// a generated proxy's calls go out as requests to the IPID (the object
// UUID) with ORPCTHIS before the parameters, and come back with ORPCTHAT
// taken off (the proxy reads its [out] parameters from
// CallReply::stub_offset).
//
// Every interface proxy of a remote object shares one association (the
// proxy manager's, com/remote_object.h); each call names its interface's
// presentation context (rpc::CallOptions::syntax). A channel made with its
// OXID's security (com/client_security.h) holds its proxy's blanket and
// sends each call in that blanket's authentication context, the blanket
// read once when the call starts (R82). The causality id of a
// call made while serving another is that call's (CausalityScope), else a
// new one, so that a chain of calls across processes carries one id.
//
// A channel made with its OXID's connections (com/cloaking.h) sends each
// call over the association presenting the identity the call presents
// (cloaking, R105-R107); it holds its proxy's static-cloaking capture.
//
// Called from a single-threaded apartment's thread, the call waits as COM's
// channel does: calls into that STA keep being dispatched on it meanwhile,
// so a callback from the callee completes.
//
// Thread-safety: Invoke may be called from several threads at once (the
// client multiplexes calls on its association).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "comsec/base/unknown.h"
#include "comsec/com/client_security.h"
#include "comsec/com/cloaking.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/object_channel.h"

namespace comsec::com {

class OrpcChannel final : public rpc::ObjectChannel {
 public:
  // Calls interface `iid` of IPID `ipid` over `client`, an association
  // to the object's exporter; the interface's presentation context is
  // negotiated on first use. `identity` is what the proxy's IUnknown
  // methods reach; it and `marshaler` (may be null) outlive the channel.
  // With `security`, calls go where the channel's blanket says (starting
  // with the OXID's default blanket); without, over `client` with its
  // bind's authentication. With `connections`, a call that must present
  // another identity than the process's (cloaking, com/cloaking.h) goes
  // over the association presenting it instead.
  OrpcChannel(std::shared_ptr<rpc::Client> client, const Guid& iid, const Guid& ipid,
              IUnknown* identity, rpc::InterfaceMarshaler* marshaler = nullptr,
              std::shared_ptr<OxidClientSecurity> security = nullptr,
              std::shared_ptr<OxidConnections> connections = nullptr);
  // Over a client already bound to the interface (its current one).
  OrpcChannel(std::unique_ptr<rpc::Client> client, const Guid& ipid, IUnknown* identity);

  Result<rpc::CallReply> Invoke(const Guid& iid, uint16_t opnum,
                                std::span<const uint8_t> stub) override;
  rpc::InterfaceMarshaler* marshaler() override { return marshaler_; }
  IUnknown* identity() override { return identity_; }

  rpc::Client& client() { return *client_; }
  const Guid& ipid() const { return ipid_; }
  // The proxy's blanket (IClientSecurity's, com/client_security.h).
  BlanketSlot& blanket() { return blanket_; }
  // SetBlanket replaced the blanket, on the calling thread: with static
  // cloaking the proxy captures that thread's identity now, else it
  // forgets any capture (R106 second and third points, com/cloaking.h).
  void BlanketChanged();
  // Every call of this channel presents `identity` (com/cloaking.h), not
  // what the thread and the blanket's cloaking would choose: the proxy
  // manager's IRemUnknown calls for references of one identity. Needs
  // the channel's connections (without, every call is the process's).
  // REQUIRES: before the first Invoke.
  void PresentAs(PresentedIdentity identity) { pinned_ = std::move(identity); }

 private:
  // The call on the wire; from an STA's thread, with the STA served while
  // it waits (com/apartment.h).
  Result<rpc::CallReply> Send(std::shared_ptr<rpc::Client> client,
                              const rpc::CallOptions& options, uint16_t opnum,
                              std::vector<uint8_t> request);

  std::shared_ptr<rpc::Client> client_;
  const std::shared_ptr<OxidClientSecurity> security_;
  BlanketSlot blanket_;
  const std::shared_ptr<OxidConnections> connections_;
  StaticCloak cloak_;  // R106: the proxy's first call's identity
  std::optional<PresentedIdentity> pinned_;  // PresentAs
  const std::optional<rpc::SyntaxId> syntax_;
  const Guid ipid_;
  IUnknown* const identity_;
  rpc::InterfaceMarshaler* const marshaler_;
};

// The causality id of the ORPC call this thread is serving; the object
// exporter opens one around each call it dispatches.
class CausalityScope {
 public:
  explicit CausalityScope(const Guid& cid) : previous_(current_) { current_ = &cid; }
  ~CausalityScope() { current_ = previous_; }
  CausalityScope(const CausalityScope&) = delete;
  CausalityScope& operator=(const CausalityScope&) = delete;
  static const Guid* current() { return current_; }

 private:
  const Guid* previous_;
  static inline thread_local const Guid* current_ = nullptr;
};

}  // namespace comsec::com
