//! `db update`: downloads osv.dev's per-ecosystem exports
//! (`<base>/<ECOSYSTEM>/all.zip`) into a temporary folder for one import.
//! Nothing reaches the index unless every download succeeded, so an
//! offline machine keeps its current database.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::index::ImportSource;

/// Where osv.dev publishes its exports.
pub const DEFAULT_OSV_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems `db update` downloads by default: those customs matches.
pub const DEFAULT_ECOSYSTEMS: [&str; 13] = [
    "AlmaLinux",
    "Alpine",
    "Bitnami",
    "Debian",
    "Go",
    "Maven",
    "NuGet",
    "Packagist",
    "PyPI",
    "Rocky Linux",
    "RubyGems",
    "crates.io",
    "npm",
];

/// The largest export accepted (npm's is about 200 MiB).
const MAX_EXPORT_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Why a download failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The request failed (offline, DNS, TLS, timeout).
    #[error("cannot download {url}")]
    Request {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error.
    #[error("cannot download {url}: HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body is not a zip archive or is too large.
    #[error("{url}: {problem}")]
    Body {
        /// The URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// The temporary file could not be written.
    #[error("cannot write the download of {url}")]
    Io {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A URL as it may be shown and recorded: a password in it (a mirror
/// reached as `https://user:token@host/…`) becomes `[redacted]`.
#[must_use]
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:[redacted]@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// The export URL of one ecosystem.
#[must_use]
pub fn export_url(base: &str, ecosystem: &str) -> String {
    let encoded: String = ecosystem
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{}/{encoded}/all.zip", base.trim_end_matches('/'))
}

/// Downloads the export of every ecosystem into `into`, returning one
/// import source per file, named by its URL.
///
/// # Errors
/// [`UpdateError`] at the first failed download.
pub async fn download_exports(
    base: &str,
    ecosystems: &[String],
    into: &Path,
    timeout: Duration,
) -> Result<Vec<ImportSource>, UpdateError> {
    // The one TLS provider of the workspace (ring); a no-op when installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .build()
        .map_err(|source| UpdateError::Request {
            url: display_url(base),
            source,
        })?;
    let mut out = Vec::new();
    for (i, ecosystem) in ecosystems.iter().enumerate() {
        let url = export_url(base, ecosystem);
        let path = into.join(format!("{i}.zip"));
        download(&client, &url, &path).await?;
        out.push(ImportSource { path, name: url });
    }
    Ok(out)
}

async fn download(client: &reqwest::Client, url: &str, path: &Path) -> Result<(), UpdateError> {
    let shown = display_url(url);
    // reqwest's own error text names the URL too: without it, no password
    // can leak through the error chain.
    let request = |source: reqwest::Error| UpdateError::Request {
        url: shown.clone(),
        source: source.without_url(),
    };
    let io = |source| UpdateError::Io {
        url: shown.clone(),
        source,
    };
    let mut response = client.get(url).send().await.map_err(request)?;
    if !response.status().is_success() {
        return Err(UpdateError::Status {
            url: shown,
            status: response.status().as_u16(),
        });
    }
    let mut file = fs_err::File::create(path).map_err(io)?;
    let mut written: u64 = 0;
    while let Some(chunk) = response.chunk().await.map_err(request)? {
        written += chunk.len() as u64;
        if written > MAX_EXPORT_BYTES {
            return Err(UpdateError::Body {
                url: shown,
                problem: format!("larger than {MAX_EXPORT_BYTES} bytes"),
            });
        }
        if written == chunk.len() as u64 && !chunk.starts_with(b"PK") {
            return Err(UpdateError::Body {
                url: shown,
                problem: "not a zip archive".to_owned(),
            });
        }
        file.write_all(&chunk).map_err(io)?;
    }
    if written == 0 {
        return Err(UpdateError::Body {
            url: shown,
            problem: "empty response".to_owned(),
        });
    }
    file.sync_all().map_err(io)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_in_urls_are_never_shown() {
        assert_eq!(
            super::display_url("https://me:s3cr3t@mirror.example/osv/PyPI/all.zip"),
            "https://me:[redacted]@mirror.example/osv/PyPI/all.zip"
        );
        assert_eq!(super::display_url("https://h/x@y"), "https://h/x@y");
        assert_eq!(super::display_url("no-scheme"), "no-scheme");
    }

    #[test]
    fn urls_encode_ecosystem_names() {
        assert_eq!(
            super::export_url("https://h/", "Rocky Linux"),
            "https://h/Rocky%20Linux/all.zip"
        );
        assert_eq!(
            super::export_url("http://h", "crates.io"),
            "http://h/crates.io/all.zip"
        );
    }
}
