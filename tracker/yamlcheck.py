"""Validation of YAML seed files against a strict shape, with messages naming the file, the line and the
fault."""

import re

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"


class SeedFileError(ValueError):
    """A seed file is wrong; nothing from it (or its batch) was loaded."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class Checker:
    """Walks a composed YAML node tree, collecting every problem rather than stopping at the first."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[str] = []

    def error(self, node, message):
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.filename}, line {line}: {message}")

    def compose(self, text: str):
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
            # the parser notices an unclosed bracket or quote lines later: say where it was opened
            where = (
                f" ({context} that starts on line {start.line + 1})"
                if context and start and mark and start.line != mark.line
                else ""
            )
            self.problems.append(
                f"{self.filename}, line {line}: not valid YAML: {getattr(exc, 'problem', exc)}{where}"
            )
            return None
        if node is None:
            self.problems.append(f"{self.filename}, line 1: the file is empty")
        return node

    def mapping(self, node, where, required=(), optional=()):
        """Return {field: node} for a mapping, reporting unknown, duplicate and missing fields."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{where}: expected a mapping of fields")
            return None
        allowed = set(required) | set(optional)
        fields = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in fields:
                self.error(key_node, f"{where}: field '{key}' appears twice")
            elif key not in allowed:
                self.error(
                    key_node, f"{where}: unknown field '{key}' (allowed: {', '.join(sorted(allowed))})"
                )
            fields[key] = value_node
        for name in required:
            if name not in fields:
                self.error(node, f"{where}: missing required field '{name}'")
        return fields

    def string(self, node, where, *, max_len=2000, pattern=None, choices=None, allow_empty=False):
        if not isinstance(node, ScalarNode) or node.tag != STR_TAG:
            self.error(
                node,
                f"{where}: expected text" + (" (put it in quotes)" if isinstance(node, ScalarNode) else ""),
            )
            return None
        value = node.value.strip()
        if not value and not allow_empty:
            self.error(node, f"{where}: must not be empty")
        elif len(value) > max_len:
            self.error(node, f"{where}: longer than {max_len} characters")
        elif pattern is not None and not pattern.match(value):
            self.error(node, f"{where}: '{value}' is not a valid key (lower-case letters, digits and dashes)")
        elif choices is not None and value not in choices:
            self.error(node, f"{where}: '{value}' is not one of: {', '.join(choices)}")
        else:
            return value
        return None

    def integer(self, node, where, lo, hi):
        if not isinstance(node, ScalarNode) or node.tag != INT_TAG:
            self.error(node, f"{where}: expected a whole number")
            return None
        value = int(node.value)
        if not lo <= value <= hi:
            self.error(node, f"{where}: {value} is outside {lo}..{hi}")
            return None
        return value

    def boolean(self, node, where):
        if not isinstance(node, ScalarNode) or node.tag != BOOL_TAG:
            self.error(node, f"{where}: expected true or false")
            return None
        return node.value.lower() in ("true", "yes", "on")

    def sequence(self, node, where, min_items=0):
        if not isinstance(node, SequenceNode):
            self.error(node, f"{where}: expected a list")
            return []
        if len(node.value) < min_items:
            self.error(node, f"{where}: needs at least {min_items} item(s)")
        return node.value

    def strings(self, node, where, **kwargs):
        return [
            v
            for i, item in enumerate(self.sequence(node, where))
            if (v := self.string(item, f"{where}[{i + 1}]", **kwargs)) is not None
        ]

    def raise_if_problems(self):
        if self.problems:
            raise SeedFileError(self.problems)
