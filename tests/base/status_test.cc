#include "comsec/base/status.h"

#include <gtest/gtest.h>

#include "comsec/base/result.h"

namespace comsec {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), S_OK);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "S_OK");
}

TEST(Status, CarriesCodeMessageAndPosition) {
  Status s = Status(E_ACCESSDENIED, "no").WithPosition(7);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), E_ACCESSDENIED);
  EXPECT_EQ(s.position(), 7u);
  EXPECT_EQ(s.ToString(), "E_ACCESSDENIED (0x80070005): no");
}

TEST(Status, CopiesAreIndependent) {
  Status a(E_FAIL, "first");
  Status b = a;
  b = std::move(b).Prefixed("context");
  EXPECT_EQ(a.message(), "first");
  EXPECT_EQ(b.message(), "context: first");
}

Result<int> Half(int v) {
  if (v % 2) return InvalidArgument("odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  COMSEC_ASSIGN_OR_RETURN(int h, Half(v));
  COMSEC_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int v) {
  COMSEC_RETURN_IF_ERROR(Half(v).status());
  return Status();
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), E_INVALIDARG);
  EXPECT_EQ(bad.status().message(), "odd");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  EXPECT_DEATH({ (void)Half(1).value(); }, "CHECK failed");
}

TEST(HResult, FromWin32) {
  EXPECT_EQ(HResult::FromWin32(0), S_OK);
  EXPECT_EQ(HResult::FromWin32(5), E_ACCESSDENIED);
  EXPECT_EQ(HResult::FromWin32(1722).value(), 0x800706BAu);
  EXPECT_EQ(HResult::FromWin32(0x80004005u), E_FAIL);
  EXPECT_TRUE(E_FAIL.Failed());
  EXPECT_TRUE(S_FALSE.Succeeded());
  EXPECT_EQ(E_ACCESSDENIED.Facility(), 7);
  EXPECT_EQ(E_ACCESSDENIED.Code(), 5);
}

}  // namespace
}  // namespace comsec
