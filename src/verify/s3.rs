//! AWS S3 Object Lock: the audit bucket exists, the credentials are valid,
//! Object Lock is on and its default retention is COMPLIANCE for a number
//! of days. `HEAD /{bucket}` then `GET /{bucket}?object-lock`, signed with
//! SigV4; AWS_ENDPOINT_URL points at another S3 (path-style there, as the
//! AWS tools do for custom endpoints).

use super::sigv4::{self, Credentials, EMPTY_SHA256, Signing};
use super::{Inputs, NoAnswer, Outcome};
use crate::net::{Full, Method, Request, Url};

const KEYS_HOWTO: &str = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (an IAM user's access key; `aws sts get-caller-identity` names its owner)";

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(bucket) = inputs.explicit("S3_AUDIT_BUCKET") else {
        let keys = inputs.explicit("AWS_ACCESS_KEY_ID").is_some();
        return Outcome::skipped(if keys {
            "not configured: S3_AUDIT_BUCKET is not set (AWS keys are, but name no bucket to check)"
        } else {
            "not configured: S3_AUDIT_BUCKET is not set"
        });
    };
    let bucket = bucket.expose().trim().to_owned();
    let creds = match credentials(inputs) {
        Ok(c) => c,
        Err(fail) => return fail,
    };
    let region = inputs
        .plain("AWS_DEFAULT_REGION")
        .unwrap_or_else(|| "us-east-1".into());
    let base = bucket_url(
        &bucket,
        &region,
        inputs.plain("AWS_ENDPOINT_URL").as_deref(),
    );
    let Ok(base) = Url::parse(&base) else {
        return Outcome::fail(
            "AWS_ENDPOINT_URL is not a usable URL; set it like http://localhost:9000",
        );
    };
    let where_ = format!("bucket {bucket} at {}", crate::net::describe(&base));

    let bucket_at = BucketAt {
        bucket: &bucket,
        base: &base,
        region: &region,
        where_: &where_,
    };
    if let Err(fail) = head_bucket(inputs, &creds, &bucket_at).await {
        return fail;
    }
    let lock = match send(inputs, Method::GET, &lock_url(&base), &creds, &region).await {
        Ok(f) => f,
        Err(e) => return Outcome::fail(format!("no answer from {e}")),
    };
    let body = lock.text();
    match lock.status {
        200 => judge_lock(&bucket, &body),
        404 if xml_text(&body, "Code") == Some("ObjectLockConfigurationNotFoundError") => {
            Outcome::fail(format!(
                "{where_} exists but Object Lock is not enabled on it: audit records there could be deleted. \
             Create a bucket with `aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket`, \
             then `aws s3api put-object-lock-configuration --bucket NAME --object-lock-configuration \
             '{{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{{\"DefaultRetention\":{{\"Mode\":\"COMPLIANCE\",\"Days\":365}}}}}}'`"
            ))
        }
        403 => Outcome::fail(format!("{where_}: {}", denial(&lock, &bucket))),
        s => Outcome::fail(format!(
            "{where_}: GET ?object-lock answered HTTP {s} {}",
            xml_text(&body, "Code").unwrap_or_default()
        )),
    }
}

/// The bucket being checked, for messages and requests.
struct BucketAt<'a> {
    bucket: &'a str,
    base: &'a Url,
    region: &'a str,
    where_: &'a str,
}

/// The signing keys, once the plain settings read well and both keys are
/// set; else the failure listing every problem.
fn credentials(inputs: &Inputs) -> Result<Credentials, Outcome> {
    let mut problems = Vec::new();
    for name in ["S3_AUDIT_BUCKET", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"] {
        if let Some(v) = inputs.plain(name)
            && let Some(p) = inputs.format_problem(name, &v)
        {
            problems.push(p);
        }
    }
    let (Some(id), Some(secret)) = (
        inputs.explicit("AWS_ACCESS_KEY_ID"),
        inputs.explicit("AWS_SECRET_ACCESS_KEY"),
    ) else {
        problems.push(
            "S3_AUDIT_BUCKET is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; create an access key (AWS console -> IAM -> Users -> Security credentials)".into(),
        );
        return Err(Outcome::fail(problems.join("; ")));
    };
    if !problems.is_empty() {
        return Err(Outcome::fail(problems.join("; ")));
    }
    Ok(Credentials {
        access_key_id: id.clone(),
        secret_access_key: secret.clone(),
        session_token: inputs.explicit("AWS_SESSION_TOKEN").cloned(),
    })
}

/// `HEAD /{bucket}`: the bucket exists, in this region, and the keys may
/// read it; else the failure saying which.
async fn head_bucket(
    inputs: &Inputs,
    creds: &Credentials,
    b: &BucketAt<'_>,
) -> Result<(), Outcome> {
    let BucketAt {
        bucket,
        base,
        region,
        where_,
    } = *b;
    let head = send(inputs, Method::HEAD, base, creds, region)
        .await
        .map_err(|e| Outcome::fail(format!("no answer from {e}")))?;
    let message = match head.status {
        200 => return Ok(()),
        404 => format!(
            "{where_} does not exist; create it with Object Lock: aws s3api create-bucket --bucket {bucket} --object-lock-enabled-for-bucket, or fix S3_AUDIT_BUCKET"
        ),
        301 | 400
            if head
                .header("x-amz-bucket-region")
                .is_some_and(|r| r != region) =>
        {
            let actual = head.header("x-amz-bucket-region").unwrap_or_default();
            format!(
                "{where_}: the bucket is in region {actual}, not {region}; set AWS_DEFAULT_REGION={actual}"
            )
        }
        403 => {
            // HEAD answers carry no body: ask again with GET for the reason.
            let why = match send(inputs, Method::GET, &lock_url(base), creds, region).await {
                Ok(f) => denial(&f, bucket),
                Err(e) => format!("access denied (HTTP 403), and then no answer from {e}"),
            };
            format!("{where_}: {why}")
        }
        s => format!(
            "{where_}: HEAD answered HTTP {s}; check AWS_ENDPOINT_URL and AWS_DEFAULT_REGION"
        ),
    };
    Err(Outcome::fail(message))
}

/// The bucket's URL: virtual-hosted on AWS (path-style for names with
/// dots, which the wildcard certificate does not cover), path-style on a
/// custom endpoint.
fn bucket_url(bucket: &str, region: &str, endpoint: Option<&str>) -> String {
    match endpoint {
        Some(e) => format!("{}/{bucket}", e.trim_end_matches('/')),
        None if bucket.contains('.') => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
    }
}

fn lock_url(base: &Url) -> Url {
    let mut u = base.clone();
    u.set_query(Some("object-lock"));
    u
}

async fn send(
    inputs: &Inputs,
    method: Method,
    url: &Url,
    creds: &Credentials,
    region: &str,
) -> Result<Full, NoAnswer> {
    let date = sigv4::amz_date(std::time::SystemTime::now());
    let token = creds.session_token.as_ref().map(|t| t.expose());
    let mut signed: Vec<(&str, &str)> = vec![
        ("x-amz-content-sha256", EMPTY_SHA256),
        ("x-amz-date", &date),
    ];
    if let Some(t) = token {
        signed.push(("x-amz-security-token", t));
    }
    let authorization = sigv4::authorization(
        &Signing {
            method: method.as_str(),
            url,
            headers: &signed,
            payload_sha256: EMPTY_SHA256,
            region,
            service: "s3",
            amz_date: &date,
        },
        creds,
    );
    let mut req = Request::new(method, url.as_str())
        .header("x-amz-content-sha256", EMPTY_SHA256)
        .header("x-amz-date", &date)
        .secret_header("Authorization", authorization);
    if let Some(t) = &creds.session_token {
        req = req.secret_header("x-amz-security-token", t.clone());
    }
    inputs.fetch(&req).await
}

/// Why S3 said 403, from its error code.
fn denial(answer: &Full, bucket: &str) -> String {
    let body = answer.text();
    match xml_text(&body, "Code").unwrap_or_default() {
        "InvalidAccessKeyId" => format!(
            "S3 does not know AWS_ACCESS_KEY_ID (InvalidAccessKeyId): the key was deleted, deactivated, or belongs to another account or endpoint; {KEYS_HOWTO}"
        ),
        "SignatureDoesNotMatch" => format!(
            "S3 refused the signature (SignatureDoesNotMatch): AWS_SECRET_ACCESS_KEY does not belong to AWS_ACCESS_KEY_ID; {KEYS_HOWTO}"
        ),
        "InvalidToken" | "ExpiredToken" => {
            "the session token is invalid or expired (AWS_SESSION_TOKEN); get fresh temporary credentials".into()
        }
        "AccessDenied" => format!(
            "the credentials are valid but may not read this bucket's Object Lock configuration (AccessDenied); allow s3:GetBucketObjectLockConfiguration and s3:ListBucket on arn:aws:s3:::{bucket}"
        ),
        "" => format!("access denied (HTTP {}); {KEYS_HOWTO}", answer.status),
        code => format!("access denied ({code}); {KEYS_HOWTO}"),
    }
}

/// What the Object Lock configuration says.
fn judge_lock(bucket: &str, xml: &str) -> Outcome {
    if xml_text(xml, "ObjectLockEnabled") != Some("Enabled") {
        return Outcome::fail(format!(
            "bucket {bucket}: Object Lock is not enabled; audit records there could be deleted"
        ));
    }
    let mode = xml_text(xml, "Mode");
    let days = xml_text(xml, "Days")
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| *d > 0);
    let years = xml_text(xml, "Years")
        .and_then(|d| d.parse::<u32>().ok())
        .filter(|d| *d > 0);
    let fix = "aws s3api put-object-lock-configuration --bucket NAME --object-lock-configuration '{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\"COMPLIANCE\",\"Days\":365}}}'";
    match (mode, days, years) {
        (None, _, _) => Outcome::fail(format!(
            "bucket {bucket}: Object Lock is enabled but has no default retention, so records are not locked unless each upload asks; set one: {fix}"
        )),
        (Some("COMPLIANCE"), Some(d), _) => Outcome::pass(format!(
            "bucket {bucket} exists, the credentials are valid, Object Lock is enabled with COMPLIANCE default retention of {d} day(s)"
        )),
        (Some("COMPLIANCE"), None, Some(y)) => Outcome::fail(format!(
            "bucket {bucket}: the default retention is COMPLIANCE for {y} year(s); the audit backend expects it in days: {fix}"
        )),
        (Some("COMPLIANCE"), None, None) => Outcome::fail(format!(
            "bucket {bucket}: the default retention has no period; {fix}"
        )),
        (Some(other), _, _) => Outcome::fail(format!(
            "bucket {bucket}: the default retention mode is {other}, not COMPLIANCE: in {other} mode privileged users can delete audit records; {fix}"
        )),
    }
}

/// The text of the first `<tag>…</tag>` (S3's XML answers are flat enough).
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            bucket_url("audit", "eu-west-1", None),
            "https://audit.s3.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            bucket_url("a.b", "eu-west-1", None),
            "https://s3.eu-west-1.amazonaws.com/a.b"
        );
        assert_eq!(
            bucket_url("audit", "us-east-1", Some("http://127.0.0.1:9000/")),
            "http://127.0.0.1:9000/audit"
        );
        let u = lock_url(&Url::parse("http://h:1/audit").unwrap());
        assert_eq!(u.as_str(), "http://h:1/audit?object-lock");
    }

    #[test]
    fn lock_configurations() {
        let cfg = |rule: &str| {
            format!(
                "<?xml version=\"1.0\"?><ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>{rule}</ObjectLockConfiguration>"
            )
        };
        let o = judge_lock(
            "b",
            &cfg(
                "<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days></DefaultRetention></Rule>",
            ),
        );
        assert_eq!(o.status, super::super::Status::Pass, "{}", o.message);
        assert!(o.message.contains("30 day(s)"));
        let o = judge_lock(
            "b",
            &cfg(
                "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>",
            ),
        );
        assert!(
            o.message.contains("GOVERNANCE, not COMPLIANCE"),
            "{}",
            o.message
        );
        let o = judge_lock(
            "b",
            &cfg(
                "<Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Years>1</Years></DefaultRetention></Rule>",
            ),
        );
        assert!(o.message.contains("1 year(s)"), "{}", o.message);
        let o = judge_lock("b", &cfg(""));
        assert!(o.message.contains("no default retention"), "{}", o.message);
    }
}
