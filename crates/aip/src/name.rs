//! Resource names (AIP-122): a pattern such as `shelves/{shelf}/books/{book}`,
//! the values of its parent variables (literal, or taken from the call), and
//! the one variable that is the Wix `_id`.

use std::collections::BTreeMap;

use extdb_contract::pb::CallContext;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
}

/// A parsed resource name pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    segments: Vec<Segment>,
    /// Index of the id variable in `segments`.
    id_at: usize,
    /// Values of the other variables.
    parent_values: BTreeMap<String, Template>,
}

/// A parent variable's value: literal text with `{context.instance_id}`,
/// `{context.installation_id}` or `{settings.NAME}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TemplatePart {
    Text(String),
    InstanceId,
    InstallationId,
    Setting(String),
}

/// Why a name or an id does not fit the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("an id must be non-empty and must not contain `/`: {0:?}")]
    BadId(String),
    #[error("the call has no {0} to fill the resource name's parent")]
    MissingContext(String),
    #[error("the parent value {0:?} is empty or contains `/`")]
    BadParent(String),
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(TemplatePart::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in {text:?}"))?
                + open;
            let name = &rest[open + 1..close];
            parts.push(match name {
                "context.instance_id" => TemplatePart::InstanceId,
                "context.installation_id" => TemplatePart::InstallationId,
                _ => match name.strip_prefix("settings.") {
                    Some(key) if !key.is_empty() => TemplatePart::Setting(key.to_owned()),
                    _ => {
                        return Err(format!(
                            "unknown placeholder {{{name}}} (known: {{context.instance_id}}, {{context.installation_id}}, {{settings.NAME}})"
                        ));
                    }
                },
            });
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(format!("unopened `}}` in {text:?}"));
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Text(rest.to_owned()));
        }
        if parts.is_empty() {
            return Err("empty".into());
        }
        Ok(Template { parts })
    }

    fn render(&self, context: &CallContext) -> Result<String, NameError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::InstanceId if !context.instance_id.is_empty() => {
                    out.push_str(&context.instance_id)
                }
                TemplatePart::InstallationId if !context.installation_id.is_empty() => {
                    out.push_str(&context.installation_id)
                }
                TemplatePart::Setting(key) => match context.settings.get(key) {
                    Some(value) if !value.is_empty() => out.push_str(value),
                    _ => return Err(NameError::MissingContext(format!("setting `{key}`"))),
                },
                TemplatePart::InstanceId => {
                    return Err(NameError::MissingContext("instance id".into()));
                }
                TemplatePart::InstallationId => {
                    return Err(NameError::MissingContext("installation id".into()));
                }
            }
        }
        if out.is_empty() || out.contains('/') {
            return Err(NameError::BadParent(out));
        }
        Ok(out)
    }
}

impl NamePattern {
    /// Parses `pattern`; `id_variable` defaults to the last variable, and
    /// every other variable needs a value in `parent`.
    pub fn parse(
        pattern: &str,
        id_variable: Option<&str>,
        parent: &BTreeMap<String, String>,
    ) -> Result<NamePattern, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut segments = Vec::new();
        for segment in pattern.split('/') {
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(variable) if !variable.is_empty() && !variable.contains(['{', '}', '=']) => {
                    segments.push(Segment::Variable(variable.to_owned()))
                }
                None if !segment.is_empty() && !segment.contains(['{', '}']) => {
                    segments.push(Segment::Literal(segment.to_owned()))
                }
                _ => {
                    problems.push((
                        "pattern".to_owned(),
                        format!("{pattern:?}: segment {segment:?} is neither a literal nor a {{variable}}"),
                    ));
                    return Err(problems);
                }
            }
        }
        let variables: Vec<&str> = segments
            .iter()
            .filter_map(|s| match s {
                Segment::Variable(v) => Some(v.as_str()),
                Segment::Literal(_) => None,
            })
            .collect();
        let id = match id_variable {
            Some(id) => id,
            None => match variables.last() {
                Some(last) => last,
                None => {
                    problems.push(("pattern".into(), format!("{pattern:?} has no variable")));
                    return Err(problems);
                }
            },
        };
        let Some(id_at) = segments
            .iter()
            .position(|s| *s == Segment::Variable(id.to_owned()))
        else {
            problems.push((
                "id_variable".into(),
                format!("{id:?} is not a variable of {pattern:?}"),
            ));
            return Err(problems);
        };
        let mut parent_values = BTreeMap::new();
        for variable in variables.iter().filter(|v| **v != id) {
            match parent.get(*variable) {
                Some(text) => match Template::parse(text) {
                    Ok(template) => {
                        parent_values.insert((*variable).to_owned(), template);
                    }
                    Err(message) => problems.push((format!("parent.{variable}"), message)),
                },
                None => problems.push((
                    format!("parent.{variable}"),
                    format!("the pattern's variable {{{variable}}} needs a value (literal, {{context.instance_id}} or {{settings.NAME}})"),
                )),
            }
        }
        for key in parent.keys() {
            if !variables.contains(&key.as_str()) || key == id {
                problems.push((
                    format!("parent.{key}"),
                    format!("not a parent variable of {pattern:?}"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(NamePattern {
            segments,
            id_at,
            parent_values,
        })
    }

    /// The full name of the resource with id `id` for this call.
    pub fn name(&self, id: &str, context: &CallContext) -> Result<String, NameError> {
        if id.is_empty() || id.contains('/') {
            return Err(NameError::BadId(id.to_owned()));
        }
        let mut parts = Vec::with_capacity(self.segments.len());
        for (at, segment) in self.segments.iter().enumerate() {
            parts.push(match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Variable(_) if at == self.id_at => id.to_owned(),
                Segment::Variable(variable) => self.parent_value(variable, context)?,
            });
        }
        Ok(parts.join("/"))
    }

    /// The collection's parent (AIP-132/133 `parent`): the name's segments
    /// before the collection literal that precedes the id; `None` for a
    /// top-level resource.
    pub fn parent(&self, context: &CallContext) -> Result<Option<String>, NameError> {
        let end = self.id_at.saturating_sub(1);
        if end == 0 {
            return Ok(None);
        }
        let mut parts = Vec::with_capacity(end);
        for segment in &self.segments[..end] {
            parts.push(match segment {
                Segment::Literal(text) => text.clone(),
                Segment::Variable(variable) => self.parent_value(variable, context)?,
            });
        }
        Ok(Some(parts.join("/")))
    }

    fn parent_value(&self, variable: &str, context: &CallContext) -> Result<String, NameError> {
        match self.parent_values.get(variable) {
            Some(template) => template.render(context),
            None => Err(NameError::MissingContext(format!(
                "value for {{{variable}}}"
            ))),
        }
    }

    /// The id in a name the backend returned; `None` when the name does not
    /// fit the pattern.
    pub fn id_of<'n>(&self, name: &'n str) -> Option<&'n str> {
        let parts: Vec<&str> = name.split('/').collect();
        if parts.len() != self.segments.len() {
            return None;
        }
        for (part, segment) in parts.iter().zip(&self.segments) {
            match segment {
                Segment::Literal(text) if text != part => return None,
                _ if part.is_empty() => return None,
                _ => {}
            }
        }
        Some(parts[self.id_at])
    }
}

#[cfg(test)]
mod tests;
