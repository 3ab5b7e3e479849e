"""Nova's server state machine: which action runs from which state, and what it leads to.

Pure data and functions; :mod:`ocx.compute.hypervisor` applies the timings.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocx.common import errors

NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED = 0, 1, 3, 4, 6, 7


@dataclass(frozen=True)
class Action:
    name: str
    allowed: tuple[str, ...]
    task: str
    result: str
    power: int
    timing: str


ACTIONS = {
    a.name: a
    for a in (
        Action("stop", ("active", "error"), "powering-off", "stopped", SHUTDOWN, "power"),
        Action("start", ("stopped",), "powering-on", "active", RUNNING, "power"),
        Action("reboot", ("active",), "rebooting", "active", RUNNING, "reboot"),
        Action(
            "reboot_hard",
            ("active", "stopped", "paused", "suspended", "error"),
            "rebooting_hard",
            "active",
            RUNNING,
            "reboot",
        ),
        Action("pause", ("active",), "pausing", "paused", PAUSED, "power"),
        Action("unpause", ("paused",), "unpausing", "active", RUNNING, "power"),
        Action("suspend", ("active",), "suspending", "suspended", SUSPENDED, "power"),
        Action("resume", ("suspended",), "resuming", "active", RUNNING, "power"),
        Action(
            "rebuild", ("active", "stopped", "error"), "rebuilding", "active", RUNNING, "rebuild"
        ),
        Action("boot", ("building",), "spawning", "active", RUNNING, "boot"),
    )
}

_STATUS = {
    "active": "ACTIVE",
    "building": "BUILD",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "error": "ERROR",
    "deleted": "DELETED",
}
_TASK_STATUS = {"rebooting": "REBOOT", "rebooting_hard": "HARD_REBOOT", "rebuilding": "REBUILD"}


def status(vm_state: str, task_state: str | None) -> str:
    """The ``status`` Nova shows for a pair of states."""
    if vm_state == "active" and task_state in _TASK_STATUS:
        return _TASK_STATUS[task_state]
    if task_state == "rebuilding":
        return "REBUILD"
    return _STATUS.get(vm_state, "UNKNOWN")


def statuses_to_states(status_name: str) -> tuple[str, ...]:
    """The vm_states a ``status=`` filter selects."""
    wanted = status_name.upper()
    return tuple(vm for vm, shown in _STATUS.items() if shown == wanted) or ("-none-",)


def check(action: Action, server_id: str, vm_state: str, task_state: str | None) -> None:
    if vm_state not in action.allowed or task_state is not None:
        state = f"task_state {task_state}" if task_state else f"vm_state {vm_state}"
        verb = action.name.replace("_hard", "")
        raise errors.Conflict(f"Cannot '{verb}' instance {server_id} while it is in {state}")
