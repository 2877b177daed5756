// Waiting for SIGINT or SIGTERM in a multi-threaded daemon. A handler plus
// pause() in main is racy there: the kernel may deliver the signal to any
// thread, and main's pause() then never returns. Instead the signals are
// blocked before the first thread starts (threads inherit the mask) and
// main takes them with sigwait().
#pragma once

namespace comsec {

// Call at the start of main, before any thread exists.
void BlockTerminationSignals();
// Returns the signal (SIGINT or SIGTERM) once one arrives.
int WaitForTerminationSignal();

}  // namespace comsec
