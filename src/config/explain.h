// Access decisions for launch, activation and calls, with their reasons —
// the order of checks settled in R186 and R187 (C11): the distance and
// EnableDCOM, the authentication level, the machine-wide restriction, then
// the application's (or default) descriptor. Every decision lists each
// check made, the ACE that decided it, and the `comcfg` command that would
// change the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/hresult.h"
#include "comsec/config/effective_policy.h"
#include "comsec/security/access_check.h"
#include "comsec/security/token.h"

namespace comsec::config {

enum class Operation : uint8_t {
  kLaunch,    // the server is not running: launch, then activate (R186.5)
  kActivate,  // the server is running: get an object from it
  kAccess,    // call a running server
};
const char* OperationName(Operation op);  // "launch", "activate", "access"

struct AccessRequest {
  Operation operation = Operation::kAccess;
  const security::Token* token = nullptr;  // REQUIRES: not null
  bool remote = false;                      // TCP (true) or local (R117)
  // The request's authentication level; DEFAULT (0) when unknown, in which
  // case level checks are reported as not evaluated.
  AuthnLevel authn_level = AuthnLevel::kDefault;
  // How the remedy names the caller ("uid:1000", "S-1-5-21-...-1001").
  std::string principal;
};

struct CheckStep {
  std::string name;    // "machine launch restriction"
  bool evaluated = true;
  bool passed = true;
  std::string detail;  // which setting, which ACE, what was missing
  std::optional<size_t> ace;
  std::string ace_sddl;
  uint32_t requested = 0;
  uint32_t granted = 0;
};

struct Decision {
  bool allowed = false;
  HResult hr = S_OK;  // E_ACCESSDENIED, CO_E_SERVER_EXEC_FAILURE, ...
  std::vector<CheckStep> steps;
  std::string summary;  // one sentence
  std::string remedy;   // a comcfg command, or advice when none exists
};

// REQUIRES: request.token != nullptr.
Decision Decide(const EffectivePolicy& policy, const AccessRequest& request);

// `word` as one shell word, as remedies and explain commands print it:
// quoted when it holds anything a shell would read ("COMSEC\alice" loses
// its backslash unquoted).
std::string ShellWord(const std::string& word);

// The COM rights a request needs (R116, R186.5, R187.2).
uint32_t RequiredRights(Operation op, bool remote);

}  // namespace comsec::config
