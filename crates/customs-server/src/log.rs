//! Structured logs: one JSON object per line on stderr (or a buffer, in
//! tests). What is logged is chosen field by field: never a header, a
//! token or a request body.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

/// Where log lines go.
#[derive(Clone, Debug)]
pub struct Logger {
    sink: Sink,
}

#[derive(Clone, Debug)]
enum Sink {
    Stderr,
    Buffer(Arc<Mutex<Vec<u8>>>),
    Off,
}

impl Logger {
    /// JSON lines on stderr.
    #[must_use]
    pub fn stderr() -> Self {
        Self { sink: Sink::Stderr }
    }

    /// No logs.
    #[must_use]
    pub fn off() -> Self {
        Self { sink: Sink::Off }
    }

    /// Lines kept in memory (tests read them).
    #[must_use]
    pub fn buffer() -> (Self, Arc<Mutex<Vec<u8>>>) {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                sink: Sink::Buffer(buffer.clone()),
            },
            buffer,
        )
    }

    /// Writes `{"time", "level", "msg", …fields}`.
    pub fn log(&self, level: &str, msg: &str, fields: serde_json::Value) {
        if matches!(self.sink, Sink::Off) {
            return;
        }
        let mut line = serde_json::json!({
            "time": customs_store::now(),
            "level": level,
            "msg": msg,
        });
        if let (Some(line), serde_json::Value::Object(fields)) = (line.as_object_mut(), fields) {
            line.extend(fields);
        }
        let mut text = line.to_string();
        text.push('\n');
        match &self.sink {
            Sink::Stderr => {
                let _ = std::io::stderr().lock().write_all(text.as_bytes());
            }
            Sink::Buffer(buffer) => {
                if let Ok(mut buffer) = buffer.lock() {
                    buffer.extend_from_slice(text.as_bytes());
                }
            }
            Sink::Off => {}
        }
    }
}
