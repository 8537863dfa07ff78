//! `grpc.health.v1` of the in-process adapter answers for the backend, so
//! the sidecar's readiness follows the backend's: its own health when it
//! has the service, else whether it can be reached at all.

use std::pin::Pin;

use futures_util::Stream;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status, async_trait};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::backend::CallScope;

pub struct BackendHealth {
    channel: Channel,
}

impl BackendHealth {
    pub fn new(channel: Channel) -> BackendHealth {
        BackendHealth { channel }
    }
}

fn answer(status: ServingStatus) -> Response<HealthCheckResponse> {
    Response::new(HealthCheckResponse {
        status: status as i32,
    })
}

#[async_trait]
impl Health for BackendHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let scope = CallScope::of(&request);
        let mut ask = Request::new(HealthCheckRequest {
            service: String::new(),
        });
        let left = scope
            .deadline()
            .map(|d| d.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or(std::time::Duration::from_secs(5));
        ask.set_timeout(left);
        let mut client = HealthClient::new(self.channel.clone());
        match tokio::time::timeout(left, client.check(ask)).await {
            Ok(Ok(response)) => Ok(response),
            // A backend without the health service: answering at all is
            // as healthy as it can say.
            Ok(Err(status)) if status.code() == Code::Unimplemented => {
                Ok(answer(ServingStatus::Serving))
            }
            Ok(Err(status)) => Err(Status::unavailable(format!(
                "backend: {:?} {}",
                status.code(),
                status.message()
            ))),
            Err(_) => Err(Status::deadline_exceeded(
                "backend: no health answer in time",
            )),
        }
    }

    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch is not supported; use check"))
    }
}
