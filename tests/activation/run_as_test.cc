// ResolveRunAs (activation/run_as.h): each RunAs form resolved against the
// real user database (nobody, daemon), a fake logind sessions directory and
// a store with mapped accounts, and each refusal's exact HRESULT and
// sentence.
#include "comsec/activation/run_as.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "comsec/config/accounts.h"
#include "comsec/config/secrets.h"
#include "comsec/security/unix_identity.h"

namespace comsec::activation {
namespace {

// The groups initgroups(3) would give `user`, primary first.
std::vector<uint32_t> InitGroups(const char* user) {
  const passwd* pw = getpwnam(user);
  EXPECT_NE(pw, nullptr) << user;
  if (pw == nullptr) return {};
  int n = 256;
  std::vector<gid_t> g(static_cast<size_t>(n));
  EXPECT_GE(getgrouplist(user, pw->pw_gid, g.data(), &n), 0);
  g.resize(static_cast<size_t>(n));
  std::vector<uint32_t> out = {pw->pw_gid};
  for (gid_t x : g) {
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  }
  return out;
}

class RunAs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-runas-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    sessions_ = dir_ + "/sessions";
    std::filesystem::create_directory(sessions_);
    ctx_.sessions_dir = sessions_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteSession(const std::string& id, const std::string& text) {
    std::ofstream(sessions_ + "/" + id) << "# This is private data. Do not parse.\n" << text;
  }

  // The refusal's message; fails the test unless it is `code`.
  std::string Refusal(const std::optional<std::string>& run_as,
                      HResult code = CO_E_RUNAS_LOGON_FAILURE) {
    auto id = ResolveRunAs(run_as, ctx_);
    EXPECT_FALSE(id.ok()) << "resolved " << run_as.value_or("(absent)") << " to "
                          << (id.ok() ? id->description : "");
    if (id.ok()) return "";
    EXPECT_EQ(id.status().code(), code) << id.status().ToString();
    return std::string(id.status().message());
  }

  LaunchIdentity Resolve(const std::optional<std::string>& run_as) {
    auto id = ResolveRunAs(run_as, ctx_);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : LaunchIdentity{};
  }

  std::string dir_;
  std::string sessions_;
  RunAsContext ctx_;
};

// ==== As Activator (RunAs absent, R127) =======================================

TEST_F(RunAs, AbsentIsTheActivatorsUnixIdentity) {
  auto nobody = security::LookupUnixUserByName("nobody");
  ASSERT_TRUE(nobody.ok());
  const security::Token token = security::TokenForUnixIdentity(*nobody, {});
  ctx_.activator = &token;
  const LaunchIdentity id = Resolve(std::nullopt);
  EXPECT_EQ(id.uid, 65534u);
  EXPECT_EQ(id.gid, 65534u);
  EXPECT_EQ(id.groups, InitGroups("nobody"));
  EXPECT_EQ(id.user_name, "nobody");
  EXPECT_EQ(id.home, "/nonexistent");
  EXPECT_EQ(id.shell, "/usr/sbin/nologin");
  EXPECT_EQ(id.description, "As Activator: unix:nobody (uid 65534)");
}

TEST_F(RunAs, AbsentWithARemoteAccountMappedByNumber) {
  // A remote NTLM logon of an account mapped with --uid/--gid/--groups:
  // exactly those ids, and no passwd entry for the uid.
  security::Token token(*security::Sid::Parse("S-1-5-21-1-2-3-1001"),
                        security::LogonKind::kNetwork);
  security::UnixIdentity mapped;
  mapped.uid = 4321987;
  mapped.gids = {4321987, 100, 4242};
  mapped.group_names = {"", "", ""};
  token.SetUnixIdentity(mapped);
  ctx_.activator = &token;
  const LaunchIdentity id = Resolve(std::nullopt);
  EXPECT_EQ(id.uid, 4321987u);
  EXPECT_EQ(id.gid, 4321987u);
  EXPECT_EQ(id.groups, std::vector<uint32_t>({4321987, 100, 4242}));
  EXPECT_EQ(id.user_name, "");
  EXPECT_EQ(id.home, "/");
  EXPECT_EQ(id.shell, "");
  EXPECT_EQ(id.description, "As Activator: uid 4321987");
}

TEST_F(RunAs, AbsentWithAUnixSidLooksTheUidUp) {
  // A token whose user is S-1-22-1-1 (a local caller) without a recorded
  // identity: the uid's own, as impersonation takes it.
  security::Token token(*security::Sid::Parse("S-1-22-1-1"), security::LogonKind::kLocal);
  ctx_.activator = &token;
  const LaunchIdentity id = Resolve(std::nullopt);
  EXPECT_EQ(id.uid, 1u);
  EXPECT_EQ(id.groups, InitGroups("daemon"));
  EXPECT_EQ(id.description, "As Activator: unix:daemon (uid 1)");
}

TEST_F(RunAs, AbsentWithoutAUnixAccountFails) {
  security::Token token(*security::Sid::Parse("S-1-5-21-1-2-3-1001"),
                        security::LogonKind::kNetwork);
  ctx_.activator = &token;
  EXPECT_EQ(Refusal(std::nullopt),
            "cannot launch the server As Activator (RunAs absent): the activator "
            "S-1-5-21-1-2-3-1001 has no Unix account to run an As-Activator server as; map it "
            "with comcfg user set NAME --unix-user U, or give the AppID a RunAs value");
  const security::Token anonymous =
      security::Token::Anonymous(security::LogonKind::kNetwork, false);
  ctx_.activator = &anonymous;
  EXPECT_NE(Refusal(std::nullopt).find("the activator S-1-5-7 has no Unix account"),
            std::string::npos);
}

TEST_F(RunAs, AbsentWithoutAnActivatorIsACallersMistake) {
  EXPECT_EQ(Refusal(std::nullopt, E_INVALIDARG),
            "an As-Activator server needs the activator's token; RunAsContext::activator is "
            "null");
}

// ==== Interactive User ========================================================

TEST_F(RunAs, InteractiveUserIsTheActiveSessionsOwner) {
  WriteSession("3",
               "UID=65534\nUSER=nobody\nACTIVE=1\nSTATE=active\nREMOTE=0\nTYPE=x11\n"
               "CLASS=user\nSEAT=seat0\n");
  WriteSession("4", "UID=1\nUSER=daemon\nACTIVE=0\nSTATE=online\nCLASS=user\nSEAT=seat0\n");
  for (const char* form : {"Interactive User", "interactive user", "INTERACTIVE USER"}) {
    const LaunchIdentity id = Resolve(std::string(form));
    EXPECT_EQ(id.uid, 65534u) << form;
    EXPECT_EQ(id.gid, 65534u);
    EXPECT_EQ(id.groups, InitGroups("nobody"));
    EXPECT_EQ(id.description, "Interactive User: unix:nobody (uid 65534), session 3 on seat0");
  }
}

TEST_F(RunAs, InteractiveUserPrefersSeat0) {
  // A seatless session (ssh) is active too; the console's owner wins.
  WriteSession("c1", "UID=1\nUSER=daemon\nSTATE=active\nCLASS=user\n");
  WriteSession("7", "UID=65534\nUSER=nobody\nACTIVE=1\nCLASS=user\nSEAT=seat0\n");
  EXPECT_EQ(Resolve("Interactive User").uid, 65534u);
}

TEST_F(RunAs, InteractiveUserWithoutSeat0TakesTheOneActiveUser) {
  WriteSession("c1", "UID=1\nUSER=daemon\nSTATE=active\nCLASS=user\n");
  WriteSession("c2", "UID=1\nUSER=daemon\nSTATE=active\nCLASS=user\n");
  const LaunchIdentity id = Resolve("Interactive User");
  EXPECT_EQ(id.uid, 1u);
  EXPECT_EQ(id.home, "/usr/sbin");
  EXPECT_EQ(id.description, "Interactive User: unix:daemon (uid 1), session c1");
}

TEST_F(RunAs, InteractiveUserRefusesToGuessBetweenUsers) {
  WriteSession("c1", "UID=1\nUSER=daemon\nSTATE=active\nCLASS=user\n");
  WriteSession("c2", "UID=65534\nUSER=nobody\nSTATE=active\nCLASS=user\n");
  EXPECT_EQ(Refusal("Interactive User"),
            "cannot launch the server as \"Interactive User\": several users are logged on "
            "(unix:daemon (uid 1) in session c1, unix:nobody (uid 65534) in session c2) and "
            "none is at seat0's console; comsec will not guess which one");
}

TEST_F(RunAs, InteractiveUserWithNoOneLoggedOnFails) {
  const std::string expected =
      "cannot launch the server as \"Interactive User\": no one is logged on (no active user "
      "session in " +
      sessions_ +
      "); an Interactive-User server starts only while someone is "
      "(R127)";
  EXPECT_EQ(Refusal("Interactive User"), expected);
  // Sessions that are not someone logged on at the console now.
  WriteSession("1", "UID=65534\nACTIVE=0\nSTATE=online\nCLASS=user\nSEAT=seat0\n");
  WriteSession("2", "UID=65534\nACTIVE=1\nSTATE=active\nCLASS=greeter\nSEAT=seat0\n");
  WriteSession("3", "USER=nobody\nACTIVE=1\nSTATE=active\nSEAT=seat0\n");  // no UID=
  WriteSession("4", "UID=not-a-number\nACTIVE=1\nSEAT=seat0\n");
  WriteSession(".#5abc", "UID=65534\nACTIVE=1\nSEAT=seat0\n");  // logind's temporary file
  EXPECT_EQ(Refusal("Interactive User"), expected);
  // logind not running at all.
  ctx_.sessions_dir = dir_ + "/absent";
  EXPECT_NE(Refusal("Interactive User").find("no one is logged on"), std::string::npos);
}

TEST_F(RunAs, InteractiveUserNeverRoot) {
  WriteSession("1", "UID=0\nUSER=root\nACTIVE=1\nCLASS=user\nSEAT=seat0\n");
  EXPECT_EQ(Refusal("Interactive User"),
            "cannot launch the server as \"Interactive User\": the interactive user (session 1) "
            "is root (uid 0); comsec never launches a server as root because of a RunAs value, "
            "as COM never launches one as SYSTEM (R128)");
}

TEST(LogindSessions, ParsesTheFields) {
  char tmpl[] = "/tmp/comsec-sessions-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::ofstream(std::string(tmpl) + "/12")
      << "UID=1000\nUSER=alice\nACTIVE=1\nSTATE=active\nCLASS=user\nSEAT=seat0\n";
  auto sessions = ReadLogindSessions(tmpl);
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(sessions.ok()) << sessions.status().ToString();
  ASSERT_EQ(sessions->size(), 1u);
  const LogindSession& s = (*sessions)[0];
  EXPECT_EQ(s.id, "12");
  EXPECT_EQ(s.uid, 1000u);
  EXPECT_EQ(s.user, "alice");
  EXPECT_EQ(s.seat, "seat0");
  EXPECT_TRUE(s.active);
  EXPECT_EQ(s.session_class, "user");
}

// ==== nt authority\... ========================================================

TEST_F(RunAs, LocalServiceIsTheServiceUser) {
  for (const char* form : {"nt authority\\localservice", "NT AUTHORITY\\LocalService",
                           "nt authority\\networkservice"}) {
    const LaunchIdentity id = Resolve(std::string(form));
    EXPECT_EQ(id.uid, 1u) << form;
    EXPECT_EQ(id.gid, 1u);
    EXPECT_EQ(id.groups, InitGroups("daemon"));
    EXPECT_EQ(id.home, "/usr/sbin");
    EXPECT_EQ(id.description, std::string(form) + ": unix:daemon (uid 1)");
  }
  ctx_.service_user = "nobody";
  EXPECT_EQ(Resolve("nt authority\\localservice").uid, 65534u);
}

TEST_F(RunAs, LocalServiceRefusesABadServiceUser) {
  ctx_.service_user = "comsec-no-such-user";
  EXPECT_EQ(Refusal("nt authority\\localservice"),
            "cannot launch the server as \"nt authority\\localservice\": comsecd's service user "
            "\"comsec-no-such-user\" is not a Unix user on this system");
  ctx_.service_user = "root";
  EXPECT_EQ(Refusal("nt authority\\localservice"),
            "cannot launch the server as \"nt authority\\localservice\": comsecd's service user "
            "\"root\" is root (uid 0); comsec never launches a server as root because of a "
            "RunAs value, as COM never launches one as SYSTEM (R128)");
}

TEST_F(RunAs, SystemIsRefused) {
  for (const char* form : {"nt authority\\system", "NT AUTHORITY\\SYSTEM"}) {
    EXPECT_EQ(Refusal(std::string(form)),
              "cannot launch the server as \"" + std::string(form) +
                  "\": COM cannot launch a server as SYSTEM (R128); only a server already "
                  "running can serve it");
  }
}

TEST_F(RunAs, OtherNtAuthorityNamesAreRefused) {
  EXPECT_EQ(Refusal("nt authority\\anonymous logon"),
            "cannot launch the server as \"nt authority\\anonymous logon\": it is not an "
            "account a server can run as; use nt authority\\localservice or a user");
}

// ==== unix:NAME ================================================================

TEST_F(RunAs, UnixNameIsThatUser) {
  const LaunchIdentity id = Resolve("unix:nobody");
  EXPECT_EQ(id.uid, 65534u);
  EXPECT_EQ(id.gid, 65534u);
  EXPECT_EQ(id.groups, InitGroups("nobody"));
  EXPECT_EQ(id.user_name, "nobody");
  EXPECT_EQ(id.description, "unix:nobody (uid 65534)");
  EXPECT_EQ(Resolve("UNIX:daemon").uid, 1u);
}

TEST_F(RunAs, UnixNameRefusals) {
  EXPECT_EQ(Refusal("unix:comsec-no-such-user"),
            "cannot launch the server as \"unix:comsec-no-such-user\": there is no Unix user "
            "named \"comsec-no-such-user\" on this system (getent passwd)");
  EXPECT_EQ(Refusal("unix:root"),
            "cannot launch the server as \"unix:root\": unix:root is root (uid 0); comsec never "
            "launches a server as root because of a RunAs value, as COM never launches one as "
            "SYSTEM (R128)");
}

TEST_F(RunAs, EmptyValueIsRefused) {
  EXPECT_EQ(Refusal(std::string()),
            "cannot launch the server as \"\": the AppID's RunAs value is empty; remove it for "
            "As Activator or name an account");
}

// ==== Store accounts ==========================================================

class RunAsStoreAccount : public RunAs {
 protected:
  void SetUp() override {
    RunAs::SetUp();
    const std::string store_path = dir_ + "/store.db";
    auto policy = config::Store::Open(store_path);
    ASSERT_TRUE(policy.ok()) << policy.status().ToString();
    auto secrets = config::OpenSecrets(store_path);
    ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
    secrets_ = std::move(*secrets);
    config::AccountDatabase db(secrets_.get());
    auto domain = db.EnsureDomain("runastest");
    ASSERT_TRUE(domain.ok());
    domain_ = domain->name;
    for (const char* user : {"bob", "carol", "dave", "erin"}) {
      ASSERT_TRUE(db.AddUser(user, config::NtHashBytes{}).ok());
    }
    ASSERT_TRUE(db.SetUnixMapping("bob", config::UnixMapping{"", 65534, 65534, {100, 4242}}).ok());
    ASSERT_TRUE(db.SetUnixMapping("carol", config::UnixMapping{"daemon", 0, 0, {}}).ok());
    ASSERT_TRUE(db.SetUnixMapping("erin", config::UnixMapping{"nobody", 0, 0, {}}).ok());
    ASSERT_TRUE(db.SetDisabled("erin", true).ok());
    ctx_.store = secrets_.get();
  }

  std::unique_ptr<config::Store> secrets_;
  std::string domain_;
};

TEST_F(RunAsStoreAccount, MappedByNumber) {
  for (const std::string& form : {std::string("bob"), std::string("BOB"), std::string(".\\bob"),
                                  domain_ + "\\bob", config::NetbiosComputerName() + "\\Bob"}) {
    const LaunchIdentity id = Resolve(form);
    EXPECT_EQ(id.uid, 65534u) << form;
    EXPECT_EQ(id.gid, 65534u);
    EXPECT_EQ(id.groups, std::vector<uint32_t>({65534, 100, 4242}));
    // The uid's passwd entry still gives the environment its names.
    EXPECT_EQ(id.user_name, "nobody");
    EXPECT_EQ(id.description, form + ": unix:nobody (uid 65534)");
  }
}

TEST_F(RunAsStoreAccount, MappedByName) {
  const LaunchIdentity id = Resolve("carol");
  EXPECT_EQ(id.uid, 1u);
  EXPECT_EQ(id.groups, InitGroups("daemon"));
  EXPECT_EQ(id.description, "carol: unix:daemon (uid 1)");
}

TEST_F(RunAsStoreAccount, Refusals) {
  EXPECT_EQ(Refusal("dave"),
            "cannot launch the server as \"dave\": account \"dave\" has no Unix account to run "
            "as; map it with comcfg user set dave --unix-user U");
  EXPECT_EQ(Refusal("zed"),
            "cannot launch the server as \"zed\": there is no account \"zed\" in comsec's store "
            "(comcfg user list); for a Unix user write unix:zed");
  EXPECT_EQ(Refusal("erin"), "cannot launch the server as \"erin\": account \"erin\" is disabled");
  EXPECT_EQ(Refusal("OTHERDOM\\bob"),
            "cannot launch the server as \"OTHERDOM\\bob\": domain \"OTHERDOM\" is not this "
            "machine's (" +
                domain_ + "); comsec's store holds local accounts only; write .\\bob");
  EXPECT_EQ(Refusal(".\\"), "cannot launch the server as \".\\\": it names no account");
  ctx_.store = nullptr;
  EXPECT_EQ(Refusal("bob"),
            "cannot launch the server as \"bob\": no account store was given to look the "
            "account up in");
}

}  // namespace
}  // namespace comsec::activation
