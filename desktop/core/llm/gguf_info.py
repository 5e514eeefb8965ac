"""What a GGUF file says about itself, read with the ``gguf`` package without loading the model.

Reading the header is cheap and safe (``GGUFReader`` memory-maps the file and parses it in Python), so it
catches files that are not GGUF at all, damaged headers and truncated tensor data before llama.cpp, whose
asserts can kill the process, ever sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GGUF_MAGIC = b"GGUF"


class ModelFileError(Exception):
    """A model file is missing, not a GGUF, damaged, or does not match its manifest."""


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    size_bytes: int
    name: str | None
    architecture: str | None
    quantization: str | None
    context_length: int | None
    chat_template: str | None
    tensor_count: int


def _quantization_name(file_type: int | None) -> str | None:
    if file_type is None:
        return None
    from gguf import LlamaFileType

    try:
        return LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"file_type {file_type}"


def read_gguf_info(path: str | Path) -> GGUFInfo:
    """Parse the header of ``path``; raise :class:`ModelFileError` naming the file and the problem.

    ``GGUFReader`` parses the whole vocabulary in Python (about 2 s for a 49k-token model), so results are
    cached per (path, size, mtime): a replaced file is parsed again.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    st = path.stat()
    return _read_cached(path.resolve(), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=32)
def _read_cached(path: Path, size: int, _mtime_ns: int) -> GGUFInfo:
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelFileError(f"{path}: not a GGUF file (starts with {magic!r}, expected {GGUF_MAGIC!r})")

    from gguf import GGUFReader, Keys

    try:
        reader = GGUFReader(path, "r")
    except Exception as exc:  # the reader raises ValueError, IndexError, struct errors... on damage
        raise ModelFileError(f"{path}: damaged GGUF header ({type(exc).__name__}: {exc})") from exc

    def field(key: str) -> object:
        f = reader.fields.get(key)
        if f is None:
            return None
        try:
            return f.contents()
        except Exception as exc:
            raise ModelFileError(f"{path}: damaged GGUF metadata field {key} ({exc})") from exc

    # The tensors must lie inside the file: a truncated download parses but has no weights at the end.
    data_end = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
    if data_end > size:
        raise ModelFileError(
            f"{path}: truncated: tensor data needs {data_end} bytes but the file has {size}"
        )
    if not reader.tensors:
        raise ModelFileError(f"{path}: the GGUF holds no tensors")
    arch = field(Keys.General.ARCHITECTURE)
    arch = arch if isinstance(arch, str) else None
    ctx = field(Keys.LLM.CONTEXT_LENGTH.format(arch=arch)) if arch else None
    template = field(Keys.Tokenizer.CHAT_TEMPLATE)
    file_type = field(Keys.General.FILE_TYPE)
    name = field(Keys.General.NAME)
    return GGUFInfo(
        path=path,
        size_bytes=size,
        name=name if isinstance(name, str) else None,
        architecture=arch,
        quantization=_quantization_name(int(file_type)) if isinstance(file_type, int) else None,
        context_length=int(ctx) if isinstance(ctx, int) else None,
        chat_template=template if isinstance(template, str) and template.strip() else None,
        tensor_count=len(reader.tensors),
    )
