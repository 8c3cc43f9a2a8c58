//! The client for blocking callers: the same [`Client`], driven by a
//! private current-thread runtime made on first use.

use std::sync::OnceLock;

use super::{Client, Failure, Full, NetError, Request, RetryPolicy};

/// [`Client`] for code that is not async. Must not be used from inside a
/// tokio runtime (it blocks the thread).
pub struct Blocking {
    client: Client,
    runtime: OnceLock<Result<tokio::runtime::Runtime, String>>,
}

impl Blocking {
    /// A client with the default timeouts.
    pub fn new() -> Result<Blocking, NetError> {
        Ok(Blocking::from_client(Client::new()?))
    }

    /// Wraps a client.
    pub fn from_client(client: Client) -> Blocking {
        Blocking {
            client,
            runtime: OnceLock::new(),
        }
    }

    /// The async client inside.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// [`Client::send`], reading the whole body (at most
    /// [`super::DEFAULT_BODY_LIMIT`] bytes).
    pub fn send(&self, req: &Request, policy: &RetryPolicy) -> Result<Full, Failure> {
        self.send_within(req, policy, super::DEFAULT_BODY_LIMIT)
    }

    /// [`Client::send`], reading the whole body, at most `limit` bytes.
    pub fn send_within(
        &self,
        req: &Request,
        policy: &RetryPolicy,
        limit: u64,
    ) -> Result<Full, Failure> {
        self.block_on(async {
            let resp = self.client.send(req, policy).await?;
            resp.full_within(limit)
                .await
                .map_err(|error| Failure::Network { error, attempts: 1 })
        })?
    }

    /// Runs `fut` to completion on the private runtime.
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> Result<F::Output, Failure> {
        let rt = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the HTTP runtime: {e}"))
        });
        match rt {
            Ok(rt) => Ok(rt.block_on(fut)),
            Err(e) => Err(Failure::Network {
                error: NetError::setup_msg(e.clone()),
                attempts: 0,
            }),
        }
    }
}
