// comcfg's first commands, through the same entry point as the binary, and
// the real binary's exit statuses (the contract acceptance tests rely on).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/command.h"

namespace comsec::comcfg {
namespace {

struct CliRun {
  int exit_code;
  std::string out;
  std::string err;
};

CliRun Comcfg(std::vector<std::string> args) {
  std::vector<const char*> argv = {"comcfg"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Io io{out, err};
  int code = RunComcfg(static_cast<int>(argv.size()), argv.data(), io);
  return {code, out.str(), err.str()};
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// ---- sddl parse / to-hex / from-hex ------------------------------------

TEST(ComcfgSddl, ParsePrintsCanonicalFirst) {
  CliRun r = Comcfg({"sddl", "parse", "O:BAG:BAD:(A;;0x3;;;IU)(A;;0x3;;;SY)"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(FirstLine(r.out), "O:BAG:BAD:(A;;CCDC;;;IU)(A;;CCDC;;;SY)");
  EXPECT_NE(r.out.find("NT AUTHORITY\\INTERACTIVE"), std::string::npos);
}

TEST(ComcfgSddl, ParseJsonHasStructure) {
  CliRun r = Comcfg({"sddl", "parse", "--json", "O:BAG:SYD:(D;;CCDC;;;AN)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["sddl"], "O:BAG:SYD:(D;;CCDC;;;AN)");
  EXPECT_EQ(j["owner"]["sid"], "S-1-5-32-544");
  EXPECT_EQ(j["dacl"]["aces"][0]["type"], "ACCESS_DENIED_ACE_TYPE");
  EXPECT_EQ(j["dacl"]["aces"][0]["mask"], "0x3");
  EXPECT_EQ(j["dacl"]["aces"][0]["sid"]["alias"], "AN");
}

TEST(ComcfgSddl, ParseErrorNamesPositionAndExits2) {
  CliRun r = Comcfg({"sddl", "parse", "O:BAD:(A;;CCXX;;;WD)"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("character 13"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// access-control-lists-for-com.md: the incorrectly formatted ACL example.
TEST(ComcfgSddl, ComFlagReportsMixedFormats) {
  CliRun r = Comcfg({"sddl", "parse", "--com",
                  "O:S-1-5-21-1597522630-148096252-1166023319-500"
                  "G:S-1-5-21-1597522630-148096252-1166023319-500"
                  "D:(A;;0x1;;;S-1-5-21-1597522630-148096252-1166023319-500)"
                  "(A;;0xb;;;SY)(A;;0x9;;;AU)"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("COM: INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mixes the old format"), std::string::npos) << r.out;
}

TEST(ComcfgSddl, ComFlagAcceptsValidDescriptor) {
  CliRun r = Comcfg({"sddl", "parse", "--com",
                  "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("COM: valid"), std::string::npos);
}

TEST(ComcfgSddl, HexRoundTrip) {
  const std::string sddl = "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";
  CliRun hex = Comcfg({"sddl", "to-hex", sddl});
  ASSERT_EQ(hex.exit_code, 0);
  std::string digits = FirstLine(hex.out);
  EXPECT_EQ(digits.substr(0, 8), "01000480");  // revision 1, DACL present, self-relative
  EXPECT_EQ(digits.find_first_not_of("0123456789abcdef"), std::string::npos);
  CliRun back = Comcfg({"sddl", "from-hex", digits});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(FirstLine(back.out), sddl);
}

TEST(ComcfgSddl, FromHexRejectsTruncatedDescriptor) {
  CliRun r = Comcfg({"sddl", "from-hex", "0100048014000000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST(ComcfgSddl, FromHexRejectsBadDigits) {
  CliRun r = Comcfg({"sddl", "from-hex", "01zz"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("position 3"), std::string::npos) << r.err;
}

// ---- access-check ---------------------------------------------------------

const char kLaunchRestriction[] =
    "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";  // R175, XP SP2

TEST(ComcfgAccessCheck, AllowedPrintsDecidingAce) {
  CliRun r = Comcfg({"access-check", "--sd", kLaunchRestriction, "--user",
                  "S-1-5-21-1-2-3-1001", "--local", "--rights",
                  "execute,execute_local,activate_local"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(FirstLine(r.out), "allowed");
  EXPECT_NE(r.out.find("deciding ACE: 1 (A;;CCDCSW;;;WD)"), std::string::npos)
      << r.out;
}

TEST(ComcfgAccessCheck, RemoteLaunchDeniedForNonAdmin) {
  CliRun r = Comcfg({"access-check", "--sd", kLaunchRestriction, "--user",
                  "S-1-5-21-1-2-3-1001", "--remote", "--rights",
                  "execute,execute_remote"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(FirstLine(r.out), "denied");
  EXPECT_NE(r.out.find("no ACE grants 0x4"), std::string::npos) << r.out;
}

TEST(ComcfgAccessCheck, AdminGroupGrantsRemoteLaunch) {
  CliRun r = Comcfg({"access-check", "--sd", kLaunchRestriction, "--user",
                  "S-1-5-21-1-2-3-1001", "--group", "BA", "--remote",
                  "--rights", "0x5"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST(ComcfgAccessCheck, DenyAceIsNamed) {
  CliRun r = Comcfg({"access-check", "--sd", "D:(D;;CCDC;;;AU)(A;;CCDC;;;WD)",
                  "--user", "uid:4000001", "--group", "gid:4000001",
                  "--local", "--rights", "execute,execute_local", "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["allowed"], false);
  EXPECT_EQ(j["deciding_ace"]["index"], 0);
  EXPECT_EQ(j["deciding_ace"]["sddl"], "(D;;CCDC;;;AU)");
  EXPECT_EQ(j["token"]["user"]["sid"], "S-1-22-1-4000001");
}

TEST(ComcfgAccessCheck, UnixRootIsAdministratorAndSystem) {
  CliRun r = Comcfg({"access-check", "--sd", "D:(A;;CCDCLCSWRP;;;SY)", "--user",
                  "unix:root", "--remote", "--rights", "activate_remote,execute",
                  "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  bool has_ba = false;
  for (const auto& g : j["token"]["groups"]) {
    if (g["sid"] == "S-1-5-32-544") has_ba = true;
  }
  EXPECT_TRUE(has_ba);
}

TEST(ComcfgAccessCheck, AnonymousHasOnlyAnonymousLogon) {
  // R175 (Server 2003 SP1 access restriction grants AN remote calls; XP SP2
  // only local ones).
  const char* xp_sp2_access = "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)";
  CliRun remote = Comcfg({"access-check", "--sd", xp_sp2_access, "--user", "AN",
                       "--remote", "--rights", "execute,execute_remote"});
  EXPECT_EQ(remote.exit_code, 1);
  CliRun local = Comcfg({"access-check", "--sd", xp_sp2_access, "--user", "AN",
                      "--local", "--rights", "execute,execute_local"});
  EXPECT_EQ(local.exit_code, 0);
  // Everyone does not include anonymous unless asked.
  CliRun wd_only = Comcfg({"access-check", "--sd", "D:(A;;CCDC;;;WD)", "--user",
                        "AN", "--local", "--rights", "execute,execute_local"});
  EXPECT_EQ(wd_only.exit_code, 1);
  CliRun wd_asked = Comcfg({"access-check", "--sd", "D:(A;;CCDC;;;WD)", "--user",
                         "AN", "--local", "--rights", "execute,execute_local",
                         "--everyone-includes-anonymous"});
  EXPECT_EQ(wd_asked.exit_code, 0);
}

TEST(ComcfgAccessCheck, BadInputsExit2) {
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:(A;;CC;;WD)", "--user", "WD",
                    "--local", "--rights", "execute"})
                .exit_code,
            2);
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:", "--user", "XX", "--local",
                    "--rights", "execute"})
                .exit_code,
            2);
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:", "--user", "WD", "--rights",
                    "execute"})
                .exit_code,
            2);  // neither --local nor --remote
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:", "--user", "WD", "--local",
                    "--remote", "--rights", "execute"})
                .exit_code,
            2);
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:", "--user", "WD", "--local",
                    "--rights", "launch_everything"})
                .exit_code,
            2);
  EXPECT_EQ(Comcfg({"access-check", "--sd", "D:", "--user", "unix:no-such-user-x",
                    "--local", "--rights", "execute"})
                .exit_code,
            2);
  EXPECT_EQ(Comcfg({"no-such-command"}).exit_code, 2);
}

// ---- the real binary -----------------------------------------------------

int RunBinary(const std::string& args) {
  std::string cmd = std::string(COMSEC_BINARY_DIR) + "/tools/comcfg/comcfg " +
                    args + " >/dev/null 2>&1";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ComcfgBinary, ExitStatusesFollowTheContract) {
  EXPECT_EQ(RunBinary("sddl parse 'D:(A;;CC;;;WD)'"), 0);
  EXPECT_EQ(RunBinary("access-check --sd 'D:(A;;CCDC;;;WD)' --user WD "
                      "--local --rights execute,execute_local"),
            0);
  EXPECT_EQ(RunBinary("access-check --sd 'D:' --user WD --local --rights "
                      "execute"),
            1);
  EXPECT_EQ(RunBinary("sddl parse 'D:(Q;;CC;;;WD)'"), 2);
  EXPECT_EQ(RunBinary(""), 2);
  EXPECT_EQ(RunBinary("--help"), 0);
}

}  // namespace
}  // namespace comsec::comcfg
