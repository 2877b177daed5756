// ncalrpc endpoints (issue 9 item 9): the socket's mode set explicitly, its
// directory checked or created, and a client that refuses an impostor.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local_test_support.h"
#include "comsec/base/win32_error.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/epmapper.h"
#include "comsec/rpc/server.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::rpc {
namespace {

using testing::TempDir;

struct stat StatOf(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

class LocalEndpoint : public ::testing::Test {
 protected:
  void SetUp() override { registry_.Register(mapper_.Interface()); }
  Result<StringBinding> Listen(const std::string& binding) {
    return server_.Listen(*StringBinding::Parse(binding));
  }
  void TearDown() override { server_.Stop(); }

  TempDir dir_;
  EndpointMapper mapper_;
  InterfaceRegistry registry_;
  Server server_{&registry_, ServerOptions{}};
};

TEST(LocalEndpointPath, BareNamesLiveUnderRunComsec) {
  EXPECT_EQ(LocalEndpointPath("epmapper"), "/run/comsec/epmapper");
  EXPECT_EQ(LocalEndpointPath("/tmp/x/y"), "/tmp/x/y");
}

// Whatever the umask, the directory is created 0755 and owned by us, and
// the socket is 0666.
TEST_F(LocalEndpoint, ModesAreSetExplicitly) {
  const mode_t old = ::umask(0077);
  const std::string sub = dir_.path() + "/run";
  auto b = Listen("ncalrpc:" + sub + "/epmapper");
  ::umask(old);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  struct stat d = StatOf(sub);
  EXPECT_TRUE(S_ISDIR(d.st_mode));
  EXPECT_EQ(d.st_mode & 07777, 0755u);
  EXPECT_EQ(d.st_uid, ::geteuid());
  struct stat s = StatOf(sub + "/epmapper");
  EXPECT_TRUE(S_ISSOCK(s.st_mode));
  EXPECT_EQ(s.st_mode & 07777, 0666u);
  EXPECT_EQ(s.st_uid, ::geteuid());
  // No staging file is left behind.
  EXPECT_NE(::access((sub + "/epmapper." + std::to_string(::getpid()) + ".new").c_str(), F_OK), 0);
  // A binding may ask for a narrower mode.
  auto narrow = Listen("ncalrpc:[" + sub + "/private,mode=0600]");
  ASSERT_TRUE(narrow.ok()) << narrow.status().ToString();
  EXPECT_EQ(StatOf(sub + "/private").st_mode & 07777, 0600u);
  auto bad = Listen("ncalrpc:[" + sub + "/bad,mode=0999]");
  EXPECT_EQ(bad.status().code(), RPC_S_INVALID_STRING_BINDING);
}

// A directory others may write to is refused, sticky or not: whoever can
// write there can put their own socket in our place.
TEST_F(LocalEndpoint, RefusesADirectoryOthersMayWrite) {
  for (mode_t mode : {0777, 01777, 0775, 0757}) {
    ASSERT_EQ(::chmod(dir_.path().c_str(), mode), 0);
    auto b = Listen("ncalrpc:" + dir_.path() + "/epmapper");
    EXPECT_EQ(b.status().code(), RPC_S_CANT_CREATE_ENDPOINT) << std::oct << mode;
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    EXPECT_EQ(b.status().message(),
              "will not create an ncalrpc socket in " + dir_.path() + ": its mode " + text +
                  " lets group or others write to it; use a directory that only root or this "
                  "server's user may write, such as /run/comsec")
        << b.status().ToString();
    EXPECT_NE(::access((dir_.path() + "/epmapper").c_str(), F_OK), 0);
  }
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  EXPECT_TRUE(Listen("ncalrpc:" + dir_.path() + "/epmapper").ok());
}

TEST_F(LocalEndpoint, RefusesADirectoryAnotherUserOwns) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory away";
  ASSERT_EQ(::chown(dir_.path().c_str(), testing::kNobodyUid, testing::kNogroupGid), 0);
  auto b = Listen("ncalrpc:" + dir_.path() + "/epmapper");
  EXPECT_EQ(b.status().code(), RPC_S_CANT_CREATE_ENDPOINT);
  EXPECT_EQ(b.status().message(),
            "will not create an ncalrpc socket in " + dir_.path() +
                ": it belongs to uid 65534, neither root nor this server's uid 0; use a "
                "directory that only root or this server's user may write, such as /run/comsec");
  // Not a directory at all.
  auto file = Listen("ncalrpc:/etc/hostname/epmapper");
  EXPECT_EQ(file.status().code(), RPC_S_CANT_CREATE_ENDPOINT);
}

// A live endpoint is never taken over; a stale socket file is replaced.
TEST_F(LocalEndpoint, LiveEndpointIsKeptStaleOneReplaced) {
  const std::string binding = "ncalrpc:" + dir_.path() + "/epmapper";
  auto first = std::make_unique<Server>(&registry_, ServerOptions{});
  ASSERT_TRUE(first->Listen(*StringBinding::Parse(binding)).ok());
  InterfaceRegistry other_registry;
  Server other(&other_registry, ServerOptions{});
  auto second = other.Listen(*StringBinding::Parse(binding));
  EXPECT_EQ(second.status().code(), RPC_S_DUPLICATE_ENDPOINT);
  // The first still serves.
  auto client = Client::Connect(*StringBinding::Parse(binding));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Bind(EndpointMapperSyntax()).ok());
  client->reset();
  first.reset();
  // Now only a file is left: a new server may take the path.
  ASSERT_TRUE(S_ISSOCK(StatOf(dir_.path() + "/epmapper").st_mode));
  EXPECT_TRUE(other.Listen(*StringBinding::Parse(binding)).ok());
  other.Stop();
}

// The attack: nobody serves the path a client expects root's server at.
// The client refuses before sending anything.
TEST(LocalEndpointClient, RefusesAnImpostor) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
  TempDir dir(0755);
  ASSERT_EQ(::chown(dir.path().c_str(), testing::kNobodyUid, testing::kNogroupGid), 0);
  const std::string binding = "ncalrpc:" + dir.path() + "/epmapper";
  testing::HelperServer impostor(testing::kNobodyUid, testing::kNogroupGid, binding);
  ASSERT_TRUE(impostor.listening()) << impostor.first_line();
  EXPECT_EQ(StatOf(dir.path() + "/epmapper").st_uid, testing::kNobodyUid);
  auto client = Client::Connect(*StringBinding::Parse(binding));
  EXPECT_EQ(client.status().code(), SEC_E_WRONG_PRINCIPAL);
  EXPECT_EQ(client.status().code().value(), 0x80090322u);
  const std::string message(client.status().message());
  EXPECT_NE(message.find("running as uid 65534, not the expected uid 0;"), std::string::npos)
      << message;
  EXPECT_NE(message.find("another user may have put an impostor at this endpoint"),
            std::string::npos);
  // The helpers refuse it the same way.
  EndpointEntry e{Guid{}, {{Guid{}, 1, 0}, Ndr20Syntax(), "ncacn_ip_tcp", "1", "127.0.0.1"}, ""};
  EXPECT_EQ(EptInsert(*StringBinding::Parse(binding), {e}).code(), SEC_E_WRONG_PRINCIPAL);
  // Told to trust nobody, the same client connects: the check is the uid.
  ClientOptions trusting;
  trusting.trusted_server_uids = {testing::kNobodyUid};
  auto trusted = Client::Connect(*StringBinding::Parse(binding), trusting);
  ASSERT_TRUE(trusted.ok()) << trusted.status().ToString();
  EXPECT_TRUE((*trusted)->Bind(EndpointMapperSyntax()).ok());
}

// Our own server (same uid) and root's are trusted by default.
TEST_F(LocalEndpoint, ClientTrustsRootAndItself) {
  auto b = Listen("ncalrpc:" + dir_.path() + "/epmapper");
  ASSERT_TRUE(b.ok());
  auto client = Client::Connect(*b);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE((*client)->Bind(EndpointMapperSyntax()).ok());
  ClientOptions strict;
  strict.trusted_server_uids = {12345};
  EXPECT_EQ(Client::Connect(*b, strict).status().code(), SEC_E_WRONG_PRINCIPAL);
}

}  // namespace
}  // namespace comsec::rpc
