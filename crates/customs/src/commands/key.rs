//! `customs key generate`: an ECDSA P-256 key pair in cosign's formats.

use customs_cli::{GlobalArgs, KeyCommand, KeyGenerateArgs};

use super::output::{Mode, write_file};
use crate::exit::ExitStatus;

pub(crate) fn run(command: KeyCommand, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match command {
        KeyCommand::Generate(args) => generate(&args, global),
    }
}

fn generate(args: &KeyGenerateArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let prefix = args.output_key_prefix.display().to_string();
    let private = std::path::PathBuf::from(format!("{prefix}.key"));
    let public = std::path::PathBuf::from(format!("{prefix}.pub"));
    if !args.force {
        for path in [&private, &public] {
            anyhow::ensure!(
                fs_err::symlink_metadata(path).is_err(),
                "{} exists; pass --force to replace it",
                path.display()
            );
        }
    }
    let password = super::keys::password("Enter a password for the private key: ", true)?;
    let key = customs_sign::PrivateKey::generate()?;
    write_file(
        &private,
        key.to_cosign_pem(password.expose().as_bytes())?.as_bytes(),
        Mode::Private,
    )?;
    write_file(&public, key.public_key().to_pem()?.as_bytes(), Mode::Public)?;
    if !global.quiet {
        super::warn_info(&format!(
            "Private key written to {} (encrypted, mode 0600), public key to {}",
            private.display(),
            public.display()
        ));
    }
    Ok(ExitStatus::Success)
}
