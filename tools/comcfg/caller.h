// The caller options shared by `access-check` and `explain`: --user,
// --group, --local/--remote and the token they describe. A store account
// (principal.h: DOMAIN\name or a bare name) gets the token its logon gets
// on a server (config::AccountLogonToken, the function every package
// uses), so an offline answer and a live one agree.
#pragma once

#include <string>
#include <vector>

#include "comcfg/principal.h"
#include "comsec/base/result.h"
#include "comsec/security/token.h"

namespace CLI {
class App;
}

namespace comsec::comcfg {

struct CallerArgs {
  std::string user;
  std::vector<std::string> groups;
  bool local = false;
  bool remote = false;
  bool everyone_includes_anonymous = false;
  std::vector<std::string> admin_groups;
};

// --user is required unless `user_optional` (explain, which may name the
// caller by a package's principal instead).
void AddCallerOptions(CLI::App* cmd, CallerArgs& args, bool user_optional = false);

// Exactly one of --local and --remote.
Status CheckDistance(const CallerArgs& args);

struct Caller {
  security::Token token;
  // How remedies name the caller: "DOMAIN\name" for a store account, else
  // --user as written.
  std::string name;
  // Non-empty when the caller's logon would be refused before any access
  // check (a disabled store account, or one mapped to a Unix identity it
  // cannot act as): why.
  std::string logon_refused;
};

// The caller (R188): anonymous for AN; a Unix user's groups from the
// system unless --group is given; a store account's logon token (always a
// network logon, as every package's logon of a store account is; --local
// then only says the call came over ncalrpc), plus any --group; otherwise
// the SID plus --group SIDs and the logon groups. `accounts` resolves store
// names (null: none).
Result<Caller> BuildCaller(const CallerArgs& args, StoreAccounts* accounts);

}  // namespace comsec::comcfg
