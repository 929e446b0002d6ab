"""Counting prompt tokens: with the model's own tokenizer where the assistant has it, conservatively otherwise.

The estimate must never count fewer tokens than a real tokenizer would, or a prompt that "fits" is rejected
(or silently cut from the front, losing the system prompt) by the server. It counts every digit and every
symbol as a token (Gemma and Llama 2 split numbers into digits), a token per three letters of a word (real
vocabularies hold most English words whole), and most of a token per UTF-8 byte of other characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Protocol

from assistant.prompt_templates import ChatMessage
from assistant.prompts import RenderedPrompt

# What a chat template adds around each message (role markers, separators: ChatML 4-5, Llama 3 5, Gemma 5)
# and around the reply it opens, with room to spare.
MESSAGE_OVERHEAD_TOKENS = 8
REPLY_OVERHEAD_TOKENS = 8
_PIECES = re.compile(r" ?[A-Za-z]+|\s+|.", re.DOTALL)  # a word takes the space before it
LETTERS_PER_TOKEN = 3


class TokenCounter(Protocol):
    """Counts the tokens of a text for one model."""

    exact: bool

    def count(self, text: str) -> int: ...


class EstimatedTokens:
    """An upper bound for tokenizers the assistant does not have (remote servers)."""

    exact = False

    def count(self, text: str) -> int:
        total = 0
        for piece in _PIECES.findall(text):
            last = piece[-1]
            if last.isascii() and last.isalpha():
                total += -(-len(piece.lstrip(" ")) // LETTERS_PER_TOKEN)
            elif piece.isspace():
                newlines = piece.count("\n")  # a token each; indentation in runs of up to four spaces
                total += newlines + -(-(len(piece) - newlines) // 4)
            elif last.isascii():  # a digit or a symbol
                total += 1
            else:  # rare characters fall back to their UTF-8 bytes in byte-level vocabularies
                total += max(1, len(piece.encode("utf-8")) - 1)
        return total


class ModelTokens:
    """The model's own tokenizer (llama.cpp's, for in-process models)."""

    exact = True

    def __init__(self, tokenize: Callable[[bytes], Sequence[int]]) -> None:
        self._tokenize = tokenize

    def count(self, text: str) -> int:
        return len(self._tokenize(text.encode("utf-8")))


def message_tokens(message: ChatMessage, counter: TokenCounter) -> int:
    return counter.count(message["content"]) + MESSAGE_OVERHEAD_TOKENS


def prompt_tokens(prompt: RenderedPrompt, style: str, counter: TokenCounter) -> int:
    """Tokens of what a backend of this style is sent: one completion text, or chat messages."""
    if style == "completion":
        return counter.count(prompt.completion) + 1  # the beginning-of-text token
    return sum(message_tokens(message, counter) for message in prompt.messages) + REPLY_OVERHEAD_TOKENS
