"""Generate the inputs/outputs tables of the Terraform docs from variables.tf and outputs.tf.

    python scripts/tf_docs.py          rewrite the generated sections in place
    python scripts/tf_docs.py --check  exit 1 (and name the files) if a section is out of date

Generated sections sit between ``<!-- BEGIN_TF_<KIND> -->`` and ``<!-- END_TF_<KIND> -->`` markers:
INPUTS and OUTPUTS (of the module the document describes), EXAMPLE (examples/minimal/main.tf) and
COMPLETE_EXAMPLE (examples/complete/main.tf).
The parser relies on `terraform fmt` layout: blocks open with ``variable "x" {`` and close with a
``}`` in column 0; their arguments are indented by two spaces.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = {
    Path("README.md"): Path(),
    Path("modules/ecs-fleet/README.md"): Path("modules/ecs-fleet"),
    Path("modules/control-plane/README.md"): Path("modules/control-plane"),
    Path("modules/image-build/README.md"): Path("modules/image-build"),
}
EXAMPLES = {
    "EXAMPLE": Path("examples/minimal/main.tf"),
    "COMPLETE_EXAMPLE": Path("examples/complete/main.tf"),
}
BLOCK_START = re.compile(r'^(variable|output) "([^"]+)" \{$')
ARGUMENT = re.compile(r"^  ([a-z_]+)\s*=\s*(.*)$")
NESTED_BLOCK = re.compile(r"^  [a-z_]+( \"[^\"]*\")? \{$")
OPENERS, CLOSERS = "([{", ")]}"


@dataclass(frozen=True)
class Block:
    kind: str
    name: str
    arguments: dict[str, str]

    def string(self, key: str) -> str:
        raw = self.arguments.get(key, '""')
        return str(json.loads(raw)) if raw.startswith('"') else raw


def _bracket_delta(line: str) -> int:
    """Net opened brackets on a line, ignoring string contents."""
    depth, in_string, escaped = 0, False, False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in OPENERS:
            depth += 1
        elif char in CLOSERS:
            depth -= 1
    return depth


def _one_line(lines: list[str]) -> str:
    """Join a multi-line HCL value, adding the commas that line breaks stood for."""
    parts = [re.sub(r" {2,}", " ", line.strip()) for line in lines if line.strip()]
    joined = ""
    for index, part in enumerate(parts):
        joined += part
        if index + 1 < len(parts):
            following = parts[index + 1]
            if part[-1] in OPENERS or following[0] in CLOSERS or part.endswith(","):
                joined += " "
            else:
                joined += ", "
    return joined


def _arguments(body: list[str]) -> dict[str, str]:
    arguments: dict[str, str] = {}
    index = 0
    while index < len(body):
        line = body[index]
        if NESTED_BLOCK.match(line):
            while body[index] != "  }":
                index += 1
            index += 1
            continue
        match = ARGUMENT.match(line)
        if match is None:
            index += 1
            continue
        key, value_lines = match.group(1), [match.group(2)]
        depth = _bracket_delta(match.group(2))
        while depth > 0:
            index += 1
            value_lines.append(body[index])
            depth += _bracket_delta(body[index])
        arguments[key] = _one_line(value_lines)
        index += 1
    return arguments


def parse_blocks(text: str, kind: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = BLOCK_START.match(lines[index])
        if match is None:
            index += 1
            continue
        end = lines.index("}", index)
        if match.group(1) == kind:
            blocks.append(Block(kind, match.group(2), _arguments(lines[index + 1 : end])))
        index = end + 1
    return blocks


def module_blocks(module_dir: Path, kind: str) -> list[Block]:
    blocks: list[Block] = []
    for path in sorted(module_dir.glob("*.tf")):
        blocks += parse_blocks(path.read_text(), kind)
    return blocks


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def inputs_table(module_dir: Path) -> str:
    rows = [
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for block in module_blocks(module_dir, "variable"):
        default = block.arguments.get("default")
        description = block.string("description")
        if block.arguments.get("sensitive") == "true":
            description += " (sensitive)"
        type_text = _cell(block.arguments.get("type", "any"))
        default_text = "n/a" if default is None else f"`{_cell(default)}`"
        required = "yes" if default is None else "no"
        rows.append(
            f"| `{block.name}` | {_cell(description)} | `{type_text}` | {default_text} | {required} |"
        )
    return "\n".join(rows)


def outputs_table(module_dir: Path) -> str:
    rows = ["| Name | Description |", "|------|-------------|"]
    for block in module_blocks(module_dir, "output"):
        rows.append(f"| `{block.name}` | {_cell(block.string('description'))} |")
    return "\n".join(rows)


def example_block(path: Path) -> str:
    return "```hcl\n" + path.read_text().rstrip("\n") + "\n```"


def _replace_section(document: str, kind: str, content: str) -> str:
    begin, end = f"<!-- BEGIN_TF_{kind} -->", f"<!-- END_TF_{kind} -->"
    start, stop = document.find(begin), document.find(end)
    if start < 0 or stop < start:
        return document
    return f"{document[:start]}{begin}\n{content}\n{document[stop:]}"


def render(document: str, sections: dict[str, str]) -> str:
    """The document with each marked section replaced; documents without a marker keep it as is."""
    for kind, content in sections.items():
        document = _replace_section(document, kind, content)
    return document


def rendered_documents(root: Path) -> dict[Path, tuple[str, str]]:
    """{document path: (current text, up-to-date text)}."""
    result: dict[Path, tuple[str, str]] = {}
    for relative, module in DOCUMENTS.items():
        path = root / relative
        current = path.read_text()
        sections = {
            "INPUTS": inputs_table(root / module),
            "OUTPUTS": outputs_table(root / module),
            **{kind: example_block(root / example) for kind, example in EXAMPLES.items()},
        }
        result[relative] = (current, render(current, sections))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if a generated section is out of date")
    args = parser.parse_args(argv)
    stale = []
    for relative, (current, wanted) in rendered_documents(ROOT).items():
        if current == wanted:
            continue
        stale.append(relative)
        if not args.check:
            (ROOT / relative).write_text(wanted)
            print(f"tf_docs: updated {relative}")
    if args.check and stale:
        print(f"tf_docs: out of date: {', '.join(map(str, stale))}; run python scripts/tf_docs.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
