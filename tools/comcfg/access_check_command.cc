// comcfg access-check: the COM access check of one caller against one
// descriptor, offline, with the deciding ACE.
#include <ostream>

#include <CLI/CLI.hpp>

#include "comsec/base/hex.h"
#include "comcfg/command.h"
#include "comcfg/describe.h"
#include "comcfg/caller.h"
#include "comcfg/store_access.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"

namespace comsec::comcfg {

using namespace comsec::security;  // NOLINT: a tool file using its layer

namespace {

struct AccessCheckArgs {
  std::string sd;
  CallerArgs caller;
  std::string rights;
  bool json = false;
};

int Run(const AccessCheckArgs& a, const GlobalOptions& global, const Io& io) {
  if (Status s = CheckDistance(a.caller); !s.ok()) {
    return ReportBadInput(io, s);
  }
  auto sd = ParseSddl(a.sd);
  if (!sd.ok()) return ReportBadInput(io, sd.status());
  auto rights = ParseComRights(a.rights);
  if (!rights.ok()) return ReportBadInput(io, rights.status());
  StoreAccounts accounts(StorePath(global));
  auto caller = BuildCaller(a.caller, &accounts);
  if (!caller.ok()) return ReportBadInput(io, caller.status());
  const Token* token = &caller->token;
  if (!caller->logon_refused.empty()) {
    io.err << "warning: " << caller->name << " cannot log on (" << caller->logon_refused
           << "): a server refuses it before any access check\n";
  }

  AccessCheckResult r = ComAccessCheck(*sd, *token, *rights);
  std::string deciding = "none";
  if (r.deciding_ace) deciding = AceSddlOrIndex(*sd->dacl, *r.deciding_ace);
  auto problems = ValidateComSecurityDescriptor(*sd);

  if (a.json) {
    nlohmann::json j;
    j["allowed"] = r.allowed;
    j["requested"] = HexU32(r.requested);
    j["requested_rights"] = FormatComRights(r.requested);
    j["granted"] = HexU32(r.granted);
    j["granted_rights"] = FormatComRights(r.granted);
    j["missing"] = HexU32(r.missing());
    if (r.deciding_ace) {
      j["deciding_ace"] = {{"index", *r.deciding_ace}, {"sddl", deciding}};
    } else {
      j["deciding_ace"] = nullptr;
    }
    j["reason"] = DescribeAccessReason(r);
    j["token"] = TokenJson(*token);
    j["com_problems"] = ComProblemsJson(problems);
    io.out << j.dump(2) << "\n";
  } else {
    io.out << (r.allowed ? "allowed" : "denied") << "\n";
    io.out << "requested: " << HexU32(r.requested) << " ("
           << FormatComRights(r.requested) << ")\n";
    io.out << "granted: " << HexU32(r.granted) << " ("
           << FormatComRights(r.granted) << ")\n";
    io.out << "deciding ACE: ";
    if (r.deciding_ace) io.out << *r.deciding_ace << " ";
    io.out << deciding << "\n";
    io.out << "reason: " << DescribeAccessReason(r) << "\n";
    io.out << "token: " << token->Describe() << "\n";
    for (const auto& p : problems) {
      if (p.severity == ComSdProblem::Severity::kError) {
        io.err << "warning: COM treats this descriptor as invalid ["
               << p.rule << "]: " << p.message << "\n";
      }
    }
  }
  return r.allowed ? kExitOk : kExitDenied;
}

}  // namespace

void AddAccessCheckCommand(CLI::App& app, const GlobalOptions& global,
                           const Io& io, int* exit_code) {
  auto a = std::make_shared<AccessCheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "access-check",
      "check a caller against a COM launch/access descriptor; exit 0 "
      "allowed, 1 denied, 2 bad input");
  cmd->add_option("--sd", a->sd, "the descriptor in SDDL")->required();
  AddCallerOptions(cmd, a->caller);
  cmd->add_option("--rights", a->rights,
                  "comma list of execute, execute_local, execute_remote, "
                  "activate_local, activate_remote, or a hex mask")
      ->required();
  cmd->add_flag("--json", a->json, "print JSON");
  cmd->callback([a, &global, &io, exit_code] { *exit_code = Run(*a, global, io); });
}

}  // namespace comsec::comcfg
