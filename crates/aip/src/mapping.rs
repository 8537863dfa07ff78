//! The mapping resolved against the descriptors: for each Wix collection,
//! the backend's methods, request fields and resource fields it uses, each
//! checked to exist and to have a type the use needs. Resolution collects
//! every problem with its config path, so a wrong mapping is reported whole
//! at start-up and the sidecar never runs half-mapped.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{
    DescriptorPool, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, MethodDescriptor,
    ServiceDescriptor, Value,
};

use extdb_contract::pb::{DataOperation, FieldType, PagingMode};

use crate::config::{
    AipConfig, CollectionConfig, ConfigProblem, FieldConfig, FilterOp, PagingConfig,
    WildcardConfig, WildcardMode,
};
use crate::name::NamePattern;
use crate::read::ItemReader;

/// Wix's system keys and the AIP-148 fields they come from.
pub const ID_KEY: &str = "_id";
const CREATED_KEY: &str = "_createdDate";
const UPDATED_KEY: &str = "_updatedDate";

/// `google.api.field_behavior` values that matter here.
const OUTPUT_ONLY: i32 = 3;
const IMMUTABLE: i32 = 5;
const IDENTIFIER: i32 = 8;

/// Every collection of one upstream.
#[derive(Debug)]
pub struct Mapping {
    pub collections: BTreeMap<String, CollectionMap>,
}

/// One Wix collection over one resource.
#[derive(Debug)]
pub struct CollectionMap {
    pub id: String,
    pub resource: MessageDescriptor,
    pub name_field: FieldDescriptor,
    pub pattern: NamePattern,
    pub list: Option<ListMethod>,
    pub get: Option<GetMethod>,
    pub create: Option<CreateMethod>,
    pub update: Option<UpdateMethod>,
    pub delete: Option<DeleteMethod>,
    pub purge: Option<PurgeMethod>,
    pub paging: PagingConfig,
    pub wildcards: WildcardConfig,
    pub max_terms: usize,
    pub read_only: bool,
    /// Operators allowed on `_id` (pushed down as comparisons of names).
    pub id_operators: BTreeSet<FilterOp>,
    /// By Wix key, in key order.
    pub fields: BTreeMap<String, MappedField>,
    /// AIP-154 etag of the resource, sent with deletes.
    pub etag: Option<FieldDescriptor>,
    /// Reads the backend's resources and List answers into Wix items.
    pub reader: ItemReader,
}

#[derive(Debug)]
pub struct ListMethod {
    pub method: MethodDescriptor,
    pub parent: Option<FieldDescriptor>,
    pub page_size: FieldDescriptor,
    pub page_token: FieldDescriptor,
    pub filter: Option<FieldDescriptor>,
    pub order_by: Option<FieldDescriptor>,
    pub skip: Option<FieldDescriptor>,
    pub read_mask: Option<FieldDescriptor>,
    /// The response's repeated resource field.
    pub items: FieldDescriptor,
    pub next_page_token: FieldDescriptor,
    pub total_size: Option<FieldDescriptor>,
}

#[derive(Debug)]
pub struct GetMethod {
    pub method: MethodDescriptor,
    pub name: FieldDescriptor,
}

#[derive(Debug)]
pub struct CreateMethod {
    pub method: MethodDescriptor,
    pub parent: Option<FieldDescriptor>,
    pub resource: FieldDescriptor,
    pub id: Option<FieldDescriptor>,
    pub request_id: Option<FieldDescriptor>,
}

#[derive(Debug)]
pub struct UpdateMethod {
    pub method: MethodDescriptor,
    pub resource: FieldDescriptor,
    pub mask: Option<FieldDescriptor>,
}

#[derive(Debug)]
pub struct DeleteMethod {
    pub method: MethodDescriptor,
    pub name: FieldDescriptor,
    pub etag: Option<FieldDescriptor>,
}

/// AIP-165 `Purge<Plural>`: `parent`, `filter` (`*` is everything),
/// `force`.
#[derive(Debug)]
pub struct PurgeMethod {
    pub method: MethodDescriptor,
    pub parent: Option<FieldDescriptor>,
    pub filter: FieldDescriptor,
    pub force: FieldDescriptor,
}

/// One Wix field over one backend field (possibly nested).
#[derive(Debug, Clone)]
pub struct MappedField {
    pub key: String,
    /// From the resource down to the field.
    pub path: Vec<FieldDescriptor>,
    pub wix_type: FieldType,
    pub sortable: bool,
    pub operators: BTreeSet<FilterOp>,
    /// Never written by Wix (OUTPUT_ONLY or configured).
    pub read_only: bool,
    /// Written on insert only (IMMUTABLE): not part of update masks.
    pub immutable: bool,
    pub hidden: bool,
}

impl MappedField {
    pub fn leaf(&self) -> &FieldDescriptor {
        // A mapped field always has at least one element (resolve_path).
        &self.path[self.path.len() - 1]
    }

    /// The dotted backend path (filters, order_by, masks).
    pub fn backend_path(&self) -> String {
        self.path
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(".")
    }
}

impl CollectionMap {
    /// Operations this mapping can serve, as advertised to Wix.
    pub fn data_operations(&self) -> Vec<DataOperation> {
        let mut ops = Vec::new();
        if self.list.is_some() || self.get.is_some() {
            ops.push(DataOperation::Query);
        }
        if self.list.as_ref().is_some_and(|l| l.total_size.is_some()) {
            ops.push(DataOperation::Count);
        }
        if !self.read_only {
            if self.create.is_some() {
                ops.push(DataOperation::Insert);
            }
            if self.update.is_some() {
                ops.push(DataOperation::Update);
            }
            if self.delete.is_some() && self.get.is_some() {
                ops.push(DataOperation::Remove);
            }
            if self.purge.is_some() {
                ops.push(DataOperation::Truncate);
            }
        }
        ops
    }

    pub fn paging_mode(&self) -> PagingMode {
        match self.paging {
            PagingConfig::Cursor => PagingMode::Cursor,
            PagingConfig::Offset => PagingMode::Offset,
        }
    }

    /// The exposed field for a Wix key.
    pub fn field(&self, key: &str) -> Option<&MappedField> {
        self.fields.get(key).filter(|f| !f.hidden)
    }

    /// The field mapped to a backend path (dotted), exposed or not.
    pub fn field_at_backend_path(&self, path: &str) -> Option<&MappedField> {
        self.fields.values().find(|f| f.backend_path() == path)
    }
}

/// Resolves every collection of `config` against `pool`.
pub fn resolve(config: &AipConfig, pool: &DescriptorPool) -> Result<Mapping, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let mut collections = BTreeMap::new();
    for (id, collection) in &config.collections {
        let mut at = Problems {
            prefix: format!("aip.collections.{id}"),
            problems: &mut problems,
        };
        if let Some(map) = resolve_collection(id, collection, pool, &mut at) {
            collections.insert(id.clone(), map);
        }
    }
    if problems.is_empty() {
        Ok(Mapping { collections })
    } else {
        Err(problems)
    }
}

/// Problems under one config path prefix.
struct Problems<'p> {
    prefix: String,
    problems: &'p mut Vec<ConfigProblem>,
}

impl Problems<'_> {
    fn add(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            path: if key.is_empty() {
                self.prefix.clone()
            } else {
                format!("{}.{key}", self.prefix)
            },
            message: message.into(),
        });
    }

    fn count(&self) -> usize {
        self.problems.len()
    }
}

fn resolve_collection(
    id: &str,
    config: &CollectionConfig,
    pool: &DescriptorPool,
    at: &mut Problems<'_>,
) -> Option<CollectionMap> {
    let before = at.count();
    let Some(service) = pool.get_service_by_name(&config.service) else {
        at.add(
            "service",
            format!(
                "no service {:?} in the descriptors (services: {})",
                config.service,
                pool.services()
                    .map(|s| s.full_name().to_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
        return None;
    };
    let resource = match &config.resource {
        Some(name) => match pool.get_message_by_name(name) {
            Some(message) => message,
            None => {
                at.add(
                    "resource",
                    format!("no message {name:?} in the descriptors"),
                );
                return None;
            }
        },
        None => match guess_resource(&service) {
            Some(message) => message,
            None => {
                at.add(
                    "resource",
                    "cannot tell the resource from the service (no List method with one repeated message field): name it",
                );
                return None;
            }
        },
    };
    let annotation = ResourceAnnotation::of(&resource, pool);
    let Some(name_field) = resource.get_field_by_name(&config.name_field) else {
        at.add(
            "name_field",
            format!(
                "{} has no field {:?}",
                resource.full_name(),
                config.name_field
            ),
        );
        return None;
    };
    if name_field.kind() != Kind::String || name_field.is_list() {
        at.add(
            "name_field",
            format!("{:?} is not a string field", config.name_field),
        );
    }
    let pattern_text = match config.pattern.as_ref().or(annotation.pattern.as_ref()) {
        Some(p) => p.clone(),
        None => {
            at.add(
                "pattern",
                format!(
                    "{} has no google.api.resource pattern: set one, e.g. \"shelves/{{shelf}}/books/{{book}}\"",
                    resource.full_name()
                ),
            );
            return None;
        }
    };
    let pattern =
        match NamePattern::parse(&pattern_text, config.id_variable.as_deref(), &config.parent) {
            Ok(pattern) => Some(pattern),
            Err(found) => {
                for (key, message) in found {
                    at.add(&key, message);
                }
                None
            }
        };
    let singular = resource.name().to_owned();
    let plural = annotation
        .plural
        .as_deref()
        .map(upper_camel)
        .unwrap_or_else(|| format!("{singular}s"));
    let snake_singular = annotation
        .singular
        .clone()
        .unwrap_or_else(|| snake_case(&singular));

    let method =
        |at: &mut Problems<'_>, key: &str, configured: &Option<String>, default: String| {
            resolve_method(&service, at, &format!("methods.{key}"), configured, default)
        };
    let list = method(at, "list", &config.methods.list, format!("List{plural}"))
        .and_then(|m| resolve_list(m, &resource, config, at));
    let get = method(at, "get", &config.methods.get, format!("Get{singular}")).and_then(|m| {
        let name = request_field(at, "methods.get", &m, "name", Kind::String)?;
        expect_output(at, "methods.get", &m, &resource)?;
        Some(GetMethod { method: m, name })
    });
    let create = method(
        at,
        "create",
        &config.methods.create,
        format!("Create{singular}"),
    )
    .and_then(|m| resolve_create(m, &resource, &snake_singular, config, at));
    let update = method(
        at,
        "update",
        &config.methods.update,
        format!("Update{singular}"),
    )
    .and_then(|m| resolve_update(m, &resource, config, at));
    let delete = method(
        at,
        "delete",
        &config.methods.delete,
        format!("Delete{singular}"),
    )
    .and_then(|m| {
        let name = request_field(at, "methods.delete", &m, "name", Kind::String)?;
        let etag = m
            .input()
            .get_field_by_name("etag")
            .filter(|f| f.kind() == Kind::String);
        Some(DeleteMethod {
            method: m,
            name,
            etag,
        })
    });
    let purge = method(at, "purge", &config.methods.purge, format!("Purge{plural}"))
        .and_then(|m| resolve_purge(m, config.methods.purge.is_some(), at));
    if list.is_none() && get.is_none() {
        at.add(
            "methods",
            "neither a List nor a Get method: nothing can be read",
        );
    }
    if config.paging == PagingConfig::Offset && list.as_ref().is_some_and(|l| l.skip.is_none()) {
        at.add(
            "paging",
            "offset paging needs the List request's `skip` field (AIP-158); use paging: cursor",
        );
    }

    let fields = resolve_fields(config, &resource, &name_field, pool, at);
    let id_operators: BTreeSet<FilterOp> = match config.fields.as_ref().and_then(|f| f.get(ID_KEY))
    {
        Some(id_config) => id_config
            .filter
            .iter()
            .filter_map(|op| FilterOp::parse(op))
            .collect(),
        None => [FilterOp::Eq, FilterOp::Ne, FilterOp::In]
            .into_iter()
            .collect(),
    };
    if let Some(op) = id_operators
        .iter()
        .find(|op| !matches!(op, FilterOp::Eq | FilterOp::Ne | FilterOp::In))
    {
        at.add(
            &format!("fields.{ID_KEY}.filter"),
            format!("`{}` is not supported on _id (eq, ne, in are)", op.name()),
        );
    }
    let etag = resource
        .get_field_by_name("etag")
        .filter(|f| f.kind() == Kind::String && !f.is_list());
    if at.count() > before {
        return None;
    }
    let reader = ItemReader::new(
        &name_field,
        fields.values(),
        list.as_ref()
            .map(|l| (&l.items, &l.next_page_token, l.total_size.as_ref())),
    );
    Some(CollectionMap {
        id: id.to_owned(),
        resource,
        name_field,
        pattern: pattern?,
        list,
        get,
        create,
        update,
        delete,
        purge,
        paging: config.paging,
        wildcards: config.wildcards.clone(),
        max_terms: config.max_terms,
        read_only: config.read_only,
        id_operators,
        fields,
        etag,
        reader,
    })
}

/// The element message of the first List method's repeated message field.
pub(crate) fn guess_resource(service: &ServiceDescriptor) -> Option<MessageDescriptor> {
    service
        .methods()
        .filter(|m| m.name().starts_with("List"))
        .find_map(|m| {
            let output = m.output();
            let mut repeated =
                output
                    .fields()
                    .filter(|f| f.is_list())
                    .filter_map(|f| match f.kind() {
                        Kind::Message(message) => Some(message),
                        _ => None,
                    });
            let first = repeated.next()?;
            repeated.next().is_none().then_some(first)
        })
}

/// A method by configured name (must exist) or by its AIP default name (may
/// be absent: the operation is then off). An empty name switches it off.
fn resolve_method(
    service: &ServiceDescriptor,
    at: &mut Problems<'_>,
    key: &str,
    configured: &Option<String>,
    default: String,
) -> Option<MethodDescriptor> {
    let (name, explicit) = match configured {
        Some(name) if name.is_empty() => return None,
        Some(name) => (name.clone(), true),
        None => (default, false),
    };
    let method = service.methods().find(|m| m.name() == name);
    match method {
        Some(m) if m.is_client_streaming() || m.is_server_streaming() => {
            at.add(
                key,
                format!("{name} is a streaming method; only unary methods can be mapped"),
            );
            None
        }
        Some(m) => Some(m),
        None if explicit => {
            at.add(
                key,
                format!(
                    "{} has no method {name:?} (methods: {})",
                    service.full_name(),
                    service
                        .methods()
                        .map(|m| m.name().to_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            None
        }
        None => None,
    }
}

/// A required field of a method's request, of the given kind.
fn request_field(
    at: &mut Problems<'_>,
    key: &str,
    method: &MethodDescriptor,
    name: &str,
    kind: Kind,
) -> Option<FieldDescriptor> {
    match method.input().get_field_by_name(name) {
        Some(f) if f.kind() == kind && !f.is_list() => Some(f),
        Some(_) => {
            at.add(
                key,
                format!(
                    "{}.{name} has an unexpected type",
                    method.input().full_name()
                ),
            );
            None
        }
        None => {
            at.add(
                key,
                format!("{} has no field {name:?}", method.input().full_name()),
            );
            None
        }
    }
}

fn expect_output(
    at: &mut Problems<'_>,
    key: &str,
    method: &MethodDescriptor,
    resource: &MessageDescriptor,
) -> Option<()> {
    if method.output() == *resource {
        Some(())
    } else {
        at.add(
            key,
            format!(
                "{} returns {}, not the resource {}",
                method.name(),
                method.output().full_name(),
                resource.full_name()
            ),
        );
        None
    }
}

/// An optional request field: configured (must exist with the kind), the
/// AIP default (used when present with the kind), or off ("").
fn optional_field(
    at: &mut Problems<'_>,
    key: &str,
    message: &MessageDescriptor,
    configured: &Option<String>,
    default: &str,
    accepts: impl Fn(&FieldDescriptor) -> bool,
) -> Option<FieldDescriptor> {
    match configured {
        Some(name) if name.is_empty() => None,
        Some(name) => match message.get_field_by_name(name) {
            Some(f) if accepts(&f) => Some(f),
            Some(_) => {
                at.add(
                    key,
                    format!("{}.{name} has an unexpected type", message.full_name()),
                );
                None
            }
            None => {
                at.add(
                    key,
                    format!("{} has no field {name:?}", message.full_name()),
                );
                None
            }
        },
        None => message.get_field_by_name(default).filter(|f| accepts(f)),
    }
}

fn is_string(f: &FieldDescriptor) -> bool {
    f.kind() == Kind::String && !f.is_list()
}

fn is_integer(f: &FieldDescriptor) -> bool {
    matches!(
        f.kind(),
        Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 | Kind::Sint32 | Kind::Sint64
    ) && !f.is_list()
}

fn is_message(f: &FieldDescriptor, full_name: &str) -> bool {
    matches!(f.kind(), Kind::Message(m) if m.full_name() == full_name) && !f.is_list()
}

fn resolve_list(
    method: MethodDescriptor,
    resource: &MessageDescriptor,
    config: &CollectionConfig,
    at: &mut Problems<'_>,
) -> Option<ListMethod> {
    let key = "methods.list";
    let input = method.input();
    let output = method.output();
    let page_size = request_field(at, key, &method, "page_size", Kind::Int32)?;
    let page_token = request_field(at, key, &method, "page_token", Kind::String)?;
    let parent = input.get_field_by_name("parent").filter(is_string);
    let items = output
        .fields()
        .find(|f| f.is_list() && matches!(f.kind(), Kind::Message(m) if m == *resource));
    let Some(items) = items else {
        at.add(
            key,
            format!(
                "{} has no repeated {} field",
                output.full_name(),
                resource.full_name()
            ),
        );
        return None;
    };
    let Some(next_page_token) = output
        .get_field_by_name("next_page_token")
        .filter(is_string)
    else {
        at.add(
            key,
            format!("{} has no string next_page_token", output.full_name()),
        );
        return None;
    };
    let list = &config.list;
    Some(ListMethod {
        filter: optional_field(at, "list.filter", &input, &list.filter, "filter", is_string),
        order_by: optional_field(
            at,
            "list.order_by",
            &input,
            &list.order_by,
            "order_by",
            is_string,
        ),
        skip: optional_field(at, "list.skip", &input, &list.skip, "skip", is_integer),
        read_mask: optional_field(
            at,
            "list.read_mask",
            &input,
            &list.read_mask,
            "read_mask",
            |f| is_message(f, "google.protobuf.FieldMask"),
        ),
        total_size: optional_field(
            at,
            "list.total_size",
            &output,
            &list.total_size,
            "total_size",
            is_integer,
        ),
        method,
        parent,
        page_size,
        page_token,
        items,
        next_page_token,
    })
}

fn resolve_create(
    method: MethodDescriptor,
    resource: &MessageDescriptor,
    snake_singular: &str,
    config: &CollectionConfig,
    at: &mut Problems<'_>,
) -> Option<CreateMethod> {
    let field = resource_argument(at, "methods.create", &method, resource)?;
    let input = method.input();
    Some(CreateMethod {
        parent: input.get_field_by_name("parent").filter(is_string),
        id: optional_field(
            at,
            "create.id_field",
            &input,
            &config.create.id_field,
            &format!("{snake_singular}_id"),
            is_string,
        ),
        request_id: optional_field(
            at,
            "create.request_id_field",
            &input,
            &config.create.request_id_field,
            "request_id",
            is_string,
        ),
        resource: field,
        method,
    })
}

fn resolve_purge(
    method: MethodDescriptor,
    explicit: bool,
    at: &mut Problems<'_>,
) -> Option<PurgeMethod> {
    let key = "methods.purge";
    // A long-running purge would be acknowledged to Wix before it is done.
    if method.output().full_name() == "google.longrunning.Operation" {
        if explicit {
            at.add(
                key,
                format!(
                    "{} returns a long-running operation; only a synchronous purge can serve truncate",
                    method.name()
                ),
            );
        }
        return None;
    }
    let input = method.input();
    let filter = input.get_field_by_name("filter").filter(is_string);
    let force = input
        .get_field_by_name("force")
        .filter(|f| f.kind() == Kind::Bool && !f.is_list());
    let (Some(filter), Some(force)) = (filter, force) else {
        if explicit {
            at.add(
                key,
                format!(
                    "{} needs a string `filter` and a bool `force` (AIP-165)",
                    input.full_name()
                ),
            );
        }
        return None;
    };
    Some(PurgeMethod {
        parent: input.get_field_by_name("parent").filter(is_string),
        method,
        filter,
        force,
    })
}

fn resolve_update(
    method: MethodDescriptor,
    resource: &MessageDescriptor,
    config: &CollectionConfig,
    at: &mut Problems<'_>,
) -> Option<UpdateMethod> {
    let field = resource_argument(at, "methods.update", &method, resource)?;
    let input = method.input();
    let mask = optional_field(
        at,
        "update.mask_field",
        &input,
        &config.update.mask_field,
        "update_mask",
        |f| is_message(f, "google.protobuf.FieldMask"),
    );
    if mask.is_none() {
        // Without a mask AIP-134 updates "the populated fields": a cleared
        // field would be kept, which is not Wix's replace semantics.
        at.add(
            "update.mask_field",
            format!("{} has no FieldMask update_mask; map it or switch update off (methods.update: \"\")", input.full_name()),
        );
        return None;
    }
    Some(UpdateMethod {
        method,
        resource: field,
        mask,
    })
}

/// The request field carrying the resource, of a method that answers the
/// resource (AIP-133 Create, AIP-134 Update).
fn resource_argument(
    at: &mut Problems<'_>,
    key: &str,
    method: &MethodDescriptor,
    resource: &MessageDescriptor,
) -> Option<FieldDescriptor> {
    expect_output(at, key, method, resource)?;
    let input = method.input();
    let field = resource_field(&input, resource);
    if field.is_none() {
        at.add(
            key,
            format!(
                "{} has no {} field",
                input.full_name(),
                resource.full_name()
            ),
        );
    }
    field
}

fn resource_field(
    input: &MessageDescriptor,
    resource: &MessageDescriptor,
) -> Option<FieldDescriptor> {
    input
        .fields()
        .find(|f| !f.is_list() && matches!(f.kind(), Kind::Message(m) if m == *resource))
}

/// What `google.api.resource` says about a message, when the descriptors
/// carry it.
#[derive(Debug, Default)]
pub(crate) struct ResourceAnnotation {
    pub pattern: Option<String>,
    pub plural: Option<String>,
    pub singular: Option<String>,
}

impl ResourceAnnotation {
    pub(crate) fn of(message: &MessageDescriptor, pool: &DescriptorPool) -> ResourceAnnotation {
        let Some(extension) = pool.get_extension_by_name("google.api.resource") else {
            return ResourceAnnotation::default();
        };
        let options = message.options();
        if !options.has_extension(&extension) {
            return ResourceAnnotation::default();
        }
        let value = options.get_extension(&extension);
        let Some(descriptor) = value.as_message() else {
            return ResourceAnnotation::default();
        };
        let text = |name: &str| {
            descriptor
                .get_field_by_name(name)
                .and_then(|v| v.as_str().map(str::to_owned))
                .filter(|s| !s.is_empty())
        };
        let pattern = descriptor.get_field_by_name("pattern").and_then(|v| {
            v.as_list()
                .and_then(|l| l.first())
                .and_then(|p| p.as_str().map(str::to_owned))
        });
        ResourceAnnotation {
            pattern,
            plural: text("plural"),
            singular: text("singular"),
        }
    }
}

/// `google.api.field_behavior` of a field.
fn field_behaviors(field: &FieldDescriptor, pool: &DescriptorPool) -> Vec<i32> {
    let Some(extension) = pool.get_extension_by_name("google.api.field_behavior") else {
        return Vec::new();
    };
    let options: DynamicMessage = field.options();
    if !options.has_extension(&extension) {
        return Vec::new();
    }
    match options.get_extension(&extension).as_ref() {
        Value::List(values) => values.iter().filter_map(Value::as_enum_number).collect(),
        Value::EnumNumber(n) => vec![*n],
        _ => Vec::new(),
    }
}

/// How a backend field shows in Wix, when it can.
pub fn wix_type(field: &FieldDescriptor) -> Option<FieldType> {
    if field.is_map() {
        return Some(FieldType::Object);
    }
    let scalar = match field.kind() {
        Kind::String | Kind::Enum(_) => FieldType::Text,
        Kind::Bool => FieldType::Boolean,
        Kind::Double
        | Kind::Float
        | Kind::Int32
        | Kind::Int64
        | Kind::Uint32
        | Kind::Uint64
        | Kind::Sint32
        | Kind::Sint64
        | Kind::Fixed32
        | Kind::Fixed64
        | Kind::Sfixed32
        | Kind::Sfixed64 => FieldType::Number,
        Kind::Bytes => return None,
        Kind::Message(message) => match message.full_name() {
            "google.protobuf.Timestamp" => FieldType::Datetime,
            "google.protobuf.Struct" | "google.protobuf.Value" | "google.protobuf.ListValue" => {
                FieldType::Any
            }
            name if wrapper_kind(name).is_some() => match wrapper_kind(name) {
                Some(WrapperKind::Text) => FieldType::Text,
                Some(WrapperKind::Number) => FieldType::Number,
                Some(WrapperKind::Bool) => FieldType::Boolean,
                None => return None,
            },
            "google.protobuf.BytesValue"
            | "google.protobuf.Any"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Empty" => return None,
            _ => FieldType::Object,
        },
    };
    if field.is_list() {
        return Some(match scalar {
            FieldType::Text if field.kind() == Kind::String => FieldType::ArrayString,
            FieldType::Object => FieldType::ArrayDocument,
            _ => FieldType::Array,
        });
    }
    Some(scalar)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapperKind {
    Text,
    Number,
    Bool,
}

/// The scalar inside a `google.protobuf.*Value` wrapper.
pub fn wrapper_kind(full_name: &str) -> Option<WrapperKind> {
    Some(match full_name {
        "google.protobuf.StringValue" => WrapperKind::Text,
        "google.protobuf.BoolValue" => WrapperKind::Bool,
        "google.protobuf.DoubleValue"
        | "google.protobuf.FloatValue"
        | "google.protobuf.Int32Value"
        | "google.protobuf.UInt32Value"
        | "google.protobuf.Int64Value"
        | "google.protobuf.UInt64Value" => WrapperKind::Number,
        _ => return None,
    })
}

/// Operators AIP-160 can express exactly on a field of this shape.
pub fn operators_supported(
    field: &FieldDescriptor,
    wildcards: &WildcardConfig,
) -> BTreeSet<FilterOp> {
    use FilterOp::*;
    let mut ops = BTreeSet::new();
    let presence = field.supports_presence() && !field.is_list();
    if field.is_map() {
        return ops;
    }
    if field.is_list() {
        if matches!(
            wix_type(field),
            Some(FieldType::ArrayString | FieldType::Array)
        ) {
            ops.extend([HasSome, HasAll]);
        }
        return ops;
    }
    let ty = wix_type(field);
    let is_enum = matches!(field.kind(), Kind::Enum(_));
    match ty {
        Some(FieldType::Text) if is_enum => ops.extend([Eq, Ne, In]),
        Some(FieldType::Text) => {
            ops.extend([Eq, Ne, Lt, Lte, Gt, Gte, In]);
            if wildcards.case_insensitive {
                match wildcards.mode {
                    WildcardMode::None => {}
                    WildcardMode::PrefixSuffix => ops.extend([StartsWith, EndsWith]),
                    WildcardMode::Contains => ops.extend([StartsWith, EndsWith, Contains]),
                }
            }
        }
        Some(FieldType::Number | FieldType::Datetime) => ops.extend([Eq, Ne, Lt, Lte, Gt, Gte, In]),
        // AIP-160: booleans compare with = and != only.
        Some(FieldType::Boolean) => ops.extend([Eq, Ne]),
        _ => {}
    }
    if presence {
        ops.insert(Exists);
    }
    ops
}

pub(crate) fn sortable_supported(field: &FieldDescriptor) -> bool {
    !field.is_list()
        && !field.is_map()
        && matches!(
            wix_type(field),
            Some(FieldType::Text | FieldType::Number | FieldType::Boolean | FieldType::Datetime)
        )
}

fn resolve_fields(
    config: &CollectionConfig,
    resource: &MessageDescriptor,
    name_field: &FieldDescriptor,
    pool: &DescriptorPool,
    at: &mut Problems<'_>,
) -> BTreeMap<String, MappedField> {
    let mut fields = BTreeMap::new();
    let derived;
    let configured: &BTreeMap<String, FieldConfig> = match &config.fields {
        Some(fields) => fields,
        None => {
            // Every top-level field Wix can show, under its own name, plus
            // the AIP-148 timestamps under Wix's system keys.
            derived = resource
                .fields()
                .filter(|f| *f != *name_field && wix_type(f).is_some())
                .map(|f| {
                    let key = match f.name() {
                        "create_time" => CREATED_KEY.to_owned(),
                        "update_time" => UPDATED_KEY.to_owned(),
                        name => name.to_owned(),
                    };
                    let hidden = f.name() == "etag";
                    (
                        key,
                        FieldConfig {
                            path: Some(f.name().to_owned()),
                            hidden,
                            ..FieldConfig::default()
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>();
            &derived
        }
    };
    for (key, field_config) in configured {
        if key == ID_KEY {
            if field_config.path.is_some() {
                at.add(
                    &format!("fields.{key}.path"),
                    "_id is always the resource name's id segment",
                );
            }
            continue;
        }
        let key_at = format!("fields.{key}");
        let path_text = field_config.path.clone().unwrap_or_else(|| key.clone());
        let Some(path) = resolve_path(resource, &path_text) else {
            at.add(
                &format!("{key_at}.path"),
                format!("{} has no field path {path_text:?}", resource.full_name()),
            );
            continue;
        };
        let leaf = &path[path.len() - 1];
        if *leaf == *name_field {
            at.add(&format!("{key_at}.path"), "the name field is _id already");
            continue;
        }
        let Some(wix_type) = wix_type(leaf) else {
            at.add(
                &format!("{key_at}.path"),
                format!("{path_text}: a field of this type cannot be shown to Wix"),
            );
            continue;
        };
        let supported = operators_supported(leaf, &config.wildcards);
        let mut operators = BTreeSet::new();
        for name in &field_config.filter {
            let Some(op) = FilterOp::parse(name) else {
                continue;
            };
            if supported.contains(&op) {
                operators.insert(op);
            } else {
                at.add(
                    &format!("{key_at}.filter"),
                    format!(
                        "`{name}` cannot be pushed down on {path_text} ({}); possible: [{}]",
                        describe_kind(leaf),
                        supported
                            .iter()
                            .map(|o| o.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if field_config.sortable && !sortable_supported(leaf) {
            at.add(
                &format!("{key_at}.sortable"),
                format!("{path_text} ({}) cannot be ordered by", describe_kind(leaf)),
            );
        }
        let behaviors = field_behaviors(leaf, pool);
        let output_only = behaviors.contains(&OUTPUT_ONLY) || behaviors.contains(&IDENTIFIER);
        fields.insert(
            key.clone(),
            MappedField {
                key: key.clone(),
                wix_type,
                sortable: field_config.sortable,
                operators,
                read_only: field_config.read_only.unwrap_or(output_only),
                immutable: behaviors.contains(&IMMUTABLE),
                hidden: field_config.hidden,
                path,
            },
        );
    }
    fields
}

fn describe_kind(field: &FieldDescriptor) -> String {
    let kind = match field.kind() {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => format!("enum {}", e.full_name()),
        other => format!("{other:?}").to_lowercase(),
    };
    if field.is_list() {
        format!("repeated {kind}")
    } else {
        kind
    }
}

/// The fields along a dotted path, never through a repeated field (AIP-160
/// cannot traverse those).
fn resolve_path(resource: &MessageDescriptor, path: &str) -> Option<Vec<FieldDescriptor>> {
    let mut message = resource.clone();
    let mut fields = Vec::new();
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let field = message.get_field_by_name(part)?;
        if parts.peek().is_some() {
            if field.is_list() || field.is_map() {
                return None;
            }
            match field.kind() {
                Kind::Message(next) => message = next,
                _ => return None,
            }
        }
        fields.push(field);
    }
    (!fields.is_empty()).then_some(fields)
}

fn upper_camel(text: &str) -> String {
    text.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

pub(crate) fn snake_case(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
