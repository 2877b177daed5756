// One activation request to an SCM on the wire (issue 15, client side):
// IRemoteSCMActivator::RemoteCreateInstance (opnum 4) or
// RemoteGetClassObject (opnum 3) ([MS-DCOM] 3.1.2.5.2.3.2-3, 3.2.4.1.1.2),
// to comsecd over ncalrpc or another machine's SCM over TCP.
//
// The request is the one a Windows client sends
// (BuildActivationPropertiesIn):
//   ORPCTHIS          COM version 5.7, a fresh causality id, no extensions;
//   pUnkOuter         NULL;
//   SpecialSystemProperties  dwSessionId 0xFFFFFFFF (no session asked for),
//                     dwDefaultAuthnLvl the call's level, dwOrigClsctx the
//                     CLSCTX the application gave;
//   InstantiationInfo the CLSID, classCtx the server contexts asked of this
//                     SCM (LOCAL_SERVER for a remote one: R125's forwarded
//                     request), actvflags from CLSCTX (DISABLE_AAA,
//                     32/64_BIT, NO_FAILURE_LOG), the IIDs,
//                     clientCOMVersion 5.7;
//   ActivationContextInfo  no client context (comsec has one context per
//                     apartment and marshals none; impacket sends the
//                     same and Windows servers accept it);
//   SecurityInfo      the server name (pServerInfo->pwszName) for a remote
//                     activation, no pServerInfo for a local one;
//   ServerLocationInfo all zero (2.2.22.2.6);
//   ScmRequestInfo    ClientImpLevel the call's impersonation level,
//                     protseqs {ncacn_ip_tcp (7)} remote, {ncalrpc (0x10),
//                     ncacn_ip_tcp} local;
//   destCtx           MSHCTX_DIFFERENTMACHINE remote, MSHCTX_LOCAL local.
// The server's COM version is not asked first (3.2.4.1.1.1's
// ServerAlive2): comsec speaks only IRemoteSCMActivator (5.6 and later).
//
// The reply: a failed HRESULT is the activation's answer, as a Status with
// it; a fault or a refused bind is the RPC runtime's HRESULT (fault 5:
// E_ACCESSDENIED); otherwise ppActProperties decoded
// (DecodeActivationPropertiesOut), which must answer the interfaces asked
// for, in order (else RPC_X_BAD_STUB_DATA).
//
// Thread-safety: free functions; each call makes its own association.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "comsec/activation/activation_auth.h"
#include "comsec/activation/activation_properties.h"
#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/client.h"

namespace comsec::activation {

struct ScmActivationRequest {
  Guid clsid;
  std::vector<Guid> iids;
  // CLSCTX as the application gave it (dwOrigClsctx), and the server
  // contexts this SCM is asked for (classCtx).
  uint32_t orig_clsctx = 0;
  uint32_t clsctx = 0;
  // RemoteGetClassObject instead of RemoteCreateInstance.
  bool class_object = false;
  ScmTransport transport = ScmTransport::kLocal;
  // The server as the application named it (remote only).
  std::u16string server_name;
};

// The activation properties of `request`, as the file comment says.
ActivationPropertiesIn BuildActivationPropertiesIn(
    const ScmActivationRequest& request, const ActivationAuth& auth);

// Connects to the SCM at `scm`, binds IRemoteSCMActivator with `auth`,
// makes the call and returns the decoded reply. Errors as the file
// comment says, each naming the SCM.
Result<ActivationPropertiesOut> CallScm(const rpc::StringBinding& scm,
                                        const rpc::ClientOptions& how,
                                        const ActivationAuth& auth,
                                        const ScmActivationRequest& request);

}  // namespace comsec::activation
