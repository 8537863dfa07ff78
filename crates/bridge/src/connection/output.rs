//! What a command reports: lines for a person, or one JSON object for a
//! script (`--json`), with the same content.

use std::process::ExitCode;

use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warning,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// The report of one command.
#[derive(Debug)]
pub struct Report {
    json: bool,
    lines: Vec<(Level, String)>,
    data: Map<String, Value>,
}

impl Report {
    pub fn new(json: bool) -> Report {
        Report {
            json,
            lines: Vec::new(),
            data: Map::new(),
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.lines.push((Level::Info, text.into()));
    }

    pub fn ok(&mut self, text: impl Into<String>) {
        self.lines.push((Level::Ok, text.into()));
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.lines.push((Level::Warning, text.into()));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.lines.push((Level::Error, text.into()));
    }

    /// A field of the JSON output.
    pub fn set(&mut self, key: &str, value: Value) {
        self.data.insert(key.to_owned(), value);
    }

    pub fn failed(&self) -> bool {
        self.lines.iter().any(|(level, _)| *level == Level::Error)
    }

    /// Prints the report; exit 1 when it holds an error.
    pub fn finish(self) -> ExitCode {
        let failed = self.failed();
        if self.json {
            let mut out = self.data;
            out.insert("ok".into(), json!(!failed));
            out.insert(
                "messages".into(),
                self.lines
                    .iter()
                    .map(|(level, text)| json!({"level": level.as_str(), "text": text}))
                    .collect(),
            );
            println!("{}", Value::Object(out));
        } else {
            self.print_lines();
        }
        if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }

    /// Ends the command on one failure line (stderr for a person).
    pub fn fail(mut self, text: impl Into<String>) -> ExitCode {
        let text = text.into();
        if self.json {
            self.error(text);
            self.finish()
        } else {
            self.print_lines();
            eprintln!("error: {text}");
            ExitCode::FAILURE
        }
    }

    fn print_lines(&self) {
        for (level, text) in &self.lines {
            match level {
                Level::Info => println!("{text}"),
                _ => println!("{}: {text}", level.as_str()),
            }
        }
    }
}
