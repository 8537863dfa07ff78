//! `extdb-bridge introspect`: a starter `aip:` mapping for every
//! resource-oriented service in a set of descriptors, so a team goes from
//! "our service runs" to "Wix sees it" in minutes.
//!
//! The starter is conservative on purpose: it maps what the descriptors
//! prove (methods, request fields, types, field behaviours) and promises
//! nothing they cannot: no field is filterable or sortable until the team
//! says their backend evaluates it (each field's comment lists what its
//! type allows). Everything it emits is resolved against the descriptors
//! before it is printed, so the starter always starts.

use std::collections::BTreeMap;
use std::fmt::Write;

use prost_reflect::DescriptorPool;

use crate::config::{AipConfig, CollectionConfig, DescriptorSourceConfig, WildcardConfig};
use crate::descriptors::Descriptors;
use crate::mapping::{self, CollectionMap, ResourceAnnotation, guess_resource, snake_case};

/// Parent values the team must replace.
const CHANGE_ME: &str = "CHANGE-ME";

/// One service the starter maps.
struct Candidate {
    id: String,
    config: CollectionConfig,
    pattern_note: &'static str,
}

/// The starter YAML (an `upstreams:` entry named `upstream`) for the
/// services in `descriptors`; `source` is the descriptors block to emit.
pub fn starter_yaml(
    descriptors: &Descriptors,
    upstream: &str,
    endpoint: &str,
    source: &DescriptorSourceConfig,
) -> String {
    let pool = &descriptors.pool;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Starter mapping written by `extdb-bridge introspect` from {}\n\
         # (descriptors sha256 {}). Review it: replace every {CHANGE_ME}, then\n\
         # enable `filter` operators and `sortable` only on fields your backend\n\
         # evaluates in its List filter / order_by (each field's comment lists\n\
         # what its type allows). README: \"Bridging an existing API\".",
        descriptors.source, descriptors.digest
    );
    let _ = writeln!(
        out,
        "upstreams:\n  {upstream}:\n    kind: aip\n    endpoint: {endpoint}"
    );
    let _ = writeln!(out, "    aip:\n      descriptors:");
    if let Some(path) = &source.descriptor_set {
        let _ = writeln!(
            out,
            "        descriptor_set: {}",
            yaml_text(&path.display().to_string())
        );
    } else if let Some(proto) = &source.proto {
        let list = |paths: &[std::path::PathBuf]| {
            paths
                .iter()
                .map(|p| yaml_text(&p.display().to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "        proto:\n          include: [{}]",
            list(&proto.include)
        );
        let _ = writeln!(out, "          files: [{}]", list(&proto.files));
    } else {
        let _ = writeln!(out, "        reflection: true");
    }
    let candidates = candidates(pool);
    if candidates.is_empty() {
        let _ = writeln!(
            out,
            "      # No service with a List method returning one repeated message (AIP-132)\n      \
             # was found: map collections by hand.\n      collections: {{}}"
        );
        return out;
    }
    let _ = writeln!(out, "      collections:");
    for candidate in candidates {
        let config = AipConfig {
            descriptors: DescriptorSourceConfig::default(),
            collections: [(candidate.id.clone(), candidate.config.clone())]
                .into_iter()
                .collect(),
            write_concurrency: 8,
        };
        match mapping::resolve(&config, pool) {
            Ok(mut resolved) => {
                if let Some(map) = resolved.collections.remove(&candidate.id) {
                    write_collection(&mut out, &candidate, &map);
                }
            }
            Err(problems) => {
                let _ = writeln!(
                    out,
                    "        # {} ({}) cannot be mapped automatically:",
                    candidate.id, candidate.config.service
                );
                for problem in problems {
                    let _ = writeln!(out, "        #   {problem}");
                }
            }
        }
    }
    out
}

/// Services whose List method returns one repeated resource.
fn candidates(pool: &DescriptorPool) -> Vec<Candidate> {
    let mut found: BTreeMap<String, Candidate> = BTreeMap::new();
    for service in pool.services() {
        let Some(resource) = guess_resource(&service) else {
            continue;
        };
        let annotation = ResourceAnnotation::of(&resource, pool);
        let singular = annotation
            .singular
            .clone()
            .unwrap_or_else(|| snake_case(resource.name()));
        let plural = annotation
            .plural
            .clone()
            .unwrap_or_else(|| format!("{singular}s"));
        let (pattern, pattern_note) = match &annotation.pattern {
            Some(p) => (p.clone(), "from google.api.resource"),
            None => (
                format!("{plural}/{{{singular}}}"),
                "guessed: no google.api.resource; check it",
            ),
        };
        let variables: Vec<&str> = pattern
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let parent = variables
            .iter()
            .take(variables.len().saturating_sub(1))
            .map(|v| ((*v).to_owned(), CHANGE_ME.to_owned()))
            .collect();
        let mut id = snake_case(&plural);
        while found.contains_key(&id) {
            id.push('_');
        }
        let config = CollectionConfig {
            service: service.full_name().to_owned(),
            resource: Some(resource.full_name().to_owned()),
            name_field: "name".into(),
            pattern: annotation.pattern.is_none().then_some(pattern),
            parent,
            id_variable: None,
            methods: Default::default(),
            list: Default::default(),
            create: Default::default(),
            update: Default::default(),
            paging: Default::default(),
            wildcards: WildcardConfig::default(),
            max_terms: 50,
            read_only: false,
            fields: None,
        };
        found.insert(
            id.clone(),
            Candidate {
                id,
                config,
                pattern_note,
            },
        );
    }
    found.into_values().collect()
}

fn write_collection(out: &mut String, candidate: &Candidate, map: &CollectionMap) {
    let config = &candidate.config;
    let _ = writeln!(out, "        {}:", yaml_key(&candidate.id));
    let _ = writeln!(out, "          service: {}", config.service);
    let _ = writeln!(out, "          resource: {}", map.resource.full_name());
    match &config.pattern {
        Some(pattern) => {
            let _ = writeln!(
                out,
                "          pattern: {}  # {}",
                yaml_text(pattern),
                candidate.pattern_note
            );
        }
        None => {
            let _ = writeln!(out, "          # pattern {}", candidate.pattern_note);
        }
    }
    if !config.parent.is_empty() {
        let _ = writeln!(
            out,
            "          parent:  # each: a literal, {{context.instance_id}} or {{settings.NAME}}"
        );
        for variable in config.parent.keys() {
            let _ = writeln!(out, "            {variable}: {CHANGE_ME}");
        }
    }
    let methods = [
        ("list", map.list.as_ref().map(|m| m.method.name())),
        ("get", map.get.as_ref().map(|m| m.method.name())),
        ("create", map.create.as_ref().map(|m| m.method.name())),
        ("update", map.update.as_ref().map(|m| m.method.name())),
        ("delete", map.delete.as_ref().map(|m| m.method.name())),
    ];
    let found: Vec<String> = methods
        .iter()
        .map(|(op, m)| format!("{op}: {}", m.unwrap_or("-")))
        .collect();
    let _ = writeln!(out, "          # methods (AIP names): {}", found.join(", "));
    if let Some(list) = &map.list {
        let present: Vec<&str> = [
            ("filter", list.filter.is_some()),
            ("order_by", list.order_by.is_some()),
            ("skip", list.skip.is_some()),
            ("read_mask", list.read_mask.is_some()),
            ("total_size", list.total_size.is_some()),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
        let _ = writeln!(
            out,
            "          # {} has: {}",
            list.method.input().name(),
            if present.is_empty() {
                "page_size and page_token only".into()
            } else {
                present.join(", ")
            }
        );
    }
    let paging = if map.list.as_ref().is_some_and(|l| l.skip.is_some()) {
        "cursor  # offset also possible: the List request has skip"
    } else {
        "cursor"
    };
    let _ = writeln!(out, "          paging: {paging}");
    let _ = writeln!(out, "          fields:");
    for (key, field) in &map.fields {
        let type_name = field.wix_type.as_str_name();
        let mut notes = vec![
            type_name
                .strip_prefix("FIELD_TYPE_")
                .unwrap_or(type_name)
                .to_owned(),
        ];
        let possible = mapping::operators_supported(field.leaf(), &WildcardConfig::default());
        if !possible.is_empty() && map.list.as_ref().is_some_and(|l| l.filter.is_some()) {
            notes.push(format!(
                "filter possible: {}",
                possible
                    .iter()
                    .map(|o| o.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if mapping::sortable_supported(field.leaf())
            && map.list.as_ref().is_some_and(|l| l.order_by.is_some())
        {
            notes.push("sortable possible".into());
        }
        if field.read_only {
            notes.push("read-only (OUTPUT_ONLY)".into());
        }
        if field.immutable {
            notes.push("IMMUTABLE".into());
        }
        let mut settings = vec![format!("path: {}", field.backend_path())];
        if field.hidden {
            settings.push("hidden: true".into());
        }
        let _ = writeln!(
            out,
            "            {}: {{ {} }}  # {}",
            yaml_key(key),
            settings.join(", "),
            notes.join("; ")
        );
    }
}

/// A YAML plain scalar when safe, else a double-quoted one.
fn yaml_text(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
        && !text.starts_with(['-', '.']);
    if plain {
        text.to_owned()
    } else {
        format!("{text:?}")
    }
}

fn yaml_key(key: &str) -> String {
    let plain = key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !key.is_empty();
    if plain {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests;
