"""The hints of one chapter, read from chapters/NN_name/hints.md (CONTRIBUTING.md, "The hints", says how to
write them): each `## ` heading starts a topic, and a line of only `<!-- next -->` splits it into steps, from a
question to nearly the answer. A terminal shows them as they are written, so math is plain text (∂L/∂y,
Xᵀ dY, η_t), never TeX: cli/test_cli.py fails on a `$` or a TeX command in a hints file.
"""
import re
from dataclasses import dataclass

STEP_BREAK = re.compile(r"^<!-- next -->[ \t]*$", re.MULTILINE)
TOPIC_HEADING = re.compile(r"^## (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Topic:
    title: str
    steps: tuple[str, ...]


def parse(text: str, name: str) -> list[Topic]:
    """The topics of a hints file. name (its path) goes into the errors."""
    # "## title" lines split the file: [before, title 1, body 1, title 2, body 2, ...]
    parts = TOPIC_HEADING.split(text)[1:]
    topics = []
    for title, body in zip(parts[::2], parts[1::2]):
        steps = tuple(step.strip() for step in STEP_BREAK.split(body))
        if not all(steps):
            raise ValueError(f"{name}: the hint '{title}' has an empty step (two '<!-- next -->' lines in a row, "
                             "or one at its start or end)")
        topics.append(Topic(title.strip(), steps))
    if not topics:
        raise ValueError(f"{name} holds no '## ' hint sections")
    return topics


def choose(topics: list[Topic], words: list[str]) -> list[int]:
    """The indices of the topics that words choose: one number (1 = the first topic), or words that all occur in
    the title (any case; "stride" finds "strides" as well). When no title has them all, the topics whose steps
    have them all."""
    if len(words) == 1 and words[0].isdigit():
        number = int(words[0])
        return [number - 1] if 1 <= number <= len(topics) else []

    def having(text) -> list[int]:
        return [i for i, topic in enumerate(topics) if all(w.lower() in text(topic).lower() for w in words)]
    return having(lambda t: t.title) or having(lambda t: t.title + "\n" + "\n".join(t.steps))
