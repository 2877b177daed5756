#include "comsec/activation/co_create_instance.h"

#include <unistd.h>

#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "comsec/activation/scm_client.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/com/class_factory.h"

namespace comsec::activation {
namespace {

constexpr uint32_t kServerContexts = CLSCTX_INPROC_SERVER |
                                     CLSCTX_INPROC_HANDLER |
                                     CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string HexClsctx(uint32_t clsctx) { return HResult(clsctx).Hex(); }

// Where an activation may run, worked out from CLSCTX and COSERVERINFO
// before anything is tried (R125).
struct Plan {
  uint32_t orig_clsctx = 0;
  uint32_t clsctx = 0;
  // Another machine's SCM, when COSERVERINFO names one.
  std::optional<ScmServerName> remote;
  // The COAUTHINFO, when COSERVERINFO has one.
  const COAUTHINFO* auth_info = nullptr;
};

Result<Plan> MakePlan(const Guid& clsid, IUnknown* outer, uint32_t clsctx,
                      const COSERVERINFO* server,
                      const ActivationClientOptions& opts) {
  if ((clsctx & CLSCTX_ACTIVATE_32_BIT_SERVER) &&
      (clsctx & CLSCTX_ACTIVATE_64_BIT_SERVER)) {
    return Status(E_INVALIDARG,
                  "CLSCTX " + HexClsctx(clsctx) +
                      " asks for both CLSCTX_ACTIVATE_32_BIT_SERVER and "
                      "CLSCTX_ACTIVATE_64_BIT_SERVER");
  }
  Plan plan;
  plan.orig_clsctx = clsctx;
  plan.clsctx = clsctx;
  if (server != nullptr) plan.auth_info = server->auth_info;
  if (server != nullptr && !server->name.empty()) {
    COMSEC_ASSIGN_OR_RETURN(ScmServerName name,
                            ParseServerName(server->name, opts.scm_port));
    if (NamesThisMachine(name.host) && !name.explicit_port) {
      // A remote server on this machine is a local server.
      if (plan.clsctx & CLSCTX_REMOTE_SERVER) {
        plan.clsctx =
            (plan.clsctx & ~CLSCTX_REMOTE_SERVER) | CLSCTX_LOCAL_SERVER;
      }
    } else {
      plan.clsctx |= CLSCTX_REMOTE_SERVER;
      plan.remote = std::move(name);
    }
  }
  if ((clsctx & kServerContexts) == 0 && !plan.remote) {
    return Status(E_INVALIDARG,
                  "CLSCTX " + HexClsctx(clsctx) +
                      " names no server context (INPROC_SERVER, "
                      "INPROC_HANDLER, LOCAL_SERVER or REMOTE_SERVER)");
  }
  if (outer != nullptr && (plan.clsctx & CLSCTX_INPROC_SERVER) == 0) {
    return Status(CLASS_E_NOAGGREGATION,
                  "class " + clsid.ToString() +
                      " cannot be aggregated outside this process (CLSCTX " +
                      HexClsctx(plan.clsctx) + " has no CLSCTX_INPROC_SERVER)");
  }
  return plan;
}

// Where an activation was satisfied: a class object of this process, or
// (class_object null) an SCM's reply.
struct Found {
  ComPtr<IUnknown> class_object;
  ActivationPropertiesOut reply;
};

void LogRaise(const ActivationClientOptions& opts, const Guid& clsid,
              const rpc::StringBinding& at, const ActivationAuth& auth) {
  if (opts.logger == nullptr || !auth.raised) return;
  opts.logger->Log(
      LogEvent("activation.level_raised", LogSeverity::kNotice,
               std::string("the activation is made at ") +
                   security::AuthnLevelName(auth.level) + ", raised from " +
                   security::AuthnLevelName(auth.requested_level) + " (" +
                   auth.source + ") as RaiseActivationAuthenticationLevel does")
          .AuthnLevel(security::ToNumber(auth.level),
                      security::AuthnLevelName(auth.level))
          .Reason("raise_activation_authentication_level")
          .Extra("requested_level",
                 security::AuthnLevelName(auth.requested_level))
          .Extra("clsid", clsid.ToString())
          .Extra("scm", at.ToString()));
}

// One SCM's answer for the interfaces `iids`.
Result<ActivationPropertiesOut> ThroughScm(
    com::ComRuntime& rt, const Guid& clsid, const Plan& plan,
    ScmTransport transport, const std::vector<Guid>& iids, bool class_object,
    const ActivationClientOptions& opts) {
  const bool remote = transport == ScmTransport::kRemote;
  rpc::StringBinding at;
  if (remote) {
    at.protseq = "ncacn_ip_tcp";
    at.address = plan.remote->host;
    at.endpoint = std::to_string(plan.remote->port);
  } else {
    auto parsed = rpc::StringBinding::Parse(opts.local_scm);
    if (!parsed.ok()) {
      return Status(parsed.status())
          .Prefixed("ActivationClientOptions::local_scm");
    }
    at = std::move(*parsed);
  }
  COMSEC_ASSIGN_OR_RETURN(rpc::ClientOptions how, rt.ClientOptionsFor(at));
  COMSEC_ASSIGN_OR_RETURN(com::ClientProcessSecurity process,
                          rt.ClientSecurity());
  auth::LocalPackage
      local_package;  // stateless; outlives the call's association
  COMSEC_ASSIGN_OR_RETURN(
      ActivationAuth auth,
      EffectiveActivationAuth(plan.auth_info, process, transport,
                              remote ? plan.remote->host : std::string(),
                              &local_package));
  LogRaise(opts, clsid, at, auth);

  ScmActivationRequest request;
  request.clsid = clsid;
  request.iids = iids;
  request.orig_clsctx = plan.orig_clsctx;
  // R125: a request another machine's SCM takes is for a local server
  // there; comsecd is asked for what this machine should do.
  request.clsctx =
      remote ? CLSCTX_LOCAL_SERVER
             : plan.clsctx & (CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER);
  request.class_object = class_object;
  request.transport = transport;
  if (remote) request.server_name = Utf8ToUtf16Lossy(plan.remote->host);
  auto reply = CallScm(at, how, auth, request);
  if (!reply.ok() && opts.logger != nullptr) {
    opts.logger->Log(
        LogEvent("activation.failed", LogSeverity::kWarning,
                 "the activation of " + clsid.ToString() +
                     " failed: " + std::string(reply.status().message()))
            .Hresult(reply.status().code())
            .AuthnLevel(security::ToNumber(auth.level),
                        security::AuthnLevelName(auth.level))
            .Extra("clsid", clsid.ToString())
            .Extra("scm", at.ToString()));
  }
  return reply;
}

// R125's order: this process's class objects, comsecd, the named machine.
Result<Found> Locate(com::ComRuntime& rt, const Guid& clsid, IUnknown* outer,
                     const Plan& plan, const std::vector<Guid>& iids,
                     bool class_object, const ActivationClientOptions& opts) {
  Status last(REGDB_E_CLASSNOTREG, "class " + clsid.ToString() +
                                       " is not registered for CLSCTX " +
                                       HexClsctx(plan.clsctx));
  if (plan.clsctx & CLSCTX_INPROC_SERVER) {
    auto object = rt.classes().Get(clsid, CLSCTX_INPROC_SERVER);
    if (object.ok()) return Found{std::move(*object), {}};
    if (object.status().code() != REGDB_E_CLASSNOTREG) return object.status();
    if (outer != nullptr) {
      return Status(
          CLASS_E_NOAGGREGATION,
          "class " + clsid.ToString() +
              " is not registered in this process, and cannot be aggregated "
              "outside it");
    }
  }
  const bool local_scm = (plan.clsctx & CLSCTX_LOCAL_SERVER) ||
                         ((plan.clsctx & CLSCTX_REMOTE_SERVER) && !plan.remote);
  if (local_scm) {
    auto reply = ThroughScm(rt, clsid, plan, ScmTransport::kLocal, iids,
                            class_object, opts);
    if (reply.ok()) return Found{nullptr, std::move(*reply)};
    if (reply.status().code() != REGDB_E_CLASSNOTREG || !plan.remote)
      return reply.status();
    last = reply.status();
  }
  if (plan.remote) {
    COMSEC_ASSIGN_OR_RETURN(ActivationPropertiesOut reply,
                            ThroughScm(rt, clsid, plan, ScmTransport::kRemote,
                                       iids, class_object, opts));
    return Found{nullptr, std::move(reply)};
  }
  return last;
}

// An interface of an SCM's answer, unmarshaled. The references of an
// OBJREF that cannot be unmarshaled are not given back: its exporter
// cannot be reached, and it reclaims them when no ping comes.
Result<ComPtr<IUnknown>> Unmarshaled(com::ComRuntime& rt,
                                     const ActivationInterfaceResult& r) {
  if (r.hr.Failed()) {
    return Status(r.hr,
                  "the server could not give interface " + r.iid.ToString());
  }
  if (r.objref.empty()) {
    return Status(
        RPC_X_BAD_STUB_DATA,
        "the SCM answered interface " + r.iid.ToString() + " with no OBJREF");
  }
  return rt.UnmarshalInterface(r.objref, r.iid);
}

// The call's HRESULT from the interfaces' (the file comment).
Result<HResult> Summary(std::span<MULTI_QI> results, const Guid& clsid) {
  size_t succeeded = 0;
  const MULTI_QI* first_failure = nullptr;
  for (const MULTI_QI& r : results) {
    if (r.hr.Succeeded()) {
      ++succeeded;
    } else if (first_failure == nullptr) {
      first_failure = &r;
    }
  }
  if (succeeded == results.size()) return S_OK;
  if (succeeded > 0) return CO_S_NOTALLINTERFACES;
  return Status(first_failure->hr, "the object of class " + clsid.ToString() +
                                       " gave none of the " +
                                       std::to_string(results.size()) +
                                       " interfaces asked for (the first, " +
                                       first_failure->iid.ToString() + ": " +
                                       first_failure->hr.ToString() + ")");
}

}  // namespace

Result<ScmServerName> ParseServerName(std::string_view name,
                                      uint16_t default_port) {
  std::string_view host = name;
  while (!host.empty() && host.front() == '\\')
    host.remove_prefix(1);  // UNC (R121)
  ScmServerName out;
  out.port = default_port;
  const size_t open = host.rfind('[');
  if (open != std::string_view::npos && !host.empty() && host.back() == ']') {
    const std::string_view digits =
        host.substr(open + 1, host.size() - open - 2);
    uint32_t port = 0;
    bool valid = !digits.empty() && digits.size() <= 5;
    for (char c : digits) {
      valid = valid && c >= '0' && c <= '9';
      if (valid) port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!valid || port == 0 || port > 65535) {
      return Status(E_INVALIDARG,
                    "COSERVERINFO name \"" + std::string(name) +
                        "\": the port in brackets must be 1-65535");
    }
    out.port = static_cast<uint16_t>(port);
    out.explicit_port = true;
    host = host.substr(0, open);
  }
  if (host.empty()) {
    return Status(E_INVALIDARG, "COSERVERINFO name \"" + std::string(name) +
                                    "\" names no machine");
  }
  out.host = std::string(host);
  return out;
}

bool NamesThisMachine(std::string_view host) {
  const std::string h = Lower(host);
  if (h == "localhost" || h == "127.0.0.1" || h == "::1" || h == ".")
    return true;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return false;
  const std::string me = Lower(buf);
  return !me.empty() && (h == me || h == me.substr(0, me.find('.')));
}

Result<HResult> CreateInstanceEx(com::ComRuntime& rt, const Guid& clsid,
                                 IUnknown* outer, uint32_t clsctx,
                                 const COSERVERINFO* server,
                                 std::span<MULTI_QI> results,
                                 const ActivationClientOptions& opts) {
  if (results.empty()) {
    return Status(E_INVALIDARG,
                  "CoCreateInstanceEx needs at least one MULTI_QI");
  }
  if (results.size() > 0x8000) {  // MAX_REQUESTED_INTERFACES
    return Status(E_INVALIDARG,
                  "CoCreateInstanceEx asks for at most 32768 interfaces, not " +
                      std::to_string(results.size()));
  }
  std::vector<Guid> iids;
  for (MULTI_QI& r : results) {
    r.itf = nullptr;
    r.hr = E_NOINTERFACE;
    iids.push_back(r.iid);
  }
  auto found = [&]() -> Result<Found> {
    COMSEC_ASSIGN_OR_RETURN(Plan plan,
                            MakePlan(clsid, outer, clsctx, server, opts));
    return Locate(rt, clsid, outer, plan, iids, /*class_object=*/false, opts);
  }();
  if (!found.ok()) {
    for (MULTI_QI& r : results) r.hr = found.status().code();
    return found.status();
  }
  if (found->class_object) {
    // In this process: one object, then each interface of it.
    auto object = com::ClassFactoryCreateInstance(found->class_object.get(),
                                                  outer, IID_IUnknown);
    if (!object.ok()) {
      for (MULTI_QI& r : results) r.hr = object.status().code();
      return object.status();
    }
    for (MULTI_QI& r : results) {
      void* p = nullptr;
      r.hr = (*object)->QueryInterface(r.iid, &p);
      if (r.hr.Succeeded())
        r.itf = ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(p));
    }
  } else {
    for (size_t i = 0; i < results.size(); ++i) {
      auto itf = Unmarshaled(rt, found->reply.interfaces[i]);
      results[i].hr = itf.ok() ? S_OK : itf.status().code();
      if (itf.ok()) results[i].itf = std::move(*itf);
    }
  }
  return Summary(results, clsid);
}

HResult CoCreateInstanceEx(com::ComRuntime& rt, const Guid& clsid,
                           IUnknown* outer, uint32_t clsctx,
                           const COSERVERINFO* server,
                           std::span<MULTI_QI> results,
                           const ActivationClientOptions& opts) {
  Result<HResult> hr =
      CreateInstanceEx(rt, clsid, outer, clsctx, server, results, opts);
  return hr.ok() ? *hr : hr.status().code();
}

Result<ComPtr<IUnknown>> CoGetClassObject(com::ComRuntime& rt,
                                          const Guid& clsid, uint32_t clsctx,
                                          const COSERVERINFO* server,
                                          const Guid& iid,
                                          const ActivationClientOptions& opts) {
  COMSEC_ASSIGN_OR_RETURN(Plan plan,
                          MakePlan(clsid, nullptr, clsctx, server, opts));
  COMSEC_ASSIGN_OR_RETURN(Found found, Locate(rt, clsid, nullptr, plan, {iid},
                                              /*class_object=*/true, opts));
  if (found.class_object) {
    void* p = nullptr;
    HResult hr = found.class_object->QueryInterface(iid, &p);
    if (hr.Failed()) {
      return Status(hr, "the class object of " + clsid.ToString() +
                            " does not implement " + iid.ToString());
    }
    return ComPtr<IUnknown>::Adopt(static_cast<IUnknown*>(p));
  }
  return Unmarshaled(rt, found.reply.interfaces[0]);
}

Status CoGetInstanceFromFile(com::ComRuntime& /*rt*/,
                             const COSERVERINFO* /*server*/,
                             const Guid* /*clsid*/, IUnknown* /*outer*/,
                             uint32_t /*clsctx*/, uint32_t /*mode*/,
                             std::u16string_view /*name*/,
                             std::span<MULTI_QI> results) {
  for (MULTI_QI& r : results) {
    r.itf = nullptr;
    r.hr = E_NOTIMPL;
  }
  return Status(
      E_NOTIMPL,
      "persistent activation (CoGetInstanceFromFile, InstanceInfo) is not "
      "supported: "
      "create the object with CoCreateInstanceEx and load the file through its "
      "IPersistFile");
}

}  // namespace comsec::activation
