#include "comsec/config/reg_file.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "comsec/config/key_path.h"

namespace comsec::config {

// Readable failures for operation lists.
void PrintTo(const RegOperation& op, std::ostream* os) {
  static constexpr const char* kKinds[] = {"CreateKey", "DeleteKey", "SetValue",
                                           "DeleteValue"};
  *os << "{" << kKinds[static_cast<int>(op.kind)] << " line " << op.line << " ["
      << op.key << "] \"" << op.value.name << "\" "
      << RegTypeName(op.value.type) << " "
      << testing::PrintToString(op.value.data) << "}";
}

namespace {

using Bytes = std::vector<uint8_t>;
using Kind = RegOperation::Kind;

constexpr std::string_view kAppIdKey =
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\"
    "{12345678-1234-1234-1234-123456789ABC}";

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string Crlf(std::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// UTF-16LE with a BOM, as regedit saves files.
Bytes Utf16File(std::string_view utf8) {
  Bytes out = {0xFF, 0xFE};
  auto body = Utf8ToUtf16Le(utf8);
  EXPECT_TRUE(body.ok());
  out.insert(out.end(), body->begin(), body->end());
  return out;
}

Result<std::vector<RegOperation>> Parse(std::string_view text) {
  return ParseRegFile(ToBytes(text));
}

RegOperation Op(Kind kind, std::string_view key, size_t line,
                RegValue value = {}) {
  RegOperation op;
  op.kind = kind;
  op.key = std::string(key);
  op.value = std::move(value);
  op.line = line;
  return op;
}

RegValue Raw(std::string name, uint32_t type, Bytes data) {
  RegValue v;
  v.name = std::move(name);
  v.type = static_cast<RegType>(type);
  v.data = std::move(data);
  return v;
}

RegValue DeleteOf(std::string name) {
  RegValue v;
  v.name = std::move(name);
  return v;
}

// Asserts that `bytes` is rejected with E_INVALIDARG and a message
// "line L, column C: ..." containing `fragment`.
void ExpectRejected(const Bytes& bytes, size_t line, size_t column,
                    std::string_view fragment) {
  auto r = ParseRegFile(bytes);
  ASSERT_FALSE(r.ok()) << "parsed " << testing::PrintToString(*r);
  EXPECT_EQ(r.status().code(), E_INVALIDARG);
  const std::string prefix = "line " + std::to_string(line) + ", column " +
                             std::to_string(column) + ": ";
  const std::string_view message = r.status().message();
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  EXPECT_NE(message.find(fragment), std::string_view::npos) << message;
  EXPECT_TRUE(r.status().position().has_value());
}

void ExpectRejected(std::string_view text, size_t line, size_t column,
                    std::string_view fragment) {
  ExpectRejected(ToBytes(text), line, column, fragment);
}

// Every test that needs a key opens this one on line 3, so value lines
// start on line 4.
constexpr std::string_view kHead =
    "Windows Registry Editor Version 5.00\n"
    "\n"
    "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Test]\n";

std::string WithHead(std::string_view rest) {
  return std::string(kHead) + std::string(rest);
}

// ===========================================================================
// A realistic export.

// A LaunchPermission security descriptor as dcomcnfg stores it:
// O:BAG:BAD:(A;;CCDCLC;;;WD)(A;;CCDCLC;;;SY)(A;;CCDCLCSWRP;;;BA).
Bytes LaunchPermission() {
  return {0x01, 0x00, 0x04, 0x80, 0x5c, 0x00, 0x00, 0x00, 0x6c, 0x00, 0x00,
          0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x02, 0x00,
          0x48, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x0b,
          0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x0b, 0x00, 0x00,
          0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00,
          0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x01,
          0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00,
          0x20, 0x02, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
          0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00, 0x01, 0x02,
          0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20,
          0x02, 0x00, 0x00};
}

// What regedit writes for the AppID below (with LF; regedit uses CRLF).
constexpr std::string_view kAppIdExport =
    R"reg(Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\SOFTWARE\Classes\AppID\{12345678-1234-1234-1234-123456789ABC}]
@="Contoso OPC Server"
"AuthenticationLevel"=dword:00000005
"LaunchPermission"=hex:01,00,04,80,5c,00,00,00,6c,00,00,00,00,00,00,00,14,00,\
  00,00,02,00,48,00,03,00,00,00,00,00,14,00,0b,00,00,00,01,01,00,00,00,00,00,\
  01,00,00,00,00,00,00,14,00,0b,00,00,00,01,01,00,00,00,00,00,05,12,00,00,00,\
  00,00,18,00,1f,00,00,00,01,02,00,00,00,00,00,05,20,00,00,00,20,02,00,00,01,\
  02,00,00,00,00,00,05,20,00,00,00,20,02,00,00,01,02,00,00,00,00,00,05,20,00,\
  00,00,20,02,00,00
"RunAs"="Interactive User"
"Endpoints"=hex(7):6e,00,63,00,61,00,63,00,6e,00,5f,00,69,00,70,00,5f,00,74,00,\
  63,00,70,00,2c,00,30,00,2c,00,00,00,00,00
"ServiceParameters"=hex(2):25,00,50,00,72,00,6f,00,67,00,72,00,61,00,6d,00,46,\
  00,69,00,6c,00,65,00,73,00,25,00,5c,00,43,00,6f,00,6e,00,74,00,6f,00,73,00,\
  6f,00,00,00

[HKEY_CLASSES_ROOT\CLSID\{87654321-4321-4321-4321-CBA987654321}]
@="Contoso.Server"
"AppID"="{12345678-1234-1234-1234-123456789ABC}"

)reg";

std::vector<RegExportKey> AppIdKeys() {
  return {
      {std::string(kAppIdKey),
       {RegValue::String("", "Contoso OPC Server"),
        RegValue::Dword("AuthenticationLevel", 5),
        RegValue::Binary("LaunchPermission", LaunchPermission()),
        RegValue::String("RunAs", "Interactive User"),
        RegValue::MultiString("Endpoints", {"ncacn_ip_tcp,0,"}),
        RegValue::String("ServiceParameters", "%ProgramFiles%\\Contoso",
                         RegType::kExpandSz)}},
      {"HKEY_CLASSES_ROOT\\CLSID\\{87654321-4321-4321-4321-CBA987654321}",
       {RegValue::String("", "Contoso.Server"),
        RegValue::String("AppID", "{12345678-1234-1234-1234-123456789ABC}")}},
  };
}

std::vector<RegOperation> AppIdOperations() {
  const std::string clsid =
      "HKEY_CLASSES_ROOT\\CLSID\\{87654321-4321-4321-4321-CBA987654321}";
  const auto keys = AppIdKeys();
  return {
      Op(Kind::kCreateKey, kAppIdKey, 3),
      Op(Kind::kSetValue, kAppIdKey, 4, keys[0].values[0]),
      Op(Kind::kSetValue, kAppIdKey, 5, keys[0].values[1]),
      Op(Kind::kSetValue, kAppIdKey, 6, keys[0].values[2]),
      Op(Kind::kSetValue, kAppIdKey, 12, keys[0].values[3]),
      Op(Kind::kSetValue, kAppIdKey, 13, keys[0].values[4]),
      Op(Kind::kSetValue, kAppIdKey, 15, keys[0].values[5]),
      Op(Kind::kCreateKey, clsid, 19),
      Op(Kind::kSetValue, clsid, 20, keys[1].values[0]),
      Op(Kind::kSetValue, clsid, 21, keys[1].values[1]),
  };
}

TEST(RegFile, ParsesRegeditAppIdExportInUtf16) {
  auto ops = ParseRegFile(Utf16File(Crlf(kAppIdExport)));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(*ops, AppIdOperations());
}

TEST(RegFile, ParsesUtf8WithAndWithoutBomAndWithLfOrCrlf) {
  for (const std::string& text :
       {Crlf(kAppIdExport), std::string(kAppIdExport)}) {
    Bytes with_bom = {0xEF, 0xBB, 0xBF};
    with_bom.insert(with_bom.end(), text.begin(), text.end());
    for (const Bytes& bytes : {ToBytes(text), with_bom, Utf16File(text)}) {
      auto ops = ParseRegFile(bytes);
      ASSERT_TRUE(ops.ok()) << ops.status().ToString();
      EXPECT_EQ(*ops, AppIdOperations());
    }
  }
}

TEST(RegFile, FormatWritesWhatRegeditWrites) {
  const Bytes utf16 = FormatRegFile(AppIdKeys(), RegFileFormat::kRegedit5Utf16);
  EXPECT_EQ(utf16, Utf16File(Crlf(kAppIdExport)));
  const Bytes utf8 = FormatRegFile(AppIdKeys(), RegFileFormat::kRegedit5Utf8);
  EXPECT_EQ(std::string(utf8.begin(), utf8.end()), Crlf(kAppIdExport));
}

TEST(RegFile, MixedLineEndingsAndMissingFinalNewline) {
  auto ops = Parse(
      "Windows Registry Editor Version 5.00\r\n\n"
      "[HKLM\\SOFTWARE\\A]\r\n"
      "\"x\"=dword:1\n"
      "\"y\"=hex:01,\\\r\n"
      "  02");
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  const std::string key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\A";
  EXPECT_EQ(*ops,
            (std::vector<RegOperation>{
                Op(Kind::kCreateKey, key, 3),
                Op(Kind::kSetValue, key, 4, RegValue::Dword("x", 1)),
                Op(Kind::kSetValue, key, 5, RegValue::Binary("y", {1, 2}))}));
}

// ===========================================================================
// Regedit 4.

TEST(RegFile, Regedit4StringsAreLatin1) {
  std::string text =
      "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Caf\xE9]\r\n"
      "\"Nom\xE9\"=\"caf\xE9\"\r\n";
  auto ops = Parse(text);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\Caf\xC3\xA9");
  EXPECT_EQ((*ops)[1].value.name, "Nom\xC3\xA9");
  EXPECT_EQ((*ops)[1].value.data,
            (Bytes{'c', 0, 'a', 0, 'f', 0, 0xE9, 0, 0, 0}));
}

TEST(RegFile, Regedit4WidensExpandAndMultiSz) {
  auto ops = Parse(
      "REGEDIT4\n\n[HKLM\\SOFTWARE\\A]\n"
      "\"Expand\"=hex(2):25,41,25,00\n"
      "\"Multi\"=hex(7):61,00,62,00,00\n"
      "\"Sz\"=hex(1):61,00\n"
      "\"Bin\"=hex:61,00\n");
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 5u);
  EXPECT_EQ((*ops)[1].value,
            RegValue::String("Expand", "%A%", RegType::kExpandSz));
  EXPECT_EQ((*ops)[2].value, RegValue::MultiString("Multi", {"a", "b"}));
  // Only REG_EXPAND_SZ and REG_MULTI_SZ are widened; hex(1) stays raw.
  EXPECT_EQ((*ops)[3].value, Raw("Sz", 1, {0x61, 0x00}));
  EXPECT_EQ((*ops)[4].value, RegValue::Binary("Bin", {0x61, 0x00}));
}

TEST(RegFile, Version5DoesNotWidenExpandSz) {
  auto ops = Parse(WithHead("\"E\"=hex(2):25,00,41,00,25,00,00,00\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->back().value,
            RegValue::String("E", "%A%", RegType::kExpandSz));
}

TEST(RegFile, Regedit4WithUtf8BomIsUtf8) {
  Bytes bytes = {0xEF, 0xBB, 0xBF};
  const std::string text =
      "REGEDIT4\n[HKLM\\SOFTWARE\\A]\n\"n\"=\"\xC3\xA9\"\n";
  bytes.insert(bytes.end(), text.begin(), text.end());
  auto ops = ParseRegFile(bytes);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->back().value, RegValue::String("n", "\xC3\xA9"));
}

TEST(RegFile, FormatsRegedit4) {
  const std::vector<RegExportKey> keys = {
      {"HKEY_LOCAL_MACHINE\\SOFTWARE\\Caf\xC3\xA9",
       {RegValue::String("Ascii", "plain \"text\""),
        RegValue::String("Latin", "caf\xC3\xA9"),
        RegValue::String("Path", "%A%", RegType::kExpandSz),
        RegValue::MultiString("Multi", {"a"}), RegValue::Dword("D", 0x10)}},
  };
  const Bytes out = FormatRegFile(keys, RegFileFormat::kRegedit4);
  EXPECT_EQ(std::string(out.begin(), out.end()),
            "REGEDIT4\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Caf\xE9]\r\n"
            "\"Ascii\"=\"plain \\\"text\\\"\"\r\n"
            "\"Latin\"=hex(1):63,00,61,00,66,00,e9,00,00,00\r\n"
            "\"Path\"=hex(2):25,41,25,00\r\n"
            "\"Multi\"=hex(7):61,00,00\r\n"
            "\"D\"=dword:00000010\r\n"
            "\r\n");
  auto ops = ParseRegFile(out);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 6u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ((*ops)[i + 1].value, keys[0].values[i]);
}

TEST(RegFile, Regedit4CannotCarryWideExpandSzAndSaysSo) {
  const RegValue wide =
      RegValue::String("E", "\xE2\x82\xAC", RegType::kExpandSz);
  const RegValue odd = Raw("M", 7, {0x61, 0x00, 0x62});
  const std::string key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\A";
  EXPECT_FALSE(RegFileRoundTrips(key, wide, RegFileFormat::kRegedit4));
  EXPECT_FALSE(RegFileRoundTrips(key, odd, RegFileFormat::kRegedit4));
  EXPECT_TRUE(RegFileRoundTrips(key, wide, RegFileFormat::kRegedit5Utf8));
  EXPECT_TRUE(RegFileRoundTrips(key, odd, RegFileFormat::kRegedit5Utf16));
  // Written lossily, as Windows's ANSI conversion would: '?' for the euro.
  const Bytes out = FormatRegFile({{key, {wide}}}, RegFileFormat::kRegedit4);
  const std::string text(out.begin(), out.end());
  EXPECT_NE(text.find("\"E\"=hex(2):3f,00\r\n"), std::string::npos) << text;
}

// ===========================================================================
// Syntax accepted.

TEST(RegFile, DefaultValueEscapesAndDeletion) {
  auto ops = Parse(
      WithHead("@=\"default\"\n"
               "\"\"=\"also default\"\n"
               "\"a \\\"quoted\\\" \\\\ name\"=\"C:\\\\dir\\\\\\\"x\\\"\"\n"
               "\"lines\"=\"one\\ntwo\\r\"\n"
               "\"@\"=\"named at\"\n"
               "\"gone\"=-\n"
               "@=-\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  const std::string key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Test";
  EXPECT_EQ(
      *ops,
      (std::vector<RegOperation>{
          Op(Kind::kCreateKey, key, 3),
          Op(Kind::kSetValue, key, 4, RegValue::String("", "default")),
          Op(Kind::kSetValue, key, 5, RegValue::String("", "also default")),
          Op(Kind::kSetValue, key, 6,
             RegValue::String("a \"quoted\" \\ name", "C:\\dir\\\"x\"")),
          Op(Kind::kSetValue, key, 7, RegValue::String("lines", "one\ntwo\r")),
          Op(Kind::kSetValue, key, 8, RegValue::String("@", "named at")),
          Op(Kind::kDeleteValue, key, 9, DeleteOf("gone")),
          Op(Kind::kDeleteValue, key, 10, DeleteOf("")),
      }));
}

TEST(RegFile, KeyDeletionAndRootAbbreviations) {
  auto ops = Parse(
      "Windows Registry Editor Version 5.00\n"
      "[-HKLM\\SOFTWARE\\Classes\\AppID\\{old}]\n"
      "[hkcr\\CLSID\\{x}]\n"
      "[-hkey_classes_root\\CLSID\\{y}]   \t\n"
      "[Hkey_Local_Machine\\SOFTWARE\\Mixed\\Case\\]\n"
      "[HKEY_LOCAL_MACHINE]\n");
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(*ops,
            (std::vector<RegOperation>{
                Op(Kind::kDeleteKey,
                   "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID\\{old}", 2),
                Op(Kind::kCreateKey, "HKEY_CLASSES_ROOT\\CLSID\\{x}", 3),
                Op(Kind::kDeleteKey, "HKEY_CLASSES_ROOT\\CLSID\\{y}", 4),
                Op(Kind::kCreateKey,
                   "HKEY_LOCAL_MACHINE\\SOFTWARE\\Mixed\\Case\\", 5),
                Op(Kind::kCreateKey, "HKEY_LOCAL_MACHINE", 6),
            }));
}

TEST(RegFile, ValuesAllowedAgainAfterDeletionSectionEnds) {
  auto ops =
      Parse(WithHead("[-HKLM\\SOFTWARE\\Old]\n[HKLM\\SOFTWARE\\New]\n"
                     "\"v\"=dword:00000001\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->back().key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\New");
}

TEST(RegFile, KeyNameMayContainBrackets) {
  auto ops = Parse(WithHead("[HKLM\\SOFTWARE\\we]ird [name]]\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->back().key, "HKEY_LOCAL_MACHINE\\SOFTWARE\\we]ird [name]");
}

TEST(RegFile, CommentsBlankLinesAndBlanksAreIgnored) {
  auto ops = Parse(
      "\n  \n"
      "Windows Registry Editor Version 5.00  \n"
      "; a comment\n"
      "   ; an indented comment\n"
      "\t\n"
      "  [HKLM\\SOFTWARE\\A]\n"
      "  \"a\" = \"b\" ; trailing comment\n"
      "\t@\t=\tdword:0000000A\t;x\n"
      "\"c\"=hex: 01 , 02 ,\\ ; comment after the continuation\n"
      "\t03 ; end\n"
      "\"d\"=- ; deleted\n");
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  const std::string key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\A";
  EXPECT_EQ(*ops,
            (std::vector<RegOperation>{
                Op(Kind::kCreateKey, key, 7),
                Op(Kind::kSetValue, key, 8, RegValue::String("a", "b")),
                Op(Kind::kSetValue, key, 9, RegValue::Dword("", 10)),
                Op(Kind::kSetValue, key, 10, RegValue::Binary("c", {1, 2, 3})),
                Op(Kind::kDeleteValue, key, 12, DeleteOf("d")),
            }));
}

TEST(RegFile, DwordForms) {
  auto ops = Parse(
      WithHead("\"a\"=dword:0\n\"b\"=dword:ffffffff\n\"c\"=DWORD:DeadBeef\n"
               "\"d\"=dword:00000001\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ((*ops)[1].value, RegValue::Dword("a", 0));
  EXPECT_EQ((*ops)[2].value, RegValue::Dword("b", 0xffffffff));
  EXPECT_EQ((*ops)[3].value, RegValue::Dword("c", 0xdeadbeef));
  EXPECT_EQ((*ops)[4].value, RegValue::Dword("d", 1));
}

TEST(RegFile, HexTypeNumbers) {
  auto ops =
      Parse(WithHead("\"none\"=hex(0):01\n"
                     "\"q\"=hex(b):01,02,03,04,05,06,07,08\n"
                     "\"big\"=HEX(FFFFFFFF):\n"
                     "\"padded\"=hex(00000002):00,00\n"
                     "\"custom\"=Hex(20):aB,Cd\n"
                     "\"empty\"=hex:\n"
                     "\"trailing\"=hex:01,02,\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ((*ops)[1].value, Raw("none", 0, {1}));
  EXPECT_EQ((*ops)[2].value, RegValue::Qword("q", 0x0807060504030201ull));
  EXPECT_EQ((*ops)[3].value, Raw("big", 0xffffffff, {}));
  EXPECT_EQ((*ops)[4].value, Raw("padded", 2, {0, 0}));
  EXPECT_EQ((*ops)[5].value, Raw("custom", 0x20, {0xab, 0xcd}));
  EXPECT_EQ((*ops)[6].value, RegValue::Binary("empty", {}));
  EXPECT_EQ((*ops)[7].value, RegValue::Binary("trailing", {1, 2}));
}

TEST(RegFile, ContinuationRightAfterTypeAndLineNumbers) {
  auto ops =
      Parse(WithHead("\"long\"=hex:\\\n"
                     "  01,02,\\\n"
                     "\t\t03\n"
                     "\"next\"=dword:2\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 3u);
  EXPECT_EQ((*ops)[1].value, RegValue::Binary("long", {1, 2, 3}));
  EXPECT_EQ((*ops)[1].line, 4u);
  EXPECT_EQ((*ops)[2].line, 7u);
}

TEST(RegFile, LimitsAreInclusive) {
  // A string of exactly kMaxRegValueDataSize bytes with its NUL.
  std::string s(kMaxRegValueDataSize / 2 - 1, 'a');
  auto ops = Parse(WithHead("\"s\"=\"" + s + "\"\n"));
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ(ops->back().value.data.size(), kMaxRegValueDataSize);
  // A name of exactly 16383 characters.
  std::string name(kMaxValueNameLength, 'n');
  EXPECT_TRUE(Parse(WithHead("\"" + name + "\"=dword:1\n")).ok());
}

// ===========================================================================
// Errors: one test per kind, each pinning line and column.

TEST(RegFile, RejectsEmptyFileAndBadHeaders) {
  ExpectRejected("", 1, 1, "empty");
  ExpectRejected(" \n\t\n", 1, 1, "empty");
  ExpectRejected("REGEDIT 4\n", 1, 1, "expected the header");
  ExpectRejected("Windows Registry Editor Version 5.0\n", 1, 1,
                 "expected the header");
  ExpectRejected("windows registry editor version 5.00\n", 1, 1,
                 "expected the header");
  ExpectRejected("\n\n REGEDIT4\n", 3, 1, "expected the header");
  ExpectRejected("; comment first\nREGEDIT4\n", 1, 1, "expected the header");
  ExpectRejected(Utf16File("[HKLM\\A]\r\n"), 1, 1, "expected the header");
}

TEST(RegFile, RejectsOversizedFile) {
  Bytes big(kMaxRegFileSize + 1, ' ');
  ExpectRejected(big, 1, 1, "limited to");
}

TEST(RegFile, RejectsBadEncodings) {
  ExpectRejected(Bytes{0xFE, 0xFF, 0, 'R'}, 1, 1, "big-endian");
  // Invalid UTF-8 on line 4, column 6 (after `"a"="`).
  ExpectRejected(WithHead("\"a\"=\"\xFF\"\n"), 4, 6, "not valid UTF-8");
  ExpectRejected(WithHead("\"a\"=\"\xC0\x80\"\n"), 4, 6, "not valid UTF-8");
  // An unpaired surrogate in a UTF-16 file.
  Bytes utf16 = Utf16File(WithHead("\"a\"=\""));
  utf16.push_back(0x00);
  utf16.push_back(0xD8);
  Bytes tail = Utf16File("\"\r\n");
  utf16.insert(utf16.end(), tail.begin() + 2, tail.end());
  ExpectRejected(utf16, 4, 6, "unpaired surrogate");
  // Half a UTF-16 character at the end.
  Bytes odd = Utf16File(WithHead("@=\"x\"\n"));
  odd.push_back('x');
  ExpectRejected(odd, 5, 1, "half a character");
}

TEST(RegFile, RejectsNulAndLoneCarriageReturn) {
  ExpectRejected(WithHead(std::string("\"a\"=\"b\0\"\n", 9)), 4, 7, "NUL");
  ExpectRejected(WithHead("\"a\"=\"b\rc\"\n"), 4, 7, "carriage return");
}

TEST(RegFile, ColumnsCountCharactersAndPositionCountsBytes) {
  const std::string text = WithHead("\"\xC3\xA9\xE2\x82\xAC\"=x\n");
  ExpectRejected(text, 4, 6, "unknown value data");
  auto r = Parse(text);
  EXPECT_EQ(r.status().position(), kHead.size() + 8);
}

TEST(RegFile, RejectsUnknownLine) {
  ExpectRejected(WithHead("foo=bar\n"), 4, 1, "expected a key line");
  ExpectRejected(WithHead("  x\n"), 4, 3, "found 'x'");
}

TEST(RegFile, RejectsKeyLineWithoutClosingBracket) {
  ExpectRejected(WithHead("[HKLM\\A\n"), 4, 8, "no closing ']'");
}

TEST(RegFile, RejectsTextAfterKey) {
  ExpectRejected(WithHead("[HKLM\\A] x\n"), 4, 10, "after the key");
  ExpectRejected(WithHead("[HKLM\\A] ; comment\n"), 4, 10, "after the key");
}

TEST(RegFile, RejectsEmptyKeyPath) {
  ExpectRejected(WithHead("[]\n"), 4, 2, "empty key path");
  ExpectRejected(WithHead("[-]\n"), 4, 3, "empty key path");
}

TEST(RegFile, RejectsOtherRoots) {
  ExpectRejected(WithHead("[HKEY_CURRENT_USER\\Software\\A]\n"), 4, 2,
                 "\"HKEY_CURRENT_USER\" is not supported");
  ExpectRejected(WithHead("[-HKEY_USERS\\.DEFAULT]\n"), 4, 3,
                 "\"HKEY_USERS\" is not supported");
  ExpectRejected(WithHead("[HKCU]\n"), 4, 2, "not supported");
  ExpectRejected(WithHead("[ HKLM\\A]\n"), 4, 2, "not supported");
}

TEST(RegFile, RejectsEmptyComponent) {
  ExpectRejected(WithHead("[HKLM\\A\\\\B]\n"), 4, 2, "empty component");
}

TEST(RegFile, RejectsDeletingARoot) {
  ExpectRejected(WithHead("[-HKLM]\n"), 4, 1, "root key");
  ExpectRejected(WithHead("[-HKEY_CLASSES_ROOT\\]\n"), 4, 1, "root key");
}

TEST(RegFile, RejectsValueBeforeAnyKey) {
  ExpectRejected("Windows Registry Editor Version 5.00\n\n\"a\"=\"b\"\n", 3, 1,
                 "must follow a key line");
  ExpectRejected("REGEDIT4\n  @=dword:1\n", 2, 3, "must follow a key line");
}

TEST(RegFile, RejectsValueInDeletionSection) {
  ExpectRejected(WithHead("[-HKLM\\SOFTWARE\\Old]\n\"a\"=\"b\"\n"), 5, 1,
                 "cannot follow the key deletion");
}

TEST(RegFile, RejectsUnterminatedStrings) {
  ExpectRejected(WithHead("\"a\"=\"unterminated\n"), 4, 5, "unterminated");
  ExpectRejected(WithHead("\"name=1\n"), 4, 1, "unterminated");
  ExpectRejected(WithHead("\"a\"=\"ends in escape\\\n"), 4, 5, "unterminated");
}

TEST(RegFile, RejectsUnknownEscapes) {
  ExpectRejected(WithHead("\"a\"=\"x\\ty\"\n"), 4, 7, "unknown escape '\\t'");
  ExpectRejected(WithHead("\"a\"=\"x\\0\"\n"), 4, 7, "unknown escape '\\0'");
  ExpectRejected(WithHead("\"n\\x\"=\"\"\n"), 4, 3, "unknown escape");
}

TEST(RegFile, RejectsOverlongName) {
  std::string name(kMaxValueNameLength + 1, 'n');
  ExpectRejected(WithHead("\"" + name + "\"=dword:1\n"), 4, 1,
                 "longer than 16383");
}

TEST(RegFile, RejectsMissingEquals) {
  ExpectRejected(WithHead("\"a\" \"b\"\n"), 4, 5, "expected '='");
  ExpectRejected(WithHead("@\n"), 4, 2, "expected '='");
}

TEST(RegFile, RejectsMissingData) {
  ExpectRejected(WithHead("\"a\"=\n"), 4, 5, "missing data");
  ExpectRejected(WithHead("\"a\"=  \n"), 4, 7, "missing data");
}

TEST(RegFile, RejectsUnknownDataForm) {
  ExpectRejected(WithHead("\"a\"=foo\n"), 4, 5, "unknown value data 'f'");
  ExpectRejected(WithHead("\"a\"=qword:1\n"), 4, 5, "unknown value data");
  ExpectRejected(WithHead("\"a\"=hex\n"), 4, 5, "unknown value data");
}

TEST(RegFile, RejectsGarbageAfterData) {
  ExpectRejected(WithHead("\"a\"=\"b\" x\n"), 4, 9, "after the string");
  ExpectRejected(WithHead("\"a\"=\"b\"\"c\"\n"), 4, 8, "after the string");
  ExpectRejected(WithHead("\"a\"=dword:1 x\n"), 4, 13, "after the dword");
  ExpectRejected(WithHead("\"a\"=-x\n"), 4, 6, "after '-'");
}

TEST(RegFile, RejectsBadDwordDigits) {
  ExpectRejected(WithHead("\"a\"=dword:\n"), 4, 11, "1 to 8 hex digits");
  ExpectRejected(WithHead("\"a\"=dword: 1\n"), 4, 11, "1 to 8 hex digits");
  ExpectRejected(WithHead("\"a\"=dword:123456789\n"), 4, 11, "9 hex digits");
  ExpectRejected(WithHead("\"a\"=dword:0x1\n"), 4, 12, "after the dword");
}

TEST(RegFile, RejectsHexByteOfWrongWidth) {
  ExpectRejected(WithHead("\"a\"=hex:1\n"), 4, 9, "\"1\" must be exactly two");
  ExpectRejected(WithHead("\"a\"=hex:01,123\n"), 4, 12,
                 "\"123\" must be exactly two");
  ExpectRejected(WithHead("\"a\"=hex:01,02,0\n"), 4, 15, "exactly two");
}

TEST(RegFile, RejectsMissingComma) {
  ExpectRejected(WithHead("\"a\"=hex:01 02\n"), 4, 12, "missing ','");
  ExpectRejected(WithHead("\"a\"=hex:01\\\n  02\n"), 4, 11,
                 "missing ',' before the line continuation");
}

TEST(RegFile, RejectsBadCharacterInHexList) {
  ExpectRejected(WithHead("\"a\"=hex:zz\n"), 4, 9,
                 "expected a two-digit hex byte, found 'z'");
  ExpectRejected(WithHead("\"a\"=hex:01,,02\n"), 4, 12,
                 "expected a two-digit hex byte, found ','");
  ExpectRejected(WithHead("\"a\"=hex:01:02\n"), 4, 11, "unexpected ':'");
}

TEST(RegFile, RejectsBadHexType) {
  ExpectRejected(WithHead("\"a\"=hex():00\n"), 4, 9, "type number of 1 to 8");
  ExpectRejected(WithHead("\"a\"=hex(123456789):00\n"), 4, 9, "9 hex digits");
  ExpectRejected(WithHead("\"a\"=hex(2:00\n"), 4, 10, "expected \"):\"");
  ExpectRejected(WithHead("\"a\"=hex(2)00\n"), 4, 10, "expected \"):\"");
  ExpectRejected(WithHead("\"a\"=hex(0x2):00\n"), 4, 10, "expected \"):\"");
}

TEST(RegFile, RejectsFileEndingInsideContinuation) {
  ExpectRejected(WithHead("\"a\"=hex:01,\\\n"), 5, 1, "file ends inside");
  ExpectRejected(WithHead("\"a\"=hex:01,\\"), 4, 13, "file ends inside");
}

TEST(RegFile, RejectsCommentOrBlankInsideContinuation) {
  ExpectRejected(WithHead("\"a\"=hex:01,\\\n  ; note\n  02\n"), 5, 3,
                 "comment line inside a value continued with '\\' on line 4");
  ExpectRejected(WithHead("\"a\"=hex:01,\\\n\n  02\n"), 5, 1,
                 "blank line inside");
  ExpectRejected(WithHead("\"a\"=hex:01,\\ x\n  02\n"), 4, 14,
                 "after the line continuation");
}

TEST(RegFile, RejectsOversizedValueData) {
  std::string hex = "\"a\"=hex:";
  for (size_t i = 0; i <= kMaxRegValueDataSize; ++i) hex += "00,";
  hex += "00\n";
  ExpectRejected(WithHead(hex), 4, 9 + 3 * kMaxRegValueDataSize,
                 "passes the limit");
  std::string s(kMaxRegValueDataSize / 2, 'a');
  ExpectRejected(WithHead("\"s\"=\"" + s + "\"\n"), 4, 5, "passes the limit");
  // REGEDIT4 widening doubles hex(2) data, so half as many bytes fit.
  std::string expand = "REGEDIT4\n[HKLM\\A]\n\"e\"=hex(2):";
  for (size_t i = 0; i < kMaxRegValueDataSize / 2; ++i) expand += "41,";
  expand += "00\n";
  ExpectRejected(expand, 3, 12 + 3 * (kMaxRegValueDataSize / 2),
                 "passes the limit");
}

// ===========================================================================
// Formatting details.

TEST(RegFile, FormatChoosesHexWhenAQuotedStringWouldNotReadBack) {
  const std::string key = "HKEY_LOCAL_MACHINE\\SOFTWARE\\A";
  const std::vector<RegExportKey> keys = {
      {key,
       {Raw("NoNul", 1, {'a', 0}), Raw("Empty", 1, {}),
        Raw("Embedded", 1, {'a', 0, 0, 0, 'b', 0, 0, 0}),
        Raw("TwoNuls", 1, {'a', 0, 0, 0, 0, 0}), Raw("Odd", 1, {'a', 0, 0}),
        Raw("Lone", 1, {0x00, 0xD8, 0, 0}), RegValue::String("Newline", "a\nb"),
        RegValue::String("Tab", "a\tb"),
        RegValue::String("Fine", "\xF0\x9F\x98\x80 \xE2\x82\xAC"),
        RegValue::String("EmptyString", ""), Raw("Short", 4, {1, 2, 3}),
        RegValue::Qword("Q", 1), Raw("T20", 0x20, {}),
        Raw("Max", 0xffffffff, {0xff})}},
  };
  const Bytes out = FormatRegFile(keys, RegFileFormat::kRegedit5Utf8);
  EXPECT_EQ(std::string(out.begin(), out.end()),
            "Windows Registry Editor Version 5.00\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\SOFTWARE\\A]\r\n"
            "\"NoNul\"=hex(1):61,00\r\n"
            "\"Empty\"=hex(1):\r\n"
            "\"Embedded\"=hex(1):61,00,00,00,62,00,00,00\r\n"
            "\"TwoNuls\"=hex(1):61,00,00,00,00,00\r\n"
            "\"Odd\"=hex(1):61,00,00\r\n"
            "\"Lone\"=hex(1):00,d8,00,00\r\n"
            "\"Newline\"=hex(1):61,00,0a,00,62,00,00,00\r\n"
            "\"Tab\"=hex(1):61,00,09,00,62,00,00,00\r\n"
            "\"Fine\"=\"\xF0\x9F\x98\x80 \xE2\x82\xAC\"\r\n"
            "\"EmptyString\"=\"\"\r\n"
            "\"Short\"=hex(4):01,02,03\r\n"
            "\"Q\"=hex(b):01,00,00,00,00,00,00,00\r\n"
            "\"T20\"=hex(20):\r\n"
            "\"Max\"=hex(ffffffff):ff\r\n"
            "\r\n");
}

TEST(RegFile, FormatEscapesNames) {
  const Bytes out = FormatRegFile(
      {{"HKEY_LOCAL_MACHINE\\A",
        {RegValue::Dword("q\"b\\n\nr\r", 1), RegValue::Dword("@", 2)}}},
      RegFileFormat::kRegedit5Utf8);
  EXPECT_EQ(std::string(out.begin(), out.end()),
            "Windows Registry Editor Version 5.00\r\n\r\n"
            "[HKEY_LOCAL_MACHINE\\A]\r\n"
            "\"q\\\"b\\\\n\\nr\\r\"=dword:00000001\r\n"
            "\"@\"=dword:00000002\r\n"
            "\r\n");
}

TEST(RegFile, FormatOfNoKeysIsJustTheHeader) {
  const Bytes out = FormatRegFile({}, RegFileFormat::kRegedit5Utf16);
  EXPECT_EQ(out, Utf16File("Windows Registry Editor Version 5.00\r\n\r\n"));
  auto ops = ParseRegFile(out);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(ops->empty());
}

TEST(RegFile, FormatWrapsHexAtEightyColumns) {
  Bytes big(5000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  const std::string long_name(90, 'N');
  const Bytes out = FormatRegFile(
      {{"HKEY_LOCAL_MACHINE\\A",
        {RegValue::Binary("Big", big), RegValue::Binary(long_name, {1, 2})}}},
      RegFileFormat::kRegedit5Utf8);
  const std::string text(out.begin(), out.end());
  size_t continued = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find("\r\n", start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = text.substr(start, end - start);
    if (line.find(long_name) == std::string::npos) {
      EXPECT_LE(line.size(), 80u) << line;
    }
    if (!line.empty() && line.back() == '\\') {
      ++continued;
      EXPECT_TRUE(line.size() >= 2 && (line[line.size() - 2] == ',' ||
                                       line[line.size() - 2] == ':'))
          << line;
      EXPECT_EQ(text.substr(end + 2, 2), "  ");
      EXPECT_NE(text[end + 4], ' ');
    }
    start = end + 2;
  }
  // 23 bytes fit after "Big"=hex:, then 25 per line; one more break
  // comes from the long name.
  EXPECT_EQ(continued, (5000 - 23 + 24) / 25 + 1);
  // The long name's line has no room for a byte, so the list starts below.
  EXPECT_NE(text.find("\"" + long_name + "\"=hex:\\\r\n  01,02\r\n"),
            std::string::npos);
  auto ops = ParseRegFile(out);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  EXPECT_EQ((*ops)[1].value.data, big);
  EXPECT_EQ((*ops)[2].value.data, (Bytes{1, 2}));
}

TEST(RegFile, FormatReplacesInvalidUtf8AndRegedit4ReplacesWideNames) {
  const std::string bad_name(
      "a\xFF"
      "b",
      3);
  const std::string key = "HKEY_LOCAL_MACHINE\\A";
  EXPECT_FALSE(RegFileRoundTrips(key, RegValue::Dword(bad_name, 1),
                                 RegFileFormat::kRegedit5Utf8));
  Bytes out = FormatRegFile({{key, {RegValue::Dword(bad_name, 1)}}},
                            RegFileFormat::kRegedit5Utf16);
  auto ops = ParseRegFile(out);
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->back().value.name,
            "a\xEF\xBF\xBD"
            "b");

  const std::string wide = "\xE2\x82\xAC";  // the euro sign
  EXPECT_FALSE(RegFileRoundTrips(key, RegValue::Dword(wide, 1),
                                 RegFileFormat::kRegedit4));
  EXPECT_TRUE(RegFileRoundTrips(key, RegValue::Dword(wide, 1),
                                RegFileFormat::kRegedit5Utf8));
  out = FormatRegFile({{key, {RegValue::Dword(wide, 1)}}},
                      RegFileFormat::kRegedit4);
  ops = ParseRegFile(out);
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(ops->back().value.name, "?");
}

TEST(RegFile, RoundTripsPredicateRejectsWhatCannotReadBack) {
  const RegValue v = RegValue::Dword("v", 1);
  for (RegFileFormat f :
       {RegFileFormat::kRegedit5Utf16, RegFileFormat::kRegedit5Utf8,
        RegFileFormat::kRegedit4}) {
    EXPECT_TRUE(RegFileRoundTrips("HKEY_LOCAL_MACHINE\\A", v, f));
    EXPECT_TRUE(RegFileRoundTrips("HKEY_CLASSES_ROOT", f));
    // The parser spells roots out in upper case.
    EXPECT_FALSE(RegFileRoundTrips("HKLM\\A", v, f));
    EXPECT_FALSE(RegFileRoundTrips("hkey_local_machine\\A", v, f));
    EXPECT_FALSE(RegFileRoundTrips("HKEY_CURRENT_USER\\A", v, f));
    EXPECT_FALSE(RegFileRoundTrips("HKEY_LOCAL_MACHINE\\A\\\\B", v, f));
    EXPECT_FALSE(RegFileRoundTrips("HKEY_LOCAL_MACHINE\\A\nB", v, f));
    EXPECT_FALSE(RegFileRoundTrips("", v, f));
    EXPECT_FALSE(RegFileRoundTrips("HKEY_LOCAL_MACHINE\\A",
                                   RegValue::Dword(std::string("a\0b", 3), 1),
                                   f));
    EXPECT_FALSE(RegFileRoundTrips(
        "HKEY_LOCAL_MACHINE\\A",
        RegValue::Dword(std::string(kMaxValueNameLength + 1, 'n'), 1), f));
    EXPECT_FALSE(RegFileRoundTrips(
        "HKEY_LOCAL_MACHINE\\A",
        RegValue::Binary("b", Bytes(kMaxRegValueDataSize + 1)), f));
    EXPECT_TRUE(RegFileRoundTrips(
        "HKEY_LOCAL_MACHINE\\A",
        RegValue::Binary("b", Bytes(kMaxRegValueDataSize)), f));
  }
}

// ===========================================================================
// The round-trip property.

std::vector<RegExportKey> TrickyKeys() {
  Bytes big(4099);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<uint8_t>(i ^ 0x5a);
  std::vector<RegValue> every_type;
  for (uint32_t t :
       {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 10u, 11u, 0x20u, 0xffffffffu}) {
    // Data that suits no particular type, then data that does.
    every_type.push_back(Raw("raw" + std::to_string(t), t, {1, 0, 2, 0, 3}));
    every_type.push_back(Raw("even" + std::to_string(t), t, {'x', 0, 0, 0}));
  }
  return {
      {std::string(kAppIdKey),
       {RegValue::String("", "default"),
        RegValue::String("EmptyString", ""),
        Raw("EmptyData", 1, {}),
        Raw("EmbeddedNul", 1, {'a', 0, 0, 0, 'b', 0, 0, 0}),
        Raw("OddLength", 1, {'a', 0, 'b'}),
        Raw("NoTerminator", 1, {'a', 0}),
        Raw("LoneSurrogate", 1, {0x00, 0xD8, 0, 0}),
        RegValue::String("NonBmp", "\xF0\x9F\x98\x80\xF0\x90\x8D\x88"),
        RegValue::String("Latin1", "caf\xC3\xA9"),
        RegValue::String("Escapes", "C:\\Program Files\\\"x\" \\\\"),
        RegValue::String("Lines", "a\r\nb\n"),
        RegValue::String("Controls", std::string("\x01\x1f\x7f", 3)),
        RegValue::String("Ascii", "plain text"),
        RegValue::String("Expand", "%SystemRoot%\\x", RegType::kExpandSz),
        RegValue::MultiString("Multi", {"a", "bc", ""}),
        RegValue::MultiString("EmptyMulti", {}),
        RegValue::Binary("ZeroBytes", {}),
        RegValue::Binary("Big", big),
        RegValue::Dword("Dword", 0xdeadbeef),
        Raw("ShortDword", 4, {1, 2, 3}),
        Raw("EmptyDword", 4, {}),
        RegValue::Qword("Qword", 0x1122334455667788ull),
        RegValue::Binary("quote\" back\\slash", {1}),
        RegValue::Binary("new\nline\rname", {2}),
        RegValue::Binary("tab\tname", {3}),
        RegValue::Binary("@", {4}),
        RegValue::Binary("latin \xC3\xA9", {5}),
        RegValue::Binary(std::string(100, 'L'), {6, 7, 8})}},
      {"HKEY_CLASSES_ROOT\\CLSID\\{87654321-4321-4321-4321-CBA987654321}", {}},
      {"HKEY_LOCAL_MACHINE\\SOFTWARE\\we]ird [key] \xC3\xA9 ", every_type},
      {"HKEY_LOCAL_MACHINE\\SOFTWARE\\Unicode \xE2\x82\xAC",
       {RegValue::String("\xE2\x82\xAC name", "\xE2\x82\xAC"),
        RegValue::String("Wide", "\xE2\x82\xAC", RegType::kExpandSz)}},
      {std::string(kAppIdKey), {RegValue::Dword("again", 2)}},
  };
}

// Parses `bytes` and checks it gives back exactly `keys`.
void ExpectParsesTo(const Bytes& bytes, const std::vector<RegExportKey>& keys) {
  auto ops = ParseRegFile(bytes);
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  size_t i = 0;
  for (const RegExportKey& key : keys) {
    ASSERT_LT(i, ops->size());
    EXPECT_EQ((*ops)[i].kind, Kind::kCreateKey);
    EXPECT_EQ((*ops)[i].key, key.path);
    ++i;
    for (const RegValue& v : key.values) {
      ASSERT_LT(i, ops->size());
      EXPECT_EQ((*ops)[i].kind, Kind::kSetValue);
      EXPECT_EQ((*ops)[i].key, key.path);
      EXPECT_EQ((*ops)[i].value, v) << "value \"" << v.name << "\"";
      ++i;
    }
  }
  EXPECT_EQ(i, ops->size());
}

TEST(RegFile, RoundTripsTrickyValuesInVersion5) {
  const auto keys = TrickyKeys();
  for (RegFileFormat f :
       {RegFileFormat::kRegedit5Utf16, RegFileFormat::kRegedit5Utf8}) {
    for (const RegExportKey& key : keys) {
      EXPECT_TRUE(RegFileRoundTrips(key.path, f)) << key.path;
      for (const RegValue& v : key.values) {
        EXPECT_TRUE(RegFileRoundTrips(key.path, v, f)) << v.name;
      }
    }
    ExpectParsesTo(FormatRegFile(keys, f), keys);
  }
}

TEST(RegFile, RoundTripsTrickyValuesInRegedit4) {
  // Everything but what a single-byte file cannot carry, which the
  // predicate names and this test lists.
  std::vector<RegExportKey> keys;
  std::vector<std::string> left_out;
  for (const RegExportKey& key : TrickyKeys()) {
    if (!RegFileRoundTrips(key.path, RegFileFormat::kRegedit4)) {
      left_out.push_back(key.path);
      continue;
    }
    RegExportKey kept{key.path, {}};
    for (const RegValue& v : key.values) {
      if (RegFileRoundTrips(key.path, v, RegFileFormat::kRegedit4)) {
        kept.values.push_back(v);
      } else {
        left_out.push_back(v.name);
      }
    }
    keys.push_back(std::move(kept));
  }
  EXPECT_EQ(left_out,
            (std::vector<std::string>{
                "raw2", "raw7",
                "HKEY_LOCAL_MACHINE\\SOFTWARE\\Unicode \xE2\x82\xAC"}));
  ExpectParsesTo(FormatRegFile(keys, RegFileFormat::kRegedit4), keys);
}

TEST(RegFile, RoundTripsEachValueAlone) {
  for (RegFileFormat f :
       {RegFileFormat::kRegedit5Utf16, RegFileFormat::kRegedit5Utf8,
        RegFileFormat::kRegedit4}) {
    for (const RegExportKey& key : TrickyKeys()) {
      for (const RegValue& v : key.values) {
        if (!RegFileRoundTrips(key.path, v, f)) continue;
        const std::vector<RegExportKey> one = {{key.path, {v}}};
        ExpectParsesTo(FormatRegFile(one, f), one);
      }
    }
  }
}

}  // namespace
}  // namespace comsec::config
