//! The documented exit codes of every customs command.

use std::process::ExitCode;

/// How a command ended. Outcomes are data, not errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// 0: the command did what was asked and found nothing that fails it.
    Success,
    /// 1: a `--fail-on` threshold was hit or a gate denied the image.
    Failure,
    /// 2: an error: usage, input, network, integrity.
    Error,
    /// 3: a signature or attestation did not verify.
    VerificationFailed,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(match status {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::VerificationFailed => 3,
        })
    }
}
