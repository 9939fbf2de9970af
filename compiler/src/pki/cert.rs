//! Reading certificates and private keys: x509-parser and rcgen's key loading live here, behind
//! plain owned types, so the rest of the stage never holds a borrowed parser value.

use aws_lc_rs::signature as sig;
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::error::X509Error;
use x509_parser::extensions::GeneralName;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

use super::pem;

/// An extension as found in a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ext<T> {
    Absent,
    Present(T),
    /// Present but malformed, or given twice.
    Unreadable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Basic {
    pub ca: bool,
    pub path_len: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyUsage {
    pub key_cert_sign: bool,
    pub crl_sign: bool,
    pub digital_signature: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Eku {
    pub any: bool,
    pub server_auth: bool,
    pub client_auth: bool,
}

/// How a signature algorithm fares against istiod, which verifies with Go's `crypto/x509`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    /// SHA-256 or stronger (or Ed25519).
    Strong,
    /// SHA-1, MD5, SHA-224 and the like: Go rejects them.
    Weak,
    /// An algorithm Go does not know at all.
    Unsupported,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureAlgorithm {
    pub name: String,
    pub strength: Strength,
}

/// One parsed certificate, owned.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    pub subject: String,
    pub issuer: String,
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    /// The subjectPublicKey bits (an EC point, a PKCS#1 RSAPublicKey, an Ed25519 key).
    pub public_key: Vec<u8>,
    pub key_algorithm: String,
    pub signature: SignatureAlgorithm,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub basic: Ext<Basic>,
    pub key_usage: Ext<KeyUsage>,
    pub eku: Ext<Eku>,
    pub dns_names: Vec<String>,
    /// Whether rcgen can write this subject back unchanged as an issuer name: it keeps one value
    /// per attribute type and one attribute per RDN, so other names would not chain.
    pub subject_copyable: bool,
    pub serial: String,
}

impl Cert {
    pub fn parse(der: Vec<u8>) -> Result<Cert, String> {
        let parsed = match x509_parser::parse_x509_certificate(&der) {
            Ok((_, cert)) => cert,
            Err(e) => return Err(format!("not an X.509 certificate ({e})")),
        };
        let cert = Cert {
            subject: name_string(parsed.subject()),
            issuer: name_string(parsed.issuer()),
            subject_raw: parsed.subject().as_raw().to_vec(),
            issuer_raw: parsed.issuer().as_raw().to_vec(),
            public_key: parsed.public_key().subject_public_key.data.to_vec(),
            key_algorithm: key_algorithm(parsed.public_key()),
            signature: classify(&parsed),
            not_before: parsed.validity().not_before.to_datetime(),
            not_after: parsed.validity().not_after.to_datetime(),
            basic: ext(parsed.basic_constraints().map(|o| {
                o.map(|b| Basic { ca: b.value.ca, path_len: b.value.path_len_constraint })
            })),
            key_usage: ext(parsed.key_usage().map(|o| {
                o.map(|k| KeyUsage {
                    key_cert_sign: k.value.key_cert_sign(),
                    crl_sign: k.value.crl_sign(),
                    digital_signature: k.value.digital_signature(),
                })
            })),
            eku: ext(parsed.extended_key_usage().map(|o| {
                o.map(|e| Eku { any: e.value.any, server_auth: e.value.server_auth, client_auth: e.value.client_auth })
            })),
            dns_names: dns_names(&parsed),
            subject_copyable: copyable(parsed.subject()),
            serial: parsed.raw_serial_as_string(),
            der: Vec::new(),
        };
        Ok(Cert { der, ..cert })
    }

    pub fn pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    /// Whether this certificate's signature verifies with `issuer`'s public key and names it as
    /// issuer: the two things Go's chain building needs of a parent.
    pub fn issued_by(&self, issuer: &Cert) -> bool {
        self.issuer_raw == issuer.subject_raw && signature_verifies(&self.der, &issuer.der)
    }

    pub fn is_self_signed(&self) -> bool {
        self.issued_by(self)
    }

    pub fn sha256_fingerprint(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.der);
        digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }
}

fn ext<T>(r: Result<Option<T>, X509Error>) -> Ext<T> {
    match r {
        Ok(Some(v)) => Ext::Present(v),
        Ok(None) => Ext::Absent,
        Err(_) => Ext::Unreadable,
    }
}

fn name_string(name: &X509Name) -> String {
    let s = name.to_string();
    if s.is_empty() { "(empty subject)".to_string() } else { s }
}

fn copyable(name: &X509Name) -> bool {
    use x509_parser::der_parser::asn1_rs::Tag;
    let mut seen = Vec::new();
    for rdn in name.iter() {
        let mut attrs = rdn.iter();
        let (Some(attr), None) = (attrs.next(), attrs.next()) else { return false };
        let oid = attr.attr_type().to_id_string();
        if seen.contains(&oid) {
            return false;
        }
        seen.push(oid);
        let tag = attr.attr_value().header.tag();
        if ![Tag::BmpString, Tag::Ia5String, Tag::PrintableString, Tag::T61String, Tag::UniversalString, Tag::Utf8String]
            .contains(&tag)
        {
            return false;
        }
    }
    true
}

fn dns_names(cert: &X509Certificate) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else { return Vec::new() };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            GeneralName::DNSName(d) => Some(d.to_string()),
            _ => None,
        })
        .collect()
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
const OID_P521: &str = "1.3.132.0.35";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const OID_ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const OID_ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";

fn ec_curve(spki: &SubjectPublicKeyInfo) -> Option<String> {
    spki.algorithm.parameters.as_ref()?.as_oid().ok().map(|o| o.to_id_string())
}

/// The key algorithm in the topology's own words (`ecdsa-p256`, `rsa-4096`, …).
fn key_algorithm(spki: &SubjectPublicKeyInfo) -> String {
    match spki.algorithm.algorithm.to_id_string().as_str() {
        OID_RSA => match spki.parsed() {
            Ok(PublicKey::RSA(k)) => format!("rsa-{}", k.key_size()),
            _ => "rsa".to_string(),
        },
        OID_EC => match ec_curve(spki).as_deref() {
            Some(OID_P256) => "ecdsa-p256".to_string(),
            Some(OID_P384) => "ecdsa-p384".to_string(),
            Some(OID_P521) => "ecdsa-p521".to_string(),
            Some(other) => format!("ecdsa (curve {other})"),
            None => "ecdsa".to_string(),
        },
        OID_ED25519 => "ed25519".to_string(),
        other => format!("unknown ({other})"),
    }
}

fn classify(cert: &X509Certificate) -> SignatureAlgorithm {
    let alg = &cert.signature_algorithm;
    let oid = alg.algorithm.to_id_string();
    let pss_hash = if oid == OID_RSA_PSS {
        Some(match alg.parameters.as_ref().map(RsaSsaPssParams::try_from) {
            Some(Ok(p)) => p.hash_algorithm_oid().to_id_string(),
            Some(Err(_)) => "malformed".to_string(),
            // Absent parameters mean the RFC 4055 defaults: SHA-1.
            None => "1.3.14.3.2.26".to_string(),
        })
    } else {
        None
    };
    classify_oid(&oid, pss_hash.as_deref())
}

/// Classifies a signature algorithm OID (and, for RSASSA-PSS, the hash OID of its parameters).
pub fn classify_oid(oid: &str, pss_hash: Option<&str>) -> SignatureAlgorithm {
    use Strength::*;
    let (name, strength) = match oid {
        "1.2.840.113549.1.1.11" => ("sha256WithRSAEncryption", Strong),
        "1.2.840.113549.1.1.12" => ("sha384WithRSAEncryption", Strong),
        "1.2.840.113549.1.1.13" => ("sha512WithRSAEncryption", Strong),
        "1.2.840.113549.1.1.14" => ("sha224WithRSAEncryption", Weak),
        "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => ("sha1WithRSAEncryption", Weak),
        "1.2.840.113549.1.1.4" => ("md5WithRSAEncryption", Weak),
        "1.2.840.113549.1.1.3" => ("md4WithRSAEncryption", Weak),
        "1.2.840.113549.1.1.2" => ("md2WithRSAEncryption", Weak),
        OID_ECDSA_SHA256 => ("ecdsa-with-SHA256", Strong),
        OID_ECDSA_SHA384 => ("ecdsa-with-SHA384", Strong),
        OID_ECDSA_SHA512 => ("ecdsa-with-SHA512", Strong),
        "1.2.840.10045.4.3.1" => ("ecdsa-with-SHA224", Weak),
        "1.2.840.10045.4.1" => ("ecdsa-with-SHA1", Weak),
        "1.2.840.10040.4.3" => ("dsa-with-SHA1", Weak),
        OID_ED25519 => ("Ed25519", Strong),
        OID_RSA_PSS => {
            return match pss_hash {
                Some("2.16.840.1.101.3.4.2.1") => named("rsassa-pss with SHA-256", Strong),
                Some("2.16.840.1.101.3.4.2.2") => named("rsassa-pss with SHA-384", Strong),
                Some("2.16.840.1.101.3.4.2.3") => named("rsassa-pss with SHA-512", Strong),
                Some("1.3.14.3.2.26") | None => named("rsassa-pss with SHA-1", Weak),
                Some(other) => named(&format!("rsassa-pss with hash {other}"), Unsupported),
            };
        }
        other => return named(&format!("unknown algorithm {other}"), Unsupported),
    };
    named(name, strength)
}

fn named(name: &str, strength: Strength) -> SignatureAlgorithm {
    SignatureAlgorithm { name: name.to_string(), strength }
}

/// Verifies `child`'s signature with `issuer`'s public key. ECDSA is checked here for every
/// curve and hash pairing Go accepts (x509-parser only knows some); the rest goes to x509-parser.
pub(crate) fn signature_verifies(child_der: &[u8], issuer_der: &[u8]) -> bool {
    let (Ok((_, child)), Ok((_, issuer))) =
        (x509_parser::parse_x509_certificate(child_der), x509_parser::parse_x509_certificate(issuer_der))
    else {
        return false;
    };
    let spki = issuer.public_key();
    let alg = child.signature_algorithm.algorithm.to_id_string();
    if spki.algorithm.algorithm.to_id_string() == OID_EC {
        let ecdsa: &dyn sig::VerificationAlgorithm = match (ec_curve(spki).as_deref(), alg.as_str()) {
            (Some(OID_P256), OID_ECDSA_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
            (Some(OID_P256), OID_ECDSA_SHA384) => &sig::ECDSA_P256_SHA384_ASN1,
            (Some(OID_P256), OID_ECDSA_SHA512) => &sig::ECDSA_P256_SHA512_ASN1,
            (Some(OID_P384), OID_ECDSA_SHA256) => &sig::ECDSA_P384_SHA256_ASN1,
            (Some(OID_P384), OID_ECDSA_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
            (Some(OID_P384), OID_ECDSA_SHA512) => &sig::ECDSA_P384_SHA512_ASN1,
            (Some(OID_P521), OID_ECDSA_SHA256) => &sig::ECDSA_P521_SHA256_ASN1,
            (Some(OID_P521), OID_ECDSA_SHA384) => &sig::ECDSA_P521_SHA384_ASN1,
            (Some(OID_P521), OID_ECDSA_SHA512) => &sig::ECDSA_P521_SHA512_ASN1,
            _ => return false,
        };
        let key = sig::UnparsedPublicKey::new(ecdsa, &spki.subject_public_key.data);
        return key.verify(child.tbs_certificate.as_ref(), &child.signature_value.data).is_ok();
    }
    child.verify_signature(Some(spki)).is_ok()
}

/// A private key read from PEM.
pub(crate) struct LoadedKey {
    pub pair: rcgen::KeyPair,
    /// The key block alone, re-encoded: what goes into `cacerts`.
    pub pem: String,
}

/// Why a key file cannot be used. Never carries key bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum KeyDefect {
    NoKey,
    Several(usize),
    Encrypted,
    /// The DER inside does not have the structure its PEM label announces; istiod reads by label.
    LabelMismatch(String),
    Unparsable(String),
}

impl KeyDefect {
    pub fn describe(&self) -> String {
        match self {
            KeyDefect::NoKey => "holds no PEM private key (`PRIVATE KEY`, `EC PRIVATE KEY` or `RSA PRIVATE KEY`)".into(),
            KeyDefect::Several(n) => format!("holds {n} private keys; it must hold exactly one"),
            KeyDefect::Encrypted => "holds an encrypted private key; meshgen and istiod need it unencrypted".into(),
            KeyDefect::LabelMismatch(label) => format!("holds a `{label}` block whose content is another key format"),
            KeyDefect::Unparsable(label) => {
                format!("holds a `{label}` block that is not an ECDSA (P-256, P-384, P-521), RSA (2048 to 8192 bits) or Ed25519 key")
            }
        }
    }
}

const KEY_LABELS: &[&str] = &["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"];

/// Reads the one private key of a PEM text. The formats are the ones istiod accepts
/// (`security/pkg/pki/util/crypto.go`): PKCS#8, SEC1 and PKCS#1, each under its own label.
pub(crate) fn parse_key(text: &str) -> Result<LoadedKey, KeyDefect> {
    let (blocks, defects) = pem::scan(text);
    if blocks.iter().any(|b| b.label == "ENCRYPTED PRIVATE KEY" || (b.encrypted && b.label.ends_with("PRIVATE KEY"))) {
        return Err(KeyDefect::Encrypted);
    }
    let keys: Vec<_> = blocks.iter().filter(|b| KEY_LABELS.contains(&b.label.as_str())).collect();
    let block = match keys.as_slice() {
        [one] => *one,
        [] => {
            return Err(match defects.iter().find(|d| d.label.ends_with("PRIVATE KEY")) {
                Some(d) => KeyDefect::Unparsable(d.label.clone()),
                None => KeyDefect::NoKey,
            });
        }
        several => return Err(KeyDefect::Several(several.len())),
    };
    let shape_ok = match (block.label.as_str(), der_shape(&block.der)) {
        ("PRIVATE KEY", Some(Shape::Pkcs8)) => true,
        ("EC PRIVATE KEY", Some(Shape::Sec1)) => true,
        ("RSA PRIVATE KEY", Some(Shape::Pkcs1)) => true,
        (_, None) => return Err(KeyDefect::Unparsable(block.label.clone())),
        _ => false,
    };
    if !shape_ok {
        return Err(KeyDefect::LabelMismatch(block.label.clone()));
    }
    let pair = rcgen::KeyPair::try_from(block.der.as_slice()).map_err(|_| KeyDefect::Unparsable(block.label.clone()))?;
    Ok(LoadedKey { pair, pem: pem::encode(&block.label, &block.der) })
}

#[derive(Debug, PartialEq, Eq)]
enum Shape {
    Pkcs8,
    Sec1,
    Pkcs1,
}

/// Tells the three private key structures apart by their first fields: each is a SEQUENCE that
/// starts with a small INTEGER version, followed by a SEQUENCE (PKCS#8 AlgorithmIdentifier), an
/// OCTET STRING (SEC1 privateKey) or an INTEGER (PKCS#1 modulus).
fn der_shape(der: &[u8]) -> Option<Shape> {
    if der.first() != Some(&0x30) {
        return None;
    }
    let len_byte = *der.get(1)?;
    let header = if len_byte < 0x80 { 2 } else { 2 + usize::from(len_byte & 0x7f) };
    match der.get(header..header + 4)? {
        [0x02, 0x01, 0 | 1, 0x30] => Some(Shape::Pkcs8),
        [0x02, 0x01, 1, 0x04] => Some(Shape::Sec1),
        [0x02, 0x01, 0 | 1, 0x02] => Some(Shape::Pkcs1),
        _ => None,
    }
}

/// Whether a certificate's public key is the public half of `key`.
pub(crate) fn key_matches(cert: &Cert, key: &rcgen::KeyPair) -> bool {
    cert.public_key == key.public_key_raw()
}
