//! The `extdb.v1.ExternalDatabase` gRPC service over the store.

use tonic::{Request, Response, Status, async_trait};

use extdb_contract::pb::{self, FieldType, external_database_server::ExternalDatabase};

use super::error::StoreError;
use super::{ReferenceStore, aggregate, indexes, items, references, schema};

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
        let wanted = request.into_inner().collection_ids;
        let mode = self.paging_mode;
        reply(
            self.db
                .read(move |tx| {
                    let ids = if wanted.is_empty() {
                        schema::list_ids(tx)?
                    } else {
                        wanted
                    };
                    let mut collections = Vec::new();
                    for id in ids {
                        // Unknown ids are left out, not an error.
                        if let Some(def) = schema::load(tx, &id)? {
                            collections.push(def.to_proto(mode));
                        }
                    }
                    Ok(pb::ListCollectionsResponse { collections })
                })
                .await,
        )
    }

    async fn create_collection(
        &self,
        request: Request<pb::CreateCollectionRequest>,
    ) -> Result<Response<pb::CreateCollectionResponse>, Status> {
        let collection = required(request.into_inner().collection, "collection")?;
        let mode = self.paging_mode;
        reply(
            self.db
                .write(move |tx| {
                    let def = schema::create(tx, &collection)?;
                    Ok(pb::CreateCollectionResponse {
                        collection: Some(def.to_proto(mode)),
                    })
                })
                .await,
        )
    }

    async fn update_collection(
        &self,
        request: Request<pb::UpdateCollectionRequest>,
    ) -> Result<Response<pb::UpdateCollectionResponse>, Status> {
        let collection = required(request.into_inner().collection, "collection")?;
        let mode = self.paging_mode;
        reply(
            self.db
                .write(move |tx| {
                    let def = schema::update(tx, &collection)?;
                    Ok(pb::UpdateCollectionResponse {
                        collection: Some(def.to_proto(mode)),
                    })
                })
                .await,
        )
    }

    async fn delete_collection(
        &self,
        request: Request<pb::DeleteCollectionRequest>,
    ) -> Result<Response<pb::DeleteCollectionResponse>, Status> {
        let id = request.into_inner().collection_id;
        reply(
            self.db
                .write(move |tx| {
                    schema::delete(tx, &id)?;
                    Ok(pb::DeleteCollectionResponse {})
                })
                .await,
        )
    }

    async fn list_indexes(
        &self,
        request: Request<pb::ListIndexesRequest>,
    ) -> Result<Response<pb::ListIndexesResponse>, Status> {
        let id = request.into_inner().collection_id;
        reply(
            self.db
                .read(move |tx| {
                    Ok(pb::ListIndexesResponse {
                        indexes: indexes::list(tx, &id)?,
                    })
                })
                .await,
        )
    }

    async fn create_index(
        &self,
        request: Request<pb::CreateIndexRequest>,
    ) -> Result<Response<pb::CreateIndexResponse>, Status> {
        let request = request.into_inner();
        let index = required(request.index, "index")?;
        let id = request.collection_id;
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::CreateIndexResponse {
                        index: Some(indexes::create(tx, &id, index)?),
                    })
                })
                .await,
        )
    }

    async fn remove_index(
        &self,
        request: Request<pb::RemoveIndexRequest>,
    ) -> Result<Response<pb::RemoveIndexResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    indexes::remove(tx, &request.collection_id, &request.index_name)?;
                    Ok(pb::RemoveIndexResponse {})
                })
                .await,
        )
    }

    async fn query_items(
        &self,
        request: Request<pb::QueryItemsRequest>,
    ) -> Result<Response<pb::QueryItemsResponse>, Status> {
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(
            self.db
                .read(move |tx| items::query(tx, &request, &key))
                .await,
        )
    }

    async fn count_items(
        &self,
        request: Request<pb::CountItemsRequest>,
    ) -> Result<Response<pb::CountItemsResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .read(move |tx| {
                    Ok(pb::CountItemsResponse {
                        total_count: items::count(tx, &request)?,
                    })
                })
                .await,
        )
    }

    async fn aggregate_items(
        &self,
        request: Request<pb::AggregateItemsRequest>,
    ) -> Result<Response<pb::AggregateItemsResponse>, Status> {
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(
            self.db
                .read(move |tx| aggregate::aggregate(tx, request, &key))
                .await,
        )
    }

    async fn query_distinct_values(
        &self,
        request: Request<pb::QueryDistinctValuesRequest>,
    ) -> Result<Response<pb::QueryDistinctValuesResponse>, Status> {
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(
            self.db
                .read(move |tx| aggregate::distinct(tx, request, &key))
                .await,
        )
    }

    async fn insert_items(
        &self,
        request: Request<pb::InsertItemsRequest>,
    ) -> Result<Response<pb::InsertItemsResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::InsertItemsResponse {
                        results: items::insert(tx, &request)?,
                    })
                })
                .await,
        )
    }

    async fn update_items(
        &self,
        request: Request<pb::UpdateItemsRequest>,
    ) -> Result<Response<pb::UpdateItemsResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::UpdateItemsResponse {
                        results: items::update(tx, &request)?,
                    })
                })
                .await,
        )
    }

    async fn remove_items(
        &self,
        request: Request<pb::RemoveItemsRequest>,
    ) -> Result<Response<pb::RemoveItemsResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::RemoveItemsResponse {
                        results: items::remove(tx, &request)?,
                    })
                })
                .await,
        )
    }

    async fn truncate_items(
        &self,
        request: Request<pb::TruncateItemsRequest>,
    ) -> Result<Response<pb::TruncateItemsResponse>, Status> {
        let id = request.into_inner().collection_id;
        reply(
            self.db
                .write(move |tx| {
                    items::truncate(tx, &id)?;
                    Ok(pb::TruncateItemsResponse {})
                })
                .await,
        )
    }

    async fn query_referenced_items(
        &self,
        request: Request<pb::QueryReferencedItemsRequest>,
    ) -> Result<Response<pb::QueryReferencedItemsResponse>, Status> {
        let request = request.into_inner();
        let key = self.cursor_key.clone();
        reply(
            self.db
                .read(move |tx| references::query_referenced(tx, request, &key))
                .await,
        )
    }

    async fn insert_references(
        &self,
        request: Request<pb::InsertReferencesRequest>,
    ) -> Result<Response<pb::InsertReferencesResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::InsertReferencesResponse {
                        results: references::insert_references(tx, &request)?,
                    })
                })
                .await,
        )
    }

    async fn remove_references(
        &self,
        request: Request<pb::RemoveReferencesRequest>,
    ) -> Result<Response<pb::RemoveReferencesResponse>, Status> {
        let request = request.into_inner();
        reply(
            self.db
                .write(move |tx| {
                    Ok(pb::RemoveReferencesResponse {
                        results: references::remove_references(tx, &request)?,
                    })
                })
                .await,
        )
    }
}
