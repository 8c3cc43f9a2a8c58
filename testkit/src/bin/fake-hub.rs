//! Serves a folder as one model repository of the Hub stand-in, for the
//! benchmark: `fake-hub --dir DIR --repo ORG/NAME [--rtt-ms 40]
//! [--conn-mbps 20] [--total-mbps 400] [--lfs-threshold 1000000]`.
//! [--backlog 4096]`. Prints `HF_ENDPOINT=<url>` once listening; runs until
//! killed. Each `records` line read on stdin prints the requests seen so
//! far (one JSON object per line, times in ms from the start, `conn` the
//! connection's number per origin) then `END`, and forgets them.

use std::io::Write as _;
use std::time::Duration;

use testkit::hub::{Hub, HubConfig, HubRepo, Shaping};

fn main() -> anyhow::Result<()> {
    let mut dir = None;
    let mut repo = None;
    let mut rtt_ms = 0u64;
    let mut conn_mbps = None;
    let mut total_mbps = None;
    let mut lfs_threshold = 1_000_000u64;
    let mut backlog = 1024u32;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--dir" => dir = Some(value()?),
            "--repo" => repo = Some(value()?),
            "--rtt-ms" => rtt_ms = value()?.parse()?,
            "--conn-mbps" => conn_mbps = Some(value()?.parse::<f64>()?),
            "--total-mbps" => total_mbps = Some(value()?.parse::<f64>()?),
            "--lfs-threshold" => lfs_threshold = value()?.parse()?,
            "--backlog" => backlog = value()?.parse()?,
            other => anyhow::bail!(
                "unknown flag {other}; usage: fake-hub --dir DIR --repo ORG/NAME [--rtt-ms N] [--conn-mbps MB/s] [--total-mbps MB/s] [--lfs-threshold BYTES] [--backlog N]"
            ),
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("--dir DIR is required"))?;
    let repo = repo.ok_or_else(|| anyhow::anyhow!("--repo ORG/NAME is required"))?;
    let mb = |v: f64| (v * 1e6) as u64;
    let hub = Hub::start(HubConfig {
        repos: vec![HubRepo::from_dir(&repo, dir.as_ref(), lfs_threshold)?],
        shaping: Shaping {
            rtt: Duration::from_millis(rtt_ms),
            per_connection: conn_mbps.map(mb),
            total: total_mbps.map(mb),
        },
        backlog,
        ..HubConfig::default()
    })?;
    println!("HF_ENDPOINT={}", hub.endpoint());
    std::io::stdout().flush()?;
    for line in std::io::stdin().lines() {
        if line?.trim() == "records" {
            print_records(&hub)?;
        }
    }
    // Stdin closed: serve until killed.
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn print_records(hub: &Hub) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for r in hub.records() {
        let line = serde_json::json!({
            "origin": format!("{:?}", r.origin),
            "conn": r.conn,
            "uri": r.uri,
            "range": r.range,
            "status": r.status,
            "at": ms(r.at),
            "ended": r.ended.map(ms),
        });
        writeln!(out, "{line}")?;
    }
    hub.clear_records();
    writeln!(out, "END")?;
    out.flush()?;
    Ok(())
}
