//! Tests of the pki stage: certificates are made here with rcgen, files go to a temporary folder,
//! and `now` is fixed, so nothing depends on the network or the clock.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::diagnostics::{Code, Severity};
use crate::model::{Ca, FilePath, Intermediate, Mesh, Sp};

const TOPOLOGY: &str = r#"mesh "m" {
    namespace "mesh-ns"
}
ca {
    root cert="pki/root-cert.pem" key="pki/root-key.pem"
    intermediate algorithm="ecdsa-p256" valid-days=365 dir="pki/clusters"
}
"#;

/// 2026-05-28 20:26:40 UTC.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap()
}

fn span(file: crate::diagnostics::FileId, needle: &str) -> Span {
    let offset = TOPOLOGY.find(needle).unwrap_or_else(|| panic!("{needle} not in the test topology"));
    Span::new(file, offset, needle.len())
}

struct Fixture {
    dir: tempfile::TempDir,
    file: crate::diagnostics::FileId,
    sources: Sources,
    topology: Topology,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(KeyAlgorithm::EcdsaP256, CaMode::Plugin, true)
    }

    fn with(algorithm: KeyAlgorithm, mode: CaMode, with_root: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut sources = Sources::new();
        let f = sources.add(PathBuf::from("topology.kdl"), "topology.kdl".into(), TOPOLOGY.into());
        let file_path = |written: &str, needle: &str| FilePath {
            written: written.into(),
            resolved: dir.path().join(written),
            span: span(f, needle),
        };
        let root = with_root.then(|| Root {
            span: span(f, "root cert"),
            cert: file_path("pki/root-cert.pem", r#"cert="pki/root-cert.pem""#),
            key: file_path("pki/root-key.pem", r#"key="pki/root-key.pem""#),
            algorithm: Sp::new(KeyAlgorithm::EcdsaP256, span(f, "root cert")),
            valid_days: Sp::new(3650, span(f, "root cert")),
        });
        let topology = Topology {
            file_name: "topology.kdl".into(),
            dir: dir.path().to_path_buf(),
            mesh: Mesh {
                id: Sp::new("m".into(), span(f, r#""m""#)),
                span: span(f, "mesh"),
                trust_domain: Sp::new("cluster.local".into(), span(f, "mesh")),
                istio_version: Sp::new("1.30".into(), span(f, "mesh")),
                revision: None,
                namespace: Sp::new("mesh-ns".into(), span(f, r#""mesh-ns""#)),
            },
            ca: Ca {
                mode,
                span: Some(span(f, "ca {")),
                root_node: root.as_ref().map(|r| r.span),
                root,
                intermediate: Intermediate {
                    span: Some(span(f, "intermediate")),
                    algorithm: Sp::new(algorithm, span(f, r#"algorithm="ecdsa-p256""#)),
                    valid_days: Sp::new(365, span(f, "valid-days=365")),
                    dir: file_path("pki/clusters", r#"dir="pki/clusters""#),
                },
            },
            networks: Vec::new(),
            clusters: Vec::new(),
        };
        fs::create_dir_all(dir.path().join("pki")).unwrap();
        Fixture { dir, file: f, sources, topology }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn write_root(&self, root: &TestCa) {
        self.write("pki/root-cert.pem", &root.cert_pem);
        self.write("pki/root-key.pem", &root.key.serialize_pem());
    }

    fn write_intermediate(&self, cluster: &str, cert_pem: &str, key: &KeyPair) {
        self.write(&format!("pki/clusters/{cluster}/ca-cert.pem"), cert_pem);
        self.write(&format!("pki/clusters/{cluster}/ca-key.pem"), &key.serialize_pem());
    }

    fn run_with(&mut self, primaries: &[&str], mode: IssueMode, output_dir: Option<&Path>) -> (Option<CaBundle>, Vec<Diagnostic>) {
        let request = PkiRequest { topology: &self.topology, primaries: primaries.to_vec(), output_dir, now: now(), mode };
        let mut diags = Diagnostics::new();
        let bundle = prepare(&request, &mut self.sources, &mut diags);
        (bundle, diags.into_iter().collect())
    }

    fn run(&mut self, primaries: &[&str]) -> (Option<CaBundle>, Vec<Diagnostic>) {
        self.run_with(primaries, IssueMode::IssueMissing, None)
    }
}

fn codes_of(diags: &[Diagnostic]) -> Vec<Code> {
    diags.iter().map(|d| d.code).collect()
}

/// Asserts the exact codes, and that the bundle exists exactly when there is no error.
fn expect(result: &(Option<CaBundle>, Vec<Diagnostic>), codes: &[Code]) {
    let (bundle, diags) = result;
    assert_eq!(codes_of(diags), codes, "diagnostics: {diags:#?}");
    let errors = diags.iter().any(|d| d.severity == Severity::Error);
    assert_eq!(bundle.is_none(), errors, "a bundle comes back exactly when there is no error");
}

struct TestCa {
    cert_pem: String,
    key: KeyPair,
}

fn key() -> KeyPair {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap()
}

fn dn(pairs: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (ty, value) in pairs {
        dn.push(ty.clone(), *value);
    }
    dn
}

fn ca_params(names: &[(DnType, &str)], constraints: BasicConstraints, from: OffsetDateTime, to: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(names);
    p.is_ca = IsCa::Ca(constraints);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = from;
    p.not_after = to;
    p
}

fn root_params(from: OffsetDateTime, to: OffsetDateTime) -> CertificateParams {
    ca_params(&[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Root CA")], BasicConstraints::Unconstrained, from, to)
}

fn self_signed(params: CertificateParams) -> TestCa {
    let key = key();
    TestCa { cert_pem: params.self_signed(&key).unwrap().pem(), key }
}

fn good_root() -> TestCa {
    self_signed(root_params(now() - Duration::days(365), now() + Duration::days(5 * 365)))
}

fn intermediate_params(cluster: &str, from: OffsetDateTime, to: OffsetDateTime) -> CertificateParams {
    let mut p = ca_params(
        &[(DnType::OrganizationName, "Istio"), (DnType::CommonName, "Intermediate CA"), (DnType::LocalityName, cluster)],
        BasicConstraints::Constrained(0),
        from,
        to,
    );
    p.use_authority_key_identifier_extension = true;
    p
}

/// A fixture with a good root and, for `east`, an intermediate made from `params`, run once.
fn run_with_intermediate(params: CertificateParams) -> (Option<CaBundle>, Vec<Diagnostic>) {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = signed_by(params, &root);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    fx.run(&["east"])
}

fn signed_by(params: CertificateParams, root: &TestCa) -> TestCa {
    let key = key();
    let issuer = Issuer::from_ca_cert_pem(&root.cert_pem, &root.key).unwrap();
    TestCa { cert_pem: params.signed_by(&key, &issuer).unwrap().pem(), key }
}

fn good_intermediate(cluster: &str, root: &TestCa) -> TestCa {
    signed_by(intermediate_params(cluster, now() - Duration::days(1), now() + Duration::days(300)), root)
}

fn der_of(pem_text: &str) -> Vec<Vec<u8>> {
    pem::scan(pem_text).0.into_iter().map(|b| b.der).collect()
}

// ---------------------------------------------------------------- the root

#[test]
fn external_mode_returns_none_and_touches_nothing() {
    let mut fx = Fixture::with(KeyAlgorithm::EcdsaP256, CaMode::External, true);
    let result = fx.run(&["east"]);
    assert!(result.0.is_none());
    assert!(result.1.is_empty());
    assert!(!fx.path("pki/clusters").exists());
}

#[test]
fn plugin_without_root_is_reported() {
    let mut fx = Fixture::with(KeyAlgorithm::EcdsaP256, CaMode::Plugin, false);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::CA_ROOT_MISSING]);
    let help = result.1[0].help.clone().unwrap_or_default();
    assert!(help.contains(r#"root cert="pki/root-cert.pem" key="pki/root-key.pem""#) && help.contains("meshgen pki init"));
    assert_eq!(result.1[0].primary_span(), fx.topology.ca.span);
}

#[test]
fn malformed_root_node_is_not_reported_again() {
    let mut fx = Fixture::with(KeyAlgorithm::EcdsaP256, CaMode::Plugin, false);
    fx.topology.ca.root_node = Some(span(fx.file, "root cert"));
    let result = fx.run(&["east"]);
    assert!(result.0.is_none() && result.1.is_empty(), "{:#?}", result.1);
}

#[test]
fn missing_root_files_point_at_the_properties() {
    let mut fx = Fixture::new();
    let result = fx.run(&["east"]);
    // Without a root certificate the key does not matter yet: one error, at `cert=`.
    expect(&result, &[codes::FILE_UNREADABLE]);
    let root = fx.topology.ca.root.as_ref().unwrap();
    assert_eq!(result.1[0].primary_span(), Some(root.cert.span));
    assert!(!fx.path("pki/clusters").exists(), "nothing is issued without a root");

    // With the certificate, a missing key is reported when an intermediate must be issued.
    fx.write("pki/root-cert.pem", &good_root().cert_pem);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::FILE_UNREADABLE]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.root.as_ref().unwrap().key.span));
    assert!(!fx.path("pki/clusters").exists(), "nothing is issued without the root key");
}

#[test]
fn root_key_mismatch() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write("pki/root-cert.pem", &root.cert_pem);
    fx.write("pki/root-key.pem", &key().serialize_pem());
    let result = fx.run(&["east"]);
    expect(&result, &[codes::ROOT_KEY_MISMATCH]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.root.as_ref().unwrap().key.span));
    assert!(!fx.path("pki/clusters/east").exists());
}

#[test]
fn root_not_ca() {
    let mut fx = Fixture::new();
    let mut params = root_params(now() - Duration::days(1), now() + Duration::days(100));
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    fx.write_root(&self_signed(params));
    let result = fx.run(&["east"]);
    expect(&result, &[codes::ROOT_NOT_CA]);
    // The label points at the certificate block inside the root file.
    let label_span = result.1[0].primary_span().unwrap();
    assert_eq!(fx.sources.get(label_span.file).name, "pki/root-cert.pem");
    assert_eq!(&fx.sources.text(label_span.file)[label_span.range()], "-----BEGIN CERTIFICATE-----");
}

#[test]
fn root_expired() {
    let mut fx = Fixture::new();
    fx.write_root(&self_signed(root_params(now() - Duration::days(3 * 365), now() - Duration::days(1))));
    expect(&fx.run(&["east"]), &[codes::CERT_NOT_VALID_NOW]);
}

#[test]
fn root_with_pathlen_zero_cannot_have_intermediates() {
    let mut fx = Fixture::new();
    let mut params = root_params(now() - Duration::days(1), now() + Duration::days(100));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    fx.write_root(&self_signed(params));
    expect(&fx.run(&["east"]), &[codes::ROOT_NOT_CA]);
}

/// Rewrites both signature AlgorithmIdentifiers of a certificate (TBS and outer). The signature
/// no longer verifies, which does not matter to the algorithm check.
fn with_signature_algorithm(der: &[u8], algid: &[u8]) -> Vec<u8> {
    fn split(mut content: &[u8]) -> Vec<&[u8]> {
        let mut items = Vec::new();
        while !content.is_empty() {
            let (header, len) = header(content);
            items.push(&content[..header + len]);
            content = &content[header + len..];
        }
        items
    }
    fn header(tlv: &[u8]) -> (usize, usize) {
        if tlv[1] < 0x80 {
            (2, usize::from(tlv[1]))
        } else {
            let n = usize::from(tlv[1] & 0x7f);
            (2 + n, tlv[2..2 + n].iter().fold(0, |acc, &b| acc * 256 + usize::from(b)))
        }
    }
    fn sequence(parts: &[&[u8]]) -> Vec<u8> {
        let content: Vec<u8> = parts.concat();
        let mut out = vec![0x30];
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
        out.extend(content);
        out
    }
    let content = |tlv: &[u8]| {
        let (h, len) = header(tlv);
        tlv[h..h + len].to_vec()
    };
    let outer = content(der);
    let items = split(&outer);
    let tbs_content = content(items[0]);
    let mut tbs_items = split(&tbs_content);
    tbs_items[2] = algid;
    let tbs = sequence(&tbs_items);
    sequence(&[&tbs, algid, items[2]])
}

#[test]
fn weak_signature_on_the_root() {
    let mut fx = Fixture::new();
    let root = good_root();
    // AlgorithmIdentifier { ecdsa-with-SHA1 }
    let sha1: &[u8] = &[0x30, 0x09, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x01];
    let patched = with_signature_algorithm(&der_of(&root.cert_pem)[0], sha1);
    fx.write("pki/root-cert.pem", &pem::encode("CERTIFICATE", &patched));
    fx.write("pki/root-key.pem", &root.key.serialize_pem());
    let result = fx.run(&["east"]);
    expect(&result, &[codes::WEAK_SIGNATURE]);
    assert!(result.1[0].message.contains("ecdsa-with-SHA1"), "{}", result.1[0].message);
}

#[test]
fn signature_algorithms_are_classified() {
    let strength = |oid: &str, pss: Option<&str>| classify_oid(oid, pss).strength;
    assert_eq!(strength("1.2.840.113549.1.1.11", None), Strength::Strong); // sha256WithRSA
    assert_eq!(strength("1.2.840.113549.1.1.12", None), Strength::Strong);
    assert_eq!(strength("1.2.840.10045.4.3.2", None), Strength::Strong); // ecdsa-with-SHA256
    assert_eq!(strength("1.2.840.10045.4.3.3", None), Strength::Strong);
    assert_eq!(strength("1.3.101.112", None), Strength::Strong); // Ed25519
    assert_eq!(strength("1.2.840.113549.1.1.5", None), Strength::Weak); // sha1WithRSA
    assert_eq!(strength("1.2.840.113549.1.1.4", None), Strength::Weak); // md5WithRSA
    assert_eq!(strength("1.2.840.10045.4.1", None), Strength::Weak); // ecdsa-with-SHA1
    assert_eq!(strength("1.2.840.113549.1.1.14", None), Strength::Weak); // sha224WithRSA
    assert_eq!(strength("1.2.840.113549.1.1.10", Some("2.16.840.1.101.3.4.2.1")), Strength::Strong); // PSS SHA-256
    assert_eq!(strength("1.2.840.113549.1.1.10", None), Strength::Weak); // PSS defaults to SHA-1
    assert_eq!(strength("1.2.3.4", None), Strength::Unsupported);
}

#[test]
fn root_key_inside_output_folder() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    // The output folder does not exist; `..` is resolved by text.
    let out = fx.path("not-yet/../pki");
    let result = fx.run_with(&["east"], IssueMode::ReadOnly, Some(&out));
    expect(&result, &[codes::ROOT_KEY_IN_OUTPUT, codes::INTERMEDIATE_DIR_IN_OUTPUT]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.root.as_ref().unwrap().key.span));
    // A sibling folder, even one that does not exist yet, is fine.
    let out = fx.path("out/new");
    expect(&fx.run_with(&["east"], IssueMode::ReadOnly, Some(&out)), &[]);
}

#[test]
fn intermediates_folder_inside_output_folder() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    let out = fx.topology.ca.intermediate.dir.resolved.clone();
    let result = fx.run_with(&["east"], IssueMode::IssueMissing, Some(&out));
    expect(&result, &[codes::INTERMEDIATE_DIR_IN_OUTPUT]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.intermediate.dir.span));
    assert!(!out.join("east").exists(), "nothing is issued into a folder the build would wipe");
}

#[test]
fn root_key_text_never_reaches_sources() {
    let mut fx = Fixture::new();
    let root = self_signed(root_params(now() - Duration::days(10), now() - Duration::days(1)));
    let key_pem = root.key.serialize_pem();
    // A root certificate file that (wrongly) also holds the key.
    fx.write("pki/root-cert.pem", &format!("{}{}", root.cert_pem, key_pem));
    fx.write("pki/root-key.pem", &key_pem);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::CERT_NOT_VALID_NOW]);
    let file = result.1[0].primary_span().unwrap().file;
    let text = fx.sources.text(file);
    assert!(text.contains("-----BEGIN CERTIFICATE-----"));
    for line in key_pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line), "key material in sources");
    }
    assert_eq!(text.len(), root.cert_pem.len() + key_pem.len(), "offsets stay valid");
    for d in &result.1 {
        assert!(!key_pem.lines().skip(1).any(|l| d.message.contains(l) || d.help.as_deref().unwrap_or("").contains(l)));
    }
}

// ---------------------------------------------------------------- stored intermediates

#[test]
fn intermediate_from_another_root() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    // Same subject, other key: only the signature tells them apart.
    let other = good_root();
    let ca = good_intermediate("east", &other);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::INTERMEDIATE_NOT_FROM_ROOT]);
    let d = &result.1[0];
    assert!(d.help.as_deref().unwrap_or("").contains("meshgen pki renew topology.kdl --cluster east"));
    assert!(d.help.as_deref().unwrap_or("").contains("pki/clusters/east/"));
    // Primary label in the intermediate's file, secondary on `dir=`.
    let primary = d.primary_span().unwrap();
    assert_eq!(fx.sources.get(primary.file).name, "pki/clusters/east/ca-cert.pem");
    assert_eq!(d.labels[1].span, fx.topology.ca.intermediate.dir.span);
}

#[test]
fn intermediate_key_mismatch() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = good_intermediate("east", &root);
    fx.write_intermediate("east", &ca.cert_pem, &key());
    expect(&fx.run(&["east"]), &[codes::INTERMEDIATE_KEY_MISMATCH]);
}

#[test]
fn intermediate_not_ca() {
    let mut params = intermediate_params("east", now() - Duration::days(1), now() + Duration::days(300));
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    expect(&run_with_intermediate(params), &[codes::INTERMEDIATE_NOT_CA]);
}

#[test]
fn intermediate_with_client_auth_only() {
    let mut params = intermediate_params("east", now() - Duration::days(1), now() + Duration::days(300));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    expect(&run_with_intermediate(params), &[codes::INTERMEDIATE_BAD_EKU]);
}

#[test]
fn intermediate_with_server_auth_is_fine() {
    let mut params = intermediate_params("east", now() - Duration::days(1), now() + Duration::days(300));
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    expect(&run_with_intermediate(params), &[]);
}

#[test]
fn intermediate_expiring_in_ten_days_is_a_warning() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = signed_by(intermediate_params("east", now() - Duration::days(355), now() + Duration::days(10)), &root);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::INTERMEDIATE_EXPIRING]);
    assert_eq!(result.1[0].severity, Severity::Warning);
    assert!(result.1[0].help.as_deref().unwrap_or("").contains("meshgen pki renew topology.kdl --cluster east"));
    assert!(result.0.unwrap().clusters.contains_key("east"));
}

#[test]
fn expired_intermediate_is_an_error() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = signed_by(intermediate_params("east", now() - Duration::days(365), now() - Duration::days(1)), &root);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    expect(&fx.run(&["east"]), &[codes::CERT_NOT_VALID_NOW]);
}

#[test]
fn incomplete_stored_intermediate() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = good_intermediate("east", &root);
    fx.write("pki/clusters/east/ca-cert.pem", &ca.cert_pem);
    let result = fx.run(&["east"]);
    expect(&result, &[codes::INTERMEDIATE_INCOMPLETE]);
    assert!(!fx.path("pki/clusters/east/ca-key.pem").exists(), "nothing issued over half a folder");
}

#[test]
fn key_label_must_match_its_content() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = good_intermediate("east", &root);
    fx.write("pki/clusters/east/ca-cert.pem", &ca.cert_pem);
    // PKCS#8 content under a SEC1 label: istiod reads by label and would fail.
    fx.write("pki/clusters/east/ca-key.pem", &pem::encode("EC PRIVATE KEY", ca.key.serialized_der()));
    let result = fx.run(&["east"]);
    expect(&result, &[codes::INVALID_KEY]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.intermediate.dir.span));
}

#[test]
fn all_problems_are_reported_in_one_run() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let other = good_root();
    let a = good_intermediate("a", &other);
    fx.write_intermediate("a", &a.cert_pem, &a.key);
    let b = good_intermediate("b", &root);
    fx.write_intermediate("b", &b.cert_pem, &key());
    fx.write("pki/clusters/c/ca-key.pem", &key().serialize_pem());
    let result = fx.run(&["a", "b", "c", "d"]);
    let mut codes = codes_of(&result.1);
    codes.sort_by_key(|c| c.id);
    assert_eq!(
        codes,
        vec![codes::INTERMEDIATE_NOT_FROM_ROOT, codes::INTERMEDIATE_KEY_MISMATCH, codes::INTERMEDIATE_INCOMPLETE]
    );
    assert!(result.0.is_none());
    // The healthy missing one was still issued, so the next run after the fixes is stable.
    assert!(fx.path("pki/clusters/d/ca-key.pem").exists());
}

#[test]
fn clusters_may_not_share_an_intermediate_key() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let ca = good_intermediate("east", &root);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    fx.write_intermediate("west", &ca.cert_pem, &ca.key);
    expect(&fx.run(&["east", "west"]), &[codes::INTERMEDIATE_SHARED_KEY]);
}

// ---------------------------------------------------------------- issuing

#[test]
fn key_file_is_created_0600() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    expect(&fx.run(&["east"]), &[]);
    let key_mode = fs::metadata(fx.path("pki/clusters/east/ca-key.pem")).unwrap().permissions().mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let cert_mode = fs::metadata(fx.path("pki/clusters/east/ca-cert.pem")).unwrap().permissions().mode();
    assert_eq!(cert_mode & 0o600, 0o600);
    assert_eq!(cert_mode & 0o022, 0, "the certificate is not group/world writable");
    // No temporary files are left behind.
    let names: Vec<_> = fs::read_dir(fx.path("pki/clusters/east")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn issue_then_reuse_gives_an_identical_bundle() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    let first = fx.run(&["east", "west"]);
    expect(&first, &[]);
    let second = fx.run(&["west", "east"]);
    expect(&second, &[]);
    let read_only = fx.run_with(&["east", "west"], IssueMode::ReadOnly, None);
    expect(&read_only, &[]);
    assert_eq!(first.0, second.0);
    assert_eq!(first.0, read_only.0);
    let bundle = first.0.unwrap();
    assert_eq!(bundle.clusters.len(), 2);
    assert_ne!(bundle.clusters["east"].ca_key_pem, bundle.clusters["west"].ca_key_pem);
    // What is stored is what is emitted.
    let stored = fs::read_to_string(fx.path("pki/clusters/east/ca-key.pem")).unwrap();
    assert_eq!(stored, bundle.clusters["east"].ca_key_pem);
}

#[test]
fn issued_intermediate_has_the_istio_profile() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let (bundle, diags) = fx.run(&["east"]);
    assert!(diags.is_empty(), "{diags:#?}");
    let bundle = bundle.unwrap();
    let der = &der_of(&bundle.clusters["east"].ca_cert_pem)[0];
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();

    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical);
    assert!(bc.value.ca);
    assert_eq!(bc.value.path_len_constraint, Some(0));
    let ku = cert.key_usage().unwrap().unwrap().value;
    assert!(ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature());
    assert!(cert.extended_key_usage().unwrap().is_none(), "no EKU");
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert_eq!(
        san.value.general_names,
        vec![x509_parser::extensions::GeneralName::DNSName("istiod.mesh-ns.svc")]
    );
    assert_eq!(cert.subject().to_string(), "O=Istio, CN=Intermediate CA, L=east");
    let locality: Vec<_> = cert.subject().iter_locality().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(locality, vec!["east"]);

    // SKI present, AKI = the root's SKI.
    let root_der = der_of(&root.cert_pem).remove(0);
    let (_, root_cert) = x509_parser::parse_x509_certificate(&root_der).unwrap();
    let ski_of = |c: &x509_parser::certificate::X509Certificate| {
        c.iter_extensions().find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
            _ => None,
        })
    };
    let aki = cert.iter_extensions().find_map(|e| match e.parsed_extension() {
        x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    });
    assert!(ski_of(&cert).is_some());
    assert_eq!(aki, ski_of(&root_cert));

    // Valid from an hour before `now`, for valid-days; signed with the root key's SHA-256.
    assert_eq!(cert.validity().not_before.to_datetime(), now() - Duration::hours(1));
    assert_eq!(cert.validity().not_after.to_datetime(), now() - Duration::hours(1) + Duration::days(365));
    assert_eq!(cert.signature_algorithm.algorithm.to_id_string(), "1.2.840.10045.4.3.2");
}

#[test]
fn chain_is_intermediate_then_root_and_verifies() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let bundle = fx.run(&["east"]).0.unwrap();
    let east = &bundle.clusters["east"];
    assert_eq!(bundle.root_cert_pem, pem::encode("CERTIFICATE", &der_of(&root.cert_pem)[0]));
    assert_eq!(east.cert_chain_pem, format!("{}{}", east.ca_cert_pem, bundle.root_cert_pem));
    for text in [&bundle.root_cert_pem, &east.ca_cert_pem, &east.ca_key_pem, &east.cert_chain_pem] {
        assert!(text.ends_with("-----\n"));
    }
    let chain = der_of(&east.cert_chain_pem);
    assert_eq!(chain.len(), 2);
    let (_, ca) = x509_parser::parse_x509_certificate(&chain[0]).unwrap();
    let (_, root_cert) = x509_parser::parse_x509_certificate(&chain[1]).unwrap();
    ca.verify_signature(Some(root_cert.public_key())).unwrap();
    assert_eq!(ca.issuer().as_raw(), root_cert.subject().as_raw());
    // And the emitted key is the certificate's.
    let key = KeyPair::from_pem(&east.ca_key_pem).unwrap();
    assert_eq!(key.public_key_raw(), ca.public_key().subject_public_key.data.as_ref());
}

#[test]
fn openssl_verifies_the_chain() {
    if std::process::Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl not on PATH; skipped");
        return;
    }
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    let bundle = fx.run(&["east"]).0.unwrap();
    let out = fx.path("cacerts");
    fs::create_dir_all(&out).unwrap();
    let east = &bundle.clusters["east"];
    for (name, text) in [
        ("root-cert.pem", &bundle.root_cert_pem),
        ("cert-chain.pem", &east.cert_chain_pem),
        ("ca-cert.pem", &east.ca_cert_pem),
        ("ca-key.pem", &east.ca_key_pem),
    ] {
        fs::write(out.join(name), text).unwrap();
    }
    let verify = std::process::Command::new("openssl")
        .args(["verify", "-attime", &now().unix_timestamp().to_string(), "-CAfile"])
        .arg(out.join("root-cert.pem"))
        .arg("-untrusted")
        .arg(out.join("cert-chain.pem"))
        .arg(out.join("ca-cert.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
    let pubkey = |args: &[&str], file: &str| {
        let out = std::process::Command::new("openssl").args(args).arg(out.join(file)).output().unwrap();
        assert!(out.status.success());
        out.stdout
    };
    assert_eq!(pubkey(&["x509", "-noout", "-pubkey", "-in"], "ca-cert.pem"), pubkey(&["pkey", "-pubout", "-in"], "ca-key.pem"));
}

#[test]
fn rsa_2048_intermediate() {
    let mut fx = Fixture::with(KeyAlgorithm::Rsa2048, CaMode::Plugin, true);
    fx.write_root(&good_root());
    let result = fx.run(&["east"]);
    expect(&result, &[]);
    let bundle = result.0.unwrap();
    let summary = summarize(&bundle.clusters["east"].ca_cert_pem, Some(&bundle.root_cert_pem), now()).unwrap();
    assert_eq!(summary[0].key_algorithm, "rsa-2048");
    assert_eq!(summary[0].chains_to_root, Some(true));
    assert!(bundle.clusters["east"].ca_key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    // Reused unchanged.
    assert_eq!(fx.run(&["east"]).0.unwrap(), bundle);
}

#[test]
fn read_only_issues_nothing() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    let result = fx.run_with(&["east"], IssueMode::ReadOnly, None);
    expect(&result, &[]);
    assert!(result.0.unwrap().clusters.is_empty());
    assert!(!fx.path("pki/clusters").exists());
}

#[test]
fn renew_replaces_a_broken_intermediate() {
    let mut fx = Fixture::new();
    let root = good_root();
    fx.write_root(&root);
    let other = good_root();
    let ca = good_intermediate("east", &other);
    fx.write_intermediate("east", &ca.cert_pem, &ca.key);
    let request = PkiRequest { topology: &fx.topology, primaries: vec!["east"], output_dir: None, now: now(), mode: IssueMode::IssueMissing };
    let mut diags = Diagnostics::new();
    let bundle = renew(&request, &["east"], &mut fx.sources, &mut diags).unwrap();
    assert!(diags.is_empty());
    assert_ne!(bundle.clusters["east"].ca_cert_pem, ca.cert_pem);
    expect(&fx.run(&["east"]), &[]);
}

#[test]
fn intermediate_never_outlives_the_root() {
    let mut fx = Fixture::new();
    let root = self_signed(root_params(now() - Duration::days(1), now() + Duration::days(100)));
    fx.write_root(&root);
    let bundle = fx.run(&["east"]).0.unwrap();
    let summary = summarize(&bundle.clusters["east"].ca_cert_pem, None, now()).unwrap();
    assert_eq!(summary[0].not_after, now() + Duration::days(100));
}

// ---------------------------------------------------------------- helpers for later commands

#[test]
fn issue_root_then_store_and_build_from_it() {
    let mut fx = Fixture::new();
    let root = issue_root(KeyAlgorithm::EcdsaP384, 3650, now()).unwrap();
    assert!(!format!("{root:?}").contains(root.key_pem().lines().nth(1).unwrap()));
    store_root(&root, &fx.path("pki/root-cert.pem"), &fx.path("pki/root-key.pem")).unwrap();
    let mode = fs::metadata(fx.path("pki/root-key.pem")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(store_root(&root, &fx.path("pki/root-cert.pem"), &fx.path("pki/root-key.pem")).is_err(), "never overwritten");

    let summary = summarize(&root.cert_pem, Some(&root.cert_pem), now()).unwrap();
    assert_eq!(summary.len(), 1);
    let s = &summary[0];
    assert_eq!(s.subject, "O=Istio, CN=Root CA");
    assert_eq!(s.key_algorithm, "ecdsa-p384");
    assert_eq!(s.signature_algorithm.name, "ecdsa-with-SHA384");
    assert!(s.is_ca && s.path_len.is_none());
    assert_eq!(s.days_left, 3649);
    assert_eq!(s.sha256_fingerprint.len(), 32 * 3 - 1);
    assert_eq!(s.chains_to_root, Some(true));

    // A P-384 root signs intermediates with SHA-384.
    let bundle = fx.run(&["east"]).0.unwrap();
    let ca = summarize(&bundle.clusters["east"].cert_chain_pem, Some(&bundle.root_cert_pem), now()).unwrap();
    assert_eq!(ca[0].signature_algorithm.name, "ecdsa-with-SHA384");
    assert_eq!(ca[0].chains_to_root, Some(true));
    assert_eq!(ca[0].dns_names, vec!["istiod.mesh-ns.svc".to_string()]);
    assert_eq!(ca[1].subject, "O=Istio, CN=Root CA");
}

#[test]
fn summarize_rejects_non_pem() {
    assert!(summarize("hello", None, now()).is_err());
    let other = summarize(&good_root().cert_pem, Some(&good_root().cert_pem), now()).unwrap();
    assert_eq!(other[0].chains_to_root, Some(false));
}

#[test]
fn zero_valid_days_issues_nothing() {
    let mut fx = Fixture::new();
    fx.write_root(&good_root());
    fx.topology.ca.intermediate.valid_days.value = 0;
    let result = fx.run(&["east"]);
    expect(&result, &[codes::INVALID_VALUE]);
    assert_eq!(result.1[0].primary_span(), Some(fx.topology.ca.intermediate.valid_days.span));
    assert!(!fx.path("pki/clusters/east").exists());
}

/// Roots as OpenSSL (and so Istio's Makefile) writes them: PKCS#1 `RSA PRIVATE KEY`, SEC1
/// `EC PRIVATE KEY` after an `EC PARAMETERS` block, PrintableString subjects.
#[test]
fn openssl_made_roots_sign_intermediates() {
    let openssl = |args: &[&str], dir: &Path| {
        let out = std::process::Command::new("openssl").args(args).current_dir(dir).output();
        match out {
            Ok(out) if out.status.success() => true,
            Ok(out) => panic!("openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
            Err(_) => false,
        }
    };
    for (label, keygen) in [
        ("RSA PRIVATE KEY", &["genrsa", "-traditional", "-out", "pki/root-key.pem", "2048"][..]),
        ("EC PRIVATE KEY", &["ecparam", "-genkey", "-name", "prime256v1", "-out", "pki/root-key.pem"][..]),
    ] {
        let mut fx = Fixture::new();
        if !openssl(keygen, fx.dir.path()) {
            eprintln!("openssl not on PATH; skipped");
            return;
        }
        let key_text = fs::read_to_string(fx.path("pki/root-key.pem")).unwrap();
        assert!(key_text.contains(&format!("BEGIN {label}")));
        assert!(openssl(
            &[
                "req", "-x509", "-new", "-key", "pki/root-key.pem", "-sha256", "-days", "3650", "-subj", "/O=Istio/CN=Root CA",
                "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", "pki/root-cert.pem",
            ],
            fx.dir.path(),
        ));
        // The certificate starts at the real clock; judge it a day later than that.
        let start = summarize(&fs::read_to_string(fx.path("pki/root-cert.pem")).unwrap(), None, now()).unwrap()[0].not_before;
        let request = PkiRequest {
            topology: &fx.topology,
            primaries: vec!["east"],
            output_dir: None,
            now: start + Duration::days(1),
            mode: IssueMode::IssueMissing,
        };
        let mut diags = Diagnostics::new();
        let bundle = prepare(&request, &mut fx.sources, &mut diags);
        assert!(diags.is_empty(), "{label}: {:#?}", diags.into_iter().collect::<Vec<_>>());
        let bundle = bundle.unwrap();
        let chain = summarize(&bundle.clusters["east"].cert_chain_pem, Some(&bundle.root_cert_pem), start).unwrap();
        assert_eq!(chain[0].chains_to_root, Some(true), "{label}");
    }
}
