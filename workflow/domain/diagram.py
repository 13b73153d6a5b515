"""The lifecycle as a Mermaid state diagram, generated from the machine the engine runs."""

from __future__ import annotations

from workflow.domain.lifecycle import MACHINE, RULES, TERMINAL_STATES, Move


def _who(move: Move) -> str:
    rule = RULES[move]
    who = "lead unit" if rule.by_lead_unit else " or ".join(sorted(r.value for r in rule.roles))
    if move is Move.VERIFY:
        who += ", not the submitter"
    return who + (", note" if rule.note else "")


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {MACHINE.initial}"]
    for name, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                lines.append(f"    {source} --> {transition.dest}: {name} ({_who(Move(name))})")
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL_STATES)]
    return "\n".join(lines) + "\n"
