//! What tests see and steer: every call in order (method, metadata,
//! decoded request) and injected faults.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tonic::metadata::MetadataMap;
use tonic::{Code, Status};

use crate::pb;

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub enum CallRequest {
    ListBooks(pb::ListBooksRequest),
    GetBook(pb::GetBookRequest),
    CreateBook(pb::CreateBookRequest),
    UpdateBook(pb::UpdateBookRequest),
    DeleteBook(pb::DeleteBookRequest),
    PurgeBooks(pb::PurgeBooksRequest),
    ListShelves(pb::ListShelvesRequest),
    GetShelf(pb::GetShelfRequest),
    CreateShelf(pb::CreateShelfRequest),
    DeleteShelf(pb::DeleteShelfRequest),
}

/// One call the service received (recorded before any fault applies).
#[derive(Debug, Clone)]
pub struct RecordedCall {
    /// The full method path, e.g. `/library.v1.BookService/ListBooks`.
    pub method: String,
    pub metadata: MetadataMap,
    pub request: CallRequest,
}

impl RecordedCall {
    /// The method's short name, e.g. `ListBooks`.
    pub fn method_name(&self) -> &str {
        self.method.rsplit('/').next().unwrap_or(&self.method)
    }
}

/// A fault injected before a method runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// No fault (clears one set before).
    None,
    /// Answer this status instead of running the method.
    Status(Code, String),
    /// Wait, then run the method.
    Delay(Duration),
    /// Wait, then answer this status.
    DelayThenStatus(Duration, Code, String),
}

#[derive(Debug)]
struct Rule {
    fault: Fault,
    /// `None`: until changed; `Some(n)`: the next n calls.
    remaining: Option<usize>,
}

#[derive(Debug, Default)]
pub(crate) struct Recorder {
    calls: Mutex<Vec<RecordedCall>>,
    /// Keyed by short method name; `None` is every method. A method's own
    /// rule wins over the every-method one.
    faults: Mutex<HashMap<Option<String>, Rule>>,
}

impl Recorder {
    pub fn record(&self, call: RecordedCall) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }

    pub fn calls(&self) -> Vec<RecordedCall> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn clear_calls(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub fn set_fault(&self, method: Option<&str>, fault: Fault, times: Option<usize>) {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let key = method.map(str::to_owned);
        if fault == Fault::None || times == Some(0) {
            faults.remove(&key);
        } else {
            faults.insert(
                key,
                Rule {
                    fault,
                    remaining: times,
                },
            );
        }
    }

    /// The fault for this call of `method`, counting it down.
    fn take(&self, method: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let key = [Some(method.to_owned()), None]
            .into_iter()
            .find(|k| faults.contains_key(k))?;
        let rule = faults.get_mut(&key)?;
        let fault = rule.fault.clone();
        if let Some(remaining) = rule.remaining.as_mut() {
            *remaining = remaining.saturating_sub(1);
            if *remaining == 0 {
                faults.remove(&key);
            }
        }
        Some(fault)
    }

    /// Applies the fault for `method`, if any: sleeps and/or fails.
    pub async fn apply_fault(&self, method: &str) -> Result<(), Status> {
        match self.take(method) {
            None | Some(Fault::None) => Ok(()),
            Some(Fault::Status(code, message)) => Err(Status::new(code, message)),
            Some(Fault::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                Ok(())
            }
            Some(Fault::DelayThenStatus(delay, code, message)) => {
                tokio::time::sleep(delay).await;
                Err(Status::new(code, message))
            }
        }
    }
}
