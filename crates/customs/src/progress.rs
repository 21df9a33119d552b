//! Download progress bars on a terminal; silence otherwise.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;

use customs_oci::Progress;
use customs_types::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// Download progress for a command: bars on a terminal, nothing otherwise.
pub(crate) fn progress(quiet: bool) -> Box<dyn Progress> {
    match Bars::new(quiet) {
        Some(bars) => Box::new(bars),
        None => Box::new(customs_oci::NoProgress),
    }
}

/// Shows one bar per blob being downloaded.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Digest, ProgressBar>>,
    style: ProgressStyle,
}

impl Bars {
    /// Bars when stderr is a terminal and `quiet` is off; `None` otherwise.
    fn new(quiet: bool) -> Option<Self> {
        if quiet || !std::io::stderr().is_terminal() {
            return None;
        }
        let style = ProgressStyle::with_template(
            "{prefix:>12} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        Some(Self {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
            style,
        })
    }
}

impl Progress for Bars {
    fn blob_started(&self, digest: &Digest, size: u64) {
        let bar = self.multi.add(
            ProgressBar::new(size)
                .with_style(self.style.clone())
                .with_prefix(digest.short().to_owned()),
        );
        if let Ok(mut bars) = self.bars.lock()
            && let Some(old) = bars.insert(digest.clone(), bar)
        {
            old.finish_and_clear();
        }
    }

    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        if let Some(bar) = self.bars.lock().ok().and_then(|b| b.get(digest).cloned()) {
            bar.inc(bytes);
        }
    }

    fn blob_restarted(&self, digest: &Digest) {
        if let Some(bar) = self.bars.lock().ok().and_then(|b| b.get(digest).cloned()) {
            bar.set_position(0);
        }
    }

    fn blob_finished(&self, digest: &Digest) {
        if let Some(bar) = self.bars.lock().ok().and_then(|mut b| b.remove(digest)) {
            bar.finish_and_clear();
        }
    }
}
