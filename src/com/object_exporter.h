// The object exporter of one process ([MS-DCOM] 1.3.5, 3.1.1.1): the
// objects it serves to other processes and machines, each interface of
// each object under an IPID, with COM's reference counts, and the ORPC
// dispatch of calls to them: ORPCTHIS checked (COM 5.1-5.7, else
// RPC_E_VERSION_MISMATCH), the IPID found in the call's object UUID (an
// unknown or disconnected one faults with RPC_E_DISCONNECTED), the
// generated stub run in the object's apartment (com/apartment.h: the MTA's
// threads, or an STA's one thread), ORPCTHAT
// put before the reply. IRemUnknown and IRemUnknown2 are served on one
// IPID of their own (RemQueryInterface, RemAddRef, RemRelease with counts
// clamped at zero).
//
// Reference counts ([MS-DCOM] 1.3.6, 3.1.1.5.6.1.2-3; R48, R145; case 45):
// an IPID has one public count, which any caller may add to and release,
// and private counts kept per caller identity, which only that identity
// releases — what a client with secure references (EOAC_SECURE_REFS,
// LegacySecureReferences = "Y") asks for. The identity is the user SID of
// the call's token (rpc::CallSecurity, through CoGetCallContext). Choices,
// each pinned by a SecureRefs test:
//   - RemAddRef asking for private references from a caller with no
//     identity to count them for (level NONE, no token, or ANONYMOUS
//     LOGON) is refused as a whole: the call returns E_ACCESSDENIED, every
//     pResults entry is E_ACCESSDENIED and no count changes (the 1996 DCOM
//     draft's "the call is a no-op"; MS-DCOM leaves it open). Logged as
//     com.private_refs_refused.
//   - RemAddRef of an IPID not exported: that entry's result is
//     CO_E_OBJNOTREG ([MS-DCOM] 3.1.1.5.6.1.2) and the call returns it too;
//     the other entries are granted.
//   - RemRelease clamps both counts at zero and never fails ([MS-DCOM]
//     3.1.1.5.6.1.3 lists no error): public references go whoever
//     releases them; private references only from the releasing
//     identity's own count, so releasing references it does not hold
//     changes nothing (logged as com.private_refs_not_held).
//   - An IPID stays exported while its public count or any identity's
//     private count is above zero.
//   - When an object's clients stop pinging it (RunDown) or it is
//     disconnected, every count goes with it, private ones included. Ping
//     sets carry no identity ([MS-DCOM] 3.1.2.5.1: one set per client
//     machine), so one identity's private references outlive that
//     identity's client while another client keeps pinging the OID, as on
//     Windows.
//
// What comes next (issue 13): OBJREFs from these STDOBJREFs
// (com/objref.h), registration with comsecd's resolver and pinging,
// and the marshaler for interface pointers
// passed as parameters. Call security (issue 14) plugs in at Dispatch.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/base/unknown.h"
#include "comsec/com/apartment.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/object_channel.h"
#include "comsec/security/sid.h"

namespace comsec::com {

class CallAccessGate;

// Where an exported interface lives: what a STDOBJREF carries.
struct ExportedInterface {
  uint64_t oxid = 0;
  uint64_t oid = 0;
  Guid ipid;
};

struct ObjectExporterOptions {
  // The multithreaded apartment's threads.
  size_t threads = 4;
  // The OXID comsecd's resolver assigned (com::ResolverClient::RegisterOxid);
  // 0: a random one, for an exporter no resolver knows.
  uint64_t oxid = 0;
  // Where OIDs come from: the resolver issues them
  // (ResolverClient::RegisterOids) so that it can ping them; empty: random
  // ones no resolver pings. Called under the exporter's lock; must not
  // call back into it.
  std::function<Result<uint64_t>()> new_oid;
  // The IPID of the exporter's IRemUnknown; zero: a random one. Chosen
  // before the exporter when the resolver must know it first.
  Guid rem_unknown_ipid;
  // How interface pointers passed as parameters are marshaled (the
  // runtime's, com/com_runtime.h); null: they fail with E_NOTIMPL. Must
  // outlive the exporter.
  rpc::InterfaceMarshaler* marshaler = nullptr;
  // Calls (IRemUnknown's included) below this level are refused with
  // fault 0x5 (rpc_s_access_denied) before any stub runs: the process's
  // authentication level (R7).
  security::AuthnLevel min_authn_level = security::AuthnLevel::kNone;
  // The process's access check (R187), run on every call before it is
  // posted to an apartment; null: none. Not owned.
  CallAccessGate* gate = nullptr;
  // Gets com.call_refused, com.method_threw and com.run_down events. Not
  // owned.
  const Logger* logger = nullptr;
};

class ObjectExporter {
 public:
  explicit ObjectExporter(ObjectExporterOptions options = {});
  ~ObjectExporter();
  ObjectExporter(const ObjectExporter&) = delete;
  ObjectExporter& operator=(const ObjectExporter&) = delete;

  // Makes `registry` answer binds to every interface this exporter knows
  // (IIDs, version 0.0) with its ORPC dispatch. Before the server starts.
  void Attach(rpc::InterfaceRegistry& registry);
  // What Attach installs: the registration for `syntax`, or null when it is
  // not an interface this exporter serves.
  const rpc::InterfaceRegistration* Registration(const rpc::SyntaxId& syntax);

  // An interface the exporter can serve and RemQueryInterface can hand out.
  void RegisterInterface(const rpc::ObjectInterfaceInfo& info);

  // Exports interface `info.iid` of `object` (queried for it) with
  // `public_refs` references for the caller; the same interface of the
  // same object keeps its IPID. E_NOINTERFACE when the object lacks it.
  // `apartment` is where the object lives and every ORPC call to it runs
  // (an STA's calls on its thread, in order); null: the apartment it was
  // first exported into, else this exporter's MTA. RPC_E_WRONG_THREAD when
  // the object already lives in another apartment.
  // REQUIRES: `apartment` outlives the object's export: DisconnectApartment
  // before it goes.
  Result<ExportedInterface> Export(IUnknown* object, const rpc::ObjectInterfaceInfo& info,
                                   uint32_t public_refs, Apartment* apartment = nullptr);

  // CoDisconnectObject: every IPID of the object goes; later calls to
  // them fault with RPC_E_DISCONNECTED.
  void Disconnect(IUnknown* object);
  // CoUninitialize's part: Disconnect for every object living in
  // `apartment`. After it returns no new call is posted there; calls
  // already queued in it answer RPC_E_DISCONNECTED when they run (or when
  // the apartment refuses them).
  void DisconnectApartment(Apartment* apartment);

  // The MTA: IRemUnknown's calls and those of objects exported without an
  // apartment run on its threads.
  MtaApartment& mta() { return *mta_; }

  // An OBJREF of this exporter unmarshaled in its own process
  // ([MS-DCOM] 3.2.4.1.1: the object itself, no proxy): the object behind
  // `ipid` as interface `iid` (QueryInterface's result, as IUnknown), the
  // OBJREF's `public_refs` given back. CO_E_OBJNOTCONNECTED when the IPID
  // is not (or no longer) exported; E_NOINTERFACE.
  Result<ComPtr<IUnknown>> Unmarshal(const Guid& ipid, const Guid& iid, uint32_t public_refs);
  // Gives back public references of an IPID (CoReleaseMarshalData, a
  // local release); the IPID goes at zero. Unknown IPIDs are ignored.
  void ReleaseRefs(const Guid& ipid, uint32_t public_refs);
  // Whether clients hold references to `object` (an identity): some IPID
  // of it with public or private references, or a table-strong hold.
  bool HasReferences(IUnknown* object) const;
  // MSHLFLAGS_TABLESTRONG: the object behind `ipid` stays exported, with
  // or without references and whether or not anyone pings it, until as
  // many ReleaseTable as HoldForTable (CoReleaseMarshalData of the table
  // OBJREF). CO_E_OBJNOTCONNECTED for an IPID not exported.
  Status HoldForTable(const Guid& ipid);
  // MSHLFLAGS_TABLEWEAK: recorded, not holding: the object stays exported
  // (as exported, with or without references) until its clients' last
  // references go after it had some, or the weak entry is released.
  Status AddWeakEntry(const Guid& ipid);
  // CoReleaseMarshalData of a table OBJREF (no references in it): a strong
  // hold if the object has one, else a weak entry. The IPIDs nobody then
  // holds go.
  void ReleaseTable(const Guid& ipid);

  // Pinging ([MS-DCOM] 3.2.2.4): the OIDs called since the last time
  // (their reclaim is deferred), for the heartbeat to the resolver...
  std::vector<uint64_t> TakeUsedOids();
  // ...and the objects whose clients stopped pinging: disconnected, each
  // logged (com.run_down). Unknown OIDs are ignored.
  void RunDown(std::span<const uint64_t> oids);
  // The OIDs of the objects exported now.
  std::vector<uint64_t> ExportedOids() const;

  uint64_t oxid() const { return oxid_; }
  const Guid& rem_unknown_ipid() const { return rem_unknown_ipid_; }
  // IPIDs currently exported (IRemUnknown's not counted).
  size_t exported_interfaces() const;
  // The references an IPID holds, for tests: {public, private (all
  // identities')}, or nullopt when it is not exported.
  std::optional<std::pair<uint32_t, uint32_t>> RefsOf(const Guid& ipid) const;
  // The private references `owner` holds on an IPID (0: none, or not
  // exported), for tests.
  uint32_t PrivateRefsOf(const Guid& ipid, const security::Sid& owner) const;

 private:
  class RemUnknown;
  struct Ipid {
    Guid iid;
    const rpc::ObjectInterfaceInfo* info = nullptr;
    ComPtr<IUnknown> pointer;  // the interface's pointer, as IUnknown
    IUnknown* identity = nullptr;
    uint64_t oid = 0;
    uint32_t public_refs = 0;
    // Private references by owner (its user SID); no zero entries.
    std::map<security::Sid, uint32_t> private_refs;
    bool Held() const { return public_refs != 0 || !private_refs.empty(); }
  };
  struct Object {
    uint64_t oid = 0;
    ComPtr<IUnknown> identity;
    std::vector<Guid> ipids;
    Apartment* apartment = nullptr;  // where its calls run; not owned
    uint32_t table_holds = 0;        // table-strong marshals not yet released
    uint32_t weak_entries = 0;       // table-weak marshals not yet released
  };

  void Dispatch(rpc::IncomingCall call);
  // Posts `call` to the apartment of the object its IPID names (the MTA
  // for IRemUnknown and for IPIDs it does not know: Dispatch refuses them).
  void PostToApartment(rpc::IncomingCall call);
  Result<ExportedInterface> ExportLocked(IUnknown* object, const rpc::ObjectInterfaceInfo& info,
                                         uint32_t public_refs, Apartment* apartment = nullptr);
  void ForgetIpidLocked(std::map<Guid, Ipid>::iterator it);
  // The object behind `ipid`, null when it is not exported.
  Object* ObjectOfIpidLocked(const Guid& ipid);
  // Counts one table marshal (strong or weak) on the object behind `ipid`.
  Status CountTableEntry(const Guid& ipid, uint32_t Object::*entries);
  // Drops `ipid`'s public count by `public_refs` and `owner`'s private
  // count by `private_refs` (both clamped at zero; no owner: no private
  // count changes); when nobody holds it then it goes, and its object with
  // its last IPID, into `dying` (released by the caller after the lock).
  void ReleaseLocked(std::map<Guid, Ipid>::iterator it, uint32_t public_refs,
                     uint32_t private_refs, const security::Sid* owner,
                     std::vector<ComPtr<IUnknown>>& dying);
  void Log(const LogEvent& event) const {
    if (logger_) logger_->Log(event);
  }

  const Logger* const logger_;
  const uint64_t oxid_;
  const std::function<Result<uint64_t>()> new_oid_;
  const Guid rem_unknown_ipid_;
  rpc::InterfaceMarshaler* const marshaler_;
  const security::AuthnLevel min_authn_level_;
  CallAccessGate* const gate_;
  ComPtr<IUnknown> rem_unknown_;  // IRemUnknown2, as IUnknown

  mutable std::mutex mu_;
  std::map<Guid, const rpc::ObjectInterfaceInfo*> interfaces_;
  std::map<Guid, std::unique_ptr<rpc::InterfaceRegistration>> registrations_;
  std::map<Guid, Ipid> ipids_;
  std::map<IUnknown*, Object> objects_;  // by identity
  std::set<uint64_t> used_oids_;         // called since TakeUsedOids

  // Last: destroyed first, so no call runs while the tables go. (Calls
  // posted to an STA are the STA's to finish: shut it down before the
  // exporter goes.)
  std::unique_ptr<MtaApartment> mta_;
};

}  // namespace comsec::com
