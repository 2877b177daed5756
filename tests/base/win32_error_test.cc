// Every code of base/win32_error.h carries its Windows name: the test reads
// the header itself, so a code added there is checked without being listed
// here, and checks that hresult_table.cc knows the name with that value.
#include "comsec/base/win32_error.h"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace comsec {
namespace {

TEST(Win32Error, EveryNameIsWindowsName) {
  const std::string path = std::string(COMSEC_TEST_DATA_DIR) + "/../../src/base/win32_error.h";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  const std::string header = text.str();
  const std::regex constant(
      R"(inline constexpr HResult (\w+) = HResult::FromWin32\((\d+)\);)");
  size_t checked = 0;
  for (std::sregex_iterator it(header.begin(), header.end(), constant), end; it != end; ++it) {
    const std::string name = (*it)[1];
    const uint32_t code = static_cast<uint32_t>(std::stoul((*it)[2]));
    HResult by_name;
    ASSERT_TRUE(HResult::FromName(name, &by_name)) << name << " is not in hresult_table.cc";
    EXPECT_EQ(by_name, HResult::FromWin32(code)) << name << " is not Win32 " << code;
    EXPECT_FALSE(by_name.Message().empty()) << name;
    ++checked;
  }
  // Every `inline constexpr HResult` line is of the form read above.
  size_t declared = 0;
  for (size_t at = header.find("inline constexpr HResult"); at != std::string::npos;
       at = header.find("inline constexpr HResult", at + 1)) {
    ++declared;
  }
  EXPECT_EQ(checked, declared);
  EXPECT_GE(checked, 30u);
}

TEST(Win32Error, ValuesAreHresultFromWin32) {
  EXPECT_EQ(RPC_S_UNKNOWN_IF.value(), 0x800706B5u);
  EXPECT_EQ(RPC_X_BAD_STUB_DATA.value(), 0x800706F7u);
  EXPECT_EQ(ERROR_TIMEOUT.value(), 0x800705B4u);
  // Shared with hresult.h's E_ codes; Name() gives the canonical E_ name.
  EXPECT_EQ(ERROR_ACCESS_DENIED, E_ACCESSDENIED);
  EXPECT_EQ(ERROR_INVALID_HANDLE, E_HANDLE);
  EXPECT_EQ(ERROR_OUTOFMEMORY, E_OUTOFMEMORY);
  EXPECT_EQ(ERROR_ACCESS_DENIED.Name(), "E_ACCESSDENIED");
  EXPECT_EQ(RPC_S_DUPLICATE_ENDPOINT.ToString(), "RPC_S_DUPLICATE_ENDPOINT (0x800706cc)");
  EXPECT_EQ(EPT_S_CANT_CREATE.Name(), "EPT_S_CANT_CREATE");
}

}  // namespace
}  // namespace comsec
