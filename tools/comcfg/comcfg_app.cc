#include <cstdlib>
#include <ostream>

#include <CLI/CLI.hpp>

#include "comcfg/command.h"
#include "comcfg/store_access.h"

namespace comsec::comcfg {

int ReportBadInput(const Io& io, const Status& status) {
  io.err << "comcfg: error: " << status.message() << " ["
         << status.code().ToString() << "]\n";
  return kExitBadInput;
}

int RunComcfg(int argc, const char* const* argv, const Io& io) {
  CLI::App app{
      "comcfg — configure comsec and answer COM security questions offline.\n"
      "Exit status: 0 success/allowed, 1 denied or not found, 2 bad input."};
  app.require_subcommand(1);
  GlobalOptions global;
  if (const char* env = std::getenv("COMSEC_STORE")) global.store = env;
  app.add_option("--store", global.store,
                 std::string("configuration store (default $COMSEC_STORE, else the "
                             "system store ") +
                     kSystemStorePath + ")")
      ->type_name("PATH");
  int exit_code = kExitOk;
  AddSddlCommands(app, global, io, &exit_code);
  AddAccessCheckCommand(app, global, io, &exit_code);
  AddMachineCommands(app, global, io, &exit_code);
  AddRegCommands(app, global, io, &exit_code);
  AddAppCommands(app, global, io, &exit_code);
  AddPermsCommands(app, global, io, &exit_code);
  AddPolicyCommands(app, global, io, &exit_code);
  AddAccountCommands(app, global, io, &exit_code);
  AddTlsCommands(app, global, io, &exit_code);
  AddKerberosCommands(app, global, io, &exit_code);
  AddLogCommand(app, global, io, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    io.out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    io.out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    // Subcommand help comes through here with exit code 0.
    if (e.get_exit_code() == 0) {
      app.exit(e, io.out, io.err);
      return kExitOk;
    }
    io.err << "comcfg: error: " << e.what() << "\n"
           << "Run 'comcfg --help' for usage.\n";
    return kExitBadInput;
  }
  return exit_code;
}

}  // namespace comsec::comcfg
