"""Prompt formats: how an item becomes text, and which strings are scored as its choices.

The default is exactly ``Question: {question}\\nA. {choice 1}\\nB. {choice 2}\\n...\\nAnswer:``,
scoring the label tokens with a leading space (" A").
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from explorer.errors import FormatError
from explorer.items.item import Item

Style = Literal["letters", "string", "cloze"]

LABEL_SETS: dict[str, tuple[str, ...]] = {
    "ABCD": tuple(string.ascii_uppercase),
    "abcd": tuple(string.ascii_lowercase),
    "1234": tuple(str(i) for i in range(1, 10)),
}

PREMISE = "Answer:"  # content-free premise: domain-conditional PMI divides by p(target | premise)

DEFAULT_TEMPLATES: dict[str, str] = {
    "letters": "Question: {question}\n{choices}\nAnswer:",
    "string": "Question: {question}\nChoices: {choices}\nAnswer:",
    "cloze": "Question: {question}\nAnswer:",
}

LINE_STYLES: dict[str, str] = {"dot": "{label}. {choice}", "colon": "{label}: {choice}",
                               "paren": "({label}) {choice}", "bracket": "{label}) {choice}"}


def resolve_labels(labels: str | Sequence[str]) -> tuple[str, ...]:
    """A named label set (``ABCD``, ``abcd``, ``1234``), a string of one-character labels, or a list."""
    if isinstance(labels, str):
        return LABEL_SETS.get(labels, tuple(labels))
    return tuple(labels)


@dataclass(frozen=True)
class PromptFormat:
    """How an item is shown to the model and which continuation strings stand for its choices.

    - ``letters``: choices enumerated one per line with labels; the scored strings are the labels
      with ``label_prefix`` (" A", " B", ...), tokenised in context (the prompt's tokens followed by
      the label's, as the tokenizer reads prompt + label): a one-token label is read at the next
      position, a longer one scored as a continuation.
    - ``string``: choices shown as one ``separator``-joined string; each choice's text
      (" Paris") is scored as a continuation.
    - ``cloze``: no choices shown; each choice's text is scored as a continuation.
    """

    style: Style = "letters"
    labels: str | tuple[str, ...] = "ABCD"
    line: str = LINE_STYLES["dot"]
    template: str | None = None
    separator: str = ", "
    header: str = ""
    label_prefix: str | None = None  # None: " " after a plain prompt, "" after a chat template's assistant turn
    demo_separator: str = "\n\n"
    chat: bool = False

    def __post_init__(self) -> None:
        if self.label_prefix is None:
            object.__setattr__(self, "label_prefix", "" if self.chat else " ")
        if self.style not in DEFAULT_TEMPLATES:
            raise FormatError(f"unknown style {self.style!r}; choose one of {list(DEFAULT_TEMPLATES)}")
        object.__setattr__(self, "labels", resolve_labels(self.labels))
        if self.line in LINE_STYLES:
            object.__setattr__(self, "line", LINE_STYLES[self.line])
        tpl = self.resolved_template
        if "{question}" not in tpl:
            raise FormatError(f"template {tpl!r} has no {{question}} placeholder; add one")
        if self.style != "cloze" and "{choices}" not in tpl:
            raise FormatError(f"template {tpl!r} has no {{choices}} placeholder, which the {self.style!r} style "
                              "needs; add one, or use style='cloze'")
        if self.style == "letters" and ("{label}" not in self.line or "{choice}" not in self.line):
            raise FormatError(f"line style {self.line!r} needs both {{label}} and {{choice}}")

    @property
    def resolved_template(self) -> str:
        return self.template if self.template is not None else DEFAULT_TEMPLATES[self.style]

    @property
    def scores_labels(self) -> bool:
        """True when the choices are scored as single label tokens at the next position."""
        return self.style == "letters"

    def check(self, item: Item) -> None:
        """Raise a clear error when ``item`` cannot be shown in this format."""
        if self.style == "letters" and item.k > len(self.labels):
            raise FormatError(f"item {item.id!r} has {item.k} choices but the label set has only "
                              f"{len(self.labels)} labels ({''.join(self.labels)}). Fix: use a label set with at least "
                              f"{item.k} labels (labels=[...]), a string or cloze format, or fewer choices")

    def render(self, item: Item) -> str:
        """The item as prompt text, without header or demonstrations."""
        self.check(item)
        if self.style == "letters":
            choices = "\n".join(self.line.format(label=lab, choice=c) for lab, c in zip(self.labels, item.choices))
        elif self.style == "string":
            choices = self.separator.join(item.choices)
        else:
            choices = ""
        return self.resolved_template.format(question=item.question, choices=choices)

    def targets(self, item: Item) -> list[str]:
        """The strings scored for each choice: " A", " B", ... or " Paris", " Berlin", ..."""
        self.check(item)
        if self.style == "letters":
            return [self.label_prefix + lab for lab in self.labels[: item.k]]
        return [self.label_prefix + c for c in item.choices]

    def answer_text(self, item: Item) -> str:
        """What follows a demonstration's prompt: its gold target (in a chat, demonstrations sit inside
        the user's message as plain text, so their answers keep a space: "Answer: A")."""
        if item.answer is None:
            raise FormatError(f"demonstration item {item.id!r} has no gold answer; demonstrations need one")
        target = self.targets(item)[item.answer]
        return " " + target.removeprefix(self.label_prefix) if self.chat else target

    def build(self, item: Item, demos: Sequence[Item] = (), *, tokenizer=None) -> str:
        """The full prompt: header, solved demonstrations, then the item; as a chat when ``chat``."""
        parts = [self.render(d) + self.answer_text(d) for d in demos]
        body = self.demo_separator.join([*parts, self.render(item)])
        text = self.header + body
        if not self.chat:
            return text
        if tokenizer is None or getattr(tokenizer, "chat_template", None) is None:
            raise FormatError("chat=True needs a tokenizer with a chat template; this one has none")
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)


DEFAULT_FORMAT = PromptFormat()

NAMED_FORMATS: dict[str, PromptFormat] = {
    "letters": DEFAULT_FORMAT,
    "numbers": PromptFormat(labels="1234"),
    "lower": PromptFormat(labels="abcd"),
    "string": PromptFormat(style="string"),
    "cloze": PromptFormat(style="cloze"),
}


def get_format(name_or_format: str | PromptFormat) -> PromptFormat:
    """A format by name (``letters``, ``numbers``, ``lower``, ``string``, ``cloze``), or as given."""
    if isinstance(name_or_format, PromptFormat):
        return name_or_format
    if name_or_format not in NAMED_FORMATS:
        raise FormatError(f"unknown format {name_or_format!r}; choose one of {sorted(NAMED_FORMATS)}")
    return NAMED_FORMATS[name_or_format]
