//! [`Operation`] and [`Reply`]: one variant per RPC of the contract's
//! per-RPC table (`extdb_contract::rpc`), plus the sidecar's own
//! `Provision`. The variants and the per-RPC accessors are generated from
//! the table's rows; what the accessors do with the contract's answers
//! (cursor, reply echo) is written here once.

use extdb_contract::{Rpc, RpcResponse, pb};

/// Generates the enums and the accessors that only dispatch to the
/// contract's [`Rpc`] / [`RpcResponse`] impls.
macro_rules! operations_and_replies {
    ($( $(#[$doc:meta])* $rpc:ident {
        method: $method:ident,
        request: $req:ident,
        response: $resp:ident,
        reply: $reply:ident,
        $($facts:tt)*
    } )*) => {
        /// One protocol call, decoded: exactly one upstream RPC (or, for
        /// `Provision`, an answer the sidecar gives itself).
        #[derive(Debug, Clone, PartialEq)]
        pub enum Operation {
            $(
                $(#[$doc])*
                #[doc = ""]
                #[doc = concat!(
                    "RPC `", stringify!($rpc), "`, answered by [`Reply::",
                    stringify!($reply), "`]."
                )]
                $rpc(pb::$req),
            )*
            /// `/v3/provision`: answered by the sidecar, no upstream call.
            Provision,
        }

        /// The typed answer of one upstream RPC.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Reply {
            $(
                #[doc = concat!("The answer to [`Operation::", stringify!($rpc), "`].")]
                $reply(pb::$resp),
            )*
            /// The answer to [`Operation::Provision`].
            Provisioned,
            /// An items answer written as JSON straight from the
            /// upstream's wire bytes (v3 only: the legacy encoder needs
            /// the typed reply).
            Json(crate::reply_json::JsonReply),
        }

        impl Operation {
            /// The RPC name, for metrics and logs.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Operation::$rpc(_) => <pb::$req as Rpc>::NAME,)*
                    Operation::Provision => "Provision",
                }
            }

            /// The collection the call is about, if it is about exactly one.
            pub fn collection_id(&self) -> Option<&str> {
                match self {
                    $(Operation::$rpc(r) => Rpc::collection_id(r),)*
                    Operation::Provision => None,
                }
            }

            /// Renames the collection on the way to the upstream (config
            /// `rename`); nothing for a call about no one collection.
            pub fn set_collection_id(&mut self, id: String) {
                match self {
                    $(Operation::$rpc(r) => Rpc::set_collection_id(r, id),)*
                    Operation::Provision => {}
                }
            }

            /// Whether the call changes data or schema (refused on
            /// read-only routes, never repeated).
            pub fn is_write(&self) -> bool {
                match self {
                    $(Operation::$rpc(_) => <pb::$req as Rpc>::ACCESS.is_write(),)*
                    Operation::Provision => false,
                }
            }

            /// The calling context carried by the request.
            pub fn context_mut(&mut self) -> Option<&mut pb::CallContext> {
                match self {
                    $(Operation::$rpc(r) => Rpc::context_mut(r),)*
                    Operation::Provision => None,
                }
            }

            /// `None` for an unpaged call; else the requested paging (if
            /// any) and whether the total was asked for.
            fn paged(&self) -> Option<(Option<&pb::Paging>, bool)> {
                match self {
                    $(Operation::$rpc(r) => <pb::$req as Rpc>::PAGED
                        .then(|| (Rpc::paging(r), Rpc::return_total_count(r))),)*
                    Operation::Provision => None,
                }
            }

            fn paging_mut(&mut self) -> Option<&mut pb::Paging> {
                match self {
                    $(Operation::$rpc(r) => Rpc::paging_mut(r),)*
                    Operation::Provision => None,
                }
            }
        }

        impl Reply {
            fn paging_metadata_mut(&mut self) -> Option<&mut pb::PagingMetadata> {
                match self {
                    $(Reply::$reply(r) => RpcResponse::paging_metadata_mut(r),)*
                    Reply::Provisioned => None,
                    Reply::Json(r) => r.paging_metadata.as_mut(),
                }
            }
        }
    };
}

extdb_contract::for_each_rpc!(operations_and_replies);

/// What the response encoder needs to know about the request once the
/// operation itself has been handed to the upstream: how it was paged, and
/// for aggregations the order of a row's keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplyEcho {
    pub paging: PagingEcho,
    pub return_total_count: bool,
    /// Aggregations: grouping fields, then result names, as requested (rows
    /// arrive as maps, in key order; the synthetic `_id` hashes the values
    /// in this order, spec §5.3).
    pub row_order: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PagingEcho {
    /// Not a paged call.
    #[default]
    None,
    /// Offset paging: `pagingMetadata` carries `count`, `offset` and, when
    /// requested, `total`.
    Offset { offset: u32 },
    /// Cursor paging: `count`, `cursors` and, when requested, `total`.
    Cursor,
}

impl Operation {
    /// Every upstream RPC name [`Operation::method`] returns (all but
    /// `Provision`, which never leaves the sidecar).
    pub const UPSTREAM_METHODS: &'static [&'static str] = extdb_contract::rpc::NAMES;

    /// The cursor of a later cursor page (non-empty), for the routing stage
    /// to open before the upstream sees it.
    pub fn cursor_mut(&mut self) -> Option<&mut String> {
        match self.paging_mut()?.kind.as_mut()? {
            pb::paging::Kind::Cursor(c) if !c.cursor.is_empty() => Some(&mut c.cursor),
            _ => None,
        }
    }

    /// What the encoder must remember about this request.
    pub fn reply_echo(&self) -> ReplyEcho {
        let Some((paging, return_total_count)) = self.paged() else {
            return ReplyEcho::default();
        };
        let paging = match paging.and_then(|p| p.kind.as_ref()) {
            Some(pb::paging::Kind::Cursor(_)) => PagingEcho::Cursor,
            Some(pb::paging::Kind::Offset(o)) => PagingEcho::Offset { offset: o.offset },
            None => PagingEcho::Offset { offset: 0 },
        };
        let row_order = match self {
            Operation::AggregateItems(r) => r
                .grouping_fields
                .iter()
                .cloned()
                .chain(r.operations.iter().map(|o| o.result_field_name.clone()))
                .collect(),
            _ => Vec::new(),
        };
        ReplyEcho {
            paging,
            return_total_count,
            row_order,
        }
    }
}

impl Reply {
    /// The cursors of a paged answer, for the routing stage to seal.
    pub fn cursors_mut(&mut self) -> Option<&mut pb::Cursors> {
        self.paging_metadata_mut()?.cursors.as_mut()
    }
}

#[cfg(test)]
mod tests;
