// Towers (C706 appendix L) and the endpoint mapper, in process and over
// loopback sockets: who may change the map (issue 9 item 4) and
// enumeration in pieces (item 17).
#include "comsec/base/win32_error.h"
#include "comsec/rpc/epmapper.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "comsec/base/hex.h"
#include "comsec/rpc/server.h"
#include "local_test_support.h"
#include "../base/captured_log.h"

namespace comsec::rpc {
namespace {


const SyntaxId kEcho{*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};

TEST(Tower, TcpLayout) {
  Tower t{kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "1350", "127.0.0.1"};
  std::vector<uint8_t> b = t.Encode();
  // 5 floors: 2 + (2+19+2+2) * 2 + (2+1+2+2) + (2+1+2+2) + (2+1+2+4) = 75.
  EXPECT_EQ(b.size(), 75u);
  EXPECT_EQ(b[0], 5);
  // The TCP port is big-endian: 1350 = 0x0546.
  EXPECT_EQ(ToHex(std::span(b).subspan(b.size() - 16, 7)), "01000702000546");
  auto back = Tower::Decode(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->interface, kEcho);
  EXPECT_EQ(back->endpoint, "1350");
  EXPECT_EQ(back->address, "127.0.0.1");
  EXPECT_EQ(back->ToBinding().ToString(), "ncacn_ip_tcp:127.0.0.1[1350]");
}

TEST(Tower, NcalrpcRoundTrip) {
  Tower t{kEcho, Ndr20Syntax(), "ncalrpc", "/run/comsec/echo", ""};
  auto back = Tower::Decode(t.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->protseq, "ncalrpc");
  EXPECT_EQ(back->endpoint, "/run/comsec/echo");
}

TEST(Tower, RejectsMalformedTowers) {
  std::vector<uint8_t> good =
      Tower{kEcho, Ndr20Syntax(), "ncacn_ip_tcp", "1", "1.2.3.4"}.Encode();
  for (size_t n = 0; n < good.size(); ++n) {
    std::vector<uint8_t> prefix(good.begin(), good.begin() + n);
    EXPECT_FALSE(Tower::Decode(prefix).ok()) << n;
  }
  std::vector<uint8_t> b = good;
  b[0] = 40;  // floor count
  EXPECT_FALSE(Tower::Decode(b).ok());
  b = good;
  b[4] = 0x0C;  // floor 1 protocol id
  EXPECT_FALSE(Tower::Decode(b).ok());
}


EndpointEntry Entry(const SyntaxId& s, const std::string& protseq, const std::string& endpoint,
                    const std::string& annotation = "a") {
  return {Guid{}, {s, Ndr20Syntax(), protseq, endpoint,
                   protseq == "ncacn_ip_tcp" ? "127.0.0.1" : ""},
          annotation};
}

SyntaxId Interface(int n, uint16_t major = 1, uint16_t minor = 0) {
  char text[40];
  std::snprintf(text, sizeof text, "%08x-0000-0000-0000-000000000000", n);
  return {*Guid::Parse(text), major, minor};
}

TEST(EndpointMapper, MapMatchesInterfaceVersionAndProtseq) {
  EndpointMapper m;
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "1000")}, true, 0), 0u);
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncalrpc", "/x", "b")}, true, 0), 0u);
  EXPECT_EQ(m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5).size(), 1u);
  SyntaxId newer_minor = kEcho;
  newer_minor.minor = 1;
  EXPECT_TRUE(m.Map(Guid{}, newer_minor, "ncacn_ip_tcp", 5).empty());
  SyntaxId other_major = kEcho;
  other_major.major = 2;
  EXPECT_TRUE(m.Map(Guid{}, other_major, "ncacn_ip_tcp", 5).empty());
  // replace = true keeps one entry per interface and protseq.
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "2000")}, true, 0), 0u);
  auto found = m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].tower.endpoint, "2000");
  EXPECT_EQ(m.Delete({found[0]}, 0), 0u);
  EXPECT_TRUE(m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5).empty());
}

// ---- Item 4: an entry's slot belongs to the uid that registered it. ----

// The event of a change refused because uid `owner` holds `entry`'s slot.
LogEvent RefusedOwned(const char* name, const char* op, const EndpointEntry& entry, uint32_t uid,
                      uint32_t owner) {
  const SyntaxId& i = entry.tower.interface;
  const std::string why = "uid " + std::to_string(owner) + " registered it";
  return LogEvent(name, LogSeverity::kWarning,
                  std::string("refused ") + op + " of " + i.uuid.ToString() + " v" +
                      std::to_string(i.major) + "." + std::to_string(i.minor) + " over " +
                      entry.tower.protseq + " by uid " + std::to_string(uid) + ": " + why)
      .Reason(why)
      .Hresult(HResult::FromWin32(EPT_S_CANT_PERFORM_OP))
      .Extra("uid", std::to_string(uid))
      .Interface(i.uuid, i.major, i.minor)
      .Extra("owner_uid", std::to_string(owner));
}

// The event of an insert refused by a limit.
LogEvent RefusedByLimit(const std::string& what, uint32_t uid, const std::string& why) {
  return LogEvent("epm.insert_refused", LogSeverity::kWarning,
                  "refused ept_insert of " + what + " by uid " + std::to_string(uid) + ": " +
                      why)
      .Reason(why)
      .Hresult(HResult::FromWin32(EPT_S_CANT_CREATE))
      .Extra("uid", std::to_string(uid));
}

TEST(EndpointMapperOwnership, AnotherUidCannotReplaceShadowOrDelete) {
  CapturedLog log;
  EndpointMapper m({}, log.logger());
  ASSERT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "1000")}, true, 1000), 0u);
  // Replacing, adding beside (ept_map returns the newest) and shadowing
  // with a higher minor version are all taking the slot.
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "6666")}, true, 1001), EPT_S_CANT_PERFORM_OP);
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "6666")}, false, 1001),
            EPT_S_CANT_PERFORM_OP);
  SyntaxId v1_5 = kEcho;
  v1_5.minor = 5;
  EXPECT_EQ(m.Insert({Entry(v1_5, "ncacn_ip_tcp", "6666")}, false, 1001),
            EPT_S_CANT_PERFORM_OP);
  EXPECT_EQ(m.Delete({Entry(kEcho, "ncacn_ip_tcp", "1000")}, 1001), EPT_S_CANT_PERFORM_OP);
  // All or none: one refused entry keeps the others out too.
  EXPECT_EQ(m.Insert({Entry(Interface(7), "ncacn_ip_tcp", "7"),
                      Entry(kEcho, "ncacn_ip_tcp", "6666")},
                     true, 1001),
            EPT_S_CANT_PERFORM_OP);
  EXPECT_EQ(m.size(), 1u);
  auto found = m.Map(Guid{}, kEcho, "ncacn_ip_tcp", 5);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].tower.endpoint, "1000");
  EXPECT_EQ(m.OwnerOf(found[0]), 1000u);
  const EndpointEntry taken = Entry(kEcho, "ncacn_ip_tcp", "6666");
  EXPECT_EQ(log.events(),
            (std::vector<LogEvent>{
                RefusedOwned("epm.insert_refused", "ept_insert", taken, 1001, 1000),
                RefusedOwned("epm.insert_refused", "ept_insert", taken, 1001, 1000),
                RefusedOwned("epm.insert_refused", "ept_insert",
                             Entry(v1_5, "ncacn_ip_tcp", "6666"), 1001, 1000),
                RefusedOwned("epm.delete_refused", "ept_delete",
                             Entry(kEcho, "ncacn_ip_tcp", "1000"), 1001, 1000),
                RefusedOwned("epm.insert_refused", "ept_insert", taken, 1001, 1000)}));
  // Its owner may replace it; another protseq is another slot.
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "1001")}, true, 1000), 0u);
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncalrpc", "/run/x")}, true, 1001), 0u);
  // Root may replace anyone's.
  EXPECT_EQ(m.Insert({Entry(kEcho, "ncacn_ip_tcp", "135")}, true, 0), 0u);
  EXPECT_EQ(m.OwnerOf(Entry(kEcho, "ncacn_ip_tcp", "")), 0u);
  EXPECT_EQ(m.Delete({Entry(kEcho, "ncalrpc", "/run/x")}, 0), 0u);
  EXPECT_EQ(m.size(), 1u);
}

TEST(EndpointMapperOwnership, EachUidHoldsAtMostItsQuota) {
  EndpointMapperLimits limits;
  ASSERT_EQ(limits.max_entries_per_uid, 256u);  // the documented number
  CapturedLog log;
  EndpointMapper m(limits, log.logger());
  for (int i = 0; i < 256; ++i) {
    ASSERT_EQ(m.Insert({Entry(Interface(i), "ncacn_ip_tcp", "1")}, true, 1000), 0u) << i;
  }
  EXPECT_EQ(m.Insert({Entry(Interface(256), "ncacn_ip_tcp", "1")}, true, 1000),
            EPT_S_CANT_CREATE);
  EXPECT_EQ(log.events(),
            std::vector<LogEvent>{RefusedByLimit(
                "1 entries", 1000, "it would hold 257 (at most 256 per uid, 4096 in all)")});
  // Replacing its own entry does not count twice; other uids are unaffected.
  EXPECT_EQ(m.Insert({Entry(Interface(3), "ncacn_ip_tcp", "2")}, true, 1000), 0u);
  EXPECT_EQ(m.Insert({Entry(Interface(256), "ncacn_ip_tcp", "1")}, true, 1001), 0u);
  EXPECT_EQ(m.size(), 257u);
  // The total is bounded too.
  EndpointMapper small({.max_entries_per_uid = 10, .max_entries = 3});
  EXPECT_EQ(small.Insert({Entry(Interface(1), "ncalrpc", "/a"), Entry(Interface(2), "ncalrpc", "/b"),
                          Entry(Interface(3), "ncalrpc", "/c")},
                         true, 1),
            0u);
  EXPECT_EQ(small.Insert({Entry(Interface(4), "ncalrpc", "/d")}, true, 2), EPT_S_CANT_CREATE);
  // One request larger than any quota is refused whole, before any work.
  std::vector<EndpointEntry> huge(257, Entry(Interface(999), "ncalrpc", "/h"));
  EXPECT_EQ(m.Insert(huge, true, 1002), EPT_S_CANT_CREATE);
  EXPECT_EQ(log.events().back(),
            RefusedByLimit("257 entries", 1002, "more than the 256 a uid may hold"));
  EXPECT_EQ(m.size(), 257u);
}

// A mapper served on loopback TCP and on ncalrpc in a private directory
// that other users may reach (as comsecd's is).
class MapperServer : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.Register(mapper_.Interface());
    server_ = std::make_unique<Server>(&registry_, ServerOptions{});
    auto tcp = server_->Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
    tcp_ = *tcp;
    auto local = server_->Listen(*StringBinding::Parse("ncalrpc:" + dir_.path() + "/epmapper"));
    ASSERT_TRUE(local.ok()) << local.status().ToString();
    local_ = *local;
  }
  void TearDown() override { server_->Stop(); }

  testing::TempDir dir_{0755};
  CapturedLog log_;
  EndpointMapper mapper_{{}, log_.logger()};
  InterfaceRegistry registry_;
  std::unique_ptr<Server> server_;
  StringBinding tcp_, local_;
};

// TCP callers, loopback included, may only look up.
TEST_F(MapperServer, TcpCallersMayOnlyLookUp) {
  EndpointEntry e = Entry(kEcho, "ncacn_ip_tcp", "4321");
  Status s = EptInsert(tcp_, {e});
  EXPECT_EQ(s.code(), HResult::FromWin32(EPT_S_CANT_PERFORM_OP)) << s.ToString();
  EXPECT_EQ(s.code().value(), 0x800706D8u);
  EXPECT_EQ(mapper_.size(), 0u);
  ASSERT_TRUE(EptInsert(local_, {e}).ok());
  EXPECT_EQ(EptDelete(tcp_, {e}).code().value(), 0x800706D8u);
  EXPECT_EQ(mapper_.size(), 1u);
  const auto events = log_.events();
  ASSERT_EQ(events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const std::string op = i == 0 ? "ept_insert" : "ept_delete";
    ASSERT_TRUE(events[i].peer && events[i].peer->starts_with("127.0.0.1:")) << i;
    EXPECT_EQ(events[i], LogEvent(i == 0 ? "epm.insert_refused" : "epm.delete_refused",
                                  LogSeverity::kWarning,
                                  "refused " + op +
                                      " from a TCP caller: the map changes only over ncalrpc")
                             .Peer(*events[i].peer)
                             .Reason("the map changes only over ncalrpc")
                             .Hresult(HResult::FromWin32(EPT_S_CANT_PERFORM_OP)));
  }
  // And the mapper still serves lookups over TCP.
  auto resolved = EptMap(tcp_, kEcho, "ncacn_ip_tcp");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->endpoint, "4321");
  SyntaxId unknown{*Guid::Parse("99999999-9999-9999-9999-999999999999"), 1, 0};
  EXPECT_EQ(EptMap(tcp_, unknown, "ncacn_ip_tcp").status().code().value(), 0x800706D9u);
}

// The attack: as nobody, over ncalrpc, take over an interface root
// registered. Refused with the exact status; ept_map still finds root's.
TEST_F(MapperServer, NobodyCannotHijackRootsInterface) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as nobody";
  ASSERT_TRUE(EptInsert(local_, {Entry(kEcho, "ncacn_ip_tcp", "4321")}).ok());
  const std::string args =
      "'" + local_.ToString() + "' " + kEcho.uuid.ToString() + " 6666";
  EXPECT_EQ(testing::RunHelperAs(testing::kNobodyUid, testing::kNogroupGid, "insert " + args),
            "hresult 0x800706d8");
  EXPECT_EQ(testing::RunHelperAs(testing::kNobodyUid, testing::kNogroupGid,
                                 "delete '" + local_.ToString() + "' " + kEcho.uuid.ToString() +
                                     " 4321"),
            "hresult 0x800706d8");
  auto resolved = EptMap(tcp_, kEcho, "ncacn_ip_tcp");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->endpoint, "4321");
  EXPECT_EQ(mapper_.size(), 1u);
  EXPECT_EQ(log_.events(),
            (std::vector<LogEvent>{
                RefusedOwned("epm.insert_refused", "ept_insert",
                             Entry(kEcho, "ncacn_ip_tcp", "6666"), testing::kNobodyUid, 0),
                RefusedOwned("epm.delete_refused", "ept_delete",
                             Entry(kEcho, "ncacn_ip_tcp", "4321"), testing::kNobodyUid, 0)}));
  // nobody may still register an interface of its own, and remove it.
  SyntaxId own = Interface(42);
  EXPECT_EQ(testing::RunHelperAs(testing::kNobodyUid, testing::kNogroupGid,
                                 "insert '" + local_.ToString() + "' " + own.uuid.ToString() +
                                     " 7777"),
            "hresult 0x00000000");
  EXPECT_EQ(mapper_.OwnerOf(Entry(own, "ncacn_ip_tcp", "")), testing::kNobodyUid);
  EXPECT_EQ(EptMap(tcp_, own, "ncacn_ip_tcp")->endpoint, "7777");
  EXPECT_EQ(testing::RunHelperAs(testing::kNobodyUid, testing::kNogroupGid,
                                 "delete '" + local_.ToString() + "' " + own.uuid.ToString() +
                                     " 7777"),
            "hresult 0x00000000");
  EXPECT_EQ(mapper_.size(), 1u);
}

// ---- Item 17: ept_lookup in pieces. ----

std::vector<std::string> Endpoints(const std::vector<EndpointEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.tower.endpoint);
  return out;
}

// Issue 9 item 17: pieces of max_ents under one handle; the call after the
// last piece is EPT_S_NOT_REGISTERED with a null handle (C706, [MS-RPCE]
// 2.2.1.2.4); an answer whole in one call has a null handle at once.
TEST(EndpointMapperLookup, PiecesThenEptSNotRegisteredWithANullHandle) {
  EndpointMapper m;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(m.Insert({Entry(Interface(i), "ncacn_ip_tcp", std::to_string(1000 + i))}, true, 0),
              0u);
  }
  auto first = m.Lookup({}, {}, 2, 7);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Endpoints(first->entries), std::vector<std::string>({"1000", "1001"}));
  EXPECT_FALSE(first->handle.IsNull());
  EXPECT_EQ(first->status, 0u);
  EXPECT_EQ(m.open_lookups(), 1u);
  auto second = m.Lookup({}, first->handle, 2, 7);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(Endpoints(second->entries), std::vector<std::string>({"1002", "1003"}));
  EXPECT_EQ(second->handle, first->handle);
  // The last piece keeps the handle...
  auto last = m.Lookup({}, second->handle, 2, 7);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(Endpoints(last->entries), std::vector<std::string>({"1004"}));
  EXPECT_EQ(last->handle, first->handle);
  EXPECT_EQ(last->status, 0u);
  // ...and the call after it ends the enumeration; the context is gone.
  auto end = m.Lookup({}, last->handle, 2, 7);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->entries.empty());
  EXPECT_TRUE(end->handle.IsNull());
  EXPECT_EQ(end->status, EPT_S_NOT_REGISTERED);
  EXPECT_EQ(m.open_lookups(), 0u);
  // Everything in one piece needs no handle at all.
  auto whole = m.Lookup({}, {}, 500, 7);
  EXPECT_EQ(whole->entries.size(), 5u);
  EXPECT_TRUE(whole->handle.IsNull());
  EXPECT_EQ(whole->status, 0u);
  EXPECT_EQ(m.open_lookups(), 0u);
}

TEST(EndpointMapperLookup, NothingLeftIsEptSNotRegistered) {
  EndpointMapper m;
  auto empty = m.Lookup({}, {}, 10, 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_TRUE(empty->handle.IsNull());
  EXPECT_EQ(empty->status, EPT_S_NOT_REGISTERED);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(m.Insert({Entry(Interface(i), "ncalrpc", "/e" + std::to_string(i))}, true, 0), 0u);
  }
  auto first = m.Lookup({}, {}, 2, 1);
  ASSERT_FALSE(first->handle.IsNull());
  // The rest went away before the client came back: the call after the
  // last piece answers 0x16C9A0D6 and a null handle.
  ASSERT_EQ(m.Delete({Entry(Interface(2), "ncalrpc", "/e2")}, 0), 0u);
  auto after = m.Lookup({}, first->handle, 2, 1);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->entries.empty());
  EXPECT_TRUE(after->handle.IsNull());
  EXPECT_EQ(after->status, 0x16C9A0D6u);
  EXPECT_EQ(m.open_lookups(), 0u);
}

TEST(EndpointMapperLookup, InquiryTypesAndVersionOptions) {
  EndpointMapper m;
  ASSERT_EQ(m.Insert({Entry(Interface(1, 1, 0), "ncalrpc", "/a"),
                      Entry(Interface(1, 2, 3), "ncacn_ip_tcp", "2"),
                      Entry(Interface(2, 1, 0), "ncalrpc", "/b")},
                     false, 0),
            0u);
  auto ask = [&](uint32_t inquiry, SyntaxId s, uint32_t vers) {
    return Endpoints(m.Lookup({inquiry, Guid{}, s, vers}, {}, 500, 1)->entries);
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(ask(RPC_C_EP_ALL_ELTS, Interface(9), 0), V({"/a", "2", "/b"}));
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_IF, Interface(1, 2, 0), RPC_C_VERS_ALL), V({"/a", "2"}));
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_IF, Interface(1, 2, 0), RPC_C_VERS_COMPATIBLE), V({"2"}));
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_IF, Interface(1, 2, 0), RPC_C_VERS_EXACT), V());
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_IF, Interface(1, 1, 0), RPC_C_VERS_MAJOR_ONLY), V({"/a"}));
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_IF, Interface(1, 2, 0), RPC_C_VERS_UPTO), V({"/a"}));
  EXPECT_EQ(ask(RPC_C_EP_MATCH_BY_BOTH, Interface(2), RPC_C_VERS_ALL), V({"/b"}));
  // An unknown inquiry type or version option is EPT_S_CANT_PERFORM_OP.
  EXPECT_EQ(m.Lookup({9, Guid{}, std::nullopt, 1}, {}, 5, 1)->status, EPT_S_CANT_PERFORM_OP);
  EXPECT_EQ(m.Lookup({RPC_C_EP_MATCH_BY_IF, Guid{}, Interface(1), 9}, {}, 5, 1)->status,
            EPT_S_CANT_PERFORM_OP);
  EXPECT_EQ(m.Lookup({RPC_C_EP_MATCH_BY_IF, Guid{}, std::nullopt, 1}, {}, 5, 1)->status,
            EPT_S_CANT_PERFORM_OP);
}

TEST(EndpointMapperLookup, HandlesAreBoundedAndBelongToTheirGroup) {
  EndpointMapper m({.max_lookups_per_group = 3, .max_lookups = 5});
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(m.Insert({Entry(Interface(i), "ncalrpc", "/" + std::to_string(i))}, true, 0), 0u);
  }
  std::vector<ndr::ContextHandle> group1;
  for (int i = 0; i < 4; ++i) group1.push_back(m.Lookup({}, {}, 1, 1)->handle);
  // The group's fourth enumeration forgot its first.
  EXPECT_EQ(m.open_lookups(), 3u);
  EXPECT_EQ(m.Lookup({}, group1[0], 1, 1).status().code().value(), 0x1C00001Au);
  EXPECT_TRUE(m.Lookup({}, group1[1], 1, 1).ok());
  // Another group cannot continue (or free) it.
  EXPECT_EQ(m.Lookup({}, group1[2], 1, 2).status().code().value(), 0x1C00001Au);
  EXPECT_EQ(m.FreeLookup(group1[2], 2).code().value(), 0x1C00001Au);
  // The total is bounded across groups.
  for (uint32_t g = 10; g < 20; ++g) ASSERT_FALSE(m.Lookup({}, {}, 1, g)->handle.IsNull());
  EXPECT_EQ(m.open_lookups(), 5u);
  // ept_lookup_handle_free releases one; using it afterwards is a mismatch.
  auto h = m.Lookup({}, {}, 1, 30)->handle;
  EXPECT_TRUE(m.FreeLookup(h, 30).ok());
  EXPECT_EQ(m.Lookup({}, h, 1, 30).status().code().value(), 0x1C00001Au);
  EXPECT_TRUE(m.FreeLookup({}, 30).ok());  // a null handle frees nothing
}

// Our own client's loop, over the wire, in pieces of every size.
TEST_F(MapperServer, LookupOverTheWire) {
  std::vector<EndpointEntry> entries;
  for (int i = 0; i < 7; ++i) {
    entries.push_back(Entry(Interface(i), "ncacn_ip_tcp", std::to_string(2000 + i)));
  }
  ASSERT_TRUE(EptInsert(local_, entries).ok());
  for (uint32_t max : {1u, 2u, 3u, 7u, 500u}) {
    auto all = EptLookupAll(tcp_, max);
    ASSERT_TRUE(all.ok()) << max << ": " << all.status().ToString();
    EXPECT_EQ(Endpoints(*all), Endpoints(entries)) << max;
  }
  EXPECT_EQ(mapper_.open_lookups(), 0u);
  // Step by step on one association, then free it half way.
  auto client = Client::Connect(tcp_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(EndpointMapperSyntax()).ok());
  auto piece = EptLookup(**client, {}, {}, 3);
  ASSERT_TRUE(piece.ok()) << piece.status().ToString();
  EXPECT_EQ(piece->entries.size(), 3u);
  EXPECT_EQ(piece->entries[0].annotation, "a");
  ASSERT_FALSE(piece->handle.IsNull());
  EXPECT_EQ(mapper_.open_lookups(), 1u);
  EXPECT_TRUE(EptLookupHandleFree(**client, piece->handle).ok());
  EXPECT_EQ(mapper_.open_lookups(), 0u);
  // The freed handle faults with nca_s_fault_context_mismatch, which a
  // client sees as ERROR_INVALID_HANDLE; the association still serves.
  auto stale = EptLookup(**client, {}, piece->handle, 3);
  EXPECT_EQ(stale.status().code(), ERROR_INVALID_HANDLE) << stale.status().ToString();
  auto again = EptLookup(**client, {}, {}, 500);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->entries.size(), 7u);
  EXPECT_TRUE(again->handle.IsNull());
  // Another association (another group) cannot use this one's handle.
  auto mine = EptLookup(**client, {}, {}, 1);
  auto other = Client::Connect(tcp_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Bind(EndpointMapperSyntax()).ok());
  EXPECT_EQ(EptLookup(**other, {}, mine->handle, 1).status().code(), ERROR_INVALID_HANDLE);
  EXPECT_TRUE(EptLookup(**client, {}, mine->handle, 10).ok());
}


// Every truncation of a valid request is a clean NDR error, never a crash or
// a partial change; an out-of-range max_ents is refused.
TEST(EndpointMapperStubs, TruncatedRequestsAreRefused) {
  EndpointMapper m;
  InterfaceRegistration iface = m.Interface();
  CallContext root;
  root.local = root.has_peer = true;
  root.assoc_group_id = 1;
  // A valid ept_lookup request: all elements, null handle, max_ents 3.
  std::vector<uint8_t> lookup = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
  lookup.insert(lookup.end(), 20, 0);
  lookup.insert(lookup.end(), {3, 0, 0, 0});
  ASSERT_TRUE(iface.operations[2](lookup, root).ok());
  for (size_t n = 0; n < lookup.size(); ++n) {
    std::vector<uint8_t> prefix(lookup.begin(), lookup.begin() + n);
    EXPECT_EQ(iface.operations[2](prefix, root).status().code(), RPC_X_BAD_STUB_DATA) << n;
  }
  lookup[lookup.size() - 4] = 0xF5;  // max_ents 501
  lookup[lookup.size() - 3] = 0x01;
  EXPECT_EQ(iface.operations[2](lookup, root).status().code(), RPC_X_BAD_STUB_DATA);
  std::vector<uint8_t> handle_free(20, 0);
  EXPECT_TRUE(iface.operations[4](handle_free, root).ok());
  handle_free.pop_back();
  EXPECT_EQ(iface.operations[4](handle_free, root).status().code(), RPC_X_BAD_STUB_DATA);
  EXPECT_EQ(m.open_lookups(), 0u);
}

// Our client reading a hostile mapper's ept_lookup reply: a count past
// max_ents or disagreeing with the array, or a truncated reply, is an
// error, and the client never loops forever on a handle that never ends.
TEST(EndpointMapperClient, RefusesMalformedLookupReplies) {
  std::vector<std::vector<uint8_t>> replies;
  auto head = [](uint32_t handle_byte, uint32_t num, uint32_t max, uint32_t actual) {
    std::vector<uint8_t> r(20, 0);
    r[4] = static_cast<uint8_t>(handle_byte);
    auto u32 = [&](uint32_t v) {
      for (int i = 0; i < 4; ++i) r.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    u32(num);
    u32(max);
    u32(0);
    u32(actual);
    u32(0);  // status (only reached when there are no entries)
    return r;
  };
  std::mutex mu;
  std::vector<uint8_t> next;
  InterfaceRegistration hostile;
  hostile.syntax = EndpointMapperSyntax();
  hostile.operations.resize(3);
  hostile.operations[2] = [&](std::span<const uint8_t>, const CallContext&)
      -> Result<std::vector<uint8_t>> {
    std::lock_guard<std::mutex> lock(mu);
    return next;
  };
  InterfaceRegistry registry;
  registry.Register(hostile);
  Server server(&registry, ServerOptions{});
  auto bound = server.Listen(*StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
  ASSERT_TRUE(bound.ok());
  auto client = Client::Connect(*bound);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Bind(EndpointMapperSyntax()).ok());
  auto ask = [&](std::vector<uint8_t> reply) {
    {
      std::lock_guard<std::mutex> lock(mu);
      next = std::move(reply);
    }
    return EptLookup(**client, {}, {}, 2).status();
  };
  EXPECT_TRUE(ask(head(0, 0, 2, 0)).ok());
  EXPECT_EQ(ask(head(0, 3, 2, 3)).code(), RPC_X_BAD_STUB_DATA);  // more than max_ents
  EXPECT_EQ(ask(head(0, 1, 2, 0)).code(), RPC_X_BAD_STUB_DATA);  // count disagrees
  EXPECT_EQ(ask(head(0, 1, 2, 1)).code(), RPC_X_BAD_STUB_DATA);  // entry missing
  std::vector<uint8_t> truncated = head(0, 0, 2, 0);
  truncated.resize(22);
  EXPECT_EQ(ask(truncated).code(), RPC_X_BAD_STUB_DATA);
  // A non-null handle with nothing in it, forever: EptLookupAll gives up.
  {
    std::lock_guard<std::mutex> lock(mu);
    next = head(1, 0, 2, 0);
  }
  auto all = EptLookupAll(*bound, 2);
  EXPECT_EQ(all.status().code(), RPC_S_PROTOCOL_ERROR) << all.status().ToString();
  server.Stop();
}

}  // namespace
}  // namespace comsec::rpc
