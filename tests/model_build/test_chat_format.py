from __future__ import annotations

from pathlib import Path

import pytest

from model_build.chat_format import FORMATS, get_format

MESSAGES = [{"role": "system", "content": "You are careful.\n\nPatient: X."},
            {"role": "user", "content": "What is the NEWS2 score?"}]
ANSWER = "The NEWS2 score is 1."


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_template_renders_exactly_the_training_text(name: str, tokenizer_dir: Path) -> None:
    """The Jinja template saved with the tokenizer (and carried into the GGUF) and the Python renderer
    used to build training text must agree, or llama.cpp prompts the model in another format."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    fmt = get_format(name)
    tok.chat_template = fmt.template
    prompt = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert prompt == fmt.render_prompt(MESSAGES, tok.eos_token)
    full = tok.apply_chat_template(MESSAGES + [{"role": "assistant", "content": ANSWER}], tokenize=False)
    trained = fmt.render_prompt(MESSAGES, tok.eos_token) + fmt.render_answer(ANSWER, tok.eos_token)
    assert full.startswith(trained) and full[len(trained):] in ("", "\n")
