// The proxy manager ([MS-DCOM] 3.2.4.1.1, COM's "standard marshaling"
// client side): the one identity a process holds for an object served by
// another exporter. Its QueryInterface answers from the interface proxies
// it already has or asks the object's IRemUnknown (RemQueryInterface);
// every interface proxy of it forwards AddRef/Release/QueryInterface to it
// (rpc::ObjectChannel::identity), so the object has one count here. When
// that count reaches zero it gives every reference it holds back with one
// RemRelease and stops pinging the object.
//
// Secure references (R48, R145; ProxyHost::secure_references): the
// references an OBJREF brings are public, which anyone may release, so a
// proxy manager with secure references converts them as it adopts them —
// RemAddRef of private references of its own (counted for its identity
// by the exporter), then RemRelease of the OBJREF's public ones — and
// later releases only its private ones.
//
// Which identity its IRemUnknown calls present (com/cloaking.h): the
// RemQueryInterface and RemAddRef calls present what its IUnknown presents
// now: IUnknown's blanket (R86: the process's default one with reference
// tracking on, cloaking bits included, R47) decided by R105-R107 like any
// interface proxy's, with IUnknown's own static capture (R106). With
// dynamic cloaking, a proxy manager that adopts an interface while its
// thread impersonates A takes A's references, as A's association
// (interface proxies' calls then present A too). Each reference is
// recorded with the identity that took it and given back by that identity,
// on its association, whatever the thread that releases impersonates
// (its last Release, Disconnect, or another thread's): private references
// are counted per identity by the exporter (R145, [MS-DCOM] 1.3.6), so a
// RemRelease presenting another identity would release nothing (the
// object leaks until the pings stop) or, worse, that identity's own. A
// refused identity (R109: IDENTIFY only, com.cloaking_refused) fails the
// adoption like a proxy's call; the OBJREF's public references, which
// anyone may release, are then given back as the process.
//
// It is IClientSecurity's proxy manager (com/client_security.h, R79): each
// interface proxy holds its own blanket (its channel's), IUnknown one more
// (what its RemQueryInterface, RemAddRef and RemRelease calls use, R86),
// and CopyProxy's copies are interface proxies of their own that share the
// original's IPID and references.
//
// Thread-safety: every method may be called from any thread; the proxies
// it hands out may be called from several threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "comsec/base/unknown.h"
#include "comsec/com/client_security.h"
#include "comsec/com/cloaking.h"
#include "comsec/com/objref.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/object_channel.h"

namespace comsec::com {

class RemoteObject;

// One OXID as this process reaches it: what its resolver said and one
// association to its exporter that every proxy of its objects shares.
struct RemoteOxid {
  uint64_t oxid = 0;
  Guid rem_unknown_ipid;
  std::shared_ptr<rpc::Client> client;
  // The resolver's bindings (an OBJREF's saResAddr, handed on when a proxy
  // is marshaled again) and the binding it is pinged at.
  OxidBindings resolver;
  std::string ping_binding;
  // The blanket negotiation with this OXID and the association's
  // authentication contexts; null: calls use `client` as bound.
  std::shared_ptr<OxidClientSecurity> security;
  // The associations by presented identity (com/cloaking.h); `client` is
  // its process association. Null: every call over `client`.
  std::shared_ptr<OxidConnections> connections;
};

// What a proxy manager needs from the runtime that made it.
class ProxyHost {
 public:
  virtual ~ProxyHost() = default;
  // The proxy/stub of `iid`, or null when none is registered.
  virtual const rpc::ObjectInterfaceInfo* ProxyInfo(const Guid& iid) = 0;
  virtual rpc::InterfaceMarshaler* marshaler() = 0;
  // `object`'s last reference went: drop it from the tables, stop pinging.
  virtual void Forget(RemoteObject* object) = 0;
  // Whether this process uses secure references (EOAC_SECURE_REFS,
  // LegacySecureReferences): adopted references become private ones.
  virtual bool secure_references() const { return false; }
};

// The private IID a runtime asks to tell its own proxy managers from any
// other object (QueryInterface answers it with the RemoteObject itself).
inline constexpr Guid kIidRemoteObject{0x6c0d9a3eu, 0x51b2, 0x4d7e,
                                       {0x9a, 0x0f, 0x3b, 0x84, 0x27, 0xe1, 0x5c, 0x90}};

class RemoteObject final : public IUnknown, private ProxyManagerSecurity {
 public:
  // References an OBJREF gives when it carries none (Windows's count).
  static constexpr uint32_t kRefsPerMarshal = 5;
  // Private references a proxy manager with secure references asks for
  // per interface it adopts (it holds one remote reference per IPID).
  static constexpr uint32_t kPrivateRefsPerAdopt = 1;

  RemoteObject(ProxyHost* host, std::shared_ptr<const RemoteOxid> oxid, uint64_t oid,
               bool noping);

  HResult QueryInterface(const Guid& iid, void** object) override;
  uint32_t AddRef() override;
  uint32_t Release() override;
  // A reference for the runtime's table lookup: false when the count
  // already reached zero (the object is going; make a new one).
  bool TryAddRef();

  // Takes interface `iid` at `ipid` with `public_refs` references the
  // exporter gave this process (an OBJREF, a RemQueryInterface result),
  // as the identity IUnknown presents now (the file comment).
  // With none, asks for some (RemAddRef). With secure references, asks for
  // private ones instead and gives the public ones back; the exporter's
  // refusal (E_ACCESSDENIED for an unauthenticated association) fails the
  // adoption. E_NOINTERFACE when no proxy/stub for `iid` is registered.
  Status Adopt(const Guid& iid, const Guid& ipid, uint32_t public_refs);
  // An OBJREF of interface `iid` for another process: the object's own
  // exporter, with `public_refs` references this process asks it for
  // (RemAddRef), so that the other process holds its own; with none (table
  // data), no call is made and each unmarshal asks for its own.
  Result<Objref> MarshalFor(const Guid& iid, uint32_t public_refs = kRefsPerMarshal);
  // Gives `public_refs` references on `ipid` (interface `iid`) back now
  // with RemRelease, without adopting them: an unused OBJREF's
  // (CoReleaseMarshalData). Best effort, as every RemRelease: an exporter
  // that cannot be reached runs the object down when the pings stop.
  void ReleaseUnused(const Guid& iid, const Guid& ipid, uint32_t public_refs);
  // Gives every reference back now (the runtime is going away); later
  // calls fail with CO_E_OBJNOTCONNECTED or the server's
  // RPC_E_DISCONNECTED.
  void Disconnect();

  uint64_t oxid() const { return oxid_->oxid; }
  uint64_t oid() const { return oid_; }
  bool noping() const { return noping_; }
  const RemoteOxid& remote_oxid() const { return *oxid_; }
  // The public references held on `iid`'s IPID, for tests (0: none)...
  uint32_t RefsHeld(const Guid& iid) const;
  // ...and the private ones (secure references)...
  uint32_t PrivateRefsHeld(const Guid& iid) const;
  // ...and the identities holding references on it, as
  // PresentedIdentity::ToString names them.
  std::vector<std::string> HoldersOf(const Guid& iid) const;

 private:
  // References on one IPID taken by one identity, given back by it.
  struct Refs {
    Guid ipid;
    PresentedIdentity as;
    uint32_t refs = 0;          // public
    uint32_t private_refs = 0;  // secure references
  };
  struct Interface {
    Guid ipid;
    std::vector<Refs> held;  // one per identity (PresentedIdentity::SameAs)
    std::unique_ptr<OrpcChannel> channel;
    rpc::ProxyPtr proxy{nullptr, nullptr};
  };
  ~RemoteObject() = default;
  // ProxyManagerSecurity
  BlanketSlot* FindBlanket(IUnknown* proxy, bool* is_unknown) override;
  void BlanketChanged(IUnknown* proxy) override;
  OxidClientSecurity& oxid_security() override { return *oxid_->security; }
  Result<IUnknown*> CopyInterfaceProxy(IUnknown* proxy) override;
  // What IUnknown's calls present now (the file comment), or the
  // refusal (logged by OxidConnections).
  Result<PresentedIdentity> UnknownIdentity();
  // A channel to the exporter's IRemUnknown in IUnknown's blanket,
  // presenting `as`.
  std::unique_ptr<OrpcChannel> RemUnknownChannel(const PresentedIdentity& as);
  // Asks the exporter for `iid` (RemQueryInterface on any held IPID).
  Status QueryRemote(const Guid& iid);
  Status AdoptAs(const Guid& iid, const Guid& ipid, uint32_t public_refs,
                 const PresentedIdentity& as);
  Status RemAddRef(const Guid& ipid, const PresentedIdentity& as, uint32_t public_refs,
                   uint32_t private_refs = 0);
  // RemRelease of everything in `held`, one call per identity, each
  // presenting the identity that took the references.
  void ReleaseAll(std::vector<Refs> held);
  // Moves every reference `interfaces` holds into the returned list.
  static std::vector<Refs> TakeRefs(std::map<Guid, Interface>& interfaces);

  std::atomic<ProxyHost*> host_;
  const std::shared_ptr<const RemoteOxid> oxid_;
  const uint64_t oid_;
  const bool noping_;
  std::atomic<uint32_t> refs_{1};
  mutable std::mutex mu_;
  std::map<Guid, Interface> interfaces_;  // by IID
  // CopyProxy's copies (IID, proxy; no references of their own), kept
  // until the object goes.
  std::vector<std::pair<Guid, Interface>> copies_;
  BlanketSlot unknown_blanket_;
  StaticCloak unknown_cloak_;  // R106 for IUnknown's own calls
  ClientSecurity client_security_{this, this};
};

}  // namespace comsec::com
