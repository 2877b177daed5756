#include <gtest/gtest.h>

#include <map>
#include <string>

#include "comsec/base/hresult.h"
#include "comsec/base/win32_error.h"

namespace comsec {
namespace {

TEST(HResultTable, SortedByValue) {
  size_t n = 0;
  const HResultInfo* t = internal::HResultTable(&n);
  ASSERT_GT(n, 100u);
  for (size_t i = 1; i < n; ++i) {
    EXPECT_LE(t[i - 1].value, t[i].value) << t[i].name;
  }
}

TEST(HResultTable, EachNameHasOneValue) {
  size_t n = 0;
  const HResultInfo* t = internal::HResultTable(&n);
  std::map<std::string, uint32_t> seen;
  for (size_t i = 0; i < n; ++i) {
    auto [it, inserted] = seen.emplace(t[i].name, t[i].value);
    EXPECT_TRUE(inserted || it->second == t[i].value) << t[i].name;
  }
}

TEST(HResultTable, KnowsTheCodesComsecReturns) {
  EXPECT_EQ(E_ACCESSDENIED.Name(), "E_ACCESSDENIED");
  EXPECT_EQ(HResult::FromWin32(1722).Name(), "RPC_S_SERVER_UNAVAILABLE");
  EXPECT_EQ(HResult(0x80080005u).Name(), "CO_E_SERVER_EXEC_FAILURE");
  EXPECT_EQ(HResult(0x80010119u).Name(), "RPC_E_TOO_LATE");
  EXPECT_EQ(HResult(0x8001011Au).Name(), "RPC_E_NO_GOOD_SECURITY_PACKAGES");
  EXPECT_EQ(HResult(0x80040154u).Name(), "REGDB_E_CLASSNOTREG");
  EXPECT_EQ(HResult::FromWin32(1765).Name(), "RPC_S_NO_CONTEXT_AVAILABLE");
  EXPECT_EQ(ERROR_INVALID_SECURITY_DESCR.Name(),
            "ERROR_INVALID_SECURITY_DESCR");
  EXPECT_FALSE(E_ACCESSDENIED.Message().empty());
}

TEST(HResultTable, NamesRoundTrip) {
  HResult hr;
  ASSERT_TRUE(HResult::FromName("ERROR_ACCESS_DENIED", &hr));
  EXPECT_EQ(hr, E_ACCESSDENIED);
  ASSERT_TRUE(HResult::FromName("CO_E_ELEVATION_DISABLED", &hr));
  EXPECT_EQ(hr.value(), 0x80080017u);
  EXPECT_FALSE(HResult::FromName("E_NO_SUCH_THING", &hr));
  EXPECT_EQ(E_ACCESSDENIED.ToString(), "E_ACCESSDENIED (0x80070005)");
  EXPECT_EQ(HResult(0x12345678u).Name(), "");
  EXPECT_EQ(HResult(0x12345678u).ToString(), "0x12345678");
}

}  // namespace
}  // namespace comsec
