//! Making keys and certificates with rcgen. The profile follows Istio's `tools/certs` Makefiles
//! (reference/istio.md §9.3): subject `O=Istio, CN=Intermediate CA, L=<cluster>`, critical
//! `CA:true, pathlen:0`, keyCertSign + cRLSign + digitalSignature, SAN `istiod.<ns>.svc`, SKI and
//! AKI, and no extended key usage (istiod checks its chain for serverAuth).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    RsaKeySize, SanType,
};
use time::{Duration, OffsetDateTime};

use crate::model::KeyAlgorithm;

/// Certificates start an hour before `now`, so a cluster whose clock runs a little behind the
/// build machine's still accepts them.
pub(crate) const CLOCK_SKEW: Duration = Duration::hours(1);

pub(crate) fn generate_key(algorithm: KeyAlgorithm) -> Result<KeyPair, rcgen::Error> {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyAlgorithm::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
        KeyAlgorithm::Rsa2048 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048),
        KeyAlgorithm::Rsa3072 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072),
        KeyAlgorithm::Rsa4096 => KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096),
    }
}

/// Generates one key per entry, off the calling thread and in parallel: an RSA-4096 key takes
/// around half a second, and a mesh may have many primaries. A worker that fails or panics only
/// costs its own keys, which come back as errors.
pub(crate) fn generate_keys(algorithms: &[KeyAlgorithm]) -> Vec<Result<KeyPair, String>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    if algorithms.is_empty() {
        return Vec::new();
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, algorithms.len());
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&alg) = algorithms.get(i) else { break };
            done.push((i, generate_key(alg).map_err(|e| e.to_string())));
        }
        done
    };
    let mut results: Vec<Option<Result<KeyPair, String>>> = algorithms.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .filter_map(|_| std::thread::Builder::new().name("meshgen-keygen".into()).spawn_scoped(scope, work).ok())
            .collect();
        let mut finished: Vec<(usize, Result<KeyPair, String>)> = Vec::new();
        if handles.is_empty() {
            // No thread could be started: do the work here rather than fail the build.
            finished.extend(work());
        }
        for handle in handles {
            // Joined explicitly, so a panicking worker does not propagate its panic.
            if let Ok(done) = handle.join() {
                finished.extend(done);
            }
        }
        for (i, result) in finished {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
        }
    });
    results.into_iter().map(|r| r.unwrap_or_else(|| Err("key generation thread failed".to_string()))).collect()
}

/// `not_before = now - CLOCK_SKEW`, `not_after = not_before + days`, capped at `cap` (an
/// intermediate cannot outlive its root usefully). `None` when the date leaves the calendar.
pub(crate) fn validity(
    now: OffsetDateTime,
    days: u32,
    cap: Option<OffsetDateTime>,
) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let not_before = now.checked_sub(CLOCK_SKEW)?;
    let mut not_after = not_before.checked_add(Duration::days(i64::from(days)))?;
    // X.509 GeneralizedTime ends at year 9999.
    if not_after.year() > 9999 {
        return None;
    }
    if let Some(cap) = cap {
        not_after = not_after.min(cap);
    }
    Some((not_before, not_after))
}

fn ca_params(
    names: &[(DnType, &str)],
    constraints: BasicConstraints,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for (ty, value) in names {
        dn.push(ty.clone(), *value);
    }
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(constraints);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.not_before = not_before;
    params.not_after = not_after;
    params
}

/// Signs a cluster intermediate for `key` with the root. The signature algorithm follows the
/// root key (P-256 → SHA-256, P-384 → SHA-384, RSA → PKCS#1 SHA-256), as rcgen picks it from the
/// key pair. Returns the certificate PEM.
pub(crate) fn sign_intermediate(
    cluster: &str,
    namespace: &str,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    key: &KeyPair,
    root_der: &[u8],
    root_key: &KeyPair,
) -> Result<String, rcgen::Error> {
    let mut params = ca_params(
        &[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Intermediate CA"), (DnType::LocalityName, cluster)],
        BasicConstraints::Constrained(0),
        not_before,
        not_after,
    );
    params.subject_alt_names = vec![SanType::DnsName(format!("istiod.{namespace}.svc").try_into()?)];
    params.use_authority_key_identifier_extension = true;
    let issuer = Issuer::from_ca_cert_der(&root_der.into(), root_key)?;
    Ok(params.signed_by(key, &issuer)?.pem())
}

/// A self-signed root, `O=Istio, CN=Root CA` like the Makefile's. Returns the certificate PEM.
pub(crate) fn self_signed_root(
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
    key: &KeyPair,
) -> Result<String, rcgen::Error> {
    let params = ca_params(
        &[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Root CA")],
        BasicConstraints::Unconstrained,
        not_before,
        not_after,
    );
    Ok(params.self_signed(key)?.pem())
}
