// comcfg kerberos set / map / unmap / show, and explain naming a caller by
// its Kerberos principal, on a real store file: the exit statuses (0 done
// or allowed, 1 denied or not found, 2 bad input) and what the server
// would resolve (auth/gssapi/principal_mapping.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/command.h"
#include "comsec/auth/gssapi/principal_mapping.h"

namespace comsec::comcfg {
namespace {

constexpr char kAppId[] = "{6A1B3C2D-0000-4E5F-8A9B-0C1D2E3F4A5C}";

struct Out {
  int code;
  std::string out;
  std::string err;
  nlohmann::json Json() const { return nlohmann::json::parse(out); }
};

class ComcfgKerberos : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comcfg-krb-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = dir_ + "/store.db";
    ASSERT_EQ(Run({"init"}).code, 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Out Run(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> all = {"comcfg", "--store", store_};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const auto& a : all) argv.push_back(a.c_str());
    std::ostringstream out, err;
    std::istringstream in(input);
    Io io{out, err, &in};
    int code = RunComcfg(static_cast<int>(argv.size()), argv.data(), io);
    return {code, out.str(), err.str()};
  }

  // bob's SID, after creating him.
  std::string AddBob() {
    EXPECT_EQ(Run({"user", "add", "bob", "--password-stdin"}, "pw-of-bob\n").code, 0);
    Out list = Run({"user", "list", "--json"});
    EXPECT_EQ(list.code, 0) << list.err;
    return list.Json()[0]["sid"];
  }

  std::string dir_, store_;
};

TEST_F(ComcfgKerberos, SetAndShow) {
  Out empty = Run({"kerberos", "show", "--json"});
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_EQ(empty.Json()["keytab"], "");
  EXPECT_TRUE(empty.Json()["principal_map"].empty());

  Out set = Run({"kerberos", "set", "--keytab", dir_ + "/rpc.keytab", "--spn", "RPCSS/host1",
                 "--spn", "host/host1@EXAMPLE.COM"});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_NE(set.err.find("does not exist yet"), std::string::npos) << set.err;
  // Only what is given changes.
  ASSERT_EQ(Run({"kerberos", "set", "--spn", "RPCSS/host2"}).code, 0);
  Out shown = Run({"kerberos", "show", "--json"});
  ASSERT_EQ(shown.code, 0);
  EXPECT_EQ(shown.Json()["keytab"], dir_ + "/rpc.keytab");
  EXPECT_EQ(shown.Json()["spns"], nlohmann::json({"RPCSS/host2"}));
  Out text = Run({"kerberos", "show"});
  EXPECT_NE(text.out.find("keytab: " + dir_ + "/rpc.keytab"), std::string::npos) << text.out;

  EXPECT_EQ(Run({"kerberos", "set"}).code, 2);
  Out relative = Run({"kerberos", "set", "--keytab", "rpc.keytab"});
  EXPECT_EQ(relative.code, 2);
  EXPECT_NE(relative.err.find("not an absolute path"), std::string::npos) << relative.err;
  Out bad_spn = Run({"kerberos", "set", "--spn", "RPCSS"});
  EXPECT_EQ(bad_spn.code, 2);
  EXPECT_NE(bad_spn.err.find("not a service principal name"), std::string::npos);
  // Nothing of a refused command was written.
  EXPECT_EQ(Run({"kerberos", "show", "--json"}).Json()["spns"], nlohmann::json({"RPCSS/host2"}));
}

TEST_F(ComcfgKerberos, MapAndUnmap) {
  Out missing = Run({"kerberos", "map", "alice@EXAMPLE.COM", "bob"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("comcfg user add bob"), std::string::npos) << missing.err;
  AddBob();
  ASSERT_EQ(Run({"kerberos", "map", "alice@EXAMPLE.COM", "bob"}).code, 0);
  Out no_realm = Run({"kerberos", "map", "alice", "bob"});
  EXPECT_EQ(no_realm.code, 2);
  EXPECT_NE(no_realm.err.find("with its realm"), std::string::npos) << no_realm.err;
  Out shown = Run({"kerberos", "show", "--json"});
  ASSERT_EQ(shown.Json()["principal_map"].size(), 1u);
  EXPECT_EQ(shown.Json()["principal_map"][0]["principal"], "alice@EXAMPLE.COM");
  EXPECT_EQ(shown.Json()["principal_map"][0]["account"], "bob");
  EXPECT_EQ(Run({"kerberos", "unmap", "alice@EXAMPLE.COM"}).code, 0);
  Out again = Run({"kerberos", "unmap", "alice@EXAMPLE.COM"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("has no mapping"), std::string::npos) << again.err;
  EXPECT_TRUE(Run({"kerberos", "show", "--json"}).Json()["principal_map"].empty());
}

// explain names the package and the identity it resolved, by the rule the
// server applies: the store's map first, else the principal's own SID.
TEST_F(ComcfgKerberos, ExplainNamesThePackageAndTheIdentity) {
  ASSERT_EQ(Run({"app", "create", "--appid", kAppId, "--name", "Demo"}).code, 0);
  const std::string bob = AddBob();
  // Only bob may call.
  Out granted = Run({"perms", "grant", "access", "--appid", kAppId, "--principal", bob,
                     "--rights", "execute_remote"});
  ASSERT_EQ(granted.code, 0) << granted.err;
  ASSERT_EQ(Run({"kerberos", "map", "alice@EXAMPLE.COM", "bob"}).code, 0);

  Out allowed = Run({"explain", "access", "--appid", kAppId, "--remote", "--package",
                     "kerberos", "--principal", "alice@EXAMPLE.COM", "--json"});
  ASSERT_EQ(allowed.code, 0) << allowed.out << allowed.err;
  EXPECT_EQ(allowed.Json()["package"], "kerberos");
  EXPECT_EQ(allowed.Json()["identity"]["source"], "store principal map");
  EXPECT_EQ(allowed.Json()["identity"]["sid"], bob);
  EXPECT_NE(allowed.Json()["identity"]["name"].get<std::string>().find("\\bob"), std::string::npos);
  Out text = Run({"explain", "access", "--appid", kAppId, "--remote", "--package", "kerberos",
                  "--principal", "alice@EXAMPLE.COM"});
  EXPECT_NE(text.out.find("package: Kerberos (auth_type 16); principal alice@EXAMPLE.COM is "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("(store principal map)"), std::string::npos) << text.out;

  Out other = Run({"explain", "access", "--appid", kAppId, "--remote", "--package", "kerberos",
                   "--principal", "carol@EXAMPLE.COM", "--json"});
  EXPECT_EQ(other.code, 1) << other.out << other.err;
  EXPECT_EQ(other.Json()["identity"]["source"], "principal SID");
  EXPECT_EQ(other.Json()["identity"]["sid"],
            auth::gssapi::PrincipalSid("carol@EXAMPLE.COM").ToString());

  // A mapping whose account is gone refuses the logon, as the server does.
  ASSERT_EQ(Run({"user", "del", "bob"}).code, 0);
  Out gone = Run({"explain", "access", "--appid", kAppId, "--remote", "--package", "kerberos",
                  "--principal", "alice@EXAMPLE.COM"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_NE(gone.out.find("which does not exist"), std::string::npos) << gone.out;

  EXPECT_EQ(Run({"explain", "access", "--appid", kAppId, "--remote"}).code, 2);
  EXPECT_EQ(Run({"explain", "access", "--appid", kAppId, "--remote", "--principal", "a@B"}).code, 2);
  EXPECT_EQ(Run({"explain", "access", "--appid", kAppId, "--remote", "--user", "uid:1",
                 "--package", "kerberos", "--principal", "a@B"})
                .code,
            2);
}

}  // namespace
}  // namespace comsec::comcfg
