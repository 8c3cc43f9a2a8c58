//! A local package index: pypiserver on 127.0.0.1 with an htpasswd file
//! (made with passlib) guarding uploads, never falling back to PyPI
//! unless told to.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::python::{free_port, target_dir, test_python};

/// A running pypiserver; killed and its folder removed when dropped.
pub struct PypiServer {
    child: Child,
    /// Its port.
    pub port: u16,
    /// The upload URL (`http://127.0.0.1:PORT/`).
    pub url: String,
    /// Where it stores packages.
    pub packages: PathBuf,
    root: PathBuf,
}

impl PypiServer {
    /// Starts pypiserver with user `__token__` and `password` (handed to
    /// passlib through the environment, never argv).
    pub fn start(password: &str) -> anyhow::Result<PypiServer> {
        PypiServer::start_with(password, &["-a", "update", "--disable-fallback"])
    }

    /// [`PypiServer::start`] with these options instead of `-a update
    /// --disable-fallback` (`-a list,update`: reads need the password too;
    /// `--fallback-url URL`: an unknown project is redirected there).
    pub fn start_with(password: &str, options: &[&str]) -> anyhow::Result<PypiServer> {
        let python = test_python()?;
        let port = free_port();
        let root = target_dir().join(format!("pypiserver-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let packages = root.join("packages");
        std::fs::create_dir_all(&packages)?;
        let htpasswd = root.join("htpasswd");
        let out = Command::new(&python)
            .args([
                "-c",
                "import os,sys\nfrom passlib.apache import HtpasswdFile\n\
                 h = HtpasswdFile(sys.argv[1], new=True)\n\
                 h.set_password('__token__', os.environ['HTPASSWD_PASSWORD'])\nh.save()",
            ])
            .arg(&htpasswd)
            .env("HTPASSWD_PASSWORD", password)
            .output()
            .context("running passlib")?;
        if !out.status.success() {
            bail!("passlib failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "pypiserver", "run", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-P")
            .arg(&htpasswd)
            .args(options)
            .arg(&packages);
        PypiServer::spawn(cmd, port, root, packages)
    }

    /// pypiserver taking uploads as PyPI does with project-scoped tokens:
    /// user `__token__`, and each token in `tokens` (`(project, token)`)
    /// uploads only its project (another project's upload is 403). The
    /// tokens reach the server through its environment, never argv.
    pub fn start_scoped(tokens: &[(&str, &str)]) -> anyhow::Result<PypiServer> {
        const SCRIPT: &str = r#"
import json, os, re, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIServer, make_server
import pypiserver
from pypiserver.bottle_wrapper import request
tokens = json.loads(os.environ.pop("SCOPED_TOKENS"))
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
def auther(user, password):
    project = tokens.get(password)
    if user != "__token__" or project is None:
        return False
    name = request.forms.get("name")
    return name is None or norm(name) == norm(project)
app = pypiserver.app(root=[sys.argv[2]], authenticate=["update"], auther=auther,
                     disable_fallback=True)
class Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True
make_server("127.0.0.1", int(sys.argv[1]), app, server_class=Threaded).serve_forever()
"#;
        let python = test_python()?;
        let port = free_port();
        let root = target_dir().join(format!("pypiserver-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let packages = root.join("packages");
        std::fs::create_dir_all(&packages)?;
        let map: serde_json::Map<String, serde_json::Value> = tokens
            .iter()
            .map(|(project, token)| ((*token).to_owned(), (*project).into()))
            .collect();
        let mut cmd = Command::new(&python);
        cmd.args(["-c", SCRIPT])
            .arg(port.to_string())
            .arg(&packages)
            .env("SCOPED_TOKENS", serde_json::Value::Object(map).to_string());
        PypiServer::spawn(cmd, port, root, packages)
    }

    /// Starts `cmd` (logging into `root`) and waits until `port` listens.
    fn spawn(
        mut cmd: Command,
        port: u16,
        root: PathBuf,
        packages: PathBuf,
    ) -> anyhow::Result<PypiServer> {
        let log = std::fs::File::create(root.join("server.log"))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting pypiserver")?;
        let mut server = PypiServer {
            child,
            port,
            url: format!("http://127.0.0.1:{port}/"),
            packages,
            root,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "pypiserver exited ({status}): {}",
                    std::fs::read_to_string(server.root.join("server.log")).unwrap_or_default()
                );
            }
            if Instant::now() > deadline {
                bail!("pypiserver did not listen on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    /// The simple index (`http://127.0.0.1:PORT/simple/`).
    pub fn simple_url(&self) -> String {
        format!("{}simple/", self.url)
    }

    /// File names it holds, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.packages)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Its log so far (requests, errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
