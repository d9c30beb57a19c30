//! The HTTPS handshake as a client makes it, from this machine: `curl` verifies the chain
//! against the configured trust (or this machine's CAs) and the name; what it saw of the
//! certificate becomes the evidence, with the days left.

use super::Status;

/// Fewer days than this left on the certificate fails the check (validate warns from 30).
const MIN_DAYS: i64 = 7;

/// What `curl -v` said of the certificate: its subject, the name match, the expiry.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    subject: Option<String>,
    names: Option<String>,
    expires: Option<String>,
}

fn seen(verbose: &str) -> Seen {
    let mut s = Seen::default();
    for line in verbose.lines() {
        let line = line.trim_start_matches('*').trim();
        if let Some(v) = line.strip_prefix("subject: ") {
            s.subject = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("subjectAltName: ") {
            s.names = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("expire date: ") {
            s.expires = Some(v.to_string());
        }
    }
    s
}

/// Days from `now` (Unix seconds) to curl's `expire date` (`Feb 20 10:11:12 2027 GMT`).
fn days_left(expires: &str, now: i64) -> Option<i64> {
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    let at = time::PrimitiveDateTime::parse(expires.trim(), &format).ok()?;
    Some((at.assume_utc().unix_timestamp() - now).div_euclid(86_400))
}

/// The handshake with `address:port` asking for `name`.
pub async fn handshake(
    name: &str,
    address: &str,
    port: u16,
    trust: Option<&str>,
) -> Result<(Status, String), String> {
    let at = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_string()
    };
    let mut cmd = tokio::process::Command::new("curl");
    cmd.args(["-sS", "-v", "-o", "/dev/null", "-m", "5", "--resolve"])
        .arg(format!("{name}:{port}:{at}"));
    if let Some(t) = trust {
        cmd.arg("--cacert").arg(t);
    }
    cmd.arg(format!("https://{name}:{port}/"));
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("curl cannot run here ({e}): apt-get install curl"))?;
    let verbose = String::from_utf8_lossy(&out.stderr);
    let trusted = trust.map_or("this machine's CAs".to_string(), |t| t.to_string());
    if !out.status.success() {
        let why = verbose
            .lines()
            .rev()
            .find(|l| l.starts_with("curl: ("))
            .unwrap_or("no answer")
            .to_string();
        return Ok((
            Status::Fail,
            format!(
                "the handshake with {address}:{port} as {name}, trusting {trusted}, fails: {why}"
            ),
        ));
    }
    let s = seen(&verbose);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let days = s.expires.as_deref().and_then(|e| days_left(e, now));
    let evidence = format!(
        "chain trusted by {trusted}; {}; {}; expires {} ({} days left)",
        s.subject.as_deref().unwrap_or("subject unknown"),
        s.names.as_deref().unwrap_or("name checked by curl"),
        s.expires.as_deref().unwrap_or("?"),
        days.map_or("?".into(), |d| d.to_string())
    );
    Ok(match days {
        Some(d) if d < MIN_DAYS => (
            Status::Fail,
            format!("{evidence}: fewer than {MIN_DAYS} days left, renew it"),
        ),
        Some(_) => (Status::Pass, evidence),
        None => (
            Status::Fail,
            format!(
                "{evidence}: curl did not say when the certificate expires, so its days left are unknown"
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_curl_says_of_the_certificate_is_read() {
        let v = "* Server certificate:\n*  subject: CN=www.foobar.com\n*  start date: Nov 21 03:20:00 2026 GMT\n*  expire date: Feb 19 03:20:00 2027 GMT\n*  subjectAltName: host \"www.foobar.com\" matched cert's \"www.foobar.com\"\n*  issuer: CN=foobar-infra lab CA\n";
        let s = seen(v);
        assert_eq!(s.subject.as_deref(), Some("CN=www.foobar.com"));
        assert!(s.names.unwrap().contains("matched"));
        assert_eq!(s.expires.as_deref(), Some("Feb 19 03:20:00 2027 GMT"));
    }

    #[test]
    fn days_left_count_whole_days_and_go_negative_after_expiry() {
        // 2027-02-19 03:20:00 UTC is 1803007200.
        assert_eq!(
            days_left("Feb 19 03:20:00 2027 GMT", 1_803_007_200 - 10 * 86_400),
            Some(10)
        );
        assert_eq!(
            days_left("Feb  9 03:20:00 2027 GMT", 1_803_007_200),
            Some(-10)
        );
        assert_eq!(days_left("not a date", 0), None);
    }
}
