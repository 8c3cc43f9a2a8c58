//! Cleanup that also runs on Ctrl-C: a rehearsal's local index and its
//! temporary folders go away however the run ends.
//!
//! Each resource registers a closure and keeps a [`Guard`]; dropping the
//! guard runs the closure (the normal path). On an interrupt a watcher
//! thread runs every closure still registered, then exits with 130. Each
//! closure runs at most once.
//!
//! What counts as an interrupt is the platform's: SIGINT and SIGTERM on
//! Unix; Ctrl-C, Ctrl-Break and closing the console window on Windows,
//! which has no Unix signals (a `taskkill /F` or a CI cancel that kills
//! the process tree cannot be caught on either side).

use std::sync::{Mutex, Once};

type Action = Box<dyn FnOnce() + Send>;

static ACTIONS: Mutex<Vec<(u64, Action)>> = Mutex::new(Vec::new());
static NEXT: Mutex<u64> = Mutex::new(0);
static HANDLER: Once = Once::new();

/// Runs its cleanup when dropped.
#[must_use = "the cleanup runs when the guard is dropped"]
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(action) = take(self.0) {
            action();
        }
    }
}

/// Catches interrupts (see the module docs) from now on (idempotent). Returns once the
/// handler is in place: call it before creating anything that needs
/// cleaning up, or a Ctrl-C in between kills the process without cleanup.
pub fn install() {
    install_handler();
}

/// Registers `action` to run when the guard drops, or on Ctrl-C.
pub fn register(action: impl FnOnce() + Send + 'static) -> Guard {
    install_handler();
    let id = {
        let mut n = NEXT.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        *n
    };
    ACTIONS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, Box::new(action)));
    Guard(id)
}

fn take(id: u64) -> Option<Action> {
    let mut actions = ACTIONS.lock().unwrap_or_else(|e| e.into_inner());
    let i = actions.iter().position(|(k, _)| *k == id)?;
    Some(actions.remove(i).1)
}

/// Runs every registered action, newest first.
pub fn run_all() {
    let all: Vec<(u64, Action)> =
        std::mem::take(&mut *ACTIONS.lock().unwrap_or_else(|e| e.into_inner()));
    for (_, action) in all.into_iter().rev() {
        action();
    }
}

fn install_handler() {
    HANDLER.call_once(|| {
        let (ready, is_ready) = std::sync::mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("cleanup-on-signal".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async {
                    if interrupted(ready).await {
                        eprintln!(
                            "\ninterrupted: cleaning up the rehearsal (local index, temporary folders)"
                        );
                        run_all();
                        std::process::exit(130);
                    }
                });
            });
        if spawned.is_ok() {
            // Until the watcher has registered, a signal would kill the
            // process with nothing cleaned up. (An error drops the sender.)
            let _ = is_ready.recv_timeout(std::time::Duration::from_secs(5));
        }
    });
}

/// Waits for SIGINT or SIGTERM. Sends on `ready` once the OS handlers are
/// in place; returns false (nothing to wait for) if they cannot be.
#[cfg(unix)]
async fn interrupted(ready: std::sync::mpsc::Sender<()>) -> bool {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return false;
    };
    // The OS handlers are in place once `signal` returned.
    let _ = ready.send(());
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    true
}

/// Waits for Ctrl-C, Ctrl-Break or the console window closing (Windows
/// gives a closing console a few seconds, enough for the cleanup). Sends on
/// `ready` once the console handlers are in place; returns false if they
/// cannot be.
#[cfg(windows)]
async fn interrupted(ready: std::sync::mpsc::Sender<()>) -> bool {
    use tokio::signal::windows::{ctrl_break, ctrl_c, ctrl_close};
    let (Ok(mut c), Ok(mut brk), Ok(mut close)) = (ctrl_c(), ctrl_break(), ctrl_close()) else {
        return false;
    };
    // The handlers are registered once the constructors returned.
    let _ = ready.send(());
    tokio::select! {
        _ = c.recv() => {}
        _ = brk.recv() => {}
        _ = close.recv() => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn guard_runs_once() {
        let n = Arc::new(AtomicUsize::new(0));
        let m = n.clone();
        let g = register(move || {
            m.fetch_add(1, Ordering::SeqCst);
        });
        drop(g);
        run_all();
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }
}
