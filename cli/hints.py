"""The hints of one chapter, read from chapters/NN_name/hints.md (CONTRIBUTING.md, "The hints", says how to
write them): each `## ` heading starts a topic, and a line of only `<!-- next -->` splits it into steps, from a
question to nearly the answer. The terminal cannot show TeX, so `$...$` becomes plain text (TEX_WORDS).
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


# TeX commands as the terminal shows them. A command that is not here is an error of tex_to_text(strict=True),
# which cli/test_cli.py runs over every hints file, so that a new one is added here before a learner sees it.
TEX_WORDS = {
    "partial": "∂", "sum": "Σ", "prod": "Π", "top": "ᵀ", "cdot": "·", "times": "×", "odot": "⊙",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "to": "→",
    "in": "∈", "infty": "∞", "ldots": "...", "dots": "...", "cdots": "...", "lfloor": "⌊", "rfloor": "⌋",
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "Delta": "Δ", "epsilon": "ε", "varepsilon": "ε",
    "eta": "η", "lambda": "λ", "mu": "μ", "pi": "π", "sigma": "σ", "theta": "θ",
    "log": "log", "ln": "ln", "exp": "exp", "cos": "cos", "sin": "sin", "max": "max", "min": "min",
    "left": "", "right": "", ",": " ", ";": " ", ":": " ", "!": "", "quad": "  ", "{": "{", "}": "}",
}
TEX_FONTS = {"mathit", "mathrm", "mathbf", "text", "operatorname"}  # \mathit{dout} -> dout
SUPERSCRIPTS = dict(zip("0123456789+-=()nT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵀ"))
MATH = re.compile(r"\$([^$]+)\$")
COMMAND = re.compile(r"\\([A-Za-z]+|[,;:!{}])")


def _group(s: str, i: int) -> tuple[str, int]:
    """The argument at s[i]: a {braced} group or one character, and the index after it."""
    if i < len(s) and s[i] == "{":
        depth = 0
        for j in range(i, len(s)):
            depth += {"{": 1, "}": -1}.get(s[j], 0)
            if depth == 0:
                return s[i + 1:j], j + 1
        raise ValueError(f"unbalanced braces in ${s}$")
    command = COMMAND.match(s, i)  # X^\top, \eta_\mathit{min}
    if not command:
        return s[i:i + 1], i + 1
    if command.group(1) in TEX_FONTS:
        arg, end = _group(s, command.end())
        return s[i:end], end
    return command.group(0), command.end()


def _math(s: str, strict: bool) -> str:
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            m = COMMAND.match(s, i)
            if not m:
                raise ValueError(f"a lone backslash in ${s}$")
            name, i = m.group(1), m.end()
            if name in TEX_FONTS:
                arg, i = _group(s, i)
                out.append(_math(arg, strict))
            elif name == "frac":
                num, i = _group(s, i)
                den, i = _group(s, i)
                num, den = _math(num, strict), _math(den, strict)
                wrap = lambda t: t if re.fullmatch(r"[\w∂.]+", t) else f"({t})"
                out.append(f"{wrap(num)}/{wrap(den)}")
            elif name == "sqrt":
                arg, i = _group(s, i)
                arg = _math(arg, strict)
                out.append(f"√{arg}" if re.fullmatch(r"\w+", arg) else f"√({arg})")
            elif name in TEX_WORDS:
                while name == "partial" and s[i:i + 1] == " ":  # "\partial L" reads as ∂L
                    i += 1
                out.append(TEX_WORDS[name])
            elif strict:
                raise ValueError(f"the TeX command \\{name} in ${s}$ has no plain-text form in cli/hints.py "
                                 "TEX_WORDS")
            else:
                out.append(name)
        elif c in "^_":
            arg, i = _group(s, i + 1)
            text = _math(arg, strict)
            if c == "^" and all(ch in SUPERSCRIPTS or ch == "ᵀ" for ch in text):
                out.append("".join(SUPERSCRIPTS.get(ch, ch) for ch in text))
            else:
                out.append(c + (text if re.fullmatch(r"[\w.]+", text) else f"({text})"))
        elif c in "{}":
            i += 1  # a group only for TeX's sake: {x}_1
        else:
            out.append(c)
            i += 1
    return re.sub(r"  +", " ", "".join(out))


def tex_to_text(text: str, strict: bool = False) -> str:
    """Markdown with $...$ math, as a terminal shows it: $\\partial L/\\partial y = 2\\,(y - t)$ becomes
    ∂L/∂y = 2 (y - t). strict: a TeX command without a plain-text form is an error (else it loses its
    backslash)."""
    return MATH.sub(lambda m: _math(m.group(1), strict), text)
