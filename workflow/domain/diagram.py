"""The lifecycle as a Mermaid state diagram, read off the machine the engine runs."""

from __future__ import annotations

from workflow.domain.lifecycle import EDGES, MACHINE, TERMINAL_STATES, Move, State


def _who(move: Move, source: State) -> str:
    """The transition's guards in words, those every move shares left out."""
    described = (guard.describe() for guard in EDGES[(move, source)].guards)
    return ", ".join(text for text in described if text)


def mermaid() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {MACHINE.initial}"]
    for name, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                who = _who(Move(name), State(source))
                lines.append(f"    {source} --> {transition.dest}: {name} ({who})")
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL_STATES)]
    return "\n".join(lines) + "\n"
