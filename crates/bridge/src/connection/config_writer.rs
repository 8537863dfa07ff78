//! Writes what a connection needs into the sidecar's YAML: a legacy secret
//! next to the existing `auth.legacy.secret_keys`, a v3 key with its
//! audience in `auth.v3.keys`, or a retired secret removed.
//!
//! The YAML libraries at hand drop comments, so the file is edited as text:
//! only the lines of the one list that changes are touched, everything else
//! (comments, ordering, quoting) stays byte for byte. Every edit is then
//! checked by parsing the file before and after: the result must equal the
//! old document with exactly that change, or nothing is written. The new
//! file replaces the old one atomically (temp file + rename) after a backup
//! (`<file>.bak`). When the file cannot be edited, the lines go to a
//! sibling file instead, and the caller says so.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::secrets::{Secret, fingerprint};

/// One change to the sidecar's config.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Append a secret to `auth.legacy.secret_keys` (creating the list,
    /// `legacy` or `auth` as needed).
    AddSecret(Secret),
    /// Remove the one secret whose fingerprint is (or starts with) this.
    RemoveSecret { fingerprint: String },
    /// Add (or replace, by `id`) an entry of `auth.v3.keys`.
    SetV3Key {
        id: String,
        public_key: String,
        audience: Option<String>,
    },
}

/// Why the file was not edited.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the edited file did not parse back to the intended change ({0}); nothing was written")]
    Verify(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What happened to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Replaced; the previous version is at `backup`.
    Written { backup: PathBuf },
    /// The file already held exactly this.
    Unchanged,
}

/// Applies `edit` to the file at `path`.
pub fn apply_to_file(path: &Path, edit: &Edit) -> Result<Outcome, WriteError> {
    let text = fs::read_to_string(path).map_err(|source| WriteError::Read {
        path: path.to_owned(),
        source,
    })?;
    match apply_to_text(&text, edit)? {
        None => Ok(Outcome::Unchanged),
        Some(new_text) => {
            let backup =
                replace_atomically(path, &new_text).map_err(|source| WriteError::Write {
                    path: path.to_owned(),
                    source,
                })?;
            Ok(Outcome::Written { backup })
        }
    }
}

/// The edited text, or `None` when `text` already holds the change.
pub fn apply_to_text(text: &str, edit: &Edit) -> Result<Option<String>, WriteError> {
    let before = parse(text).map_err(|e| {
        WriteError::Unsupported(format!("the file is not YAML this tool can read: {e}"))
    })?;
    let Some(expected) = expected_after(&before, edit)? else {
        return Ok(None);
    };
    let mut doc = Lines::new(text);
    match edit {
        Edit::AddSecret(secret) => doc.add_secret(&quote(secret.expose()))?,
        Edit::RemoveSecret { fingerprint } => doc.remove_secret(fingerprint)?,
        Edit::SetV3Key {
            id,
            public_key,
            audience,
        } => doc.set_v3_key(id, public_key, audience.as_deref())?,
    }
    let new_text = doc.render();
    let after = parse(&new_text).map_err(|e| WriteError::Verify(e.to_string()))?;
    if after != expected {
        return Err(WriteError::Verify(
            "the parsed result differs from the intended one".into(),
        ));
    }
    Ok(Some(new_text))
}

/// The lines a person adds by hand, for when the file cannot be edited.
/// Holds the secret of an [`Edit::AddSecret`].
pub fn manual_lines(edit: &Edit, existing_secrets: &[String]) -> String {
    match edit {
        Edit::AddSecret(secret) => {
            let mut all: Vec<&str> = existing_secrets.iter().map(String::as_str).collect();
            all.push(secret.expose());
            format!(
                "# Add to auth.legacy.secret_keys (keep the entries already there):\n\
                 auth:\n  legacy:\n    secret_keys:\n      - {}\n\
                 # or in the environment (every accepted secret, comma-separated):\n\
                 # EXTDB_AUTH__LEGACY__SECRET_KEYS={}\n",
                quote(secret.expose()),
                all.join(",")
            )
        }
        Edit::RemoveSecret { fingerprint } => format!(
            "# Remove the secret with fingerprint {fingerprint} from auth.legacy.secret_keys\n"
        ),
        Edit::SetV3Key {
            id,
            public_key,
            audience,
        } => {
            let mut out = String::from(
                "# Add to auth.v3.keys (keep the entries already there):\nauth:\n  v3:\n    keys:\n",
            );
            for line in key_item_lines(6, id, public_key, audience.as_deref()) {
                out.push_str(&line);
                out.push('\n');
            }
            out
        }
    }
}

/// Writes `text` to a sibling of `config` (mode 0600: it may hold a
/// secret); returns its path.
pub fn write_sibling(config: &Path, tag: &str, text: &str) -> std::io::Result<PathBuf> {
    let name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.yaml".into());
    let path = config.with_file_name(format!("{name}.{tag}.yaml"));
    let mut file = private_file(&path, true)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(path)
}

/// The secrets `auth.legacy.secret_keys` lists in `text` (file only, no
/// environment).
pub fn secrets_in(text: &str) -> Vec<String> {
    parse(text)
        .ok()
        .and_then(|v| v.pointer("/auth/legacy/secret_keys").cloned())
        .map(|v| match v {
            Value::Array(items) => items.iter().map(scalar_text).collect(),
            other => scalar_text(&other).split(',').map(str::to_owned).collect(),
        })
        .unwrap_or_default()
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The document as the sidecar's config loader reads it.
fn parse(text: &str) -> Result<Value, config::ConfigError> {
    config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Yaml))
        .build()?
        .try_deserialize::<Value>()
}

/// `before` with `edit` applied, or `None` when there is nothing to do.
fn expected_after(before: &Value, edit: &Edit) -> Result<Option<Value>, WriteError> {
    let mut after = before.clone();
    if !after.is_object() {
        after = json!({});
    }
    match edit {
        Edit::AddSecret(secret) => {
            let list = list_at(&mut after, &["auth", "legacy", "secret_keys"])?;
            if list.iter().any(|s| s.as_str() == Some(secret.expose())) {
                return Ok(None);
            }
            list.push(Value::String(secret.expose().to_owned()));
        }
        Edit::RemoveSecret {
            fingerprint: wanted,
        } => {
            let list = list_at(&mut after, &["auth", "legacy", "secret_keys"])?;
            let index = one_secret_matching(list, wanted)?;
            if list.len() == 1 {
                return Err(WriteError::Unsupported(
                    "it is the only secret in auth.legacy.secret_keys; removing it would switch the legacy protocol off".into(),
                ));
            }
            list.remove(index);
        }
        Edit::SetV3Key {
            id,
            public_key,
            audience,
        } => {
            let mut item = json!({"id": id, "public_key": public_key});
            if let Some(audience) = audience {
                item["audiences"] = json!([audience]);
            }
            let list = list_at(&mut after, &["auth", "v3", "keys"])?;
            match list
                .iter()
                .position(|k| k.get("id").and_then(Value::as_str) == Some(id))
            {
                Some(i) if list[i] == item => return Ok(None),
                Some(i) => list[i] = item,
                None => list.push(item),
            }
        }
    }
    Ok(Some(after))
}

fn one_secret_matching(list: &[Value], wanted: &str) -> Result<usize, WriteError> {
    let matches: Vec<usize> = list
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            super::secrets::fingerprint_matches(&fingerprint(scalar_text(s).as_bytes()), wanted)
        })
        .map(|(i, _)| i)
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(WriteError::NotFound(format!(
            "no secret with fingerprint {wanted} in auth.legacy.secret_keys"
        ))),
        _ => Err(WriteError::Unsupported(format!(
            "several secrets match {wanted}; give more of the fingerprint"
        ))),
    }
}

/// The list at `path`, creating missing objects and an empty list.
fn list_at<'a>(root: &'a mut Value, path: &[&str]) -> Result<&'a mut Vec<Value>, WriteError> {
    let mut at = root;
    let dotted = path.join(".");
    for (depth, key) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        let object = match at {
            Value::Object(map) => map,
            _ => {
                return Err(WriteError::Unsupported(format!(
                    "{} is not a mapping",
                    path[..depth].join(".")
                )));
            }
        };
        let slot = object
            .entry((*key).to_owned())
            .or_insert_with(|| if last { json!([]) } else { json!({}) });
        if slot.is_null() {
            *slot = if last { json!([]) } else { json!({}) };
        }
        at = slot;
    }
    match at {
        Value::Array(list) => Ok(list),
        _ => Err(WriteError::Unsupported(format!(
            "{dotted} is a single value; write it as a list first"
        ))),
    }
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
fn quote(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn key_item_lines(
    indent: usize,
    id: &str,
    public_key: &str,
    audience: Option<&str>,
) -> Vec<String> {
    let pad = " ".repeat(indent);
    let mut lines = vec![
        format!("{pad}- id: {}", quote(id)),
        format!("{pad}  public_key: {}", quote(public_key)),
    ];
    if let Some(audience) = audience {
        lines.push(format!("{pad}  audiences: [{}]", quote(audience)));
    }
    lines
}

/// Replaces `path` with `text` through a temp file in the same folder and
/// a rename; the previous version is copied to `<file>.bak` first.
fn replace_atomically(path: &Path, text: &str) -> std::io::Result<PathBuf> {
    // Write where a symlink points, not over the link.
    let path = fs::canonicalize(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let backup = path.with_file_name(format!("{name}.bak"));
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let permissions = fs::metadata(&path)?.permissions();
    // Fail before touching anything when the file cannot be replaced.
    if permissions.readonly() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file is read-only",
        ));
    }
    let written = (|| {
        let mut file = private_file(&temp, false)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::set_permissions(&temp, permissions.clone())?;
        fs::copy(&path, &backup)?;
        fs::rename(&temp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    Ok(backup)
}

fn private_file(path: &Path, truncate: bool) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if truncate {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The file as lines, edited in place.
struct Lines {
    lines: Vec<String>,
    crlf: bool,
    final_newline: bool,
    /// The file's indentation step (2 unless it uses another).
    step: usize,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let crlf = text.contains("\r\n");
        let final_newline = text.ends_with('\n');
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l).to_owned())
            .collect();
        let step = lines
            .iter()
            .filter(|l| is_content(l))
            .map(|l| indent(l))
            .find(|&i| i > 0)
            .unwrap_or(2);
        Lines {
            lines,
            crlf,
            final_newline,
            step,
        }
    }

    fn render(&self) -> String {
        let newline = if self.crlf { "\r\n" } else { "\n" };
        let mut out = self.lines.join(newline);
        if self.final_newline || self.lines.is_empty() {
            out.push_str(newline);
        }
        out
    }

    /// First line after the block that line `at` opens.
    fn block_end(&self, at: usize) -> usize {
        let base = indent(&self.lines[at]);
        let is_item = self.lines[at].trim_start().starts_with('-');
        for (j, line) in self.lines.iter().enumerate().skip(at + 1) {
            if !is_content(line) {
                continue;
            }
            let i = indent(line);
            // `key:` may be followed by its list at the same indentation.
            let same_level_item = i == base && !is_item && line.trim_start().starts_with("- ");
            if i < base || (i == base && !same_level_item) {
                return j;
            }
        }
        self.lines.len()
    }

    /// The last content line in `(at, end)`, or `at`.
    fn last_content(&self, at: usize, end: usize) -> usize {
        (at + 1..end)
            .rev()
            .find(|&j| is_content(&self.lines[j]))
            .unwrap_or(at)
    }

    /// The indentation of `parent`'s children (`None`: top level).
    fn child_indent(&self, parent: Option<usize>) -> Option<usize> {
        let (start, end) = self.range(parent);
        (start..end)
            .find(|&j| is_content(&self.lines[j]))
            .map(|j| indent(&self.lines[j]))
    }

    fn range(&self, parent: Option<usize>) -> (usize, usize) {
        match parent {
            None => (0, self.lines.len()),
            Some(p) => (p + 1, self.block_end(p)),
        }
    }

    /// The line of mapping key `key` directly under `parent`.
    fn find_child(&self, parent: Option<usize>, key: &str) -> Option<usize> {
        let (start, end) = self.range(parent);
        let level = self.child_indent(parent)?;
        (start..end).find(|&j| {
            let line = &self.lines[j];
            is_content(line)
                && indent(line) == level
                && mapping_key(line).is_some_and(|(k, _)| k == key)
        })
    }

    /// `key:` with a value on the same line is not a block this tool edits.
    fn require_block(&self, at: usize, path: &str) -> Result<(), WriteError> {
        let value = mapping_key(&self.lines[at])
            .map(|(_, v)| v)
            .unwrap_or_default();
        if value.is_empty() {
            Ok(())
        } else {
            Err(WriteError::Unsupported(format!(
                "`{path}` is written on one line ({value}); this tool edits only block mappings"
            )))
        }
    }

    fn insert(&mut self, at: usize, new: Vec<String>) {
        self.lines.splice(at..at, new);
    }

    /// Inserts `lines` (relative indentation 0, 1, 2… steps) as the last
    /// child of `parent`, at its children's indentation.
    fn append_child(&mut self, parent: Option<usize>, lines: &[(usize, String)]) {
        let (level, at) = match parent {
            None => (0, self.lines.len()),
            Some(p) => {
                let level = self
                    .child_indent(Some(p))
                    .unwrap_or(indent(&self.lines[p]) + self.step);
                (level, self.last_content(p, self.block_end(p)) + 1)
            }
        };
        let new = lines
            .iter()
            .map(|(depth, text)| format!("{}{text}", " ".repeat(level + depth * self.step)))
            .collect();
        self.insert(at, new);
    }

    /// `auth` → `section`, creating what is missing with `tail` (the lines
    /// below `section:`). Returns the line of `section`, or `None` when it
    /// was created (with `tail` in it).
    fn section(
        &mut self,
        section: &str,
        tail: &[(usize, String)],
    ) -> Result<Option<usize>, WriteError> {
        let with_section = |depth: usize| {
            let mut lines = vec![(depth, format!("{section}:"))];
            lines.extend(tail.iter().map(|(d, t)| (d + depth + 1, t.clone())));
            lines
        };
        let Some(auth) = self.find_child(None, "auth") else {
            let mut lines = vec![(0, "auth:".to_owned())];
            lines.extend(with_section(1));
            self.append_child(None, &lines);
            return Ok(None);
        };
        self.require_block(auth, "auth")?;
        let Some(at) = self.find_child(Some(auth), section) else {
            self.append_child(Some(auth), &with_section(0));
            return Ok(None);
        };
        self.require_block(at, &format!("auth.{section}"))?;
        Ok(Some(at))
    }

    fn add_secret(&mut self, item: &str) -> Result<(), WriteError> {
        let line = format!("secret_keys: [{item}]");
        let Some(legacy) = self.section("legacy", &[(0, line.clone())])? else {
            return Ok(());
        };
        let Some(keys) = self.find_child(Some(legacy), "secret_keys") else {
            self.append_child(Some(legacy), &[(0, line)]);
            return Ok(());
        };
        self.append_to_list(keys, item, "auth.legacy.secret_keys")
    }

    /// Adds `item` (a scalar's text) to the list opened at line `at`.
    fn append_to_list(&mut self, at: usize, item: &str, path: &str) -> Result<(), WriteError> {
        let (value, _) = split_value(&self.lines[at]);
        if value.starts_with('[') {
            let items = flow_items(value, path)?;
            let mut texts: Vec<&str> = items.iter().map(String::as_str).collect();
            texts.push(item);
            self.lines[at] = replace_value(&self.lines[at], &format!("[{}]", texts.join(", ")));
            return Ok(());
        }
        if !value.is_empty() {
            return Err(WriteError::Unsupported(format!(
                "`{path}` is a single value ({value}); write it as a list first"
            )));
        }
        let end = self.block_end(at);
        let items = self.block_items(at, end, path)?;
        match items.first() {
            None => {
                self.lines[at] = replace_value(&self.lines[at], &format!("[{item}]"));
            }
            Some(&first) => {
                let pad = " ".repeat(indent(&self.lines[first]));
                let last = self.last_content(at, end);
                self.insert(last + 1, vec![format!("{pad}- {item}")]);
            }
        }
        Ok(())
    }

    /// The item lines of a block list of scalars in `(at, end)`.
    fn block_items(&self, at: usize, end: usize, path: &str) -> Result<Vec<usize>, WriteError> {
        let mut items = Vec::new();
        for j in at + 1..end {
            let line = &self.lines[j];
            if !is_content(line) {
                continue;
            }
            if !line.trim_start().starts_with("- ") && line.trim() != "-" {
                return Err(WriteError::Unsupported(format!(
                    "`{path}` has an entry over several lines; this tool edits one-line entries"
                )));
            }
            items.push(j);
        }
        Ok(items)
    }

    fn remove_secret(&mut self, wanted: &str) -> Result<(), WriteError> {
        let missing = || WriteError::NotFound("no auth.legacy.secret_keys in the file".into());
        let auth = self.find_child(None, "auth").ok_or_else(missing)?;
        let legacy = self.find_child(Some(auth), "legacy").ok_or_else(missing)?;
        let at = self
            .find_child(Some(legacy), "secret_keys")
            .ok_or_else(missing)?;
        let path = "auth.legacy.secret_keys";
        let matches = |text: &str| -> Result<bool, WriteError> {
            let value = unquote(text, path)?;
            Ok(super::secrets::fingerprint_matches(
                &fingerprint(value.as_bytes()),
                wanted,
            ))
        };
        let (value, _) = split_value(&self.lines[at]);
        if value.starts_with('[') {
            let mut kept = Vec::new();
            for item in flow_items(value, path)? {
                if !matches(&item)? {
                    kept.push(item);
                }
            }
            self.lines[at] = replace_value(&self.lines[at], &format!("[{}]", kept.join(", ")));
            return Ok(());
        }
        let end = self.block_end(at);
        let mut doomed = Vec::new();
        for j in self.block_items(at, end, path)? {
            let text = split_value_of_item(&self.lines[j]);
            if matches(&text)? {
                doomed.push(j);
            }
        }
        for j in doomed.into_iter().rev() {
            self.lines.remove(j);
        }
        Ok(())
    }

    fn set_v3_key(
        &mut self,
        id: &str,
        public_key: &str,
        audience: Option<&str>,
    ) -> Result<(), WriteError> {
        // Relative lines of a new `keys:` list holding the one item.
        let item = key_item_lines(0, id, public_key, audience);
        let mut keys_block = vec![(0, "keys:".to_owned())];
        keys_block.extend(item.iter().map(|l| (1, l.clone())));
        let Some(v3) = self.section("v3", &keys_block)? else {
            return Ok(());
        };
        let Some(keys) = self.find_child(Some(v3), "keys") else {
            self.append_child(Some(v3), &keys_block);
            return Ok(());
        };
        let (value, _) = split_value(&self.lines[keys]);
        let base = indent(&self.lines[keys]);
        if value == "[]" {
            self.lines[keys] = replace_value(&self.lines[keys], "");
            let lines = key_item_lines(base + self.step, id, public_key, audience);
            self.insert(keys + 1, lines);
            return Ok(());
        }
        if !value.is_empty() {
            return Err(WriteError::Unsupported(format!(
                "`auth.v3.keys` is written on one line ({value}); this tool edits only block lists"
            )));
        }
        let end = self.block_end(keys);
        let item_level = (keys + 1..end)
            .find(|&j| is_content(&self.lines[j]))
            .map(|j| indent(&self.lines[j]))
            .unwrap_or(base + self.step);
        let starts: Vec<usize> = (keys + 1..end)
            .filter(|&j| {
                let line = &self.lines[j];
                is_content(line) && indent(line) == item_level && line.trim_start().starts_with('-')
            })
            .collect();
        let lines = key_item_lines(item_level, id, public_key, audience);
        for (n, &start) in starts.iter().enumerate() {
            let item_end = starts.get(n + 1).copied().unwrap_or(end);
            if self.item_has_id(start, item_end, item_level, id)? {
                let last = self.last_content(start, item_end);
                self.lines.splice(start..=last, lines);
                return Ok(());
            }
        }
        let last = self.last_content(keys, end);
        self.insert(last + 1, lines);
        Ok(())
    }

    /// Whether the list item in `[start, end)` has `id: <id>`.
    fn item_has_id(
        &self,
        start: usize,
        end: usize,
        level: usize,
        id: &str,
    ) -> Result<bool, WriteError> {
        for j in start..end {
            let line = &self.lines[j];
            if !is_content(line) {
                continue;
            }
            let text = if j == start {
                line.trim_start().trim_start_matches('-').to_owned()
            } else if indent(line) > level {
                line.clone()
            } else {
                continue;
            };
            if let Some(("id", value)) = mapping_key(&text) {
                return Ok(unquote(value, "auth.v3.keys[].id")? == id);
            }
        }
        Ok(false)
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#')
}

/// `key: value` → (`key`, value without its comment). Plain keys only.
fn mapping_key(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_start();
    if t.starts_with('-') || t.starts_with('#') {
        return None;
    }
    let colon = t.find(':')?;
    let key = &t[..colon];
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    let rest = &t[colon + 1..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, strip_comment(rest).trim()))
}

/// The value of a `key: value` line and the rest (spacing and comment).
fn split_value(line: &str) -> (&str, &str) {
    let colon = line.find(':').unwrap_or(line.len());
    let rest = line.get(colon + 1..).unwrap_or("");
    let value = strip_comment(rest);
    let trimmed = value.trim();
    let tail = &rest[value.trim_end().len()..];
    (trimmed, tail)
}

/// `- value  # c` → `value`.
fn split_value_of_item(line: &str) -> String {
    let t = line.trim_start();
    let t = t.strip_prefix('-').unwrap_or(t);
    strip_comment(t).trim().to_owned()
}

/// `key: old  # c` → `key: new  # c`.
fn replace_value(line: &str, value: &str) -> String {
    let colon = line.find(':').unwrap_or(line.len());
    let (_, tail) = split_value(line);
    let sep = if value.is_empty() { "" } else { " " };
    format!("{}{sep}{value}{tail}", &line[..=colon.min(line.len() - 1)])
}

/// `text` up to a `#` comment outside quotes.
fn strip_comment(text: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' && previous.is_whitespace() => return &text[..i],
            None => {}
        }
        previous = c;
    }
    text
}

/// The items of a one-line flow list `[a, "b", 'c']`, as written.
fn flow_items(value: &str, path: &str) -> Result<Vec<String>, WriteError> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| {
            WriteError::Unsupported(format!(
                "`{path}` is a list over several lines in [ ] style; this tool edits one-line [ ] lists and block lists"
            ))
        })?;
    let mut items = Vec::new();
    let mut quote = None;
    let mut current = String::new();
    let mut escaped = false;
    for c in inner.chars() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ',' => {
                items.push(std::mem::take(&mut current).trim().to_owned());
                continue;
            }
            None if c == '[' || c == '{' => {
                return Err(WriteError::Unsupported(format!(
                    "`{path}` holds nested lists or mappings"
                )));
            }
            None => {}
        }
        current.push(c);
    }
    if quote.is_some() {
        return Err(WriteError::Unsupported(format!(
            "`{path}`: unterminated quote"
        )));
    }
    items.push(current.trim().to_owned());
    items.retain(|i| !i.is_empty());
    Ok(items)
}

/// A scalar's value from its text (double-quoted, single-quoted or plain).
fn unquote(text: &str, path: &str) -> Result<String, WriteError> {
    let text = text.trim();
    if text.starts_with('"') {
        // JSON strings are YAML double-quoted scalars; YAML-only escapes
        // are left to a person.
        serde_json::from_str::<String>(text).map_err(|_| {
            WriteError::Unsupported(format!("`{path}` has a quoted entry this tool cannot read"))
        })
    } else if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Ok(inner.replace("''", "'"))
    } else {
        Ok(text.to_owned())
    }
}

#[cfg(test)]
mod tests;
