// Bad IDL: one small file per error class under tests/data/comidl/bad/,
// each with the exact "file:line:column: error: message" it must get and
// exit status 2; and the program's contract (paths printed, exit 1 when
// the input cannot be read).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "comidl/compiler.h"

namespace comsec::comidl {
namespace {

const std::string kBad = std::string(COMSEC_TEST_DATA_DIR) + "/comidl/bad/";

struct Run {
  int status = 0;
  std::string out, err;
};

Run Compile(const std::string& file) {
  CompileOptions options;
  options.input = file;
  options.out_dir = std::string(COMSEC_BINARY_DIR) + "/tests/comidl/bad-out";
  std::ostringstream out, err;
  Run r;
  r.status = comsec::comidl::Compile(options, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Checks the whole diagnostic output: each line prefixed with the path.
void ExpectErrors(const std::string& name, const std::vector<std::string>& lines) {
  Run r = Compile(kBad + name);
  EXPECT_EQ(r.status, 2) << r.err;
  std::string want;
  for (const std::string& l : lines) want += kBad + l + "\n";
  want += std::to_string(lines.size()) + (lines.size() == 1 ? " error\n" : " errors\n");
  EXPECT_EQ(r.err, want);
  EXPECT_EQ(r.out, "");
}

TEST(ComidlDiagnostics, SyntaxError) {
  ExpectErrors("syntax_error.idl", {"syntax_error.idl:4:1: error: expected ';', found '}'"});
}

TEST(ComidlDiagnostics, UnknownType) {
  ExpectErrors("unknown_type.idl", {"unknown_type.idl:3:17: error: unknown type 'Gadget'"});
}

TEST(ComidlDiagnostics, UnknownAttribute) {
  ExpectErrors("unknown_attribute.idl",
               {"unknown_attribute.idl:3:17: error: unknown attribute 'sparkly'"});
}

TEST(ComidlDiagnostics, SizeIsNamesAMissingParameter) {
  ExpectErrors("size_is_missing.idl",
               {"size_is_missing.idl:3:42: error: size_is names 'cnt', which is not a parameter"});
}

TEST(ComidlDiagnostics, DuplicateName) {
  ExpectErrors("duplicate_name.idl",
               {"duplicate_name.idl:2:15: error: 'Thing' is already declared (a type)"});
}

TEST(ComidlDiagnostics, TransmitAsRefused) {
  ExpectErrors("transmit_as.idl",
               {"transmit_as.idl:1:10: error: [transmit_as] is not supported: describe the "
                "transmitted type itself in the IDL and convert in your code"});
}

TEST(ComidlDiagnostics, WrongSwitchType) {
  ExpectErrors("wrong_switch_type.idl",
               {"wrong_switch_type.idl:1:10: error: switch_type of 'Bad' must be an integer or "
                "enum type"});
}

TEST(ComidlDiagnostics, OutParameterMustBeAPointer) {
  ExpectErrors("out_not_pointer.idl",
               {"out_not_pointer.idl:3:23: error: [out] parameter 'value' must be a pointer"});
}

TEST(ComidlDiagnostics, ConformantMemberMustBeLast) {
  ExpectErrors("conformant_not_last.idl",
               {"conformant_not_last.idl:3:21: error: conformant member 'items' must be the "
                "last member of 'NotLast'"});
}

TEST(ComidlDiagnostics, ConformantStringMemberRefused) {
  ExpectErrors("conformant_string_member.idl",
               {"conformant_string_member.idl:3:20: error: a conformant [string] member is not "
                "supported; use a [string] pointer or a fixed-size [string] array"});
}

TEST(ComidlDiagnostics, ObjectMethodMustReturnHresult) {
  ExpectErrors("object_hresult.idl",
               {"object_hresult.idl:4:8: error: method 'Get' of [object] interface 'IBad' must "
                "return HRESULT"});
}

TEST(ComidlDiagnostics, MissingImport) {
  ExpectErrors("missing_import.idl",
               {"missing_import.idl:1:8: error: cannot find imported file 'nowhere.idl'"});
}

TEST(ComidlDiagnostics, UnknownBaseInterface) {
  ExpectErrors("base_unknown.idl",
               {"base_unknown.idl:2:11: error: unknown base interface 'IMissing'",
                "base_unknown.idl:3:3: error: unknown type 'HRESULT'"});
}

// An attribute that shapes nothing is an error, never ignored.
TEST(ComidlDiagnostics, AttributeThatDoesNotApply) {
  ExpectErrors("attribute_not_applicable.idl",
               {"attribute_not_applicable.idl:3:17: error: attribute 'string' does not apply to "
                "this type",
                "attribute_not_applicable.idl:3:39: error: attribute 'size_is' does not apply to "
                "this type"});
}

// [encode]/[decode] mark pickled types; they do not apply to parameters.
TEST(ComidlDiagnostics, EncodeAppliesToTypes) {
  ExpectErrors("pickling.idl",
               {"pickling.idl:4:17: error: attribute 'encode' does not apply to a parameter"});
}

// Every error of a file in one run, in source order.
TEST(ComidlDiagnostics, CppKeywordsAndStubLocalsRefused) {
  ExpectErrors("cpp_keyword.idl",
               {"cpp_keyword.idl:3:25: error: member 'class' is a C++ keyword, which the "
                "generated code cannot use as a name: rename it (the wire does not carry names)",
                "cpp_keyword.idl:4:22: error: parameter 'new' is a C++ keyword, which the "
                "generated code cannot use as a name: rename it (the wire does not carry names)",
                "cpp_keyword.idl:4:37: error: parameter 'd' is a name the generated stubs use "
                "for their own variables: rename it (the wire does not carry names)"});
}

// What MIDL warns about, comidl warns about; the file still compiles.
TEST(ComidlDiagnostics, MidlWarningsAndExitZero) {
  const std::string warn = std::string(COMSEC_TEST_DATA_DIR) + "/comidl/warn/";
  ::comsec::comidl::Run r = Compile(warn + "midl_warnings.idl");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err,
            warn + "midl_warnings.idl:3:35: warning: enumerator 'huge_value' (70000) does not fit "
                   "an enum's 16-bit wire form: marshaling it fails with "
                   "RPC_X_ENUM_VALUE_OUT_OF_RANGE; mark the enum [v1_enum] for 32 bits\n" +
                warn + "midl_warnings.idl:5:26: warning: interface 'Warnings' has no "
                       "pointer_default: unattributed embedded pointers are [unique], as MIDL "
                       "assumes; say pointer_default(unique) to silence this\n" +
                warn + "midl_warnings.idl:6:36: warning: parameter 'implicit_in' has neither "
                       "[in] nor [out]: it is [in], as MIDL assumes; say so to silence this\n");
}

TEST(ComidlDiagnostics, EveryErrorInOneRun) {
  ExpectErrors("many_errors.idl",
               {"many_errors.idl:2:3: error: unknown type 'Widget'",
                "many_errors.idl:3:4: error: unknown attribute 'frobnicate'",
                "many_errors.idl:5:11: error: 'S' is already declared (a type)",
                "many_errors.idl:7:11: error: unknown base interface 'IUnknown'",
                "many_errors.idl:8:23: error: size_is names 'k', which is not a parameter"});
}

// ==== the program ===========================================================

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int RunProgram(const std::string& args, std::string* out) {
  // ctest runs each test as its own process, several at once: one output
  // file per test.
  std::string tmp = std::string(COMSEC_BINARY_DIR) + "/tests/comidl/" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".out";
  int status = std::system((std::string(COMIDL_PROGRAM) + " " + args + " >" + tmp + " 2>&1").c_str());
  *out = Slurp(tmp);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ComidlProgram, WritesHeaderAndSourcePrintingTheirPaths) {
  std::string dir = std::string(COMSEC_BINARY_DIR) + "/tests/comidl/program-gen";
  std::filesystem::remove_all(dir);
  std::string idl = dir + "-in/tiny.idl";
  std::filesystem::create_directories(dir + "-in");
  std::ofstream(idl) << "import \"unknwn.idl\";\n"
                        "midl_pragma warning(disable: 2111)\n"
                        "typedef struct { long a; } Tiny;\n";
  std::string out;
  ASSERT_EQ(RunProgram("-o " + dir + " " + idl, &out), 0) << out;
  EXPECT_EQ(out, idl + ":2:1: note: midl_pragma warning ignored (comidl's warnings cannot be "
                       "disabled)\n" +
                     dir + "/tiny.h\n" + dir + "/tiny.cc\n");
  EXPECT_TRUE(std::filesystem::exists(dir + "/tiny.h"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/tiny.cc"));
}

TEST(ComidlProgram, ExitTwoOnBadIdl) {
  std::string out;
  EXPECT_EQ(RunProgram("-o /tmp " + kBad + "syntax_error.idl", &out), 2);
  EXPECT_EQ(out, kBad + "syntax_error.idl:4:1: error: expected ';', found '}'\n1 error\n");
}

TEST(ComidlProgram, ExitOneWhenTheInputCannotBeRead) {
  std::string out;
  EXPECT_EQ(RunProgram("-o /tmp " + kBad + "does_not_exist.idl", &out), 1);
  EXPECT_EQ(out, "comidl: cannot read " + kBad + "does_not_exist.idl\n");
}

TEST(ComidlProgram, IncludeDirectoriesFindImports) {
  std::string base = std::string(COMSEC_BINARY_DIR) + "/tests/comidl/program-inc";
  std::filesystem::create_directories(base + "/lib");
  std::filesystem::create_directories(base + "/src");
  std::ofstream(base + "/lib/shared.idl") << "typedef struct { long a; } Shared;\n";
  std::ofstream(base + "/src/user.idl")
      << "import \"shared.idl\";\ntypedef struct { Shared s; } User;\n";
  std::string out;
  EXPECT_EQ(RunProgram("-o " + base + "/out " + base + "/src/user.idl", &out), 2);
  // Analysis waits for every import: no cascade of unknown names.
  EXPECT_EQ(out, base + "/src/user.idl:1:8: error: cannot find imported file 'shared.idl'\n"
                        "1 error\n");
  EXPECT_EQ(RunProgram("-I " + base + "/lib -o " + base + "/out " + base + "/src/user.idl", &out),
            0)
      << out;
  EXPECT_NE(Slurp(base + "/out/user.h").find("#include \"shared.h\""), std::string::npos);
}

}  // namespace
}  // namespace comsec::comidl
