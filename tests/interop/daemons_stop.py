#!/usr/bin/python3
"""comsecd and comsec-echo-server stop on SIGTERM while connections are open.

With open connections the daemons have worker threads, any of which the
kernel may pick to receive the signal; the daemons must still stop (they
block the signals in every thread and take them with sigwait in main).
Usage: daemons_stop.py ECHO_SERVER COMSECD. Exit 0 on success.
"""
import signal
import socket
import subprocess
import sys
import time

failures = 0
for path in sys.argv[1:3]:
    for attempt in range(15):
        p = subprocess.Popen([path, "--listen", "ncacn_ip_tcp:127.0.0.1[0]"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        port = int(line.split("[")[1].split("]")[0])
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
        time.sleep(0.05)  # let the workers start
        p.send_signal(signal.SIGTERM if attempt % 2 else signal.SIGINT)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            failures += 1
            print("FAIL %s did not stop (attempt %d)" % (path, attempt))
            p.kill()
            p.wait()
        for c in conns:
            c.close()
print("ok" if failures == 0 else "%d failures" % failures)
sys.exit(1 if failures else 0)
