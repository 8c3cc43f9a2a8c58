//! The layers of the library, enforced: the import graph of its modules,
//! read from the source (a module that imports another by `use` or by a
//! path in the code depends on it), checked against the layer table
//! [`LAYERS`] (the same table as ARCHITECTURE.md's Layers section): no
//! import points to a higher layer, and no two modules depend on each
//! other, even through others, neither files nor top-level modules.
//!
//! A tidy test rather than one crate per layer: the xtask compiles in
//! every CI run, and one crate compiles faster than eight.
//!
//! [`module_graph`] and [`cycles`] take any folder of the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module → the modules (of the same folder) it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The import graph of the modules under `dir` (a folder of `src_root`):
/// nodes are module paths (`pypi`, `pypi::build`, `pypi::package::files`),
/// edges the imports between them. Test modules (`#[cfg(test)]`) are left
/// out: they may reach anywhere.
fn module_graph(src_root: &Path, dir: &Path) -> Graph {
    let files = rs_files(dir);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(src_root, f), f.clone()))
        .collect();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut graph = Graph::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let code = without_tests(&strip_comments_and_strings(&text));
        let is_mod_rs = file.file_name().is_some_and(|n| n == "mod.rs");
        let mut deps = BTreeSet::new();
        for path in paths_in(&code) {
            if let Some(dep) = resolve(&path, module, is_mod_rs, &known)
                && dep != *module
            {
                deps.insert(dep);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// Every cycle of `graph`, one per strongly connected group of modules,
/// each as a path that starts and ends at the same module.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in graph.keys() {
        if done.contains(start.as_str()) {
            continue;
        }
        let Some(path) = path_back(graph, start) else {
            continue;
        };
        // One report per group: its members are done.
        for m in graph.keys() {
            if reaches(graph, start, m) && reaches(graph, m, start) {
                done.insert(m);
            }
        }
        out.push(path);
    }
    out
}

/// The shortest path from `start` back to itself, if any (breadth first).
fn path_back(graph: &Graph, start: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue: std::collections::VecDeque<&str> =
        graph[start].iter().map(|s| s.as_str()).collect();
    for n in &queue {
        prev.insert(n, start);
    }
    while let Some(n) = queue.pop_front() {
        if n == start {
            let mut path = vec![start.to_owned()];
            let mut at = prev[start];
            while at != start {
                path.push(at.to_owned());
                at = prev[at];
            }
            path.push(start.to_owned());
            path.reverse();
            return Some(path);
        }
        for next in graph.get(n).into_iter().flatten() {
            if !prev.contains_key(next.as_str()) {
                prev.insert(next, n);
                queue.push_back(next);
            }
        }
    }
    None
}

/// Whether `from` reaches `to` by one or more imports, or is it.
fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::from([from]);
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        for next in graph.get(n).into_iter().flatten() {
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    false
}

/// The `.rs` files under `dir`, sorted.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a readable folder") {
            let path = entry.expect("a folder entry").path();
            // `src/bin/` holds binaries over the library, not its modules.
            if path.is_dir() && path != src().join("bin") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `src/pypi/build.rs` → `pypi::build`; `src/pypi/mod.rs` → `pypi`.
fn module_of(src_root: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src_root)
        .expect("a file under the source root");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts.join("::")
}

/// The source with comments blanked and string and char literals emptied,
/// so that neither can look like a path.
fn strip_comments_and_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                out.extend(text[i..end].chars().filter(|&c| c == '\n'));
                i = end;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) && !ident_before(b, i) => {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let close = format!("\"{}", "#".repeat(hashes));
                let body = i + 1 + hashes + 1;
                let end = text[body..]
                    .find(&close)
                    .map_or(b.len(), |e| body + e + close.len());
                out.push_str("\"\"");
                out.extend(text[i..end].chars().filter(|&c| c == '\n'));
                i = end;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\n' {
                        out.push('\n');
                    }
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                out.push_str("\"\"");
                i += 1;
            }
            b'\'' if b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\') => {
                // A char literal ('a', '\n', '\u{..}'); a lifetime has no closing quote.
                let end = text[i + 1..].find('\'').map_or(b.len(), |e| i + 1 + e + 1);
                out.push_str("' '");
                i = end;
            }
            _ => {
                let c = text[i..].chars().next().expect("a char");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// Whether the byte before `i` continues an identifier (`br"` is not a
/// raw string start, `for` is not `r#`).
fn ident_before(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')
}

/// The code without `#[cfg(test)]` items (test modules and helpers).
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item ends at its `;` or at the brace closing its body.
        let semi = after.find(';').unwrap_or(after.len());
        let open = after.find('{').unwrap_or(after.len());
        let end = if semi < open {
            semi + 1
        } else {
            let mut depth = 0;
            let mut end = after.len();
            for (j, c) in after[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + j + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            end
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Every path the code names: the full paths of `use` trees
/// (`use super::{a, b::C}` gives `super::a` and `super::b::C`) and every
/// `x::y` path elsewhere.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = find_use(rest) {
        out.extend(plain_paths(&rest[..at]));
        let end = rest[at..].find(';').map_or(rest.len(), |e| at + e);
        let tree = without_aliases(&rest[at + 4..end]);
        expand_tree(&[], &tree, &mut out);
        rest = &rest[end..];
    }
    out.extend(plain_paths(rest));
    out
}

/// Where the next `use` item starts (`use` or `pub use`, `pub(crate) use`).
fn find_use(code: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = code[from..].find("use ") {
        let at = from + i;
        let before = code[..at].chars().next_back();
        if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// A use tree without whitespace and without its `as name` renames.
fn without_aliases(tree: &str) -> String {
    let mut out = String::new();
    let mut words = tree.split_whitespace();
    while let Some(w) = words.next() {
        if w == "as" {
            // Keep what closes the list after the new name (`_},`).
            let alias = words.next().unwrap_or("");
            out.extend(
                alias
                    .chars()
                    .skip_while(|c| c.is_alphanumeric() || *c == '_'),
            );
        } else {
            out.push_str(w);
        }
    }
    out
}

/// `prefix` + a use tree (`a::{b, c::d as e, self}`) as full paths.
fn expand_tree(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim_start_matches("::");
    if let Some(open) = tree.find('{') {
        let mut base = prefix.to_vec();
        base.extend(segments(&tree[..open]));
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        for part in split_top(inner) {
            expand_tree(&base, part, out);
        }
    } else {
        let mut path = prefix.to_vec();
        path.extend(segments(tree).into_iter().filter(|s| s != "self"));
        if !path.is_empty() {
            out.push(path);
        }
    }
}

/// `a::b::` → `["a", "b"]`.
fn segments(s: &str) -> Vec<String> {
    s.split("::")
        .filter(|p| !p.is_empty() && *p != "*")
        .map(str::to_owned)
        .collect()
}

/// Splits a use list at its top-level commas.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The `a::b::c` paths of code outside `use` items.
fn plain_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<(usize, char)> = code.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        let starts =
            is_ident(c) && (i == 0 || !(is_ident(chars[i - 1].1) || chars[i - 1].1 == ':'));
        if !starts {
            i += 1;
            continue;
        }
        let mut end;
        let mut j = i;
        loop {
            while j < chars.len() && is_ident(chars[j].1) {
                j += 1;
            }
            end = chars.get(j).map_or(code.len(), |c| c.0);
            if code[end..].starts_with("::") && code[end + 2..].starts_with(is_ident) {
                j += 2;
            } else {
                break;
            }
        }
        let path = &code[at..end];
        if path.contains("::") {
            out.push(segments(path));
        }
        i = j.max(i + 1);
    }
    out
}

/// The module of `known` that `path`, written in `module`, names: the
/// longest known prefix of its absolute form. `None` for paths outside
/// (`std::`, other crates, other folders).
fn resolve(
    path: &[String],
    module: &str,
    is_mod_rs: bool,
    known: &BTreeSet<String>,
) -> Option<String> {
    let mut here: Vec<&str> = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").collect()
    };
    let mut rest = path;
    let mut absolute: Vec<String> = match rest.first().map(String::as_str) {
        Some("crate") => {
            rest = &rest[1..];
            Vec::new()
        }
        Some("super") | Some("self") => {
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "super" => {
                        here.pop()?;
                    }
                    "self" => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            here.iter().map(|s| s.to_string()).collect()
        }
        // A child of a folder module (`venv::ensure` in `pypi/mod.rs`).
        Some(first) if is_mod_rs && known.contains(&format!("{module}::{first}")) => {
            here.iter().map(|s| s.to_string()).collect()
        }
        _ => return None,
    };
    absolute.extend(rest.iter().cloned());
    (1..=absolute.len())
        .rev()
        .map(|n| absolute[..n].join("::"))
        .find(|m| known.contains(m))
}

/// The source folder of the library.
fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn assert_acyclic(folder: &str) {
    let graph = module_graph(&src(), &src().join(folder));
    assert!(graph.len() > 1, "{folder}: no modules found");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "import cycles in src/{folder} (break each: move what both sides need into a module of its own):\n{}",
        format_cycles(&found)
    );
}

#[test]
fn pypi_modules_import_no_cycle() {
    assert_acyclic("pypi");
}

#[test]
fn a_cycle_is_reported_with_its_path() {
    let tmp = std::env::temp_dir().join(format!("layers-{}", std::process::id()));
    let dir = tmp.join("part");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write(
        "mod.rs",
        "pub mod a;\npub mod b;\npub mod c;\npub mod sub;\npub use a::A;\n",
    );
    // a → b by a use tree, b → c by a path in code, c → a by `crate::`.
    write(
        "a.rs",
        "use super::{b::{self, B}, sub as _};\npub struct A;\n",
    );
    write(
        "b.rs",
        "pub struct B;\nfn f() { super::c::g(); }\n// use super::sub;\n",
    );
    write(
        "c.rs",
        "pub fn g() { let _ = \"super::sub::x\"; crate::part::a::A; }\n#[cfg(test)]\nmod tests { use super::super::sub; }\n",
    );
    write("sub/mod.rs", "mod inner;\n");
    write(
        "sub/inner.rs",
        "use super::super::b::B;\nuse std::path::Path;\n",
    );
    let graph = module_graph(&tmp, &dir);
    assert_eq!(
        graph["part::sub::inner"],
        BTreeSet::from(["part::b".to_owned()]),
        "{graph:?}"
    );
    assert_eq!(graph["part"], BTreeSet::from(["part::a".to_owned()]));
    assert!(graph["part::b"].contains("part::c") && !graph["part::b"].contains("part::sub"));
    assert!(
        !graph["part::c"].contains("part::sub"),
        "strings and tests are no imports"
    );
    let found = cycles(&graph);
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(
        found,
        [["part::a", "part::b", "part::c", "part::a"]
            .map(str::to_owned)
            .to_vec()]
    );
}

/// The layers, bottom first: a module may import the modules of its own
/// layer and of the layers below, never one above. ARCHITECTURE.md's
/// Layers section shows the same table (top first); a test keeps them equal.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "core",
        &[
            "error", "secret", "decode", "digest", "platform", "zip", "pep440", "fsread",
        ],
    ),
    ("settings", &["settings"]),
    (
        "foundation",
        &[
            "step",
            "preflight",
            "tools",
            "ci",
            "net",
            "config",
            "version",
            "changelog",
            "cache_dir",
            "members",
            "repo",
        ],
    ),
    ("repository", &["scan", "hooks", "init"]),
    ("subsystems", &["pypi", "vscode", "hf"]),
    ("composition", &["release", "doctor", "verify", "envops"]),
    ("cli", &["cli"]),
];

/// `pypi::build` → `pypi`.
fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// The layer index of each top-level module.
fn layer_of() -> BTreeMap<&'static str, usize> {
    LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i)))
        .collect()
}

/// Modules declared `#[cfg(test)] mod name;` in a file of their own
/// (`init::tests`): test code, which may reach anywhere.
fn test_only_modules(graph: &Graph) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in rs_files(&src()) {
        let module = module_of(&src(), &file);
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            rest = &rest[at + "#[cfg(test)]".len()..];
            let item = rest.trim_start();
            let item = item.strip_prefix("pub(crate) ").unwrap_or(item);
            let Some(name) = item.strip_prefix("mod ") else {
                continue;
            };
            let name = name.split(';').next().unwrap_or("").trim();
            let child = if module.is_empty() {
                name.to_owned()
            } else {
                format!("{module}::{name}")
            };
            if graph.contains_key(&child) && !name.contains(['{', ' ']) {
                out.insert(child);
            }
        }
    }
    out
}

/// The file-level graph of the whole library, without test-only files and
/// the crate root.
fn library_graph() -> Graph {
    let mut graph = module_graph(&src(), &src());
    for m in test_only_modules(&graph) {
        graph.remove(&m);
    }
    graph.remove("");
    for deps in graph.values_mut() {
        deps.remove("");
    }
    graph
}

/// The graph of top-level modules: `a` → `b` when a file of `a` imports
/// a file of `b`.
fn top_level(graph: &Graph) -> Graph {
    let mut out = Graph::new();
    for (m, deps) in graph {
        let entry = out.entry(top(m).to_owned()).or_default();
        entry.extend(
            deps.iter()
                .map(|d| top(d).to_owned())
                .filter(|d| d != top(m)),
        );
    }
    out
}

/// Every import of `graph` that points to a higher layer, in words.
fn upward_imports(graph: &Graph) -> Vec<String> {
    let layers = layer_of();
    let mut out = Vec::new();
    for (m, deps) in graph {
        let from = layers[top(m)];
        for d in deps {
            let to = layers[top(d)];
            if to > from {
                out.push(format!(
                    "  {m} ({}) imports {d} ({})",
                    LAYERS[from].0, LAYERS[to].0
                ));
            }
        }
    }
    out
}

fn format_cycles(found: &[Vec<String>]) -> String {
    found
        .iter()
        .map(|c| format!("  {}", c.join(" -> ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_module_has_one_layer() {
    let graph = library_graph();
    let layers = layer_of();
    let listed: usize = LAYERS.iter().map(|(_, m)| m.len()).sum();
    assert_eq!(listed, layers.len(), "a module is listed in two layers");
    let tops: BTreeSet<&str> = graph.keys().map(|m| top(m)).collect();
    let missing: Vec<&&str> = tops.iter().filter(|m| !layers.contains_key(*m)).collect();
    assert!(
        missing.is_empty(),
        "modules in no layer (add them to LAYERS in tests/layers.rs and to ARCHITECTURE.md): {missing:?}"
    );
    let gone: Vec<&&str> = layers.keys().filter(|m| !tops.contains(*m)).collect();
    assert!(
        gone.is_empty(),
        "LAYERS lists modules that do not exist: {gone:?}"
    );
}

#[test]
fn no_import_points_up() {
    let up = upward_imports(&library_graph());
    assert!(
        up.is_empty(),
        "imports against the layer table (move what both need down, or the importer up):\n{}",
        up.join("\n")
    );
}

/// `graph` without the imports of a folder module (`mod.rs`) into its own
/// files: the folder's face declares, re-exports and dispatches to its
/// children, which use its shared types. Every other edge stays.
fn without_face_edges(graph: &Graph) -> Graph {
    graph
        .iter()
        .map(|(m, deps)| {
            let own = format!("{m}::");
            let deps = deps.iter().filter(|d| !d.starts_with(&own)).cloned();
            (m.clone(), deps.collect())
        })
        .collect()
}

#[test]
fn no_file_imports_itself_through_others() {
    let found = cycles(&without_face_edges(&library_graph()));
    assert!(
        found.is_empty(),
        "import cycles between files (break each: move what both sides need into a module of its own):\n{}",
        format_cycles(&found)
    );
}

#[test]
fn no_top_level_module_imports_itself_through_others() {
    let found = cycles(&top_level(&library_graph()));
    assert!(
        found.is_empty(),
        "import cycles between top-level modules:\n{}",
        format_cycles(&found)
    );
}

/// The rows of the table in ARCHITECTURE.md's Layers section, top first:
/// `| layer | `a`, `b` | what |`.
fn documented_layers(text: &str) -> Vec<(String, Vec<String>)> {
    let text = format!("\n{text}");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Layers"))
        .expect("ARCHITECTURE.md has a Layers section");
    section
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|--") && !l.starts_with("| Layer"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let mods = cells[2]
                .split(',')
                .map(|m| m.trim().trim_matches('`').to_owned())
                .filter(|m| !m.is_empty())
                .collect();
            (cells[1].to_owned(), mods)
        })
        .collect()
}

#[test]
fn architecture_shows_the_same_layers() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(path).expect("ARCHITECTURE.md");
    let mut documented = documented_layers(&text);
    documented.reverse();
    let table: Vec<(String, Vec<String>)> = LAYERS
        .iter()
        .map(|(name, mods)| {
            (
                name.to_string(),
                mods.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        documented, table,
        "ARCHITECTURE.md's layer table differs from LAYERS in tests/layers.rs"
    );
}

#[test]
fn an_upward_import_and_a_module_cycle_are_found() {
    let graph: Graph = [
        ("settings::status", vec!["pypi::token", "secret"]),
        ("pypi::token", vec!["settings"]),
        ("settings", vec!["secret"]),
        ("secret", vec![]),
    ]
    .into_iter()
    .map(|(m, d)| (m.to_owned(), d.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        upward_imports(&graph),
        ["  settings::status (settings) imports pypi::token (subsystems)"]
    );
    assert!(cycles(&graph).is_empty(), "no cycle between files");
    let siblings: Graph = [
        ("hf", vec!["hf::api"]),
        ("hf::api", vec!["hf", "hf::cache"]),
        ("hf::cache", vec!["hf::api"]),
    ]
    .into_iter()
    .map(|(m, d)| (m.to_owned(), d.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        cycles(&without_face_edges(&siblings)),
        [["hf::api", "hf::cache", "hf::api"]
            .map(str::to_owned)
            .to_vec()],
        "a face's edge to its child is dropped, a sibling cycle is kept"
    );
    assert_eq!(
        cycles(&top_level(&graph)),
        [["pypi", "settings", "pypi"].map(str::to_owned).to_vec()]
    );
    let doc = "## Layers\n\n| Layer | Modules | What |\n|---|---|---|\n| top | `a`, `b` | x |\n| low | `c` | y |\n\n## Next\n| no | `d` | z |\n";
    assert_eq!(
        documented_layers(doc),
        [
            ("top".to_owned(), vec!["a".to_owned(), "b".to_owned()]),
            ("low".to_owned(), vec!["c".to_owned()])
        ]
    );
}

/// The `Result<_, String>` types in the signatures of `code`'s functions
/// (public or not) and in its public fields, as written.
fn string_errors(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for (at, _) in code.match_indices("fn ").chain(code.match_indices("pub")) {
        if ident_before(bytes, at) {
            continue;
        }
        let item = &code[at..];
        let sig = if item.starts_with("fn ") {
            &item[..item.find(['{', ';']).unwrap_or(item.len())]
        } else {
            // A public field (functions are read from their `fn`).
            let head = item[3..].trim_start();
            let head = head.strip_prefix("(crate)").unwrap_or(head).trim_start();
            let is_field = head
                .split_once(':')
                .is_some_and(|(name, _)| name.chars().all(|c| c.is_alphanumeric() || c == '_'));
            if !is_field || item[3..].starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            &head[..head.find([';', '\n', '{']).unwrap_or(head.len())]
        };
        out.extend(string_results(sig));
    }
    out
}

/// The `Result<T, String>` types written in `sig`.
fn string_results(sig: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(r) = sig[from..].find("Result<") {
        let args_at = from + r + "Result<".len();
        let (mut depth, mut comma, mut close) = (1, None, sig.len());
        for (i, c) in sig[args_at..].char_indices() {
            match c {
                '<' | '(' => depth += 1,
                '>' | ')' => depth -= 1,
                ',' if depth == 1 => comma = Some(args_at + i),
                _ => {}
            }
            if depth == 0 {
                close = args_at + i;
                break;
            }
        }
        if let Some(comma) = comma
            && sig[comma + 1..close].trim() == "String"
        {
            out.push(sig[from + r..=close.min(sig.len() - 1)].to_owned());
        }
        from = args_at;
    }
    out
}

#[test]
fn the_library_has_no_anyhow_and_no_string_errors() {
    let mut anyhow = Vec::new();
    let mut strings = Vec::new();
    for file in rs_files(&src()) {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let code = without_tests(&strip_comments_and_strings(&text));
        let name = file.strip_prefix(src()).unwrap().display().to_string();
        // The command line (the `cli` feature) is where anyhow belongs.
        if name.starts_with("cli") || name.starts_with("bin") {
            continue;
        }
        if code.contains("anyhow") {
            anyhow.push(name.clone());
        }
        strings.extend(
            string_errors(&code)
                .into_iter()
                .map(|s| format!("  {name}: {s}")),
        );
    }
    assert!(
        anyhow.is_empty(),
        "anyhow is for the CLI; typed errors (thiserror) in the library: {anyhow:?}"
    );
    assert!(
        strings.is_empty(),
        "Result<_, String> in library signatures (give the error a type):\n{}",
        strings.join("\n")
    );
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .expect("Cargo.toml");
    let deps = manifest
        .split("\n[dependencies]")
        .nth(1)
        .and_then(|d| d.split("\n[").next())
        .expect("a [dependencies] table");
    assert!(
        deps.lines()
            .filter(|l| l.starts_with("anyhow"))
            .all(|l| l.contains("optional = true")),
        "the library depends on anyhow other than through its `cli` feature"
    );
}

#[test]
fn string_errors_are_found_in_signatures_and_public_fields() {
    let code = "pub fn a(x: &str) -> Result<(), String> { Err(String::new()) }\n\
                fn private() -> Result<(), String> {}\n\
                pub async fn b(\n    y: u8,\n) -> Result<Vec<(u8, String)>, Problem> {}\n\
                pub(crate) struct S {\n    pub project: Result<Project, String>,\n    other: u8,\n}\n\
                pub fn c() -> std::io::Result<String> {}\n";
    assert_eq!(
        string_errors(code),
        [
            "Result<(), String>",
            "Result<(), String>",
            "Result<Project, String>"
        ]
    );
}
