//! `library.v1.BookService`: AIP-131..135 with AIP-132/158/160 listing,
//! AIP-134 update masks, AIP-154 etags and AIP-155 request ids.

use std::sync::Arc;

use prost_reflect::DynamicMessage;
use prost_types::FieldMask;
use tonic::{Request, Response, Status};

use crate::fields::{self, FieldPath, Schema};
use crate::filter::Filter;
use crate::names::{self, invalid};
use crate::order::OrderBy;
use crate::paging;
use crate::pb::book_service_server::BookService;
use crate::pb::{
    Book, CreateBookRequest, DeleteBookRequest, GetBookRequest, ListBooksRequest,
    ListBooksResponse, PurgeBooksRequest, PurgeBooksResponse, UpdateBookRequest,
};
use crate::recorder::CallRequest;
use crate::store::{Data, State, now};

const SERVICE: &str = "BookService";

/// Both services over one state.
#[derive(Debug, Clone)]
pub(crate) struct Library {
    pub state: Arc<State>,
}

fn not_found(name: &str) -> Status {
    Status::not_found(format!("{name} not found"))
}

fn shelf_exists(data: &Data, parent: &str) -> Result<(), Status> {
    if data.shelves.contains_key(parent) {
        Ok(())
    } else {
        Err(not_found(parent))
    }
}

/// The paths of a read mask; `None` is every field.
fn read_mask(mask: Option<&FieldMask>, schema: &Schema) -> Result<Option<Vec<FieldPath>>, Status> {
    let Some(mask) = mask.filter(|m| !m.paths.is_empty()) else {
        return Ok(None);
    };
    if mask.paths.iter().any(|p| p == "*") {
        return if mask.paths.len() == 1 {
            Ok(None)
        } else {
            Err(invalid("read_mask", "read_mask: `*` must be the only path"))
        };
    }
    mask.paths
        .iter()
        .map(|p| {
            fields::resolve(&schema.book, p, false)
                .map_err(|e| invalid("read_mask", format!("read_mask: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The book with only the masked fields (and always its name).
fn masked(schema: &Schema, dynamic: &DynamicMessage, paths: &[FieldPath]) -> Book {
    let mut out = DynamicMessage::new(schema.book.clone());
    for path in paths {
        fields::copy_if_set(dynamic, &mut out, &path.steps);
    }
    let mut book = Schema::from_dynamic(&out);
    if let Some(name) = dynamic.get_field_by_name("name")
        && let Some(name) = name.as_str()
    {
        book.name = name.to_owned();
    }
    book
}

/// `current` with `input`'s fields under the update mask: empty mask →
/// every field `input` populates; `*` → every field (a full replace);
/// server-owned (OUTPUT_ONLY, IDENTIFIER) paths are ignored. Changing an
/// IMMUTABLE field is refused unless `creating`.
fn apply_update(
    schema: &Schema,
    current: &DynamicMessage,
    input: &DynamicMessage,
    mask: Option<&FieldMask>,
    creating: bool,
) -> Result<DynamicMessage, Status> {
    // A top-level field always resolves.
    let top =
        |f: prost_reflect::FieldDescriptor| fields::resolve(&schema.book, f.name(), false).ok();
    let paths: Vec<FieldPath> = match mask.map(|m| m.paths.as_slice()).unwrap_or_default() {
        [] => schema
            .book
            .fields()
            .filter(|f| input.has_field(f))
            .filter_map(top)
            .collect(),
        [star] if star == "*" => schema.book.fields().filter_map(top).collect(),
        paths => paths
            .iter()
            .map(|p| {
                if p == "*" {
                    return Err(invalid(
                        "update_mask",
                        "update_mask: `*` must be the only path",
                    ));
                }
                fields::resolve(&schema.book, p, false)
                    .map_err(|e| invalid("update_mask", format!("update_mask: {e}")))
            })
            .collect::<Result<_, _>>()?,
    };
    let mut updated = current.clone();
    for path in paths
        .iter()
        .filter(|p| !schema.server_owned.contains(p.head()))
    {
        fields::copy_path(input, &mut updated, &path.steps);
    }
    if !creating {
        for name in &schema.immutable {
            if current.get_field_by_name(name) != updated.get_field_by_name(name) {
                return Err(invalid(
                    &format!("book.{name}"),
                    format!("book.{name} is immutable: it cannot change after creation"),
                ));
            }
        }
    }
    Ok(updated)
}

fn require_title(book: &Book) -> Result<(), Status> {
    if book.title.is_empty() {
        Err(invalid("book.title", "book.title is required"))
    } else {
        Ok(())
    }
}

impl Library {
    /// Stamps a written book (etag, update time) and stores it.
    fn save(&self, data: &mut Data, mut book: Book, created: bool) -> Book {
        let stamp = now();
        if created {
            book.create_time = Some(stamp);
        }
        book.update_time = Some(stamp);
        book.etag = data.next_etag(&book.name);
        let stored = self.state.stored(book.clone());
        data.books.insert(book.name.clone(), stored);
        book
    }

    /// A book from create input: server-owned fields dropped.
    fn input_book(&self, input: &Book) -> DynamicMessage {
        let mut dynamic = self.state.schema.to_dynamic(input);
        for name in &self.state.schema.server_owned {
            dynamic.clear_field_by_name(name);
        }
        dynamic
    }
}

#[tonic::async_trait]
impl BookService for Library {
    async fn list_books(
        &self,
        request: Request<ListBooksRequest>,
    ) -> Result<Response<ListBooksResponse>, Status> {
        let decoded = CallRequest::ListBooks(request.get_ref().clone());
        self.state
            .enter(SERVICE, "ListBooks", &request, decoded)
            .await?;
        let req = request.into_inner();
        let schema = &self.state.schema;
        // AIP-159: `shelves/-` reads across every shelf.
        let parent = if req.parent == "shelves/-" {
            None
        } else {
            names::shelf_id("parent", &req.parent)?;
            Some(req.parent.as_str())
        };
        let size = paging::page_size(req.page_size, &self.state.options)?;
        let skip = usize::try_from(req.skip).map_err(|_| {
            invalid(
                "skip",
                format!("skip must not be negative (got {})", req.skip),
            )
        })?;
        let filter =
            Filter::new(&req.filter, &schema.book).map_err(|e| invalid("filter", e.to_string()))?;
        let order = OrderBy::parse(&req.order_by, &schema.book)?;
        let mask = read_mask(req.read_mask.as_ref(), schema)?;
        let mask_text = req
            .read_mask
            .as_ref()
            .map(|m| m.paths.join(","))
            .unwrap_or_default();
        // `skip` is not part of the fingerprint: AIP-158 lets it change
        // between pages and counts it from the token's position.
        let print =
            paging::fingerprint(&["books", &req.parent, &req.filter, &req.order_by, &mask_text]);
        let offset = paging::decode(&req.page_token, print)?;
        let data = self.state.data();
        if let Some(parent) = parent {
            shelf_exists(&data, parent)?;
        }
        let mut matches: Vec<_> = data
            .books
            .values()
            .filter(|b| parent.is_none_or(|p| names::parent_of(&b.book.name) == Some(p)))
            .filter(|b| filter.matches(&b.dynamic))
            .collect();
        // The map is in name order, the default; with order_by, ties are
        // broken by name so paging is stable.
        if !order.is_empty() {
            let mut keyed: Vec<_> = matches
                .into_iter()
                .map(|b| (order.key(&b.dynamic), b))
                .collect();
            keyed.sort_by(|(ka, a), (kb, b)| {
                order
                    .compare(ka, kb)
                    .then_with(|| a.book.name.cmp(&b.book.name))
            });
            matches = keyed.into_iter().map(|(_, b)| b).collect();
        }
        let total_size = i32::try_from(matches.len()).unwrap_or(i32::MAX);
        // The token holds an absolute position in the ordered matches.
        let start = offset.saturating_add(skip);
        let rest: Vec<_> = matches.into_iter().skip(start).collect();
        let books = rest
            .iter()
            .take(size)
            .map(|b| match &mask {
                Some(paths) => masked(schema, &b.dynamic, paths),
                None => b.book.clone(),
            })
            .collect();
        let next_page_token = if rest.len() > size {
            paging::encode(start + size, print)
        } else {
            String::new()
        };
        Ok(Response::new(ListBooksResponse {
            books,
            next_page_token,
            total_size,
        }))
    }

    async fn get_book(&self, request: Request<GetBookRequest>) -> Result<Response<Book>, Status> {
        let decoded = CallRequest::GetBook(request.get_ref().clone());
        self.state
            .enter(SERVICE, "GetBook", &request, decoded)
            .await?;
        let name = request.into_inner().name;
        names::book_ids("name", &name)?;
        let data = self.state.data();
        data.books
            .get(&name)
            .map(|b| Response::new(b.book.clone()))
            .ok_or_else(|| not_found(&name))
    }

    async fn create_book(
        &self,
        request: Request<CreateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let decoded = CallRequest::CreateBook(request.get_ref().clone());
        self.state
            .enter(SERVICE, "CreateBook", &request, decoded)
            .await?;
        let req = request.into_inner();
        names::shelf_id("parent", &req.parent)?;
        let mut data = self.state.data();
        if !req.request_id.is_empty()
            && let Some(first) = data.request_ids.get(&req.request_id)
        {
            return Ok(Response::new(first.clone()));
        }
        let Some(input) = req.book else {
            return Err(invalid("book", "book is required"));
        };
        if !req.book_id.is_empty() && !names::valid_id(&req.book_id) {
            return Err(invalid(
                "book_id",
                format!(
                    "book_id {:?} is not a valid id (^[A-Za-z0-9][A-Za-z0-9._~-]{{0,127}}$)",
                    req.book_id
                ),
            ));
        }
        require_title(&input)?;
        shelf_exists(&data, &req.parent)?;
        let id = if req.book_id.is_empty() {
            loop {
                let id = data.generated_id("book");
                if !data
                    .books
                    .contains_key(&format!("{}/books/{id}", req.parent))
                {
                    break id;
                }
            }
        } else {
            req.book_id.clone()
        };
        let name = format!("{}/books/{id}", req.parent);
        if data.books.contains_key(&name) {
            return Err(Status::already_exists(format!("{name} already exists")));
        }
        let mut book = Schema::from_dynamic(&self.input_book(&input));
        book.name = name;
        let book = self.save(&mut data, book, true);
        if !req.request_id.is_empty() {
            data.request_ids.insert(req.request_id, book.clone());
        }
        Ok(Response::new(book))
    }

    async fn update_book(
        &self,
        request: Request<UpdateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let decoded = CallRequest::UpdateBook(request.get_ref().clone());
        self.state
            .enter(SERVICE, "UpdateBook", &request, decoded)
            .await?;
        let req = request.into_inner();
        let Some(input) = req.book else {
            return Err(invalid("book", "book is required"));
        };
        names::book_ids("book.name", &input.name)?;
        let schema = &self.state.schema;
        let input_dynamic = schema.to_dynamic(&input);
        let mut data = self.state.data();
        let (current, creating) = match data.books.get(&input.name) {
            Some(stored) => {
                if !input.etag.is_empty() && input.etag != stored.book.etag {
                    return Err(Status::aborted(format!(
                        "{} has changed: etag {:?} is stale (current {:?}); read it again",
                        input.name, input.etag, stored.book.etag
                    )));
                }
                (stored.dynamic.clone(), false)
            }
            None if req.allow_missing => {
                let parent = names::parent_of(&input.name).unwrap_or_default();
                shelf_exists(&data, parent)?;
                (DynamicMessage::new(schema.book.clone()), true)
            }
            None => return Err(not_found(&input.name)),
        };
        let updated = apply_update(
            schema,
            &current,
            &input_dynamic,
            req.update_mask.as_ref(),
            creating,
        )?;
        let mut book = Schema::from_dynamic(&updated);
        book.name = input.name.clone();
        require_title(&book)?;
        Ok(Response::new(self.save(&mut data, book, creating)))
    }

    async fn delete_book(
        &self,
        request: Request<DeleteBookRequest>,
    ) -> Result<Response<()>, Status> {
        let decoded = CallRequest::DeleteBook(request.get_ref().clone());
        self.state
            .enter(SERVICE, "DeleteBook", &request, decoded)
            .await?;
        let req = request.into_inner();
        names::book_ids("name", &req.name)?;
        let mut data = self.state.data();
        match data.books.get(&req.name) {
            None if req.allow_missing => return Ok(Response::new(())),
            None => return Err(not_found(&req.name)),
            Some(stored) if !req.etag.is_empty() && req.etag != stored.book.etag => {
                return Err(Status::aborted(format!(
                    "{} has changed: etag {:?} is stale (current {:?}); read it again",
                    req.name, req.etag, stored.book.etag
                )));
            }
            Some(_) => {}
        }
        data.books.remove(&req.name);
        Ok(Response::new(()))
    }

    async fn purge_books(
        &self,
        request: Request<PurgeBooksRequest>,
    ) -> Result<Response<PurgeBooksResponse>, Status> {
        const SAMPLE: usize = 100;
        let decoded = CallRequest::PurgeBooks(request.get_ref().clone());
        self.state
            .enter(SERVICE, "PurgeBooks", &request, decoded)
            .await?;
        let req = request.into_inner();
        names::shelf_id("parent", &req.parent)?;
        // AIP-165: the filter is required; `*` selects everything.
        let filter = match req.filter.trim() {
            "" => return Err(invalid("filter", "filter is required (`*` for every book)")),
            "*" => None,
            text => Some(
                Filter::new(text, &self.state.schema.book)
                    .map_err(|e| invalid("filter", e.to_string()))?,
            ),
        };
        let mut data = self.state.data();
        shelf_exists(&data, &req.parent)?;
        let prefix = format!("{}/books/", req.parent);
        let doomed: Vec<String> = data
            .books
            .iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .filter(|(_, b)| filter.as_ref().is_none_or(|f| f.matches(&b.dynamic)))
            .map(|(name, _)| name.clone())
            .collect();
        if req.force {
            for name in &doomed {
                data.books.remove(name);
            }
        }
        Ok(Response::new(PurgeBooksResponse {
            purge_count: i32::try_from(doomed.len()).unwrap_or(i32::MAX),
            purge_sample: doomed.into_iter().take(SAMPLE).collect(),
        }))
    }
}
