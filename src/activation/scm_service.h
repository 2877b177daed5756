// The SCM on the wire: IRemoteSCMActivator ([MS-DCOM] 3.1.2.5.2.3.2-3)
// and IActivation (3.1.2.5.2.3.1), both in front of one activation::Scm.
// comsecd serves them on its TCP endpoint (port 135, where Windows's
// RPCSS serves them) and on its ncalrpc endpoint (local activation).
//
// IRemoteSCMActivator 000001A0-0000-0000-C000-000000000046 v0.0:
//   opnums 0-2 are never sent by clients: fault nca_s_op_rng_error, as
//   Windows answers them;
//   3 RemoteGetClassObject, 4 RemoteCreateInstance: the activation
//   properties BLOB in (activation/activation_properties.h; properties
//   found by CLSID, never by position), PropsOutInfo + ScmReplyInfo out. A
//   BLOB that does not decode is its codec's HRESULT with no reply BLOB.
// IActivation 4d9f4ab8-7d1c-11cf-861e-0020af6e7c57 v0.0, opnum 0
//   RemoteActivation: several IIDs with per-IID results (E_NOINTERFACE
//   for those the object lacks), Mode 0xFFFFFFFF for the class object,
//   a file or storage name (persistent activation) E_NOTIMPL in phr.
//
// Both are registered at level NONE: the SCM decides what an activation
// at each level may do (activation/scm.h), and a refusal is its
// E_ACCESSDENIED (fault 5 on IRemoteSCMActivator, as Windows sends it,
// and rpc_s_access_denied to IActivation clients).
//
// Activation waits (a launch waits for the server to register with this
// very daemon), so neither interface runs on the RPC server's loop
// threads: their calls are handed to `pool`, and answered from there.
//
// Thread-safety: the handlers run on `pool`'s threads; `scm` and `pool`
// must outlive the registrations.
#pragma once

#include "comsec/activation/scm.h"
#include "comsec/com/worker_pool.h"
#include "comsec/rpc/interface.h"

namespace comsec::activation {

rpc::SyntaxId RemoteScmActivatorSyntax();
rpc::SyntaxId ActivationSyntax();

rpc::InterfaceRegistration RemoteScmActivatorInterface(Scm* scm, com::WorkerPool* pool);

rpc::InterfaceRegistration ActivationInterface(Scm* scm, com::WorkerPool* pool);

}  // namespace comsec::activation
