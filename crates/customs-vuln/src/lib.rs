//! Vulnerabilities: [OSV](https://ossf.github.io/osv-schema/) records
//! imported from files or downloaded exports, compiled into a local index
//! ([`VulnIndex`]) that opens in milliseconds, and matched against an SBOM
//! with each ecosystem's own version ordering ([`match_sbom`]).
//!
//! Air-gapped use is the first path: `import` takes the same `all.zip`
//! archives osv.dev publishes, or any folder of OSV JSON; `update` only
//! downloads those archives first.

pub mod ecosystem;
pub mod index;
pub mod matching;
pub mod osv;
pub mod severity;

pub mod update;

pub use customs_types::time::parse_rfc3339;
pub use ecosystem::Via;
pub use index::{ImportSource, ImportSummary, IndexError, Status, VulnIndex, import};
pub use matching::{Finding, FixState, MatchDetail, MatchReport, Unmatched, match_sbom};
pub use severity::{CvssScore, Rated};
