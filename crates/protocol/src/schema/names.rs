//! Wire names of the contract's enums: Wix's name is the proto name without
//! its type prefix (`TEXT` <-> `FIELD_TYPE_TEXT`).

use extdb_contract::pb;

/// A generated proto enum whose Wix name is its proto name minus a prefix.
pub(crate) trait WireEnum: Copy + PartialEq + TryFrom<i32> {
    const PROTO_PREFIX: &'static str;
    /// The proto3 zero value meaning "not set"; it has no Wix name.
    const UNSET: Option<Self>;
    fn proto_name(self) -> &'static str;
    fn from_proto_name(name: &str) -> Option<Self>;
}

macro_rules! wire_enum {
    ($ty:ty, $prefix:literal, $unset:expr) => {
        impl WireEnum for $ty {
            const PROTO_PREFIX: &'static str = $prefix;
            const UNSET: Option<Self> = $unset;
            fn proto_name(self) -> &'static str {
                self.as_str_name()
            }
            fn from_proto_name(name: &str) -> Option<Self> {
                Self::from_str_name(name)
            }
        }
    };
}

wire_enum!(
    pb::FieldType,
    "FIELD_TYPE_",
    Some(pb::FieldType::Unspecified)
);
wire_enum!(
    pb::DataOperation,
    "DATA_OPERATION_",
    Some(pb::DataOperation::Unspecified)
);
wire_enum!(
    pb::PagingMode,
    "PAGING_MODE_",
    Some(pb::PagingMode::Unspecified)
);
wire_enum!(pb::Role, "ROLE_", Some(pb::Role::Unspecified));
wire_enum!(
    pb::IndexStatus,
    "INDEX_STATUS_",
    Some(pb::IndexStatus::Unspecified)
);
wire_enum!(pb::Operator, "OPERATOR_", Some(pb::Operator::Unspecified));
// ASC is both the zero value and a real order.
wire_enum!(pb::SortOrder, "SORT_ORDER_", None);

/// The Wix name of a value; `None` for the unset value.
pub(super) fn wire_name<E: WireEnum>(value: E) -> Option<&'static str> {
    if Some(value) == E::UNSET {
        return None;
    }
    value.proto_name().strip_prefix(E::PROTO_PREFIX)
}

/// The Wix name of a raw enum field; `None` when unset or unknown to this
/// build (a backend built against a newer contract).
pub(super) fn wire_name_of<E: WireEnum>(raw: i32) -> Option<&'static str> {
    E::try_from(raw).ok().and_then(wire_name)
}

/// The value Wix calls `name`; never the unset value.
pub(crate) fn from_wire_name<E: WireEnum>(name: &str) -> Option<E> {
    let value = E::from_proto_name(&format!("{}{name}", E::PROTO_PREFIX))?;
    (Some(value) != E::UNSET).then_some(value)
}

/// Every Wix name of `E`, for error messages.
pub(crate) fn wire_names<E: WireEnum>() -> Vec<&'static str> {
    // Our enums are small and dense; 64 covers them with room to grow.
    (0..64)
        .filter_map(|raw| E::try_from(raw).ok())
        .filter_map(wire_name)
        .collect()
}

/// The Wix `QueryOperator` name of an operator. Wix's enum lacks IN and
/// MATCHES (they exist only in the filter language), so they have none.
pub(super) fn query_operator_name(raw: i32) -> Option<&'static str> {
    match pb::Operator::try_from(raw) {
        Ok(pb::Operator::In | pb::Operator::Matches) | Err(_) => None,
        Ok(op) => wire_name(op),
    }
}

#[cfg(test)]
mod tests;
