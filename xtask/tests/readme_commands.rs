//! README.md's command table is kept in step with clap: every command and
//! every flag of `cargo xtask … --help` appears in its rows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

fn help(words: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(words)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "{words:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `--long` flags of a help text's Options (option lines are indented
/// at most 6 spaces; descriptions more).
fn flags(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with('-') && l.len() - t.len() <= 6
        })
        .map(|l| l.trim_start().split("  ").next().unwrap_or(""))
        .flat_map(|l| l.split([' ', ',']))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| w.split(['=', '[', '<']).next().unwrap().to_owned())
        .collect()
}

/// The subcommands a help text lists.
fn commands(text: &str) -> Vec<String> {
    text.split("Commands:")
        .nth(1)
        .map(|rest| rest.split("Options:").next().unwrap_or(""))
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_command_table_lists_every_command_and_flag() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    // Row text by command words (`cargo xtask env status …` → "env status").
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for line in readme.lines().filter(|l| l.starts_with("| `cargo xtask ")) {
        let cell = line.split('`').nth(1).unwrap();
        let words: Vec<&str> = cell
            .trim_start_matches("cargo xtask ")
            .split_whitespace()
            .take_while(|w| {
                !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase() || c == '-')
            })
            .collect();
        rows.entry(words.join(" ")).or_default().push_str(line);
    }
    let global = flags(&help(&[]));
    let mut missing = Vec::new();
    let mut all = Vec::new();
    for top in commands(&help(&[])) {
        let text = help(&[top.as_str()]);
        let subs = commands(&text);
        if subs.is_empty() {
            all.push((vec![top.clone()], text));
        } else {
            for sub in subs {
                let t = help(&[top.as_str(), sub.as_str()]);
                all.push((vec![top.clone(), sub], t));
            }
        }
    }
    for (words, text) in all {
        let key = words.join(" ");
        // `hooks install | uninstall` is one row.
        let row = rows
            .get(&key)
            .cloned()
            .or_else(|| {
                rows.iter()
                    .find(|(k, text)| {
                        k.starts_with(&words[0]) && text.contains(words.last().unwrap().as_str())
                    })
                    .map(|(_, text)| text.clone())
            })
            .unwrap_or_default();
        if row.is_empty() {
            missing.push(format!("no row for `cargo xtask {key}`"));
            continue;
        }
        for flag in flags(&text).difference(&global) {
            if flag != "--help" && !row.contains(flag.as_str()) {
                missing.push(format!("`cargo xtask {key}`: {flag}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's command table lacks:\n{}",
        missing.join("\n")
    );
}
