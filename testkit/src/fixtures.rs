//! Projects and packages written here for the adoption tests: pure wheels
//! an index of the user's own serves, and a VS Code extension compiled by
//! TypeScript with its lockfile.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use crate::python::test_python;

/// Writes the pure wheel `name-version-py3-none-any.whl` into `dir`: its
/// `files` (path, text), and `requires` as `Requires-Dist`.
pub fn pure_wheel(
    dir: &Path,
    name: &str,
    version: &str,
    files: &[(&str, &str)],
    requires: &[&str],
) -> anyhow::Result<PathBuf> {
    let stem = format!("{}-{version}", name.replace('-', "_"));
    let path = dir.join(format!("{stem}-py3-none-any.whl"));
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        metadata.push_str(&format!("Requires-Dist: {r}\n"));
    }
    let mut entries: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    entries.push((format!("{stem}.dist-info/METADATA"), metadata));
    entries.push((
        format!("{stem}.dist-info/WHEEL"),
        "Wheel-Version: 1.0\nGenerator: testkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n".into(),
    ));
    let entries = serde_json::to_string(&entries)?;
    // RECORD lists every file with its hash, as installers expect.
    let code = "import sys, json, zipfile, hashlib, base64\n\
        entries = json.loads(sys.argv[2])\n\
        record = sys.argv[3]\n\
        lines = []\n\
        with zipfile.ZipFile(sys.argv[1], 'w') as z:\n\
        \x20   for p, t in entries:\n\
        \x20       b = t.encode()\n\
        \x20       z.writestr(p, b)\n\
        \x20       h = base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()\n\
        \x20       lines.append(f'{p},sha256={h},{len(b)}')\n\
        \x20   lines.append(record + ',,')\n\
        \x20   z.writestr(record, '\\n'.join(lines) + '\\n')\n";
    let out = Command::new(test_python()?)
        .args(["-c", code])
        .arg(&path)
        .arg(entries)
        .arg(format!("{stem}.dist-info/RECORD"))
        .output()
        .context("running python")?;
    if !out.status.success() {
        bail!(
            "writing {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(path)
}

/// The TypeScript the extension is compiled from.
pub const TS_EXTENSION_SOURCE: &str = "const greeting: string = 'fixture-ts';\n\n\
export function activate(): string {\n  return greeting;\n}\n\n\
export function deactivate(): void {}\n";

/// The extension's `package.json`: `vscode:prepublish` runs `tsc`, a
/// devDependency; `postinstall`, when given, runs at the end of `npm ci`.
pub fn ts_extension_manifest(prepublish: &str, postinstall: Option<&str>) -> String {
    let postinstall = postinstall
        .map(|s| format!(", \"postinstall\": {s:?}"))
        .unwrap_or_default();
    format!(
        r#"{{
  "name": "fixture-ts",
  "displayName": "Fixture TS",
  "description": "A fixture compiled by TypeScript",
  "version": "0.5.0",
  "publisher": "fixture-pub",
  "license": "MIT",
  "repository": {{"type": "git", "url": "https://example.invalid/fixture-ts"}},
  "engines": {{"vscode": "^1.85.0"}},
  "main": "./out/extension.js",
  "activationEvents": [],
  "scripts": {{"vscode:prepublish": {prepublish:?}{postinstall}}},
  "devDependencies": {{"typescript": "5.6.3"}}
}}
"#
    )
}

/// Its lockfile, as `npm install --package-lock-only` (npm 11) wrote it.
pub const TS_EXTENSION_LOCK: &str = r#"{
  "name": "fixture-ts",
  "version": "0.5.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "fixture-ts",
      "version": "0.5.0",
      "license": "MIT",
      "devDependencies": {
        "typescript": "5.6.3"
      },
      "engines": {
        "vscode": "^1.85.0"
      }
    },
    "node_modules/typescript": {
      "version": "5.6.3",
      "integrity": "sha512-hjcS1mhfuyi4WW8IWtjP7brDrG2cuDZukyrYrSauoXGNgx0S7zceP07adYkJycEr56BOUTNPzbInooiN3fn1qw==",
      "dev": true,
      "license": "Apache-2.0",
      "bin": {
        "tsc": "bin/tsc",
        "tsserver": "bin/tsserver"
      },
      "engines": {
        "node": ">=14.17"
      }
    }
  }
}
"#;

/// The files of the TypeScript extension (path, text), `vscode:prepublish`
/// being `tsc -p ./`.
pub fn ts_extension() -> Vec<(&'static str, String)> {
    vec![
        ("package.json", ts_extension_manifest("tsc -p ./", None)),
        ("package-lock.json", TS_EXTENSION_LOCK.to_owned()),
        (
            "tsconfig.json",
            "{\n  \"compilerOptions\": {\"module\": \"commonjs\", \"target\": \"es2020\", \"outDir\": \"out\", \
             \"rootDir\": \"src\", \"strict\": true, \"types\": []},\n  \"include\": [\"src\"]\n}\n"
                .to_owned(),
        ),
        ("src/extension.ts", TS_EXTENSION_SOURCE.to_owned()),
        ("README.md", "# Fixture TS\n\nCompiled by TypeScript.\n".to_owned()),
        ("LICENSE", "MIT License\n".to_owned()),
        (".vscodeignore", "src/**\ntsconfig.json\nnode_modules/**\n".to_owned()),
    ]
}
