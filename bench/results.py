"""bench/RESULTS.md holds one section per benchmark; each run replaces only its own."""

from pathlib import Path


def write_section(path: Path, name: str, text: str) -> None:
    marker = f"<!-- {name} -->"
    before, _, rest = (path.read_text() if path.exists() else "").partition(marker)
    _, _, after = rest.partition(marker)
    section = f"{marker}\n{text.strip()}\n{marker}"
    path.write_text(before + section + (after or "\n"))
