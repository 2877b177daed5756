// What the COM runtime tests share: a machine that lets unauthenticated
// remote callers execute. Unauthenticated TCP callers are remote ANONYMOUS
// LOGON, which Windows's default MachineAccessRestriction refuses (R139,
// R175); tests whose subject is something else weaken it, explicitly.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "../rpc/local_test_support.h"
#include "comsec/config/com_schema.h"
#include "comsec/config/store.h"

namespace comsec::com::testing {

inline constexpr char kAnonymousCallsRestriction[] =
    "O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDCLC;;;AN)";

// Writes that restriction into `store`.
inline void AllowAnonymousRemoteCalls(config::Store& store) {
  auto value = config::EncodeSetting(
      *config::FindSetting(config::SettingScope::kMachine, "MachineAccessRestriction"),
      kAnonymousCallsRestriction);
  ASSERT_TRUE(value.ok());
  ASSERT_TRUE(store.SetValue(config::OleKeyPath(), *value).ok());
}

// A store with only that restriction, made once per test process.
inline const std::string& AnonymousCallsStore() {
  static rpc::testing::TempDir dir;
  static const std::string path = [] {
    std::string p = dir.path() + "/store.db";
    auto store = config::Store::Open(p);
    EXPECT_TRUE(store.ok());
    if (store.ok()) AllowAnonymousRemoteCalls(**store);
    return p;
  }();
  return path;
}

}  // namespace comsec::com::testing
