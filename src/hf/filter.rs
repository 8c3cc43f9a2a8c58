//! huggingface_hub's file selection: `allow_patterns` / `ignore_patterns`.
//!
//! Patterns are matched like Python's `fnmatch.fnmatchcase`: case-sensitive,
//! `*` matches any run of characters *including* `/`, `?` one character,
//! `[abc]` / `[!abc]` / `[a-z]` a set. A pattern ending in `/` means the
//! folder: `onnx/` is `onnx/*`. A file is kept when it matches some include
//! pattern (or there are none) and no exclude pattern.

/// Include and exclude patterns of one model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl Filter {
    /// A filter from include and exclude patterns (empty include = all).
    pub fn new(include: &[String], exclude: &[String]) -> Filter {
        Filter {
            include: include.iter().map(|p| folder_wildcard(p)).collect(),
            exclude: exclude.iter().map(|p| folder_wildcard(p)).collect(),
        }
    }

    /// True when `path` is selected.
    pub fn keeps(&self, path: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| fnmatch(p, path)))
            && !self.exclude.iter().any(|p| fnmatch(p, path))
    }

    /// True when no pattern is set.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }
}

fn folder_wildcard(pattern: &str) -> String {
    if pattern.ends_with('/') {
        format!("{pattern}*")
    } else {
        pattern.to_owned()
    }
}

/// `fnmatch.fnmatchcase(name, pattern)`.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`, which is
    // enough because `*` matches any character here.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = match_set(&p, pi, n[ni]) {
                        if matched {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        // An unclosed `[` is a literal, as in Python.
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the set starting at `p[start] == '['`; returns
/// (matched, index after `]`) or `None` when the set is not closed.
fn match_set(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!'));
    if negate {
        i += 1;
    }
    let first = i;
    let mut matched = false;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && i > first {
            break;
        }
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            let end = p[i + 2];
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("*.json", "config.json"));
        assert!(fnmatch("*.json", "onnx/config.json"), "* crosses /");
        assert!(!fnmatch("*.json", "config.JSON"), "case-sensitive");
        assert!(fnmatch("model.?afetensors", "model.safetensors"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(!fnmatch("[!a-c]x", "bx"));
        assert!(fnmatch("[!a-c]x", "dx"));
        assert!(fnmatch("[]]", "]"));
        assert!(fnmatch("a[b", "a[b"), "unclosed [ is literal");
        assert!(fnmatch("*", ""));
        assert!(!fnmatch("?", ""));
        assert!(fnmatch("*a*b*c", "xxaxxbxxc"));
        assert!(!fnmatch("*a*b*c", "xxaxxcxxb"));
        assert!(fnmatch(
            "pytorch_model*.bin",
            "pytorch_model-00001-of-00002.bin"
        ));
    }

    #[test]
    fn include_exclude_and_folders() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let f = Filter::new(&s(&["*.json", "onnx/"]), &s(&["onnx/*quant*"]));
        assert!(f.keeps("config.json"));
        assert!(f.keeps("onnx/model.onnx"));
        assert!(f.keeps("1_Pooling/config.json"));
        assert!(!f.keeps("onnx/model_quantized.onnx"));
        assert!(!f.keeps("model.safetensors"));
        assert!(!f.keeps("onnxx/model.onnx"));
        let all = Filter::new(&[], &s(&["*.bin"]));
        assert!(all.keeps("model.safetensors") && !all.keeps("pytorch_model.bin"));
        assert!(Filter::default().keeps("anything/at/all"));
    }
}
