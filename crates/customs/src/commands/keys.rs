//! Key references and passwords, shared by the signing commands: a PEM file,
//! `env://VAR`, and a clear "not supported" for KMS and token URIs.

use std::io::{BufRead as _, Write as _};

use anyhow::Context as _;
use customs_cli::EnvVars;
use customs_sign::{KeyError, PrivateKey, PublicKey};
use customs_types::Redacted;

/// The largest key file read (real ones are well under 1 KiB).
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// Key reference schemes that need a KMS or token customs does not speak.
const UNSUPPORTED: &[&str] = &[
    "awskms://",
    "gcpkms://",
    "azurekms://",
    "hashivault://",
    "k8s://",
    "gitlab://",
    "pkcs11:",
];

/// The PEM text a key reference names.
fn key_text(reference: &str) -> anyhow::Result<String> {
    if UNSUPPORTED.iter().any(|s| reference.starts_with(s)) {
        return Err(KeyError::NotSupported {
            what: reference.to_owned(),
        }
        .into());
    }
    if let Some(var) = reference.strip_prefix("env://") {
        return std::env::var(var)
            .with_context(|| format!("{reference}: the environment variable {var} is not set"));
    }
    let meta = fs_err::metadata(reference)?;
    anyhow::ensure!(
        meta.len() <= MAX_KEY_BYTES,
        "{reference}: larger than {MAX_KEY_BYTES} bytes: not a key file"
    );
    Ok(fs_err::read_to_string(reference)?)
}

/// The password of an encrypted key: `CUSTOMS_PASSWORD`, else
/// `COSIGN_PASSWORD`, else asked on the terminal without echo.
pub(crate) fn password(prompt: &str, confirm: bool) -> anyhow::Result<Redacted<String>> {
    for var in [EnvVars::CUSTOMS_PASSWORD, EnvVars::COSIGN_PASSWORD] {
        if let Ok(value) = std::env::var(var) {
            return Ok(Redacted::new(value));
        }
    }
    let first = ask(prompt)?;
    if confirm {
        let again = ask("Enter the password again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
    }
    Ok(Redacted::new(first))
}

/// Reads a line from the terminal with echo off, restoring it after.
fn ask(prompt: &str) -> anyhow::Result<String> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let tty = fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| {
            anyhow::anyhow!(
                "the key needs a password: set CUSTOMS_PASSWORD (or COSIGN_PASSWORD), or run on a terminal"
            )
        })?;
    let original = tcgetattr(&tty).context("cannot read the terminal's settings")?;
    let mut quiet = original.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&tty, OptionalActions::Now, &quiet).context("cannot turn the terminal's echo off")?;
    let mut line = String::new();
    let read = (|| {
        let mut out = &tty;
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        std::io::BufReader::new(&tty).read_line(&mut line)?;
        out.write_all(b"\n")
    })();
    // Echo comes back whatever happened.
    let restored = tcsetattr(&tty, OptionalActions::Now, &original);
    read.context("cannot read the password")?;
    restored.context("cannot restore the terminal's echo")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Loads a private key, asking for its password only when it is encrypted.
pub(crate) fn private_key(reference: &str) -> anyhow::Result<PrivateKey> {
    let text = key_text(reference)?;
    let password = if text.contains("-----BEGIN ENCRYPTED") {
        password(&format!("Enter the password for {reference}: "), false)?
    } else {
        Redacted::new(String::new())
    };
    Ok(PrivateKey::from_pem(
        &text,
        password.expose().as_bytes(),
        reference,
    )?)
}

/// Loads a public key.
pub(crate) fn public_key(reference: &str) -> anyhow::Result<PublicKey> {
    let text = key_text(reference)?;
    Ok(PublicKey::from_pem(&text, reference)?)
}

/// `key=value` annotations.
pub(crate) fn annotations(pairs: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| anyhow::anyhow!("annotation `{pair}` is not KEY=VALUE"))
        })
        .collect()
}

/// A `--type` value as a predicate type URI (names as cosign's).
pub(crate) fn predicate_type(name: &str) -> anyhow::Result<String> {
    customs_sign::intoto::predicate_type(name).map_err(|e| anyhow::anyhow!(e))
}

/// An optional `--type` filter.
pub(crate) fn predicate_filter(name: Option<&str>) -> anyhow::Result<Option<String>> {
    name.map(predicate_type).transpose()
}

/// Who a verification trusts: a key, or a certificate identity and issuer;
/// and the Sigstore trusted root that bundles (and their transparency log
/// entries) are checked against.
pub(crate) struct Trust {
    signer: Signer,
    /// The trusted root.
    pub(crate) root: customs_sign::TrustRoot,
    /// What is trusted, for messages (`key cosign.pub`, `identity … from …`).
    pub(crate) described: String,
}

enum Signer {
    Key(PublicKey),
    Keyless(customs_sign::Identity),
}

impl Trust {
    /// The signer a bundle must have.
    pub(crate) fn signer(&self) -> customs_sign::Signer<'_> {
        match &self.signer {
            Signer::Key(key) => customs_sign::Signer::Key(key),
            Signer::Keyless(identity) => customs_sign::Signer::Keyless(identity),
        }
    }

    /// The key, when verification is key-based.
    pub(crate) fn key(&self) -> Option<&PublicKey> {
        match &self.signer {
            Signer::Key(key) => Some(key),
            Signer::Keyless(_) => None,
        }
    }

    /// Who a verification says signed, for people: this key's name, or the
    /// certificate identity.
    pub(crate) fn signer_name(&self, signer: Option<&str>) -> Option<String> {
        match signer? {
            "key" => Some(self.described.clone()),
            identity => Some(identity.to_owned()),
        }
    }

    /// The signer and root, as the image verifications take them.
    /// The gate's view of it: its description and its verifier.
    pub(crate) fn trusted(&self) -> customs_pipeline::gate::Trusted<'_> {
        customs_pipeline::gate::Trusted {
            described: self.described.clone(),
            trust: self.verifier(),
        }
    }

    pub(crate) fn verifier(&self) -> customs_sign::Trust<'_> {
        customs_sign::Trust {
            signer: self.signer(),
            root: &self.root,
        }
    }
}

fn matcher(
    exact: Option<&String>,
    regexp: Option<&String>,
    flag: &str,
) -> anyhow::Result<Option<customs_sign::Matcher>> {
    match (exact, regexp) {
        (Some(value), _) => Ok(Some(customs_sign::Matcher::Exact(value.clone()))),
        (None, Some(pattern)) => regex::Regex::new(pattern)
            .map(|r| Some(customs_sign::Matcher::Regex(r)))
            .with_context(|| format!("--{flag}-regexp `{pattern}` is not a regular expression")),
        (None, None) => Ok(None),
    }
}

/// A key (`--key`) or an identity and issuer (keyless flags), never
/// neither: nothing verifies by default.
pub(crate) fn trust(
    key: Option<&str>,
    keyless: &customs_cli::KeylessArgs,
) -> anyhow::Result<Trust> {
    let root = match &keyless.trusted_root {
        Some(path) => {
            let meta = fs_err::metadata(path)?;
            anyhow::ensure!(
                meta.len() <= 16 << 20,
                "{}: larger than 16 MiB: not a trusted root",
                path.display()
            );
            customs_sign::TrustRoot::from_json(
                &fs_err::read_to_string(path)?,
                &path.display().to_string(),
            )?
        }
        None => customs_sign::TrustRoot::production()?,
    };
    if let Some(reference) = key {
        anyhow::ensure!(
            !keyless.any(),
            "give either --key or the --certificate-identity/--certificate-oidc-issuer flags, not both"
        );
        return Ok(Trust {
            signer: Signer::Key(public_key(reference)?),
            root,
            described: reference.to_owned(),
        });
    }
    let identity = matcher(
        keyless.certificate_identity.as_ref(),
        keyless.certificate_identity_regexp.as_ref(),
        "certificate-identity",
    )?;
    let issuer = matcher(
        keyless.certificate_oidc_issuer.as_ref(),
        keyless.certificate_oidc_issuer_regexp.as_ref(),
        "certificate-oidc-issuer",
    )?;
    match (identity, issuer) {
        (Some(identity), Some(issuer)) => Ok(Trust {
            described: format!("identity {identity} from {issuer}"),
            signer: Signer::Keyless(customs_sign::Identity { identity, issuer }),
            root,
        }),
        (None, None) => anyhow::bail!(
            "nothing to verify against: give --key, or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (nothing passes by default)"
        ),
        (Some(_), None) => anyhow::bail!(
            "--certificate-identity needs --certificate-oidc-issuer (or its -regexp form): an identity means nothing without the issuer that vouched for it"
        ),
        (None, Some(_)) => anyhow::bail!(
            "--certificate-oidc-issuer needs --certificate-identity (or its -regexp form)"
        ),
    }
}
