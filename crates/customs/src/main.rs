//! The `customs` binary: parses the command line, runs one command, and
//! renders errors as `error:` / `Caused by:` / `hint:` on stderr.

mod commands;
mod exit;
mod progress;
mod render;

use std::io::{self, Write as _};
use std::process::ExitCode;

use clap::Parser as _;
use customs_cli::{Cli, Command};

use crate::exit::ExitStatus;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    customs_oci::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return report(&anyhow::Error::new(e).context("cannot start the async runtime")),
    };
    // A server runs until it is stopped: no deadline.
    let deadline = match cli.command {
        Command::Serve(_) | Command::Worker(_) => 0,
        _ => cli.global.deadline,
    };
    // Commands that record open the store first: an unreachable or newer
    // store fails before any work, and nothing is written.
    let records = match &cli.command {
        Command::Inspect(_)
        | Command::Sbom(_)
        | Command::Scan(_)
        | Command::Secrets(_)
        | Command::Sign(_)
        | Command::Verify(_)
        | Command::Attest(_) => true,
        Command::Gate(args) => args.from_input.is_none(),
        _ => false,
    };
    let command = async {
        if records {
            commands::ledger::recorder(&cli.global).await?;
        }
        match cli.command {
            Command::Digest(args) => commands::digest::run(args, &cli.global).await,
            Command::Inspect(args) => commands::inspect::run(args, &cli.global).await,
            Command::Files(args) => commands::files::run(args, &cli.global).await,
            Command::Sbom(args) => commands::sbom::run(args, &cli.global).await,
            Command::Scan(args) => commands::scan::run(args, &cli.global).await,
            Command::Quickview(args) => commands::quickview::run(args, &cli.global).await,
            Command::Db(command) => commands::db::run(command, &cli.global).await,
            Command::Secrets(args) => commands::secrets::run(args, &cli.global).await,
            Command::Lint(args) => commands::lint::run(args, &cli.global).await,
            Command::Pin(args) => commands::pin::run(args, &cli.global).await,
            Command::Key(command) => commands::key::run(command, &cli.global),
            Command::Sign(args) => commands::sign::run(args, &cli.global).await,
            Command::Verify(args) => commands::verify::run(args, &cli.global).await,
            Command::Attest(args) => commands::attest::run(args, &cli.global).await,
            Command::VerifyAttestation(args) => commands::attest::verify(args, &cli.global).await,
            Command::Attestations(args) => commands::attestations::run(args, &cli.global).await,
            Command::SignBlob(args) => commands::blob::sign(&args),
            Command::Provenance(args) => commands::attest::provenance(&args),
            Command::VerifyBlob(args) => commands::blob::verify(&args),
            Command::Gate(args) => commands::gate::run(args, &cli.global).await,
            Command::Exceptions(command) => commands::exceptions::run(command, &cli.global),
            Command::Vex(customs_cli::VexCommand::Export(args)) => {
                commands::exceptions::export(&args, &cli.global)
            }
            Command::Licenses(args) => commands::licenses::run(args, &cli.global).await,
            Command::Base(command) => commands::base::run(command, &cli.global).await,
            Command::Recommend(args) => commands::recommend::run(args, &cli.global).await,
            Command::Policy(args) => commands::policy::run(&args, &cli.global),
            Command::History(args) => commands::ledger::history(&args, &cli.global).await,
            Command::Promote(args) => commands::promote::run(args, &cli.global).await,
            Command::Release(command) => commands::release::run(command, &cli.global).await,
            Command::Deploy(command) => commands::ledger::deploy(command, &cli.global).await,
            Command::Where(args) => commands::ledger::where_(&args, &cli.global).await,
            Command::WhoHas(args) => commands::ledger::who_has(&args, &cli.global).await,
            Command::Affected(args) => commands::ledger::affected(&args, &cli.global).await,
            Command::Rescan(args) => commands::ledger::rescan(&args, &cli.global).await,
            Command::Block(args) => commands::ledger::block(&args, &cli.global).await,
            Command::Unblock(args) => commands::ledger::unblock(&args, &cli.global).await,
            Command::Diff(args) => commands::diff::run(&args, &cli.global).await,
            Command::Store(command) => commands::ledger::store(command, &cli.global).await,
            Command::Serve(args) => commands::serve::serve(args, &cli.global).await,
            Command::Worker(args) => commands::serve::worker(args, &cli.global).await,
            Command::Token(command) => commands::serve::token(command, &cli.global).await,
            Command::Registry(command) => commands::registry::run(command, &cli.global).await,
        }
    };
    let result = runtime.block_on(async {
        if deadline == 0 {
            return command.await;
        }
        tokio::time::timeout(std::time::Duration::from_secs(deadline), command)
            .await
            .unwrap_or_else(|_| {
                Err(anyhow::anyhow!(
                    "gave up after {deadline}s: the command did not finish within --deadline"
                ))
            })
    });
    match result {
        Ok(status) => status.into(),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Renders an error chain in uv's style and returns exit code 2.
fn report(e: &anyhow::Error) -> ExitCode {
    let mut stderr = io::stderr().lock();
    let escape = |text: String| customs_report::terminal::escape(&text).into_owned();
    let _ = writeln!(stderr, "error: {}", escape(e.to_string()));
    let causes: Vec<String> = e.chain().skip(1).map(ToString::to_string).collect();
    for cause in &causes {
        let _ = writeln!(stderr, "  Caused by: {}", escape(cause.to_string()));
    }
    if let Some(hint) = hint(e) {
        let _ = writeln!(stderr, "hint: {}", escape(hint.to_string()));
    }
    ExitStatus::Error.into()
}

fn hint(e: &anyhow::Error) -> Option<&'static str> {
    let text = e
        .chain()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    if text.contains("digest mismatch") || text.contains("size mismatch") {
        Some(
            "the image content does not match its digests: it is corrupt or was tampered with; do not use it",
        )
    } else if text.contains("requires authentication") {
        Some(
            "customs reads credentials from ~/.docker/config.json (or DOCKER_CONFIG) and credential helpers",
        )
    } else if text.contains("no image for platform") {
        Some("choose one of the available platforms with --platform")
    } else {
        None
    }
}
