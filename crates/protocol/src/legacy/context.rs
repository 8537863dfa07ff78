//! `requestContext` (spec envelope §6.2): the secret key, the site, the
//! caller, and free-form connection settings.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::LegacyEndpoint;
use extdb_contract::pb;

/// The key of the secret inside `requestContext.settings`.
const SECRET_KEY: &str = "secretKey";

/// `requestContext.role` (the docs' property list calls it `memberRole`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyRole {
    Owner,
    BackendCode,
    Member,
    Visitor,
}

/// What `settings.secretKey` held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKey<'a> {
    Absent,
    Text(&'a str),
    NotText,
}

/// `requestContext`, read leniently: odd types read as absent, except the
/// secret key, whose absence and oddness the caller must tell apart.
#[derive(Debug)]
pub struct RequestContext<'a> {
    pub secret_key: SecretKey<'a>,
    pub role: Option<LegacyRole>,
    instance_id: &'a str,
    installation_id: &'a str,
    member_id: &'a str,
    /// `settings` without the secret key.
    settings: Vec<(&'a str, &'a Value)>,
}

impl<'a> RequestContext<'a> {
    pub fn read(request: &'a Map<String, Value>) -> RequestContext<'a> {
        let empty = RequestContext {
            secret_key: SecretKey::Absent,
            role: None,
            instance_id: "",
            installation_id: "",
            member_id: "",
            settings: Vec::new(),
        };
        let Some(Value::Object(context)) = request.get("requestContext") else {
            return empty;
        };
        let text = |key: &str| context.get(key).and_then(Value::as_str).unwrap_or("");
        let settings = match context.get("settings") {
            Some(Value::Object(settings)) => Some(settings),
            _ => None,
        };
        let secret_key = match settings.and_then(|s| s.get(SECRET_KEY)) {
            None | Some(Value::Null) => SecretKey::Absent,
            Some(Value::String(key)) => SecretKey::Text(key),
            Some(_) => SecretKey::NotText,
        };
        // `role` is what the docs' example and every adaptor use;
        // `memberRole` is the docs' property list: accept both.
        let role = [text("role"), text("memberRole")]
            .into_iter()
            .find_map(|r| match r {
                "OWNER" => Some(LegacyRole::Owner),
                "BACKEND_CODE" => Some(LegacyRole::BackendCode),
                "MEMBER" => Some(LegacyRole::Member),
                "VISITOR" => Some(LegacyRole::Visitor),
                _ => None,
            });
        RequestContext {
            secret_key,
            role,
            instance_id: text("instanceId"),
            installation_id: text("installationId"),
            member_id: text("memberId"),
            settings: settings
                .map(|s| {
                    s.iter()
                        .filter(|(k, _)| k.as_str() != SECRET_KEY)
                        .map(|(k, v)| (k.as_str(), v))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// `requestContext.instanceId` (empty when absent), for logs.
    pub fn instance_id(&self) -> &'a str {
        self.instance_id
    }

    /// The contract's calling context. Legacy calls carry no request id, so
    /// one is generated; roles map as documented in service.proto.
    pub fn call_context(&self) -> pb::CallContext {
        let (identity_type, id) = match self.role {
            Some(LegacyRole::Owner) => (pb::IdentityType::WixUser, ""),
            Some(LegacyRole::BackendCode) => (pb::IdentityType::App, ""),
            Some(LegacyRole::Member) => (pb::IdentityType::Member, self.member_id),
            Some(LegacyRole::Visitor) => (pb::IdentityType::AnonymousVisitor, self.member_id),
            None => (pb::IdentityType::Unknown, ""),
        };
        let settings: BTreeMap<String, String> = self
            .settings
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_string()))
            .collect();
        pb::CallContext {
            request_id: uuid::Uuid::new_v4().to_string(),
            instance_id: self.instance_id.to_owned(),
            identity: Some(pb::Identity {
                r#type: identity_type as i32,
                id: id.to_owned(),
            }),
            protocol: pb::Protocol::Legacy as i32,
            audience: String::new(),
            installation_id: self.installation_id.to_owned(),
            settings,
            languages: Vec::new(),
        }
    }
}

/// The reference adaptor's schema-route policy (spec §3.2 (a)); data routes
/// are open to every role (Wix applies its own collection permissions,
/// §3.3). A missing or unknown role counts as VISITOR (§3.3 table).
pub fn role_may_call(role: Option<LegacyRole>, endpoint: LegacyEndpoint) -> bool {
    use LegacyEndpoint as E;
    use LegacyRole as R;
    let role = role.unwrap_or(R::Visitor);
    match endpoint {
        E::SchemasCreate | E::ColumnAdd | E::ColumnRemove => role == R::Owner,
        E::SchemasList | E::SchemasListHeaders => role != R::Visitor,
        _ => true,
    }
}

#[cfg(test)]
mod tests;
