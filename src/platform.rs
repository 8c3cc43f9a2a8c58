//! What differs between the platforms release-kit runs on (Linux, macOS,
//! Windows), written as pure functions of an [`Os`] value so that the
//! Windows branches are unit-tested on Linux too. Code that runs a tool
//! asks [`Os::HOST`]; tests ask both.

use std::path::{Path, PathBuf};

/// The platform families whose file layouts differ. macOS is `Unix` here:
/// it lays out virtual environments and programs as Linux does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux, macOS and the other Unixes.
    Unix,
    /// Windows.
    Windows,
}

impl Os {
    /// The platform this build runs on.
    pub const HOST: Os = if cfg!(windows) { Os::Windows } else { Os::Unix };

    /// A program's file name: `python.exe` on Windows, `python` elsewhere.
    pub fn exe(self, name: &str) -> String {
        match self {
            Os::Unix => name.to_owned(),
            Os::Windows => format!("{name}.exe"),
        }
    }

    /// Where a Python virtual environment keeps its programs: `Scripts\`
    /// on Windows, `bin/` elsewhere (the `venv` module's layout).
    pub fn venv_bin(self, venv: &Path) -> PathBuf {
        venv.join(match self {
            Os::Unix => "bin",
            Os::Windows => "Scripts",
        })
    }

    /// A program of a virtual environment: `Scripts\twine.exe` on Windows
    /// (pip writes console scripts as `.exe` launchers there).
    pub fn venv_program(self, venv: &Path, name: &str) -> PathBuf {
        self.venv_bin(venv).join(self.exe(name))
    }

    /// The file npm puts on PATH for a package's command: `vsce.cmd` on
    /// Windows (a batch shim beside a `.ps1` and an extensionless sh
    /// script that Windows cannot run), the command itself elsewhere.
    /// `tools::find_on_path` finds it through `PATHEXT`; we then run the
    /// full path, which Rust's `Command` starts through `cmd.exe` with
    /// its argument quoting (and refuses an argument it cannot quote).
    pub fn npm_shim(self, name: &str) -> String {
        match self {
            Os::Unix => name.to_owned(),
            Os::Windows => format!("{name}.cmd"),
        }
    }

    /// The names a Python 3 interpreter goes by on PATH, best first. On
    /// Windows `python` comes first: the python.org installer and winget
    /// put `python.exe` on PATH, while a `python3.exe` is often the
    /// Microsoft Store's alias, a stub that opens the Store.
    pub fn python_names(self) -> &'static [&'static str] {
        match self {
            Os::Unix => &["python3", "python"],
            Os::Windows => &["python", "python3"],
        }
    }

    /// Whether `c` separates path components: `/` everywhere, and `\` on
    /// Windows too.
    pub fn is_separator(self, c: char) -> bool {
        c == '/' || (self == Os::Windows && c == '\\')
    }

    /// A relative path as the `/`-separated text that repository paths,
    /// ignore patterns and archive members use: `docs\a.md` on Windows
    /// becomes `docs/a.md`; on Unix a `\` is an ordinary character of a
    /// file name and stays.
    pub fn slash_path(self, path: &str) -> String {
        path.chars()
            .map(|c| if self.is_separator(c) { '/' } else { c })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venv_layout_per_platform() {
        let venv = Path::new("target").join("pypi-tools");
        assert_eq!(
            Os::Unix.venv_program(&venv, "python"),
            venv.join("bin").join("python")
        );
        assert_eq!(
            Os::Windows.venv_program(&venv, "python"),
            venv.join("Scripts").join("python.exe")
        );
        assert_eq!(
            Os::Windows.venv_program(&venv, "twine"),
            venv.join("Scripts").join("twine.exe")
        );
    }

    #[test]
    fn tool_names_per_platform() {
        assert_eq!(Os::Unix.exe("maturin"), "maturin");
        assert_eq!(Os::Windows.exe("maturin"), "maturin.exe");
        assert_eq!(Os::Unix.npm_shim("vsce"), "vsce");
        assert_eq!(Os::Windows.npm_shim("npm"), "npm.cmd");
        assert_eq!(Os::Unix.python_names()[0], "python3");
        assert_eq!(Os::Windows.python_names()[0], "python");
    }

    #[test]
    fn backslashes_are_separators_only_on_windows() {
        assert_eq!(Os::Windows.slash_path(r"docs\sub\a.md"), "docs/sub/a.md");
        assert_eq!(Os::Windows.slash_path("docs/a.md"), "docs/a.md");
        assert_eq!(Os::Unix.slash_path(r"odd\name.txt"), r"odd\name.txt");
        assert!(Os::Windows.is_separator('\\'));
        assert!(!Os::Unix.is_separator('\\'));
    }

    #[test]
    fn host_matches_the_build() {
        assert_eq!(Os::HOST == Os::Windows, cfg!(windows));
        assert_eq!(
            Os::HOST.venv_program(Path::new("v"), "python"),
            Path::new("v")
                .join(if cfg!(windows) { "Scripts" } else { "bin" })
                .join(format!("python{}", std::env::consts::EXE_SUFFIX))
        );
    }
}
