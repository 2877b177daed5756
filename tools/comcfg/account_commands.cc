// comcfg user / group: the local account database NTLM validates against
// (issue 5). Passwords are read from a terminal without echo or, with
// --password-stdin, from one line of standard input; only their NT hash is
// stored, and no command ever prints it. `user set` maps an account to the
// Unix identity a server's thread acts as when it impersonates the
// account's logons (issue 14; config::UnixMapping).
#include <termios.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comcfg/command.h"
#include "comcfg/store_access.h"
#include "comsec/base/utf16.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/security/unix_identity.h"

namespace comsec::comcfg {
namespace {

using config::AccountDatabase;
using config::NtHashBytes;

Result<SecretString> ReadPassword(const Io& io, bool from_stdin) {
  SecretString secret;
  std::string& password = secret.mutable_value();
  if (from_stdin) {
    std::istream& in = io.in ? *io.in : std::cin;
    if (!std::getline(in, password)) {
      return Status(E_INVALIDARG, "--password-stdin: no password on standard input");
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    return secret;
  }
  std::ifstream tty("/dev/tty");
  std::ofstream tty_out("/dev/tty");
  if (!tty || !tty_out || !isatty(STDIN_FILENO)) {
    return Status(E_INVALIDARG,
                  "no terminal to ask for the password; pass --password-stdin and "
                  "write it to standard input");
  }
  termios old{};
  tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  SecretString again_secret;
  std::string& again = again_secret.mutable_value();
  tty_out << "Password: " << std::flush;
  std::getline(tty, password);
  tty_out << "\nRetype password: " << std::flush;
  std::getline(tty, again);
  tty_out << "\n";
  tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (password != again) return Status(E_INVALIDARG, "the passwords do not match");
  return secret;
}

NtHashBytes HashOf(const SecretString& password) {
  return auth::ntlm::NtHashOfPassword(password.view());
}

// Runs `fn` on the account database in the store's secrets file, creating
// the machine domain first when `create_domain`. Only the secrets file's
// owner may (anyone else is told so, exit 1).
template <typename Fn>
int WithAccounts(const GlobalOptions& global, const Io& io, bool create_domain, Fn fn) {
  // The store must exist ('comcfg init').
  auto policy = OpenStore(global, StoreAccess::kRead);
  if (!policy.ok()) return ReportFailure(io, policy.status());
  policy->reset();
  config::SecretsOptions options;
  options.create_if_missing = create_domain;
  auto store = config::OpenSecrets(StorePath(global), options);
  if (!store.ok()) return ReportFailure(io, store.status());
  AccountDatabase db(store->get());
  if (create_domain) {
    auto d = db.EnsureDomain(config::NetbiosComputerName());
    if (!d.ok()) return ReportFailure(io, d.status());
  }
  Status s = fn(db);
  return s.ok() ? kExitOk : ReportFailure(io, s);
}

std::string DescribeMapping(const std::optional<config::UnixMapping>& m) {
  if (!m) return "no Unix mapping (its logons only identify)";
  if (!m->user_name.empty()) return "unix-user " + m->user_name;
  std::string out = "uid " + std::to_string(m->uid) + " gid " + std::to_string(m->gid);
  if (!m->groups.empty()) {
    out += " groups ";
    for (size_t i = 0; i < m->groups.size(); ++i) {
      out += (i ? "," : "") + std::to_string(m->groups[i]);
    }
  }
  return out;
}

nlohmann::json MappingJson(const config::UnixMapping& m) {
  if (!m.user_name.empty()) return {{"user", m.user_name}};
  return {{"uid", m.uid}, {"gid", m.gid}, {"groups", m.groups}};
}

}  // namespace

void AddAccountCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                        int* exit_code) {
  CLI::App* user = app.add_subcommand(
      "user", "local accounts that NTLM authenticates (NT hashes only, never shown)");
  user->require_subcommand(1);

  struct UserArgs {
    std::string name;
    bool password_stdin = false;
    bool json = false;
    // user set
    std::string unix_user;
    std::optional<uint32_t> uid, gid;
    std::vector<std::string> unix_groups;
    bool no_unix = false;
  };
  auto ua = std::make_shared<UserArgs>();

  CLI::App* add = user->add_subcommand(
      "add", "create an account in the machine domain (created on first use)");
  add->add_option("NAME", ua->name, "account name")->required();
  add->add_flag("--password-stdin", ua->password_stdin,
                "read the password from one line of standard input");
  add->callback([ua, &global, &io, exit_code] {
    auto password = ReadPassword(io, ua->password_stdin);
    if (!password.ok()) {
      *exit_code = ReportBadInput(io, password.status());
      return;
    }
    *exit_code = WithAccounts(global, io, true, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.AddUser(ua->name, HashOf(*password)));
      COMSEC_ASSIGN_OR_RETURN(auto account, db.FindUser(ua->name));
      COMSEC_ASSIGN_OR_RETURN(auto domain, db.Domain());
      io.out << "created " << domain.name << "\\" << ua->name << " ("
             << account->sid.ToString() << ")\n";
      return Status();
    });
  });

  CLI::App* passwd = user->add_subcommand("passwd", "set an account's password");
  passwd->add_option("NAME", ua->name, "account name")->required();
  passwd->add_flag("--password-stdin", ua->password_stdin,
                   "read the password from one line of standard input");
  passwd->callback([ua, &global, &io, exit_code] {
    auto password = ReadPassword(io, ua->password_stdin);
    if (!password.ok()) {
      *exit_code = ReportBadInput(io, password.status());
      return;
    }
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.SetNtHash(ua->name, HashOf(*password)));
      io.out << "password of " << ua->name << " changed\n";
      return Status();
    });
  });

  CLI::App* del = user->add_subcommand("del", "delete an account");
  del->add_option("NAME", ua->name, "account name")->required();
  del->callback([ua, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.DeleteUser(ua->name));
      io.out << "deleted " << ua->name << "\n";
      return Status();
    });
  });

  CLI::App* set = user->add_subcommand(
      "set",
      "map an account to a Unix identity: the uid, gid and groups a server's thread takes on "
      "when it impersonates the account's logons at IMPERSONATE or DELEGATE (never root)");
  set->add_option("NAME", ua->name, "account name")->required();
  auto* unix_user = set->add_option(
      "--unix-user", ua->unix_user,
      "a Unix user: its uid, primary gid and groups as the system has them at each logon");
  auto* uid = set->add_option("--uid", ua->uid, "a fixed uid (with --gid)");
  auto* gid = set->add_option("--gid", ua->gid, "the primary gid (with --uid)");
  auto* groups = set->add_option("--groups", ua->unix_groups,
                                 "supplementary groups (with --uid): gids or Unix group "
                                 "names, comma-separated")
                     ->delimiter(',');
  auto* no_unix = set->add_flag("--no-unix", ua->no_unix,
                                "remove the mapping: the account's logons only identify");
  uid->needs(gid);
  gid->needs(uid);
  groups->needs(uid);
  unix_user->excludes(uid)->excludes(gid)->excludes(groups)->excludes(no_unix);
  no_unix->excludes(uid)->excludes(gid)->excludes(groups);
  set->callback([ua, &global, &io, exit_code] {
    std::optional<config::UnixMapping> mapping;
    if (!ua->unix_user.empty()) {
      mapping = config::UnixMapping{ua->unix_user, 0, 0, {}};
    } else if (ua->uid) {
      mapping = config::UnixMapping{"", *ua->uid, *ua->gid, {}};
      for (const std::string& g : ua->unix_groups) {
        uint32_t n = 0;
        auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), n);
        if (!g.empty() && ec == std::errc() && end == g.data() + g.size()) {
          mapping->groups.push_back(n);
          continue;
        }
        auto named = security::LookupUnixGroupByName(g);
        if (!named.ok()) {
          *exit_code = ReportBadInput(io, named.status());
          return;
        }
        mapping->groups.push_back(*named);
      }
    } else if (!ua->no_unix) {
      *exit_code = ReportBadInput(
          io, Status(E_INVALIDARG, "say what to set: --unix-user NAME, --uid N --gid N "
                                   "[--groups G,...], or --no-unix"));
      return;
    }
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.SetUnixMapping(ua->name, mapping));
      COMSEC_ASSIGN_OR_RETURN(auto account, db.FindUser(ua->name));
      if (!account) return Status(ERROR_NO_SUCH_USER, "no account named " + ua->name);
      io.out << account->name << ": " << DescribeMapping(account->unix_mapping) << "\n";
      return Status();
    });
  });

  CLI::App* list = user->add_subcommand("list", "list accounts (name, SID, groups, Unix mapping)");
  list->add_flag("--json", ua->json, "print JSON");
  list->callback([ua, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_ASSIGN_OR_RETURN(auto users, db.ListUsers());
      auto domain = db.Domain();
      const std::string dname = domain.ok() ? domain->name : "";
      if (ua->json) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& u : users) {
          nlohmann::json groups = nlohmann::json::array();
          for (const auto& g : u.groups) groups.push_back(g.first);
          nlohmann::json entry = {{"name", u.name},
                                  {"domain", dname},
                                  {"sid", u.sid.ToString()},
                                  {"disabled", u.disabled},
                                  {"groups", groups}};
          if (u.unix_mapping) entry["unix"] = MappingJson(*u.unix_mapping);
          j.push_back(std::move(entry));
        }
        io.out << j.dump(2) << "\n";
        return Status();
      }
      for (const auto& u : users) {
        io.out << dname << "\\" << u.name << "  " << u.sid.ToString()
               << (u.disabled ? "  (disabled)" : "");
        if (!u.groups.empty()) {
          io.out << "  groups:";
          for (const auto& g : u.groups) io.out << " " << g.first;
        }
        if (u.unix_mapping) io.out << "  " << DescribeMapping(u.unix_mapping);
        io.out << "\n";
      }
      return Status();
    });
  });

  CLI::App* group = app.add_subcommand("group", "local groups of the machine domain");
  group->require_subcommand(1);
  struct GroupArgs {
    std::string name;
    std::vector<std::string> add, remove;
    bool json = false;
  };
  auto ga = std::make_shared<GroupArgs>();

  CLI::App* gadd = group->add_subcommand("add", "create a local group");
  gadd->add_option("NAME", ga->name, "group name")->required();
  gadd->callback([ga, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, true, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.AddGroup(ga->name));
      io.out << "created group " << ga->name << "\n";
      return Status();
    });
  });

  CLI::App* gdel = group->add_subcommand("del", "delete a local group");
  gdel->add_option("NAME", ga->name, "group name")->required();
  gdel->callback([ga, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_RETURN_IF_ERROR(db.DeleteGroup(ga->name));
      io.out << "deleted group " << ga->name << "\n";
      return Status();
    });
  });

  CLI::App* members = group->add_subcommand(
      "members", "show a group's members, or change them with --add/--remove");
  members->add_option("NAME", ga->name, "group name")->required();
  members->add_option("--add", ga->add, "accounts to add")->type_name("USER");
  members->add_option("--remove", ga->remove, "accounts to remove")->type_name("USER");
  members->add_flag("--json", ga->json, "print JSON");
  members->callback([ga, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      for (const auto& u : ga->add) COMSEC_RETURN_IF_ERROR(db.AddMember(ga->name, u));
      for (const auto& u : ga->remove) COMSEC_RETURN_IF_ERROR(db.RemoveMember(ga->name, u));
      COMSEC_ASSIGN_OR_RETURN(auto groups, db.ListGroups());
      for (const auto& g : groups) {
        if (!AccountNamesEqual(g.name, ga->name)) continue;
        if (ga->json) {
          io.out << nlohmann::json{{"name", g.name}, {"sid", g.sid.ToString()},
                                   {"members", g.members}}
                        .dump(2)
                 << "\n";
        } else {
          io.out << g.name << "  " << g.sid.ToString() << "\n";
          for (const auto& m : g.members) io.out << "  " << m << "\n";
        }
        return Status();
      }
      return Status(ERROR_NO_SUCH_GROUP, "no local group named '" + ga->name + "'");
    });
  });

  CLI::App* glist = group->add_subcommand("list", "list local groups");
  glist->add_flag("--json", ga->json, "print JSON");
  glist->callback([ga, &global, &io, exit_code] {
    *exit_code = WithAccounts(global, io, false, [&](AccountDatabase& db) -> Status {
      COMSEC_ASSIGN_OR_RETURN(auto groups, db.ListGroups());
      nlohmann::json j = nlohmann::json::array();
      for (const auto& g : groups) {
        if (ga->json) {
          j.push_back({{"name", g.name}, {"sid", g.sid.ToString()}, {"members", g.members}});
        } else {
          io.out << g.name << "  " << g.sid.ToString() << "  (" << g.members.size()
                 << " members)\n";
        }
      }
      if (ga->json) io.out << j.dump(2) << "\n";
      return Status();
    });
  });
}

}  // namespace comsec::comcfg
