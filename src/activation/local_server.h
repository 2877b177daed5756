// What every COM server process the SCM starts sets up the same way
// (comsec-hello-server, comsec-surrogate, a program's own LocalServer32):
// the process's runtime from the store (its AppID's security, as the
// implicit CoInitializeSecurity reads it, R73; NTLM logons validated by
// comsecd's logon service when comsecd is the resolver, else from the
// store's secrets file), then a COM runtime whose OXID is registered at
// the resolver and whose security bindings are the packages it can serve.
//
// Thread-safety: a function; the returned runtimes are as their headers say.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/log.h"
#include "comsec/base/result.h"
#include "comsec/com/com_runtime.h"
#include "comsec/runtime/runtime.h"

namespace comsec::activation {

struct LocalServerOptions {
  std::string store;     // "" = built-in defaults
  std::string resolver;  // comsecd's ncalrpc endpoint; "" = resolve in this process
  Guid appid;            // whose security the process takes
  std::vector<std::string> listen;
  std::chrono::milliseconds ping_period = std::chrono::seconds(120);
  const Logger* logger = nullptr;  // required
};

struct LocalServer {
  std::unique_ptr<runtime::Runtime> runtime;  // before `com`, which uses it
  std::unique_ptr<com::ComRuntime> com;
};

// Errors: RPC_S_INVALID_STRING_BINDING for a bad resolver or listen
// binding; the store's and the runtimes' own (E_INVALIDARG for a bad
// setting).
Result<LocalServer> StartLocalServer(const LocalServerOptions& options);

}  // namespace comsec::activation
