// comcfg: the one command-line entry to comsec's configuration and to
// offline security questions (DESIGN.md "Contracts that stay stable").
#include <iostream>

#include "comcfg/command.h"

int main(int argc, char** argv) {
  comsec::comcfg::Io io{std::cout, std::cerr};
  return comsec::comcfg::RunComcfg(argc, argv, io);
}
