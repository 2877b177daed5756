// comcfg tls: set, map, unmap and show on a real store file, with their
// exit statuses (0 success, 1 not found, 2 bad input), and what the TLS
// package's store mapper reads back from it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "comcfg/command.h"
#include "comsec/auth/tls/store_certificate_mapper.h"
#include "comsec/config/tls_settings.h"

namespace comsec::comcfg {
namespace {

constexpr char kThumb[] = "AB:CD:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                          "EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD";
constexpr char kThumbNormalized[] =
    "abcd00112233445566778899aabbccddeeff00112233445566778899aabbccdd";

struct Out {
  int code;
  std::string out;
  std::string err;
};

class ComcfgTls : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comcfg-tls-XXXXXX";
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

  std::string dir_;
  std::string store_;
};

TEST_F(ComcfgTls, SetMapUnmapShow) {
  ASSERT_EQ(Run({"tls", "set", "--cert", "/etc/comsec/server.pem", "--key",
                 "/etc/comsec/server.key", "--ca", "/etc/comsec/clients-ca.pem"})
                .code,
            0);
  Out r = Run({"tls", "map", "--thumbprint", kThumb, "alice"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"tls", "map", "--subject", "CN=bob,O=comsec test", "unix:nobody"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"tls", "show", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["certificate_file"], "/etc/comsec/server.pem");
  EXPECT_EQ(j["key_file"], "/etc/comsec/server.key");
  EXPECT_EQ(j["ca_file"], "/etc/comsec/clients-ca.pem");
  ASSERT_EQ(j["mappings"].size(), 2u);
  EXPECT_EQ(j["mappings"][0]["kind"], "thumbprint");
  EXPECT_EQ(j["mappings"][0]["certificate"], kThumbNormalized);
  EXPECT_EQ(j["mappings"][0]["account"], "alice");
  EXPECT_EQ(j["mappings"][1]["kind"], "subject");
  EXPECT_EQ(j["mappings"][1]["certificate"], "CN=bob,O=comsec test");
  r = Run({"tls", "show"});
  EXPECT_NE(r.out.find("subject CN=bob,O=comsec test -> unix:nobody"), std::string::npos) << r.out;

  // The mapper reads the same table: the thumbprint first, then the
  // subject (case-insensitive, as value names are).
  {
    auto mapper = auth::tls::StoreCertificateMapper::Open(store_);
    ASSERT_TRUE(mapper.ok()) << mapper.status().ToString();
    auto bob = (*mapper)->Map({"cn=BOB,O=comsec test", "00"});
    ASSERT_TRUE(bob.ok()) << bob.status().ToString();
    ASSERT_TRUE(bob->has_value());
    EXPECT_EQ((*bob)->name, "unix:nobody");
    auto nobody = (*mapper)->Map({"CN=carol", kThumbNormalized});
    // alice is not an account of this store (no secrets file): fails closed.
    ASSERT_FALSE(nobody.ok());
    EXPECT_EQ(nobody.status().code(), SEC_E_LOGON_DENIED);
    auto none = (*mapper)->Map({"CN=carol", "11"});
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }

  EXPECT_EQ(Run({"tls", "unmap", "--thumbprint", kThumbNormalized}).code, 0);
  r = Run({"tls", "unmap", "--thumbprint", kThumbNormalized});
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no TLS mapping for the thumbprint"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"tls", "unmap", "--subject", "CN=bob,O=comsec test"}).code, 0);
  r = Run({"tls", "show"});
  EXPECT_NE(r.out.find("no certificate mappings"), std::string::npos) << r.out;
}

TEST_F(ComcfgTls, BadInputIsExitTwo) {
  Out r = Run({"tls", "map", "--thumbprint", "abc", "alice"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("64 hex digits"), std::string::npos) << r.err;
  r = Run({"tls", "map", "--thumbprint", kThumb, "--subject", "CN=x", "alice"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("exactly one of --subject and --thumbprint"), std::string::npos);
  EXPECT_EQ(Run({"tls", "map", "alice"}).code, 2);
  EXPECT_EQ(Run({"tls", "set"}).code, 2);
  EXPECT_EQ(Run({"tls"}).code, 2);
}

}  // namespace
}  // namespace comsec::comcfg
