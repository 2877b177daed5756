"""What the impacket tests of the hello example share: IComsecHello's
methods declared as an impacket user declares a custom DCOM interface, and
a reader of a comsec process's JSON log lines (--log-format json)."""
import json
import threading

from impacket.dcerpc.v5.dcomrt import IRemUnknown2, ORPCTHAT, ORPCTHIS
from impacket.dcerpc.v5.dtypes import LONG, LPWSTR, WSTR
from impacket.dcerpc.v5.ndr import NDRCALL
from impacket.uuid import string_to_bin

IID_IComsecHello = string_to_bin("7d2a5e10-3c4b-4f6a-9b8c-1d2e3f405162")


class Greet(NDRCALL):
    opnum = 3
    structure = (("ORPCthis", ORPCTHIS), ("name", WSTR))


class GreetResponse(NDRCALL):
    structure = (("ORPCthat", ORPCTHAT), ("greeting", LPWSTR), ("ErrorCode", LONG))


class WhoAmI(NDRCALL):
    opnum = 4
    structure = (("ORPCthis", ORPCTHIS),)


class WhoAmIResponse(NDRCALL):
    structure = (("ORPCthat", ORPCTHAT), ("caller", LPWSTR), ("authnLevel", LONG),
                 ("impLevel", LONG), ("uid", LONG), ("ErrorCode", LONG))


class IComsecHello(IRemUnknown2):
    def __init__(self, interface):
        IRemUnknown2.__init__(self, interface)
        self._iid = IID_IComsecHello

    def Greet(self, name):
        req = Greet()
        req["name"] = name + "\x00"
        return self.request(req, self._iid, self.get_iPid())

    def WhoAmI(self):
        return self.request(WhoAmI(), self._iid, self.get_iPid())


class EventLog:
    """The JSON events a process writes on `stream`, read on a thread."""

    def __init__(self, stream):
        self.events = []
        self._cv = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            with self._cv:
                self.events.append(e)
                self._cv.notify_all()

    def named(self, name):
        with self._cv:
            return [e for e in self.events if e.get("event") == name]

    def wait_named(self, name, count, timeout=5):
        """The `count`th event called `name` (1-based), waiting for it."""
        with self._cv:
            self._cv.wait_for(lambda: len([e for e in self.events if e.get("event") == name])
                              >= count, timeout)
        found = self.named(name)
        return found[count - 1] if len(found) >= count else None
