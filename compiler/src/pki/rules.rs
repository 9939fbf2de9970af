//! TOPOLOGY.md rule 8 as functions from parsed certificates to problems. No spans and no I/O
//! here: the caller knows where each certificate came from and attaches the labels.
//!
//! The checks mirror what istiod does at start-up (reference/istio.md §9.2: Go `x509.Verify` of
//! `ca-cert.pem` against `root-cert.pem` at the current time with the default serverAuth usage,
//! `tls.X509KeyPair`, `CA:true`), so that a build fails where the mesh would.

use time::{Duration, OffsetDateTime, UtcOffset};

use crate::diagnostics::Code;
use crate::diagnostics::codes;

use super::cert::{Basic, Cert, Ext, Strength, key_matches};

/// Warn when an intermediate has fewer days left than this.
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 30;

pub(crate) struct Problem {
    pub code: Code,
    pub message: String,
    /// Text of the label on the certificate itself.
    pub label: String,
    pub help: Option<String>,
}

impl Problem {
    fn new(code: Code, message: String, label: impl Into<String>, help: Option<String>) -> Problem {
        Problem { code, message, label: label.into(), help }
    }
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Why a certificate cannot sign others, in words; empty when it can.
fn not_ca_reasons(cert: &Cert) -> Vec<String> {
    let mut reasons = Vec::new();
    match cert.basic {
        Ext::Present(Basic { ca: true, .. }) => {}
        Ext::Present(Basic { ca: false, .. }) => reasons.push("basicConstraints says CA:false".to_string()),
        Ext::Absent => reasons.push("it has no basicConstraints extension (CA:true)".to_string()),
        Ext::Unreadable => reasons.push("its basicConstraints extension is malformed or repeated".to_string()),
    }
    match cert.key_usage {
        Ext::Present(ku) if ku.key_cert_sign => {}
        Ext::Present(_) => reasons.push("its keyUsage lacks keyCertSign".to_string()),
        Ext::Absent => reasons.push("it has no keyUsage extension (keyCertSign)".to_string()),
        Ext::Unreadable => reasons.push("its keyUsage extension is malformed or repeated".to_string()),
    }
    reasons
}

/// Go checks extended key usage along the whole chain, asking for serverAuth by default.
fn eku_blocks_server_auth(cert: &Cert) -> Option<&'static str> {
    match cert.eku {
        Ext::Present(eku) if eku.any || eku.server_auth => None,
        Ext::Present(eku) if eku.client_auth => Some("extendedKeyUsage allows clientAuth but not serverAuth"),
        Ext::Present(_) => Some("extendedKeyUsage does not include serverAuth"),
        Ext::Absent => None,
        Ext::Unreadable => Some("extendedKeyUsage extension is malformed or repeated"),
    }
}

fn weak_signature(cert: &Cert, what: &str) -> Option<Problem> {
    let why = match cert.signature.strength {
        Strength::Strong => return None,
        Strength::Weak => "istiod (Go crypto/x509) rejects SHA-1 and MD5 signatures; use SHA-256 or stronger",
        Strength::Unsupported => "istiod (Go crypto/x509) cannot verify this algorithm; use SHA-256 or stronger",
    };
    Some(Problem::new(
        codes::WEAK_SIGNATURE,
        format!("{what} is signed with {}", cert.signature.name),
        format!("signed with {}", cert.signature.name),
        Some(why.to_string()),
    ))
}

fn validity(cert: &Cert, what: &str, now: OffsetDateTime, help: &str) -> Option<Problem> {
    if now < cert.not_before {
        Some(Problem::new(
            codes::CERT_NOT_VALID_NOW,
            format!("{what} is not valid before {}", format_time(cert.not_before)),
            "not valid yet",
            Some(format!("check the clock of the machine that made it; {help}")),
        ))
    } else if now > cert.not_after {
        Some(Problem::new(
            codes::CERT_NOT_VALID_NOW,
            format!("{what} expired on {}", format_time(cert.not_after)),
            "expired",
            Some(help.to_string()),
        ))
    } else {
        None
    }
}

/// The root's own checks: a self-signed CA with keyCertSign, usable under Go's serverAuth
/// default, strongly signed and valid now.
pub(crate) fn root_problems(root: &Cert, now: OffsetDateTime) -> Vec<Problem> {
    let what = "the root certificate";
    let mut problems = Vec::new();
    let mut reasons = not_ca_reasons(root);
    if let Ext::Present(Basic { ca: true, path_len: Some(0) }) = root.basic {
        reasons.push("its pathlen:0 forbids any intermediate below it".to_string());
    }
    if let Some(eku) = eku_blocks_server_auth(root) {
        reasons.push(format!("its {eku}, so Go rejects every chain through it"));
    }
    let weak = weak_signature(root, what);
    // A weak signature is reported as such; checking it would only repeat the complaint.
    if weak.is_none() && !root.is_self_signed() {
        reasons.push("it is not self-signed; the root must be the top of the chain".to_string());
    }
    if !reasons.is_empty() {
        problems.push(Problem::new(
            codes::ROOT_NOT_CA,
            format!("{what} cannot serve as the mesh root: {}", reasons.join("; ")),
            "not a usable root CA",
            Some(
                "the root must be a self-signed CA certificate with basicConstraints CA:true and keyUsage \
                 keyCertSign (what `meshgen pki init` creates)"
                    .to_string(),
            ),
        ));
    }
    problems.extend(weak);
    problems.extend(validity(
        root,
        what,
        now,
        "a new root means new intermediates for every cluster; create one with `meshgen pki init`",
    ));
    problems
}

/// What the caller tells [`intermediate_problems`] about the intermediate's place.
pub(crate) struct IntermediateContext<'a> {
    pub cluster: &'a str,
    /// The stored folder as the user would type it (`pki/clusters/east-1`).
    pub folder: &'a str,
    /// `meshgen pki renew <topology> --cluster <C>`.
    pub renew: &'a str,
}

/// Checks a stored intermediate against the root, its key and the clock. Warnings (expiring soon)
/// come back with the warning code.
pub(crate) fn intermediate_problems(
    ca: &Cert,
    root: &Cert,
    key: Option<&rcgen::KeyPair>,
    now: OffsetDateTime,
    at: &IntermediateContext,
) -> Vec<Problem> {
    let what = format!("the intermediate of cluster `{}`", at.cluster);
    let reissue = format!("delete `{}/` so that the next build issues a new one, or run `{}`", at.folder, at.renew);
    let mut problems = Vec::new();
    let weak = weak_signature(ca, &what);

    if ca.issuer_raw != root.subject_raw {
        problems.push(Problem::new(
            codes::INTERMEDIATE_NOT_FROM_ROOT,
            format!("{what} was issued by `{}`, not by the root `{}`", ca.issuer, root.subject),
            "not issued by the root",
            Some(format!("istiod only trusts chains that end in the root; {reissue}")),
        ));
    } else if weak.is_none() && !ca.issued_by(root) {
        problems.push(Problem::new(
            codes::INTERMEDIATE_NOT_FROM_ROOT,
            format!("{what} names the root as issuer, but its signature does not verify with the root's key"),
            "not signed by the root's key",
            Some(format!("it was signed by another root with the same name; {reissue}")),
        ));
    }
    if let Some(key) = key
        && !key_matches(ca, key)
    {
        problems.push(Problem::new(
            codes::INTERMEDIATE_KEY_MISMATCH,
            format!("`{}/ca-key.pem` is not the key of {what}", at.folder),
            "this certificate's public key differs from ca-key.pem",
            Some(format!("istiod refuses a cacerts whose key and certificate differ; {reissue}")),
        ));
    }
    let reasons = not_ca_reasons(ca);
    if !reasons.is_empty() {
        problems.push(Problem::new(
            codes::INTERMEDIATE_NOT_CA,
            format!("{what} cannot sign workload certificates: {}", reasons.join("; ")),
            "not a signing CA",
            Some(format!(
                "istiod needs basicConstraints CA:true and keyUsage keyCertSign on ca-cert.pem; {reissue}"
            )),
        ));
    }
    if let Some(eku) = eku_blocks_server_auth(ca) {
        problems.push(Problem::new(
            codes::INTERMEDIATE_BAD_EKU,
            format!("{what} has an {eku}"),
            "extendedKeyUsage without serverAuth",
            Some(format!(
                "istiod verifies ca-cert.pem for serverAuth (Go x509.Verify's default), so a CA certificate \
                 should carry no extendedKeyUsage; {reissue}"
            )),
        ));
    }
    problems.extend(weak);
    match validity(ca, &what, now, &format!("run `{}`", at.renew)) {
        Some(p) => problems.push(p),
        None => {
            let left = ca.not_after - now;
            if left < Duration::days(EXPIRY_WARNING_DAYS) {
                problems.push(Problem::new(
                    codes::INTERMEDIATE_EXPIRING,
                    format!(
                        "{what} expires on {}, in {} days",
                        format_time(ca.not_after),
                        left.whole_days()
                    ),
                    format!("expires in {} days", left.whole_days()),
                    Some(format!("renew it before it expires: `{}`", at.renew)),
                ));
            }
        }
    }
    problems
}
