//! Findings as SARIF 2.1.0, the format GitHub code scanning takes
//! (`github/codeql-action/upload-sarif`): one run, the rules that can fire,
//! one result per finding with its place and a partial fingerprint. Like
//! every output of the scanner it holds no secret: the message is the masked
//! preview, the fingerprint the finding's hash.

use serde_json::{Value, json};

use super::{Finding, RULES, Report};

/// The rule id of a finding of a loaded secret's value.
pub const LIVE_RULE: &str = "live-secret";
/// The rule id of a staged `.env` file.
pub const FILE_RULE: &str = "env-file";

/// The SARIF log of `report`. `version` is the tool's version.
pub fn to_sarif(report: &Report, version: &str) -> Value {
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|r| rule(r.id, r.about, "remove it, rotate it, and keep it in .env"))
        .collect();
    rules.push(rule(
        LIVE_RULE,
        "the value of a secret loaded from .env or the environment (plain or encoded)",
        "remove it and rotate it: cargo xtask env rotate VAR",
    ));
    rules.push(rule(
        FILE_RULE,
        "a .env file other than .env.example, staged or committed",
        "unstage it (git rm --cached FILE) and list .env and .env.* in .gitignore",
    ));
    let ids: Vec<String> = rules
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let results: Vec<Value> = report.findings.iter().map(|f| result(f, &ids)).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "release-kit scan",
                "semanticVersion": version,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn rule(id: &str, about: &str, help: &str) -> Value {
    json!({
        "id": id,
        "name": id,
        "shortDescription": {"text": about},
        "fullDescription": {"text": about},
        "help": {"text": help},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security", "secret"]},
    })
}

fn result(f: &Finding, ids: &[String]) -> Value {
    let rule_id = match f.kind {
        "live" => LIVE_RULE,
        "file" => FILE_RULE,
        _ => f.rule.as_str(),
    };
    let index = ids.iter().position(|i| i == rule_id).unwrap_or(0);
    let text = match f.kind {
        "live" => format!("the value of {} is here: {}", f.what(), f.masked),
        _ => format!("{}: {}", f.what(), f.masked),
    };
    let mut result = json!({
        "ruleId": rule_id,
        "ruleIndex": index,
        "level": "error",
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri(&f.path)},
            "region": {"startLine": f.line.max(1), "startColumn": f.column.max(1)},
        }}],
        "partialFingerprints": {"secretFingerprint/v1": f.fingerprint},
    });
    if let Some(commit) = &f.commit {
        result["properties"] = json!({"commit": commit});
    }
    result
}

/// A relative path as a URI reference: `/` separators, and the bytes a URI
/// cannot hold percent-encoded.
fn uri(path: &str) -> String {
    crate::secret::percent_encode_keeping(path, b"-_.~/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{LiveValue, Origin, Scanner};
    use crate::secret::Secret;

    #[test]
    fn results_name_the_rule_and_place_never_the_secret() {
        let canary = "CANARY-sarif-5e1f0c9b";
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // xtask:allow
        let s = Scanner::new(
            true,
            &[LiveValue {
                name: "HF_TOKEN".into(),
                value: Secret::new(canary),
            }],
        )
        .unwrap();
        let mut report = Report::default();
        let text = format!("a {canary}\nAUDIT_HMAC_KEY={key}\n");
        s.scan_block(
            text.as_bytes(),
            1,
            &Origin::file("dir/my file.txt"),
            &mut report.findings,
        );
        let log = to_sarif(&report, "0.1.0");
        let dump = log.to_string();
        assert!(
            !dump.contains(canary) && !dump.contains(&key[..12]),
            "{dump}"
        );
        let results = log["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["ruleId"], LIVE_RULE);
        assert_eq!(results[1]["ruleId"], "hex-key");
        let loc = &results[1]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "dir/my%20file.txt");
        assert_eq!(loc["region"]["startLine"], 2);
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let i = results[1]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], "hex-key");
        assert_eq!(
            results[1]["partialFingerprints"]["secretFingerprint/v1"],
            report.findings[1].fingerprint
        );
    }
}
