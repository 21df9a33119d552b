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
