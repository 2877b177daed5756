// The caller options shared by `access-check` and `explain`: --user,
// --group, --local/--remote and the token they describe.
#pragma once

#include <string>
#include <vector>

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

// The caller's token (R188): anonymous for AN; a Unix user's groups from
// the system unless --group is given; otherwise the SID plus --group SIDs
// and the logon groups.
Result<security::Token> BuildCallerToken(const CallerArgs& args);

}  // namespace comsec::comcfg
