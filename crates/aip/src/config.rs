//! The `aip:` section of an upstream: where the descriptors come from and
//! how each Wix collection maps onto a resource of the backend's own API.
//!
//! Read by the sidecar's config loader (serde, unknown keys refused). What
//! can be checked without descriptors is checked by [`AipConfig::problems`];
//! everything else (a method or field that does not exist, an operator the
//! field's type cannot support) when the mapping is resolved against the
//! descriptors at start-up (`mapping`). Both report config paths.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// A problem with the configuration, named by its path under the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Path below the upstream's key, e.g. `aip.collections.books.fields.title.filter`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AipConfig {
    pub descriptors: DescriptorSourceConfig,
    /// Wix collection id → the resource it shows.
    pub collections: BTreeMap<String, CollectionConfig>,
    /// Most per-item calls of one bulk write in flight at once.
    #[serde(default = "default_write_concurrency")]
    pub write_concurrency: usize,
}

fn default_write_concurrency() -> usize {
    8
}

/// Exactly one of the three sources.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DescriptorSourceConfig {
    /// Ask the backend (gRPC server reflection, `v1` then `v1alpha`).
    #[serde(default)]
    pub reflection: bool,
    /// A `FileDescriptorSet` file (`protoc --include_imports
    /// --descriptor_set_out`, `buf build -o`).
    #[serde(default)]
    pub descriptor_set: Option<PathBuf>,
    /// `.proto` files compiled at start-up.
    #[serde(default)]
    pub proto: Option<ProtoSourceConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtoSourceConfig {
    /// Import roots (`-I`), e.g. `[proto, third_party/googleapis]`.
    pub include: Vec<PathBuf>,
    /// Files to compile, relative to an import root.
    pub files: Vec<PathBuf>,
}

/// How cursors and offsets reach the backend.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum PagingConfig {
    /// Wix gets a signed cursor wrapping the backend's page token (AIP-158).
    #[default]
    Cursor,
    /// Wix sends offsets; needs the list request's `skip` field.
    Offset,
}

/// Which string wildcards (AIP-160 `*` at the ends of a literal) the backend
/// evaluates. Wix's startsWith/endsWith/contains are case-insensitive, so
/// they are pushed down only when `case_insensitive` is promised too.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum WildcardMode {
    #[default]
    None,
    /// `"abc*"` and `"*abc"`.
    PrefixSuffix,
    /// Also `"*abc*"`.
    Contains,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct WildcardConfig {
    #[serde(default)]
    pub mode: WildcardMode,
    #[serde(default)]
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionConfig {
    /// Fully qualified service, e.g. `library.v1.BookService`.
    pub service: String,
    /// Fully qualified resource message; default: the element type of the
    /// List response's repeated field.
    #[serde(default)]
    pub resource: Option<String>,
    /// The field holding the resource name (AIP-122).
    #[serde(default = "default_name_field")]
    pub name_field: String,
    /// Resource name pattern, e.g. `shelves/{shelf}/books/{book}`; default:
    /// the message's `google.api.resource` (its first pattern).
    #[serde(default)]
    pub pattern: Option<String>,
    /// The values of the pattern's variables other than the id: literal
    /// text, or `{context.instance_id}` / `{settings.NAME}` from the call.
    #[serde(default)]
    pub parent: BTreeMap<String, String>,
    /// The pattern variable that is the Wix `_id`; default: the last one.
    #[serde(default)]
    pub id_variable: Option<String>,
    /// Method names; defaults from AIP naming (`ListBooks`, `GetBook`, ...).
    /// An empty string switches an operation off.
    #[serde(default)]
    pub methods: MethodsConfig,
    /// Field names of the List request; defaults are the AIP names when the
    /// request has them. An empty string switches one off.
    #[serde(default)]
    pub list: ListFieldsConfig,
    #[serde(default)]
    pub create: CreateFieldsConfig,
    #[serde(default)]
    pub update: UpdateFieldsConfig,
    #[serde(default)]
    pub paging: PagingConfig,
    #[serde(default)]
    pub wildcards: WildcardConfig,
    /// Most values of one `$in` / `$hasSome` / `$hasAll` (each becomes an
    /// OR/AND chain in the filter string).
    #[serde(default = "default_max_terms")]
    pub max_terms: usize,
    /// Advertise and accept only reads.
    #[serde(default)]
    pub read_only: bool,
    /// Wix field key → backend field. Without it, every top-level field of
    /// the resource is shown under its own name, neither sortable nor
    /// filterable (those cannot be discovered).
    #[serde(default)]
    pub fields: Option<BTreeMap<String, FieldConfig>>,
}

fn default_name_field() -> String {
    "name".into()
}

fn default_max_terms() -> usize {
    50
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MethodsConfig {
    #[serde(default)]
    pub list: Option<String>,
    #[serde(default)]
    pub get: Option<String>,
    #[serde(default)]
    pub create: Option<String>,
    #[serde(default)]
    pub update: Option<String>,
    #[serde(default)]
    pub delete: Option<String>,
    /// AIP-165 criteria-based delete (`Purge<Plural>`), answering
    /// synchronously; serves Wix's truncate.
    #[serde(default)]
    pub purge: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListFieldsConfig {
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub order_by: Option<String>,
    #[serde(default)]
    pub skip: Option<String>,
    #[serde(default)]
    pub total_size: Option<String>,
    #[serde(default)]
    pub read_mask: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldsConfig {
    /// The `{resource}_id` field (AIP-133); default `<singular>_id`.
    #[serde(default)]
    pub id_field: Option<String>,
    /// AIP-155 `request_id`; filled deterministically from Wix's request id.
    #[serde(default)]
    pub request_id_field: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateFieldsConfig {
    /// The `update_mask` field (AIP-134).
    #[serde(default)]
    pub mask_field: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FieldConfig {
    /// Backend field path (dots for nested messages); default: the key.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub sortable: bool,
    /// Filter operators Wix may use on this field (`eq`, `ne`, `lt`, `lte`,
    /// `gt`, `gte`, `in`, `has_some`, `has_all`, `exists`, `starts_with`,
    /// `ends_with`, `contains`).
    #[serde(default)]
    pub filter: Vec<String>,
    /// Never written (default: `google.api.field_behavior` OUTPUT_ONLY).
    #[serde(default)]
    pub read_only: Option<bool>,
    /// Used by the mapping but not shown to Wix.
    #[serde(default)]
    pub hidden: bool,
}

impl AipConfig {
    /// What is wrong without looking at descriptors, paths relative to the
    /// upstream (`aip.…`).
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |path: String, message: &str| {
            problems.push(ConfigProblem {
                path,
                message: message.to_owned(),
            })
        };
        let sources = [
            self.descriptors.reflection,
            self.descriptors.descriptor_set.is_some(),
            self.descriptors.proto.is_some(),
        ]
        .iter()
        .filter(|on| **on)
        .count();
        if sources != 1 {
            problem(
                "aip.descriptors".into(),
                "set exactly one of `reflection: true`, `descriptor_set` or `proto`",
            );
        }
        if let Some(proto) = &self.descriptors.proto
            && proto.files.is_empty()
        {
            problem(
                "aip.descriptors.proto.files".into(),
                "list at least one file",
            );
        }
        if self.write_concurrency == 0 || self.write_concurrency > 256 {
            problem("aip.write_concurrency".into(), "must be between 1 and 256");
        }
        if self.collections.is_empty() {
            problem("aip.collections".into(), "map at least one collection");
        }
        for (id, collection) in &self.collections {
            let at = |key: &str| format!("aip.collections.{id}.{key}");
            if id.is_empty() || id.contains('*') {
                problem(
                    format!("aip.collections.{id}"),
                    "a collection id must be a plain, non-empty name",
                );
            }
            if collection.max_terms == 0 || collection.max_terms > 1000 {
                problem(at("max_terms"), "must be between 1 and 1000");
            }
            if collection.wildcards.mode != WildcardMode::None
                && !collection.wildcards.case_insensitive
            {
                problem(
                    at("wildcards.case_insensitive"),
                    "Wix's startsWith/endsWith/contains are case-insensitive: set it to true only if the backend's wildcards are, or use mode: none",
                );
            }
            for (key, field) in collection.fields.iter().flatten() {
                if key.is_empty() || key.contains('.') {
                    problem(
                        at(&format!("fields.{key}")),
                        "a Wix field key is a plain name (no dots)",
                    );
                }
                for op in &field.filter {
                    if FilterOp::parse(op).is_none() {
                        problem(
                            at(&format!("fields.{key}.filter")),
                            &format!(
                                "unknown operator `{op}` (known: {})",
                                FilterOp::NAMES.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        problems
    }
}

/// The filter operators a mapping can push down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    HasSome,
    HasAll,
    Exists,
    StartsWith,
    EndsWith,
    Contains,
}

impl FilterOp {
    pub const ALL: [FilterOp; 13] = [
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Lte,
        FilterOp::Gt,
        FilterOp::Gte,
        FilterOp::In,
        FilterOp::HasSome,
        FilterOp::HasAll,
        FilterOp::Exists,
        FilterOp::StartsWith,
        FilterOp::EndsWith,
        FilterOp::Contains,
    ];
    pub const NAMES: [&'static str; 13] = [
        "eq",
        "ne",
        "lt",
        "lte",
        "gt",
        "gte",
        "in",
        "has_some",
        "has_all",
        "exists",
        "starts_with",
        "ends_with",
        "contains",
    ];

    pub fn parse(name: &str) -> Option<FilterOp> {
        let at = Self::NAMES.iter().position(|n| *n == name)?;
        Some(Self::ALL[at])
    }

    pub fn name(self) -> &'static str {
        let at = Self::ALL.iter().position(|o| *o == self).unwrap_or(0);
        Self::NAMES[at]
    }
}
