"""What a DCE/RPC server answered when impacket's call or bind failed, exactly.

Negative interop checks assert the exact refusal (fault status, bind_nak
reason, context rejection reason), never "some exception": a server that
crashed or dropped the connection fails them.
"""
import re

from impacket.dcerpc.v5 import rpcrt
from impacket.dcerpc.v5.rpcrt import DCERPCException

NCA_S_FAULT_ACCESS_DENIED = ("fault", 0x5)
NCA_S_OP_RNG_ERROR = ("fault", 0x1C010002)
ABSTRACT_SYNTAX_NOT_SUPPORTED = ("provider_rejection", 1)


def refused(fn):
    """The exception `fn` raised, or None when it succeeded."""
    try:
        fn()
        return None
    except Exception as e:  # classified by refusal(); anything else fails there
        return e


def refusal(e):
    """("fault", status) for a fault PDU; ("bind_nak", reason) for a
    bind_nak; ("provider_rejection", reason) for a rejected presentation
    context; ("other", text) for anything else, such as a dropped
    connection, which is never a proper refusal. impacket reports fault
    statuses by name, so names map back to their codes."""
    if e is None:
        return None
    if isinstance(e, DCERPCException):
        if e.error_code is not None:
            return ("fault", e.error_code)
        text = e.error_string or ""
        codes = {v: k for k, v in rpcrt.rpc_status_codes.items()}
        if text in codes:
            return ("fault", codes[text])
        reasons = {v: k for k, v in rpcrt.rpc_provider_reason.items()}
        m = re.match(r"Bind context rejected: (\w+)$", text)
        if m and m.group(1) in reasons:
            return ("bind_nak", reasons[m.group(1)])
        m = re.match(r"Bind context \d+ rejected: provider_rejection; (\w+)", text)
        if m and m.group(1) in reasons:
            return ("provider_rejection", reasons[m.group(1)])
    return ("other", "%s: %s" % (type(e).__name__, e))
