//! The `extdb.v1.ExternalDatabase` gRPC service over the store.

use tonic::{Request, Response, Status, async_trait};

use extdb_contract::pb::{self, FieldType, external_database_server::ExternalDatabase};

use super::error::StoreError;
use super::{Backend, ReferenceStore, aggregate, indexes, items, references, schema};

/// Field types CreateCollection / UpdateCollection accept: every type of the
/// contract (numbers outside the enum are VALIDATION_ERROR).
const SUPPORTED_FIELD_TYPES: [FieldType; 23] = [
    FieldType::Text,
    FieldType::Number,
    FieldType::Date,
    FieldType::Datetime,
    FieldType::Image,
    FieldType::Boolean,
    FieldType::Document,
    FieldType::Url,
    FieldType::RichText,
    FieldType::Video,
    FieldType::Any,
    FieldType::ArrayString,
    FieldType::ArrayDocument,
    FieldType::Audio,
    FieldType::Time,
    FieldType::Language,
    FieldType::RichContent,
    FieldType::MediaGallery,
    FieldType::Address,
    FieldType::Reference,
    FieldType::MultiReference,
    FieldType::Object,
    FieldType::Array,
];

/// Runs `$body` (a future over the transaction `$tx`) in a read or write
/// transaction of the store's backend. The body is written once and
/// compiled for each backend's transaction type.
macro_rules! in_tx {
    ($store:expr, $deadline:expr, $mode:ident, |$tx:ident| $body:expr) => {{
        match &$store.backend {
            Backend::Sqlite(db) => {
                let _ = $deadline;
                db.$mode(move |$tx| super::sqlite::run_ready($body)).await
            }
            Backend::Postgres(db) => {
                let mut attempt = 0;
                loop {
                    let mut session = match db.session($deadline).await {
                        Ok(session) => session,
                        Err(e) => break Err(e),
                    };
                    let mut open = match session.begin(super::postgres::Access::$mode).await {
                        Ok(open) => open,
                        Err(e) => break Err(e),
                    };
                    let result = {
                        let $tx = &mut open;
                        $body.await
                    };
                    match open.finish(result).await {
                        Err(e) if e.is_retryable() && attempt < super::postgres::MAX_RETRIES => {
                            attempt += 1;
                            super::postgres::backoff(attempt).await;
                        }
                        other => break other,
                    }
                }
            }
        }
    }};
}

/// The caller's deadline (`grpc-timeout`), if it sent one.
fn deadline<T>(request: &Request<T>) -> Option<std::time::Duration> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => std::time::Duration::from_secs(n.saturating_mul(3600)),
        "M" => std::time::Duration::from_secs(n.saturating_mul(60)),
        "S" => std::time::Duration::from_secs(n),
        "m" => std::time::Duration::from_millis(n),
        "u" => std::time::Duration::from_micros(n),
        "n" => std::time::Duration::from_nanos(n),
        _ => return None,
    })
}

fn reply<T>(result: Result<T, StoreError>) -> Result<Response<T>, Status> {
    result.map(Response::new).map_err(Status::from)
}

fn required<T>(value: Option<T>, name: &str) -> Result<T, Status> {
    value.ok_or_else(|| Status::from(StoreError::bad_request(format!("{name} is required"))))
}

#[async_trait]
impl ExternalDatabase for ReferenceStore {
    async fn get_capabilities(
        &self,
        _request: Request<pb::GetCapabilitiesRequest>,
    ) -> Result<Response<pb::GetCapabilitiesResponse>, Status> {
        Ok(Response::new(pb::GetCapabilitiesResponse {
            capabilities: Some(pb::Capabilities {
                supports_collection_modifications: true,
                supported_field_types: SUPPORTED_FIELD_TYPES.iter().map(|t| *t as i32).collect(),
                index_options: Some(pb::IndexOptions {
                    supports_indexes: true,
                    max_number_of_regular_indexes_per_collection: indexes::MAX_REGULAR_INDEXES,
                    max_number_of_unique_indexes_per_collection: indexes::MAX_UNIQUE_INDEXES,
                    max_number_of_indexes_per_collection: indexes::MAX_INDEXES,
                }),
            }),
        }))
    }

    async fn list_collections(
        &self,
        request: Request<pb::ListCollectionsRequest>,
    ) -> Result<Response<pb::ListCollectionsResponse>, Status> {
        let deadline = deadline(&request);
        let wanted = request.into_inner().collection_ids;
        let mode = self.paging_mode;
        reply(in_tx!(self, deadline, read, |tx| async {
            let ids = if wanted.is_empty() {
                schema::list_ids(tx).await?
            } else {
                wanted.clone()
            };
            let mut collections = Vec::new();
            for id in ids {
                // Unknown ids are left out, not an error.
                if let Some(def) = schema::load(tx, &id).await? {
                    collections.push(def.to_proto(mode));
                }
            }
            Ok(pb::ListCollectionsResponse { collections })
        }))
    }

    async fn create_collection(
        &self,
        request: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CreateCollectionResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let collection = required(request.collection, "collection")?;
        let mode = self.paging_mode;
        reply(in_tx!(self, deadline, write, |tx| async {
            let def = schema::create(tx, &collection).await?;
            Ok(pb::CreateCollectionResponse {
                collection: Some(def.to_proto(mode)),
            })
        }))
    }

    async fn update_collection(
        &self,
        request: Request<pb::UpdateCollectionRequest>,
    ) -> Result<Response<pb::UpdateCollectionResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let collection = required(request.collection, "collection")?;
        let mode = self.paging_mode;
        reply(in_tx!(self, deadline, write, |tx| async {
            let def = schema::update(tx, &collection).await?;
            Ok(pb::UpdateCollectionResponse {
                collection: Some(def.to_proto(mode)),
            })
        }))
    }

    async fn delete_collection(
        &self,
        request: Request<pb::DeleteCollectionRequest>,
    ) -> Result<Response<pb::DeleteCollectionResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let id = request.collection_id;
        reply(in_tx!(self, deadline, write, |tx| async {
            schema::delete(tx, &id).await?;
            Ok(pb::DeleteCollectionResponse {})
        }))
    }

    async fn list_indexes(
        &self,
        request: Request<pb::ListIndexesRequest>,
    ) -> Result<Response<pb::ListIndexesResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let id = request.collection_id;
        reply(in_tx!(self, deadline, read, |tx| async {
            Ok(pb::ListIndexesResponse {
                indexes: indexes::list(tx, &id).await?,
            })
        }))
    }

    async fn create_index(
        &self,
        request: Request<pb::CreateIndexRequest>,
    ) -> Result<Response<pb::CreateIndexResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let index = required(request.index, "index")?;
        let id = request.collection_id;
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::CreateIndexResponse {
                index: Some(indexes::create(tx, &id, index.clone()).await?),
            })
        }))
    }

    async fn remove_index(
        &self,
        request: Request<pb::RemoveIndexRequest>,
    ) -> Result<Response<pb::RemoveIndexResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            indexes::remove(tx, &request.collection_id, &request.index_name).await?;
            Ok(pb::RemoveIndexResponse {})
        }))
    }

    async fn query_items(
        &self,
        request: Request<pb::QueryItemsRequest>,
    ) -> Result<Response<pb::QueryItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(in_tx!(self, deadline, read, |tx| async {
            items::query(tx, &request, &key).await
        }))
    }

    async fn count_items(
        &self,
        request: Request<pb::CountItemsRequest>,
    ) -> Result<Response<pb::CountItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, read, |tx| async {
            Ok(pb::CountItemsResponse {
                total_count: items::count(tx, &request).await?,
            })
        }))
    }

    async fn aggregate_items(
        &self,
        request: Request<pb::AggregateItemsRequest>,
    ) -> Result<Response<pb::AggregateItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(in_tx!(self, deadline, read, |tx| async {
            aggregate::aggregate(tx, request.clone(), &key).await
        }))
    }

    async fn query_distinct_values(
        &self,
        request: Request<pb::QueryDistinctValuesRequest>,
    ) -> Result<Response<pb::QueryDistinctValuesResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(in_tx!(self, deadline, read, |tx| async {
            aggregate::distinct(tx, request.clone(), &key).await
        }))
    }

    async fn insert_items(
        &self,
        request: Request<pb::InsertItemsRequest>,
    ) -> Result<Response<pb::InsertItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::InsertItemsResponse {
                results: items::insert(tx, &request).await?,
            })
        }))
    }

    async fn update_items(
        &self,
        request: Request<pb::UpdateItemsRequest>,
    ) -> Result<Response<pb::UpdateItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::UpdateItemsResponse {
                results: items::update(tx, &request).await?,
            })
        }))
    }

    async fn remove_items(
        &self,
        request: Request<pb::RemoveItemsRequest>,
    ) -> Result<Response<pb::RemoveItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::RemoveItemsResponse {
                results: items::remove(tx, &request).await?,
            })
        }))
    }

    async fn truncate_items(
        &self,
        request: Request<pb::TruncateItemsRequest>,
    ) -> Result<Response<pb::TruncateItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let id = request.collection_id;
        reply(in_tx!(self, deadline, write, |tx| async {
            items::truncate(tx, &id).await?;
            Ok(pb::TruncateItemsResponse {})
        }))
    }

    async fn query_referenced_items(
        &self,
        request: Request<pb::QueryReferencedItemsRequest>,
    ) -> Result<Response<pb::QueryReferencedItemsResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(in_tx!(self, deadline, read, |tx| async {
            references::query_referenced(tx, request.clone(), &key).await
        }))
    }

    async fn insert_references(
        &self,
        request: Request<pb::InsertReferencesRequest>,
    ) -> Result<Response<pb::InsertReferencesResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::InsertReferencesResponse {
                results: references::insert_references(tx, &request).await?,
            })
        }))
    }

    async fn remove_references(
        &self,
        request: Request<pb::RemoveReferencesRequest>,
    ) -> Result<Response<pb::RemoveReferencesResponse>, Status> {
        let deadline = deadline(&request);
        let request = request.into_inner();
        reply(in_tx!(self, deadline, write, |tx| async {
            Ok(pb::RemoveReferencesResponse {
                results: references::remove_references(tx, &request).await?,
            })
        }))
    }
}

#[cfg(test)]
mod tests;
