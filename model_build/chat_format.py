"""The training format, written twice: as Python (used to build training text) and as the Jinja chat
template saved with the tokenizer and carried into the GGUF.

Both must produce the same string, or the model is trained on one format and prompted with another in
llama.cpp (the most common cause of "fine in PyTorch, gibberish in llama.cpp"). ``tests/model_build``
renders both and compares them. The answer ends with an end-of-answer token that is part of the labels,
so the model learns to stop and llama.cpp stops on it (it is the tokenizer's EOS / an EOG token).
"""

from __future__ import annotations

from dataclasses import dataclass

Message = dict[str, str]


@dataclass(frozen=True)
class ChatFormat:
    name: str
    template: str  # Jinja, as transformers and llama-cpp-python render it
    end_token: str  # "" = the tokenizer's eos_token

    def end(self, eos_token: str) -> str:
        return self.end_token or eos_token

    def render_prompt(self, messages: list[Message], eos_token: str) -> str:
        """The text up to and including the assistant header (add_generation_prompt=True)."""
        return "".join(self._turn(m["role"], m["content"], eos_token) for m in messages) + self._header(
            "assistant")

    def render_answer(self, answer: str, eos_token: str) -> str:
        """The assistant's answer with the end-of-answer token, as it is labelled in training."""
        return answer + self.end(eos_token)

    def _header(self, role: str) -> str:
        if self.name == "chatml":
            return f"<|im_start|>{role}\n"
        if self.name == "zephyr":
            return f"<|{role}|>\n"
        return f"### {role.capitalize()}:\n"

    def _turn(self, role: str, content: str, eos_token: str) -> str:
        if self.name == "plain":
            return f"### {role.capitalize()}:\n{content}" + (eos_token if role == "assistant" else "\n\n")
        return self._header(role) + content + self.end(eos_token) + "\n"


_CHATML = (
    "{%- for message in messages -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
_ZEPHYR = (
    "{%- for message in messages -%}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\\n' }}{%- endif -%}"
)
_PLAIN = (
    "{%- for message in messages -%}"
    "{{ '### ' + message['role'] | capitalize + ':\\n' + message['content'] }}"
    "{%- if message['role'] == 'assistant' -%}{{ eos_token }}{%- else -%}{{ '\\n\\n' }}{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '### Assistant:\\n' }}{%- endif -%}"
)

FORMATS = {
    "chatml": ChatFormat("chatml", _CHATML, "<|im_end|>"),
    "zephyr": ChatFormat("zephyr", _ZEPHYR, ""),
    "plain": ChatFormat("plain", _PLAIN, ""),
}


def get_format(name: str) -> ChatFormat:
    if name not in FORMATS:
        raise ValueError(f"unknown chat format {name!r}; expected one of {sorted(FORMATS)}")
    return FORMATS[name]


def prompt_messages(example: dict) -> list[Message]:
    """Messages of one prepared example, system prompt first, without the answer."""
    msgs: list[Message] = []
    if example.get("system"):
        msgs.append({"role": "system", "content": example["system"]})
    return msgs + list(example["messages"])
