//! The in-memory state behind both services, and what every method shares:
//! recording, faults, etags and timestamps.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use prost_reflect::DynamicMessage;
use tonic::{Request, Status};

use crate::fields::Schema;
use crate::paging::fingerprint;
use crate::recorder::{CallRequest, RecordedCall, Recorder};
use crate::server::LibraryOptions;
use crate::{LibraryError, names, pb};

/// A book and its dynamic form (what filters, sorting and masks read),
/// kept together so a list does not transcode every book.
#[derive(Debug, Clone)]
pub(crate) struct StoredBook {
    pub book: pb::Book,
    pub dynamic: DynamicMessage,
}

#[derive(Debug, Default)]
pub(crate) struct Data {
    /// By name, so the default order (by name) is the map's.
    pub books: BTreeMap<String, StoredBook>,
    pub shelves: BTreeMap<String, pb::Shelf>,
    /// AIP-155: request id → the book the first call answered.
    pub request_ids: HashMap<String, pb::Book>,
    /// Server-chosen ids.
    next_id: u64,
    /// Writes so far: every etag is new.
    writes: u64,
}

impl Data {
    pub fn next_etag(&mut self, name: &str) -> String {
        self.writes += 1;
        format!(
            "{:016x}",
            fingerprint(&[name, &self.writes.to_string(), "etag"])
        )
    }

    /// The next server-chosen id, `{prefix}-g{n}` (callers skip one that
    /// a client already took).
    pub fn generated_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-g{}", self.next_id)
    }
}

/// Everything the services share.
#[derive(Debug)]
pub(crate) struct State {
    pub schema: Schema,
    pub options: LibraryOptions,
    pub recorder: Recorder,
    data: Mutex<Data>,
}

pub(crate) fn now() -> prost_types::Timestamp {
    prost_types::Timestamp::from(SystemTime::now())
}

impl State {
    pub fn new(schema: Schema, options: LibraryOptions) -> Self {
        Self {
            schema,
            options,
            recorder: Recorder::default(),
            data: Mutex::new(Data::default()),
        }
    }

    /// The data; no lock is held across an await.
    pub fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the call, then applies the fault set for it, if any.
    pub async fn enter<T>(
        &self,
        service: &str,
        method: &str,
        request: &Request<T>,
        decoded: CallRequest,
    ) -> Result<(), Status> {
        self.recorder.record(RecordedCall {
            method: format!("/library.v1.{service}/{method}"),
            metadata: request.metadata().clone(),
            request: decoded,
        });
        self.recorder.apply_fault(method).await
    }

    pub fn stored(&self, book: pb::Book) -> StoredBook {
        StoredBook {
            dynamic: self.schema.to_dynamic(&book),
            book,
        }
    }

    /// Inserts books as given (replacing any of the same name), creating
    /// the shelves they are on.
    pub fn insert_books(&self, books: Vec<pb::Book>) -> Result<(), LibraryError> {
        let mut data = self.data();
        for book in books {
            let parent = names::parent_of(&book.name)
                .filter(|_| names::book_ids("name", &book.name).is_ok())
                .ok_or_else(|| LibraryError::BadBookName(book.name.clone()))?
                .to_owned();
            data.shelves
                .entry(parent.clone())
                .or_insert_with(|| pb::Shelf {
                    name: parent,
                    theme: String::new(),
                    create_time: Some(now()),
                });
            let stored = self.stored(book);
            data.books.insert(stored.book.name.clone(), stored);
        }
        Ok(())
    }

    pub fn books(&self) -> Vec<pb::Book> {
        self.data().books.values().map(|b| b.book.clone()).collect()
    }
}
