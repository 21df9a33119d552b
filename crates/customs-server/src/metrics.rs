//! Prometheus metrics (text exposition format 0.0.4) and the per-token
//! rate limit.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters and histograms of one process.
#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    events: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// One request to `route` answered with `status` after `elapsed`.
    pub(crate) fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((route.to_owned(), method.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let h = latency.entry(route.to_owned()).or_default();
            let seconds = elapsed.as_secs_f64();
            for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *count += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    /// One event of a counter family: `("admission", "denied")`.
    pub(crate) fn count(&self, family: &'static str, label: &'static str) {
        if let Ok(mut events) = self.events.lock() {
            *events.entry((family, label)).or_default() += 1;
        }
    }

    /// The text exposition, with the queue's jobs per state.
    pub(crate) fn render(&self, jobs: &[(String, i64)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP customs_http_requests_total Requests answered, by route, method and status.\n# TYPE customs_http_requests_total counter\n");
        if let Ok(requests) = self.requests.lock() {
            for ((route, method, status), n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "customs_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP customs_http_request_duration_seconds Time to answer, by route.\n# TYPE customs_http_request_duration_seconds histogram\n");
        if let Ok(latency) = self.latency.lock() {
            for (route, h) in latency.iter() {
                let route = escape(route);
                for (count, bound) in h.counts.iter().zip(BUCKETS) {
                    let _ = writeln!(
                        out,
                        "customs_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "customs_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\ncustoms_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\ncustoms_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count, h.sum, h.count
                );
            }
        }
        if let Ok(events) = self.events.lock() {
            let mut family = "";
            for ((f, label), n) in events.iter() {
                if *f != family {
                    family = f;
                    let _ = writeln!(
                        out,
                        "# HELP customs_{f}_total {f} events by result.\n# TYPE customs_{f}_total counter"
                    );
                }
                let _ = writeln!(out, "customs_{f}_total{{result=\"{label}\"}} {n}");
            }
        }
        out.push_str(
            "# HELP customs_jobs Jobs in the queue, by state.\n# TYPE customs_jobs gauge\n",
        );
        for (state, n) in jobs {
            let _ = writeln!(out, "customs_jobs{{state=\"{}\"}} {n}", escape(state));
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A token bucket per token: `rate` requests a second, bursts of twice
/// that.
pub(crate) struct Limiter {
    rate: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl Limiter {
    pub(crate) fn new(rate: u32) -> Self {
        Self {
            rate: f64::from(rate),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// `None` when token `id` may make a request now, else how long to wait.
    pub(crate) fn admit(&self, id: i64) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        let burst = self.rate * 2.0;
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return None;
        };
        let (tokens, last) = buckets.entry(id).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_waits() {
        let limiter = Limiter::new(5);
        for _ in 0..10 {
            assert_eq!(limiter.admit(1), None);
        }
        let wait = limiter.admit(1).unwrap_or_default();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(200),
            "{wait:?}"
        );
        assert_eq!(limiter.admit(2), None, "per token");
        assert_eq!(Limiter::new(0).admit(1), None, "0 is no limit");
    }

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.request(
            "/api/v1/images/{digest}",
            "GET",
            200,
            Duration::from_millis(3),
        );
        m.count("admission", "denied");
        let text = m.render(&[("queued".to_owned(), 2)]);
        assert!(text.contains("customs_http_requests_total{route=\"/api/v1/images/{digest}\",method=\"GET\",status=\"200\"} 1"));
        assert!(text.contains("customs_http_request_duration_seconds_bucket{route=\"/api/v1/images/{digest}\",le=\"0.005\"} 1"));
        assert!(text.contains("customs_http_request_duration_seconds_bucket{route=\"/api/v1/images/{digest}\",le=\"0.002\"} 0") || text.contains("le=\"0.0025\"} 0"));
        assert!(text.contains("customs_admission_total{result=\"denied\"} 1"));
        assert!(text.contains("customs_jobs{state=\"queued\"} 2"));
    }
}
