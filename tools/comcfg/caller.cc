#include "comcfg/caller.h"

#include <CLI/CLI.hpp>

#include "comcfg/principal.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::comcfg {

using namespace comsec::security;  // NOLINT: a tool file using its layer

void AddCallerOptions(CLI::App* cmd, CallerArgs& a, bool user_optional) {
  auto* user = cmd->add_option(
      "--user", a.user,
      "caller: a SID, an SDDL alias, DOMAIN\\name or name (a store account, with the "
      "token its logon gets), unix:NAME or uid:N; a bare name is the store's account, "
      "never a Unix user (write unix:NAME)");
  if (!user_optional) user->required();
  cmd->add_option("--group", a.groups,
                  "a group of the caller (repeatable): a SID, alias, DOMAIN\\group, "
                  "unix:NAME or gid:N; replaces the groups a unix:/uid: user has on this "
                  "system, adds to a store account's");
  cmd->add_flag("--local", a.local, "the caller is local (ncalrpc)");
  cmd->add_flag("--remote", a.remote, "the caller is remote (TCP)");
  cmd->add_flag("--everyone-includes-anonymous",
                a.everyone_includes_anonymous,
                "give an anonymous caller Everyone, as Windows's "
                "EveryoneIncludesAnonymous policy does");
  cmd->add_option("--admin-group", a.admin_groups,
                  "Unix groups whose members are BUILTIN\\Administrators "
                  "(repeatable; default sudo, wheel, admin)");
}

Status CheckDistance(const CallerArgs& a) {
  if (a.local == a.remote) {
    return Status(E_INVALIDARG,
                  "say whether the caller is --local or --remote (exactly "
                  "one); COM grants local and remote rights separately");
  }
  return Status();
}

Result<Caller> BuildCaller(const CallerArgs& a, StoreAccounts* accounts) {
  const LogonKind logon = a.remote ? LogonKind::kNetwork : LogonKind::kLocal;
  COMSEC_ASSIGN_OR_RETURN(Principal user, ParsePrincipal(a.user, PrincipalUse::kUser, accounts));
  std::vector<Principal> groups;
  for (const std::string& g : a.groups) {
    COMSEC_ASSIGN_OR_RETURN(Principal p, ParsePrincipal(g, PrincipalUse::kGroup, accounts));
    groups.push_back(std::move(p));
  }
  if (user.sid == well_known::Anonymous()) {
    Token t = Token::Anonymous(logon, a.everyone_includes_anonymous);
    for (const Principal& g : groups) t.AddGroup(g.sid);
    return Caller{std::move(t), a.user, ""};
  }
  if (user.account) {
    // As a package's logon of the account builds it.
    std::string refused;
    config::AccountLogon account_logon{user.account->sid, {}, std::nullopt};
    auto made = config::LogonOf(*user.account);
    if (made.ok()) {
      account_logon = std::move(*made);
    } else {
      refused = std::string(made.status().message());
    }
    if (user.account->disabled) refused = "the account is disabled";
    Token t = config::AccountLogonToken(account_logon, LogonKind::kNetwork);
    for (const Principal& g : groups) t.AddGroup(g.sid);
    return Caller{std::move(t), user.qualified_name, std::move(refused)};
  }
  if (user.unix_user) {
    UnixTokenOptions options;
    options.logon = logon;
    if (!a.admin_groups.empty()) options.admin_groups = a.admin_groups;
    UnixIdentity id = *user.unix_user;
    std::vector<Sid> other_groups;
    if (!groups.empty()) {
      // --group replaces what the system says about the user's groups.
      id.gids.clear();
      id.group_names.clear();
      for (const Principal& g : groups) {
        if (auto gid = UnixGidOf(g.sid)) {
          id.gids.push_back(*gid);
          id.group_names.push_back("");
        } else {
          other_groups.push_back(g.sid);
        }
      }
    }
    Token t = TokenForUnixIdentity(id, options);
    for (const Sid& s : other_groups) t.AddGroup(s);
    return Caller{std::move(t), a.user, ""};
  }
  std::vector<Sid> sids;
  for (const Principal& g : groups) sids.push_back(g.sid);
  return Caller{Token::ForAuthenticatedUser(user.sid, sids, logon), a.user, ""};
}

}  // namespace comsec::comcfg
