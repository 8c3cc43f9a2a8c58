//! `mult_agentes_native._native`: the part of mult-agentes-native written in
//! Rust. Counting tokens of a long prompt is a loop over every character:
//! done here it runs without the interpreter's per-character cost.

use pyo3::prelude::*;

/// The number of tokens in `text`: runs of letters or digits (an
/// apostrophe inside a word keeps it whole), and every other visible
/// character on its own.
fn count(text: &str) -> usize {
    let mut tokens = 0;
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            if !in_word {
                tokens += 1;
                in_word = true;
            }
        } else if c == '\'' && in_word && chars.peek().is_some_and(|n| n.is_alphanumeric()) {
            // "don't" is one token.
        } else {
            in_word = false;
            if !c.is_whitespace() {
                tokens += 1;
            }
        }
    }
    tokens
}

/// count_tokens(text, /)
/// --
///
/// The number of tokens in `text`: words (runs of letters or digits) and
/// punctuation marks, each one token.
#[pyfunction]
fn count_tokens(py: Python<'_>, text: &str) -> usize {
    // A long text is counted without holding the GIL.
    py.detach(|| count(text))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(count_tokens, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::count;

    #[test]
    fn counts_words_and_marks() {
        assert_eq!(count(""), 0);
        assert_eq!(count("hello, world!"), 4);
        assert_eq!(count("don't  stop"), 2);
        assert_eq!(count("'quoted'"), 3);
        assert_eq!(count("çà 42 €"), 3);
    }
}
