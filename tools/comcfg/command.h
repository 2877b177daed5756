// Shared pieces of comcfg's command groups: the exit-status contract and the
// context every command receives.
#pragma once

#include <iosfwd>
#include <string>

#include "comsec/base/status.h"

namespace CLI {
class App;
}

namespace comsec::comcfg {

// DESIGN.md "Contracts that stay stable": 0 success/allowed, 1 denied or not
// found, 2 usage or bad input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitDenied = 1;
inline constexpr int kExitBadInput = 2;

struct GlobalOptions {
  std::string store;  // --store, or COMSEC_STORE
  bool json = false;  // --json
};

// Where a command writes; tests substitute string streams.
struct Io {
  std::ostream& out;
  std::ostream& err;
  // Where --password-stdin reads; null reads std::cin.
  std::istream* in = nullptr;
};

// Prints "comcfg: error: <message>" (and the HRESULT) and returns 2.
int ReportBadInput(const Io& io, const Status& status);

// Each group adds its subcommands to `app`. The callback a subcommand sets
// stores its exit status in `*exit_code`.
void AddSddlCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                     int* exit_code);
void AddAccessCheckCommand(CLI::App& app, const GlobalOptions& global,
                           const Io& io, int* exit_code);
void AddRegCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                    int* exit_code);
void AddMachineCommands(CLI::App& app, const GlobalOptions& global,
                        const Io& io, int* exit_code);
void AddAppCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                    int* exit_code);
void AddPermsCommands(CLI::App& app, const GlobalOptions& global,
                      const Io& io, int* exit_code);
void AddPolicyCommands(CLI::App& app, const GlobalOptions& global,
                       const Io& io, int* exit_code);
void AddAccountCommands(CLI::App& app, const GlobalOptions& global,
                        const Io& io, int* exit_code);
void AddTlsCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                    int* exit_code);
void AddKerberosCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                         int* exit_code);
void AddLogCommand(CLI::App& app, const GlobalOptions& global, const Io& io,
                   int* exit_code);

// Runs comcfg with `argv`; returns the exit status.
int RunComcfg(int argc, const char* const* argv, const Io& io);

}  // namespace comsec::comcfg
