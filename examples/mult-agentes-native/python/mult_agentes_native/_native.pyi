def count_tokens(text: str, /) -> int:
    """The number of tokens in ``text``: words and punctuation marks, each one token."""
