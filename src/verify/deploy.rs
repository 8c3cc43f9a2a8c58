//! Production deploy: ORG_DOMAIN resolves (the how-to's `host "$ORG_DOMAIN"`).

use super::{Inputs, Outcome};

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(domain) = inputs.explicit("ORG_DOMAIN") else {
        return Outcome::skipped("not configured: ORG_DOMAIN is not set (default `localhost`)");
    };
    let domain = domain.expose().trim().to_owned();
    if let Some(p) = inputs.format_problem("ORG_DOMAIN", &domain) {
        return Outcome::fail(p);
    }
    match tokio::net::lookup_host((domain.as_str(), 443)).await {
        Ok(addrs) => {
            let addrs: Vec<std::net::IpAddr> = addrs.map(|a| a.ip()).collect();
            let mut ips: Vec<String> = addrs.iter().map(|ip| ip.to_string()).collect();
            ips.sort();
            ips.dedup();
            let out = Outcome::pass(format!("{domain} resolves to {}", ips.join(", ")));
            if super::all_loopback(&addrs) {
                out.warn(format!(
                    "{domain} is this machine: production serves a public domain"
                ))
            } else {
                out
            }
        }
        Err(e) => Outcome::fail(format!(
            "{domain} does not resolve ({e}); create its DNS record or fix ORG_DOMAIN"
        )),
    }
}
