// comcfg's store commands end to end on a real store file: init, reg,
// machine, app, class, perms, effective and explain, with their exit
// statuses (0 success/allowed, 1 denied/not found, 2 bad input).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/command.h"

namespace comsec::comcfg {
namespace {

constexpr char kAppId[] = "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}";
constexpr char kClsid[] = "{6A1B3C2D-0001-4E5F-8A9B-0C1D2E3F4A5B}";

struct Out {
  int code;
  std::string out;
  std::string err;
  nlohmann::json Json() const { return nlohmann::json::parse(out); }
};

class ComcfgStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comcfg-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = dir_ + "/store.db";
    ASSERT_EQ(Run({"init"}).code, 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Out Run(std::vector<std::string> args) {
    std::vector<std::string> all = {"comcfg", "--store", store_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& a : all) argv.push_back(a.c_str());
    std::ostringstream out, err;
    Io io{out, err};
    int code = RunComcfg(static_cast<int>(argv.size()), argv.data(), io);
    return {code, out.str(), err.str()};
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  void RegisterApp() {
    ASSERT_EQ(Run({"app", "create", "--appid", kAppId, "--name", "Demo"}).code, 0);
    ASSERT_EQ(Run({"class", "register", "--clsid", kClsid, "--appid", kAppId,
                   "--local-server", "/usr/bin/demo"})
                  .code,
              0);
  }

  std::string dir_;
  std::string store_;
};

TEST_F(ComcfgStore, InitWritesWindowsDefaults) {
  Out r = Run({"machine", "show", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, std::string> values;
  for (const auto& s : r.Json()) values[s["name"]] = s["value"];
  EXPECT_EQ(values["EnableDCOM"], "Y");
  EXPECT_EQ(values["LegacyAuthenticationLevel"], "2");
  EXPECT_EQ(values["LegacyImpersonationLevel"], "2");
  // R175 with C3.
  EXPECT_EQ(values["MachineLaunchRestriction"],
            "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)");
  EXPECT_EQ(values["MachineAccessRestriction"],
            "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDC;;;AN)");
  EXPECT_EQ(values["RequireIntegrityActivationAuthenticationLevel"], "1");
  // A second init leaves the store alone.
  EXPECT_EQ(Run({"machine", "set", "EnableDCOM", "N"}).code, 0);
  EXPECT_EQ(Run({"init"}).code, 0);
  EXPECT_NE(Run({"machine", "show"}).out.find("EnableDCOM = N"), std::string::npos);
}

TEST_F(ComcfgStore, MissingStoreIsNotFound) {
  std::vector<const char*> argv = {"comcfg", "--store", "/nonexistent/x.db",
                                   "machine", "show"};
  std::ostringstream out, err;
  Io io{out, err};
  EXPECT_EQ(RunComcfg(5, argv.data(), io), 1);
  EXPECT_NE(err.str().find("comcfg --store /nonexistent/x.db init"),
            std::string::npos) << err.str();
}

TEST_F(ComcfgStore, MachineSetValidates) {
  EXPECT_EQ(Run({"machine", "set", "LegacyAuthenticationLevel", "7"}).code, 2);
  EXPECT_EQ(Run({"machine", "set", "EnableDCOM", "maybe"}).code, 2);
  EXPECT_EQ(Run({"machine", "set", "NoSuchSetting", "1"}).code, 2);
  EXPECT_EQ(Run({"machine", "set", "DefaultAccessPermission", "D:(A;;CCQQ;;;WD)"}).code, 2);
  EXPECT_EQ(Run({"machine", "set", "LegacyAuthenticationLevel", "6"}).code, 0);
  EXPECT_EQ(Run({"machine", "set", "policy:MachineAccessRestriction",
                 "O:BAG:BAD:(A;;CCDCLC;;;AU)"})
                .code,
            0);
  Out r = Run({"reg", "query", "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\DCOM",
               "MachineAccessRestriction"});
  EXPECT_NE(r.out.find("REG_SZ"), std::string::npos) << r.out;
}

TEST_F(ComcfgStore, RegSetQueryDelete) {
  EXPECT_EQ(Run({"reg", "set", "HKCR\\Test", "dw", "REG_DWORD", "0x10"}).code, 0);
  EXPECT_EQ(Run({"reg", "set", "HKCR\\Test", "multi", "REG_MULTI_SZ", "a\\0b"}).code, 0);
  EXPECT_EQ(Run({"reg", "set", "HKCR\\Test", "bin", "REG_BINARY", "0102ff"}).code, 0);
  Out q = Run({"reg", "query", "HKLM\\SOFTWARE\\Classes\\test", "DW", "--json"});
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(q.Json()["type"], "REG_DWORD");
  EXPECT_EQ(q.Json()["hex"], "10000000");
  EXPECT_EQ(Run({"reg", "query", "HKCR\\Test", "multi", "--json"}).Json()["data"], "a\\0b");
  EXPECT_EQ(Run({"reg", "set", "HKCR\\Test", "dw", "REG_DWORD", "4294967296"}).code, 2);
  EXPECT_EQ(Run({"reg", "set", "HKCR\\Test", "dw", "REG_NOPE", "1"}).code, 2);
  EXPECT_EQ(Run({"reg", "set", "HKCU\\Test", "dw", "REG_DWORD", "1"}).code, 2);
  EXPECT_EQ(Run({"reg", "query", "HKCR\\Test", "absent"}).code, 1);
  EXPECT_EQ(Run({"reg", "delete", "HKCR\\Test", "dw"}).code, 0);
  EXPECT_EQ(Run({"reg", "delete", "HKCR\\Test", "dw"}).code, 1);
  EXPECT_EQ(Run({"reg", "delete", "HKCR\\Test"}).code, 0);
  EXPECT_EQ(Run({"reg", "query", "HKCR\\Test"}).code, 1);
}

TEST_F(ComcfgStore, RegImportIsAllOrNothing) {
  std::string good = Write("good.reg",
                           "Windows Registry Editor Version 5.00\r\n\r\n"
                           "[HKEY_CLASSES_ROOT\\AppID\\{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5B}]\r\n"
                           "@=\"Imported\"\r\n"
                           "\"AuthenticationLevel\"=dword:00000006\r\n");
  Out r = Run({"reg", "import", good});
  ASSERT_EQ(r.code, 0) << r.err;
  Out bad_syntax = Run({"reg", "import",
                        Write("bad.reg", "Windows Registry Editor Version 5.00\n\n"
                                         "[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\n"
                                         "\"a\"=dword:1\n"
                                         "\"b\"=dword:zz\n")});
  EXPECT_EQ(bad_syntax.code, 2);
  EXPECT_NE(bad_syntax.err.find("line 5"), std::string::npos) << bad_syntax.err;
  EXPECT_EQ(Run({"reg", "query", "HKLM\\SOFTWARE\\X"}).code, 1) << "store unchanged";
  // An error found while applying (an unsupported root) also leaves nothing.
  Out bad_root = Run({"reg", "import",
                      Write("root.reg", "Windows Registry Editor Version 5.00\n\n"
                                        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Y]\n"
                                        "\"a\"=dword:1\n\n"
                                        "[HKEY_CURRENT_USER\\Z]\n"
                                        "\"b\"=dword:2\n")});
  EXPECT_NE(bad_root.code, 0);
  EXPECT_EQ(Run({"reg", "query", "HKLM\\SOFTWARE\\Y"}).code, 1) << "store unchanged";
  EXPECT_EQ(Run({"app", "show", kAppId, "--json"}).Json()["name"], "Imported");
}

TEST_F(ComcfgStore, ExportImportReproducesEveryByte) {
  RegisterApp();
  ASSERT_EQ(Run({"perms", "grant", "launch", "--appid", kAppId, "--principal",
                 "uid:4242", "--rights", "execute_remote,activate_remote"})
                .code,
            0);
  ASSERT_EQ(Run({"reg", "set", "HKLM\\SOFTWARE\\Odd", "", "REG_SZ", "default"}).code, 0);
  ASSERT_EQ(Run({"reg", "set", "HKLM\\SOFTWARE\\Odd", "q", "REG_QWORD", "18446744073709551615"}).code, 0);
  for (const char* format : {"utf8", "utf16"}) {
    Out exported = Run({"reg", "export", "--format", format});
    ASSERT_EQ(exported.code, 0);
    std::string file = Write(std::string("all-") + format + ".reg", exported.out);
    std::string other = dir_ + "/other-" + format + ".db";
    std::vector<std::string> import_args = {"comcfg", "--store", other, "init"};
    {
      std::vector<const char*> argv;
      for (const auto& a : import_args) argv.push_back(a.c_str());
      std::ostringstream o, e;
      Io io{o, e};
      ASSERT_EQ(RunComcfg(4, argv.data(), io), 0);
      import_args = {"comcfg", "--store", other, "reg", "import", file};
      argv.clear();
      for (const auto& a : import_args) argv.push_back(a.c_str());
      ASSERT_EQ(RunComcfg(6, argv.data(), io), 0) << e.str();
      import_args = {"comcfg", "--store", other, "reg", "export", "--format", format};
      argv.clear();
      for (const auto& a : import_args) argv.push_back(a.c_str());
      std::ostringstream again, e2;
      Io io2{again, e2};
      ASSERT_EQ(RunComcfg(7, argv.data(), io2), 0);
      EXPECT_EQ(again.str(), exported.out) << format;
    }
  }
}

TEST_F(ComcfgStore, AppsAndClasses) {
  RegisterApp();
  EXPECT_EQ(Run({"app", "create", "--appid", kAppId, "--name", "Again"}).code, 2);
  EXPECT_NE(Run({"app", "list"}).out.find(kAppId), std::string::npos);
  EXPECT_EQ(Run({"app", "set", kAppId, "AuthenticationLevel", "9"}).code, 2);
  EXPECT_EQ(Run({"app", "set", kAppId, "AuthenticationLevel", "6"}).code, 0);
  EXPECT_EQ(Run({"app", "set", kAppId, "RunAs", "Interactive User"}).code, 0);
  EXPECT_EQ(Run({"app", "set", kAppId, "NotASetting", "1"}).code, 2);
  Out show = Run({"app", "show", kAppId, "--json"});
  ASSERT_EQ(show.code, 0);
  EXPECT_EQ(show.Json()["classes"][0], kClsid);
  Out cls = Run({"class", "show", kClsid, "--json"});
  ASSERT_EQ(cls.code, 0);
  bool found = false;
  const nlohmann::json settings = cls.Json()["settings"];
  for (const auto& s : settings) {
    if (s["name"] == "AppID") {
      EXPECT_EQ(s["value"], kAppId);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // A class naming a new AppID creates it, as dcomcnfg does (R160).
  Out other = Run({"class", "register", "--clsid", "{00000000-0000-0000-0000-0000000000BB}",
                   "--appid", "{00000000-0000-0000-0000-0000000000AA}"});
  EXPECT_EQ(other.code, 0);
  EXPECT_EQ(Run({"app", "show", "{00000000-0000-0000-0000-0000000000AA}"}).code, 0);
  EXPECT_EQ(Run({"class", "unregister", kClsid}).code, 0);
  EXPECT_EQ(Run({"class", "show", kClsid}).code, 1);
  EXPECT_EQ(Run({"app", "delete", kAppId}).code, 0);
  EXPECT_EQ(Run({"app", "show", kAppId}).code, 1);
  EXPECT_EQ(Run({"app", "show", "not-a-guid"}).code, 2);
}

TEST_F(ComcfgStore, PermsGrantDenyRevoke) {
  RegisterApp();
  Out show = Run({"perms", "show", "launch", "--appid", kAppId, "--json"});
  ASSERT_EQ(show.code, 0);
  EXPECT_FALSE(show.Json()["own"]);  // follows DefaultLaunchPermission
  Out g = Run({"perms", "grant", "launch", "--appid", kAppId, "--principal",
               "S-1-5-21-1-2-3-1001", "--rights", "execute_remote,activate_remote"});
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_NE(g.out.find("(A;;CCLCRP;;;S-1-5-21-1-2-3-1001)"), std::string::npos) << g.out;
  Out d = Run({"perms", "deny", "launch", "--appid", kAppId, "--principal",
               "S-1-5-21-1-2-3-1001", "--rights", "execute_remote"});
  ASSERT_EQ(d.code, 0);
  // The deny comes first; the allow keeps only remote activation.
  EXPECT_NE(d.out.find("D:(D;;CCLC;;;S-1-5-21-1-2-3-1001)"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("(A;;CCRP;;;S-1-5-21-1-2-3-1001)"), std::string::npos) << d.out;
  Out rv = Run({"perms", "revoke", "launch", "--appid", kAppId, "--principal",
                "S-1-5-21-1-2-3-1001"});
  ASSERT_EQ(rv.code, 0);
  EXPECT_EQ(rv.out.find("S-1-5-21-1-2-3-1001"), std::string::npos) << rv.out;
  // Access permissions take no activation rights (R116).
  EXPECT_EQ(Run({"perms", "grant", "access", "--appid", kAppId, "--principal",
                 "WD", "--rights", "activate_remote"})
                .code,
            2);
  EXPECT_EQ(Run({"perms", "grant", "launch", "--principal", "WD", "--rights",
                 "execute_local"})
                .code,
            2);  // no --appid
  EXPECT_EQ(Run({"perms", "grant", "default-access", "--principal", "AU",
                 "--rights", "execute_local,execute_remote"})
                .code,
            0);
  EXPECT_EQ(Run({"perms", "show", "nonsense"}).code, 2);
}

// An old-format ACL is upgraded, never mixed (R118, R150).
TEST_F(ComcfgStore, PermsUpgradeLegacyAcls) {
  RegisterApp();
  ASSERT_EQ(Run({"app", "set", kAppId, "LaunchPermission",
                 "O:BAG:BAD:(A;;CC;;;BA)(A;;CC;;;IU)"})
                .code,
            0);
  Out g = Run({"perms", "grant", "launch", "--appid", kAppId, "--principal",
               "AU", "--rights", "execute_local,activate_local"});
  ASSERT_EQ(g.code, 0);
  EXPECT_NE(g.out.find("(A;;CCDCLCSWRP;;;BA)(A;;CCDCLCSWRP;;;IU)(A;;CCDCSW;;;AU)"),
            std::string::npos)
      << g.out;
  Out parse = Run({"sddl", "parse", "--com", g.out.substr(0, g.out.find('\n'))});
  EXPECT_EQ(parse.code, 0) << parse.out;
}

TEST_F(ComcfgStore, EffectiveNamesSources) {
  RegisterApp();
  Out builtin = Run({"effective", "--appid", kAppId, "--json"});
  ASSERT_EQ(builtin.code, 0) << builtin.err;
  auto j = builtin.Json();
  EXPECT_EQ(j["authentication_level"]["source"], "machine default");  // R8 via Legacy
  EXPECT_EQ(j["access_permission"]["source"], "built-in");            // R144
  EXPECT_EQ(j["launch_permission"]["source"], "machine default");     // R113
  ASSERT_EQ(Run({"app", "set", kAppId, "AuthenticationLevel", "6"}).code, 0);
  EXPECT_EQ(Run({"effective", "--clsid", kClsid, "--json"}).Json()["authentication_level"]["source"],
            "AppID");
  // CoInitializeSecurity arguments win (R68).
  Out process = Run({"effective", "--appid", kAppId, "--authn-level", "4",
                     "--imp-level", "3", "--access-sd", "O:BAG:BAD:(A;;CCDC;;;WD)",
                     "--json"});
  auto p = process.Json();
  EXPECT_EQ(p["authentication_level"]["value"], 4);
  EXPECT_EQ(p["authentication_level"]["source"], "process");
  EXPECT_EQ(p["impersonation_level"]["source"], "process");
  EXPECT_EQ(p["access_permission"]["source"], "process");
  EXPECT_EQ(p["access_permission"]["sddl"], "O:BAG:BAD:(A;;CCDC;;;WD)");
  EXPECT_EQ(Run({"effective", "--clsid", "{00000000-0000-0000-0000-0000000000AA}"}).code, 1);
  EXPECT_EQ(Run({"effective"}).code, 2);
  // Levels by name, as the Windows constants or without their prefix.
  auto named = Run({"effective", "--appid", kAppId, "--authn-level", "PKT_INTEGRITY",
                    "--imp-level", "RPC_C_IMP_LEVEL_DELEGATE", "--json"})
                   .Json();
  EXPECT_EQ(named["authentication_level"]["value"], 5);
  EXPECT_EQ(named["authentication_level"]["name"], "RPC_C_AUTHN_LEVEL_PKT_INTEGRITY");
  EXPECT_EQ(named["impersonation_level"]["value"], 4);
  Out bad = Run({"effective", "--appid", kAppId, "--authn-level", "7"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--authn-level: \"7\" is not an authentication level"),
            std::string::npos)
      << bad.err;
  ASSERT_EQ(Run({"app", "set", kAppId, "AuthenticationLevel", "pkt_privacy"}).code, 0);
}

TEST_F(ComcfgStore, ExplainGivesChainAndWorkingRemedy) {
  RegisterApp();
  Out denied = Run({"explain", "launch", "--clsid", kClsid, "--user", "uid:4242",
                    "--group", "gid:4242", "--remote", "--authn-level", "6", "--json"});
  ASSERT_EQ(denied.code, 1) << denied.err;
  auto j = denied.Json();
  EXPECT_EQ(j["hresult"], "0x80070005");
  EXPECT_EQ(j["hresult_name"], "E_ACCESSDENIED");
  // C11: the machine restriction first, then the application; both shown.
  std::vector<std::string> names;
  for (const auto& c : j["checks"]) names.push_back(c["check"]);
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(names[names.size() - 2], "machine launch restriction");
  EXPECT_EQ(names.back(), "launch permission");
  std::string remedy = j["remedy"];
  EXPECT_NE(remedy.find("comcfg perms grant machine-launch-limit --principal uid:4242"),
            std::string::npos) << remedy;
  // Apply each command of the remedy, then ask again.
  size_t start = 0;
  while (start < remedy.size()) {
    size_t end = remedy.find("; then ", start);
    std::string cmd = remedy.substr(start, end == std::string::npos ? std::string::npos
                                                                    : end - start);
    std::istringstream words(cmd);
    std::vector<std::string> args;
    std::string w;
    words >> w;  // "comcfg"
    while (words >> w) args.push_back(w);
    ASSERT_EQ(Run(args).code, 0) << cmd;
    if (end == std::string::npos) break;
    start = end + 7;
  }
  Out allowed = Run({"explain", "launch", "--clsid", kClsid, "--user", "uid:4242",
                     "--group", "gid:4242", "--remote", "--authn-level", "6"});
  EXPECT_EQ(allowed.code, 0) << allowed.out;
}

TEST_F(ComcfgStore, ExplainHardeningAndEnableDcom) {
  RegisterApp();
  Out low = Run({"explain", "activate", "--appid", kAppId, "--user", "unix:root",
                 "--remote", "--authn-level", "2"});
  EXPECT_EQ(low.code, 1);
  EXPECT_NE(low.out.find("DCOM hardening"), std::string::npos) << low.out;
  EXPECT_EQ(Run({"explain", "activate", "--appid", kAppId, "--user", "unix:root",
                 "--remote", "--authn-level", "5"})
                .code,
            0);
  ASSERT_EQ(Run({"machine", "set", "EnableDCOM", "N"}).code, 0);
  Out off = Run({"explain", "activate", "--appid", kAppId, "--user", "unix:root",
                 "--remote", "--authn-level", "5"});
  EXPECT_EQ(off.code, 1);
  EXPECT_NE(off.out.find("comcfg machine set EnableDCOM Y"), std::string::npos);
  // Local requests are not affected by EnableDCOM (R120).
  EXPECT_EQ(Run({"explain", "activate", "--appid", kAppId, "--user", "unix:root",
                 "--local", "--authn-level", "5"})
                .code,
            0);
  EXPECT_EQ(Run({"explain", "activate", "--appid", kAppId, "--user", "unix:root"}).code, 2);
  EXPECT_EQ(Run({"explain", "fly", "--appid", kAppId, "--user", "WD", "--local"}).code, 2);
}

}  // namespace
}  // namespace comsec::comcfg
