// comcfg sddl parse | to-hex | from-hex
#include <ostream>

#include <CLI/CLI.hpp>

#include "comsec/base/hex.h"
#include "comcfg/command.h"
#include "comcfg/describe.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::comcfg {

using security::SecurityDescriptor;

namespace {

// Prints a descriptor: canonical SDDL first, then the structure; with
// `com`, COM's validation too. Returns the exit status.
int PrintDescriptor(const SecurityDescriptor& sd, bool json, bool com,
                    const Io& io) {
  auto sddl = security::FormatSddl(sd);
  std::vector<security::ComSdProblem> problems;
  if (com) problems = security::ValidateComSecurityDescriptor(sd);
  const bool com_valid = security::IsValidComSecurityDescriptor(problems);
  if (json) {
    nlohmann::json j = SecurityDescriptorJson(sd);
    if (!sddl.ok()) j["sddl_error"] = std::string(sddl.status().message());
    j["hex"] = ToHex(sd.Encode());
    if (com) {
      j["com"]["valid"] = com_valid;
      j["com"]["problems"] = ComProblemsJson(problems);
    }
    io.out << j.dump(2) << "\n";
  } else {
    if (sddl.ok()) {
      io.out << *sddl << "\n";
    } else {
      io.out << "(not expressible as SDDL: " << sddl.status().message()
             << ")\n";
    }
    io.out << DescribeSecurityDescriptor(sd);
    if (com) {
      io.out << "COM: " << (com_valid ? "valid" : "INVALID") << "\n";
      for (const auto& p : problems) {
        io.out << "  "
               << (p.severity == security::ComSdProblem::Severity::kError
                       ? "error"
                       : "warning")
               << " [" << p.rule << "]: " << p.message << "\n";
      }
    }
  }
  // A descriptor COM rejects is bad input for COM.
  return com && !com_valid ? kExitBadInput : kExitOk;
}

}  // namespace

void AddSddlCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                     int* exit_code) {
  (void)global;
  CLI::App* sddl = app.add_subcommand(
      "sddl", "convert and inspect security descriptors (SDDL and binary)");
  sddl->require_subcommand(1);

  struct ParseArgs {
    std::string text;
    bool json = false;
    bool com = false;
  };
  auto parse_args = std::make_shared<ParseArgs>();
  CLI::App* parse = sddl->add_subcommand(
      "parse", "print the canonical SDDL and the decoded structure");
  parse->add_option("SDDL", parse_args->text, "security descriptor in SDDL")
      ->required();
  parse->add_flag("--json", parse_args->json, "print JSON");
  parse->add_flag("--com", parse_args->com,
                  "also check the rules COM applies to launch and access "
                  "permissions; exit 2 if COM would reject it");
  parse->callback([parse_args, &io, exit_code] {
    auto sd = security::ParseSddl(parse_args->text);
    if (!sd.ok()) {
      *exit_code = ReportBadInput(io, sd.status());
      return;
    }
    *exit_code = PrintDescriptor(*sd, parse_args->json, parse_args->com, io);
  });

  auto to_hex_text = std::make_shared<std::string>();
  CLI::App* to_hex = sddl->add_subcommand(
      "to-hex", "print the binary self-relative form as lowercase hex");
  to_hex->add_option("SDDL", *to_hex_text, "security descriptor in SDDL")
      ->required();
  to_hex->callback([to_hex_text, &io, exit_code] {
    auto sd = security::ParseSddl(*to_hex_text);
    if (!sd.ok()) {
      *exit_code = ReportBadInput(io, sd.status());
      return;
    }
    io.out << ToHex(sd->Encode()) << "\n";
    *exit_code = kExitOk;
  });

  auto from_hex_args = std::make_shared<ParseArgs>();
  CLI::App* from_hex = sddl->add_subcommand(
      "from-hex", "decode a binary self-relative descriptor given in hex");
  from_hex->add_option("HEX", from_hex_args->text,
                       "hex digits; spaces, ':' and ',' are ignored")
      ->required();
  from_hex->add_flag("--json", from_hex_args->json, "print JSON");
  from_hex->add_flag("--com", from_hex_args->com,
                     "also check the rules COM applies");
  from_hex->callback([from_hex_args, &io, exit_code] {
    auto bytes = FromHex(from_hex_args->text);
    if (!bytes.ok()) {
      *exit_code = ReportBadInput(io, bytes.status());
      return;
    }
    auto sd = SecurityDescriptor::Decode(*bytes);
    if (!sd.ok()) {
      *exit_code = ReportBadInput(io, sd.status());
      return;
    }
    *exit_code =
        PrintDescriptor(*sd, from_hex_args->json, from_hex_args->com, io);
  });
}

}  // namespace comsec::comcfg
