"""The repository stands alone, and its README is the way in.

No tracked file refers to a document outside the repository (a team's contract, a shared place, an issue number);
the README stays short and links every document of docs/; every link between the documents reaches a file and a
heading that exist; and what the documents show of the code (make targets, functions, events, modules, code
excerpts) is in the repository as shown. The commands and tables the documents hold are checked where their
subject is tested: the deploy walkthrough and runbook in tests/deploy/test_deploy_walkthrough.py, the local
examples in tests/dev/test_dev_local_api.py, the routes table in tests/openapi/test_openapi_document.py, the ACL
line in tests/security/test_acl.py.
"""

import re
import subprocess
from pathlib import Path

import pytest

from dev.template import load_template

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 16_000
# What a reader outside the team cannot follow: the same expression CI's standalone check runs with `git grep -E`.
OUTSIDE_REFERENCE = re.compile(r"CONTRACT(\.md|\s+section)|shared\s+folder|\.\./shared|\bissues? [0-9]+\b")
NOT_CHECKED = (".ci/",)  # CI's own scripts, which run the check


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and not name.startswith(NOT_CHECKED)]


def documents() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(path: Path) -> str:
    """The Markdown of `path` without its fenced code blocks."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_no_tracked_file_refers_to_a_document_outside_the_repository() -> None:
    found = []
    for path in tracked_files():
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if OUTSIDE_REFERENCE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")

    assert found == []


def test_the_outside_reference_check_finds_each_kind_of_reference() -> None:
    lines = [
        # Spelt in pieces, so that this file does not itself hold what it looks for.
        "see " + "CONTRACT" + ".md",
        "as " + "CONTRACT" + " section 4 says",
        "in the team's " + "shared" + " folder",
        "../" + "shared/seed/redis-architecture.md",
        "the targets of " + "issue" + " 8",
        "issues" + " 3 and 4",
    ]
    assert all(OUTSIDE_REFERENCE.search(line) for line in lines)
    assert not OUTSIDE_REFERENCE.search("no issues here; the contract is in docs/api.md")


def test_the_readme_is_at_most_16_kb() -> None:
    assert len(README.read_bytes()) <= README_MAX_BYTES


def linked_documents(path: Path) -> set[Path]:
    targets = re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", prose(path))
    return {(path.parent / target).resolve() for target in targets}


def test_the_readme_links_every_document_of_docs() -> None:
    every = {path.resolve() for path in DOCS.glob("*.md")}

    assert every
    assert every <= linked_documents(README)


def test_the_docs_index_links_every_other_document_of_docs() -> None:
    index = DOCS / "README.md"
    every = {path.resolve() for path in DOCS.glob("*.md")} - {index.resolve()}

    assert every <= linked_documents(index)


def links() -> list[tuple[Path, str]]:
    """(document, target) of every link to a file of the repository, each once."""
    found = {
        (path, target)
        for path in documents()
        for target in re.findall(r"\]\(([^)\s]+)\)", prose(path))
        if not re.match(r"[a-z]+:", target)
    }
    return sorted(found)


@pytest.mark.parametrize(
    ("document", "target"), links(), ids=[f"{path.relative_to(ROOT)}->{target}" for path, target in links()]
)
def test_each_link_between_the_documents_reaches_a_file_and_a_heading_that_exist(document: Path, target: str) -> None:
    name, _, anchor = target.partition("#")
    linked = (document.parent / name).resolve() if name else document

    assert linked.exists(), f"{document.relative_to(ROOT)} links {target}: no such file"
    if anchor:
        headings = re.findall(r"^#+ (.+)$", prose(linked), re.M)
        assert anchor in {slug(heading) for heading in headings}, f"{document.relative_to(ROOT)} links {target}"


def shell_lines() -> list[str]:
    return [line for path in documents() for block in code_blocks(path, "sh") for line in block.splitlines()]


def test_each_make_target_the_documents_run_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = {target for line in shell_lines() for target in re.findall(r"\bmake (\w+)", line)}

    assert {"run", "test", "invoke"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_each_function_and_event_the_documents_name_exists() -> None:
    functions = set(load_template().functions)
    text = "\n".join(path.read_text(encoding="utf-8") for path in documents())
    named_functions = set(re.findall(r"\b([A-Z][A-Za-z]+Function)\b", text))
    events = set(re.findall(r"\bevents/[\w.-]+\.json\b", text))

    assert named_functions
    assert events
    assert named_functions <= functions
    for event in events:
        assert (ROOT / event).is_file(), event


def test_each_python_module_the_documents_run_exists() -> None:
    modules = {module for line in shell_lines() for module in re.findall(r"python3? -m ([\w.]+)", line)}

    assert modules
    for module in modules:
        path = ROOT.joinpath(*module.split("."))
        assert path.with_suffix(".py").is_file() or (path / "__main__.py").is_file(), module


def quoted_code() -> list[tuple[str, str]]:
    """(file, excerpt): each Python block of the docs that a paragraph ending with "`<file>`:" introduces."""
    found = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        found += re.findall(r"`([\w./-]+\.py)`:\n\n```python\n(.*?)^```", text, re.S | re.M)
    return found


def test_each_code_excerpt_of_the_docs_is_in_the_file_it_names() -> None:
    excerpts = quoted_code()

    assert excerpts
    for name, excerpt in excerpts:
        assert excerpt in (ROOT / name).read_text(), name
