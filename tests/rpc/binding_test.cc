#include "comsec/rpc/binding.h"

#include <gtest/gtest.h>

#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

TEST(StringBinding, ParsesTcpAndLocal) {
  auto tcp = StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[1350]");
  ASSERT_TRUE(tcp.ok());
  EXPECT_EQ(tcp->address, "127.0.0.1");
  EXPECT_EQ(*tcp->Port(), 1350);
  EXPECT_EQ(tcp->ToString(), "ncacn_ip_tcp:127.0.0.1[1350]");
  auto v6 = StringBinding::Parse("ncacn_ip_tcp:::1[135]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(*v6->Port(), 135);
  auto local = StringBinding::Parse("ncalrpc:/run/comsec/epmapper");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->endpoint, "/run/comsec/epmapper");
  EXPECT_EQ(local->ToString(), "ncalrpc:[/run/comsec/epmapper]");
  EXPECT_EQ(StringBinding::Parse("ncalrpc:[/run/x]")->endpoint, "/run/x");
  auto dyn = StringBinding::Parse("ncacn_ip_tcp:host");
  ASSERT_TRUE(dyn.ok());
  EXPECT_TRUE(dyn->endpoint.empty());
}

TEST(StringBinding, ObjectAndOptions) {
  auto b = StringBinding::Parse(
      "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21@NCACN_IP_TCP:10.0.0.1[49152,timeout=5]");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->object.has_value());
  EXPECT_EQ(b->protseq, "ncacn_ip_tcp");
  ASSERT_EQ(b->options.size(), 1u);
  EXPECT_EQ(b->options[0].second, "5");
  EXPECT_EQ(b->ToString(),
            "4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21@ncacn_ip_tcp:10.0.0.1[49152,timeout=5]");
}

TEST(StringBinding, RejectsMalformedBindings) {
  for (const char* bad : {"", "ncacn_ip_tcp", ":1.2.3.4[1]", "ncacn_ip_tcp:[135]",
                          "ncacn_ip_tcp:1.2.3.4[65536]",
                          "ncacn_ip_tcp:1.2.3.4[x]", "ncacn_ip_tcp:1.2.3.4[135",
                          "ncacn_ip_tcp:1.2.3.4]", "bad-uuid@ncalrpc:/x",
                          "ncalrpc:host[/x]", "ncacn_ip_tcp:h[1,opt]"}) {
    auto b = StringBinding::Parse(bad);
    EXPECT_FALSE(b.ok()) << bad;
    if (!b.ok()) {
      EXPECT_EQ(b.status().code(), RPC_S_INVALID_STRING_BINDING) << bad;
    }
  }
  auto np = StringBinding::Parse("ncacn_np:host[\\pipe\\x]");
  ASSERT_FALSE(np.ok());
  EXPECT_EQ(np.status().code(), RPC_S_PROTSEQ_NOT_SUPPORTED);
}

}  // namespace
}  // namespace comsec::rpc
