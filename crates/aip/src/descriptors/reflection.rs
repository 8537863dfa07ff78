//! The client side of gRPC server reflection: `grpc.reflection.v1`, falling
//! back to `v1alpha` when the server has only that. tonic's reflection
//! server answers a symbol with the one file defining it (not its imports),
//! so imports are fetched by file name until the set is closed.

use std::collections::BTreeMap;

use tonic::transport::Channel;
use tonic::{Code, Status};

use super::{DescriptorError, close_over_imports};

/// Largest reflection answer accepted (a file set of a big API).
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// One question to the reflection service.
#[derive(Debug, Clone)]
enum Ask {
    /// The file defining a fully qualified symbol.
    Symbol(String),
    /// A file by name.
    File(String),
    /// The names of the services the server exposes.
    ListServices,
}

/// What the server answered.
enum Answer {
    Files(Vec<Vec<u8>>),
    Services(Vec<String>),
}

/// The same client twice: the two versions have identical messages in
/// different packages.
macro_rules! reflection_version {
    ($module:ident) => {
        mod $module {
            use tonic_reflection::pb::$module::ServerReflectionRequest;
            use tonic_reflection::pb::$module::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$module::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$module::server_reflection_response::MessageResponse;

            use super::*;

            /// The raw files or service names of one answer.
            pub(super) async fn ask(channel: Channel, ask: Ask) -> Result<Answer, Status> {
                let mut client = ServerReflectionClient::new(channel)
                    .max_decoding_message_size(MAX_ANSWER_BYTES);
                let message_request = match ask {
                    Ask::Symbol(symbol) => MessageRequest::FileContainingSymbol(symbol),
                    Ask::File(file) => MessageRequest::FileByFilename(file),
                    Ask::ListServices => MessageRequest::ListServices(String::new()),
                };
                let request = ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(message_request),
                };
                let mut answers = client
                    .server_reflection_info(futures_util::stream::iter([request]))
                    .await?
                    .into_inner();
                let answer = answers.message().await?.ok_or_else(|| {
                    Status::unknown("the reflection stream ended without an answer")
                })?;
                match answer.message_response {
                    Some(MessageResponse::FileDescriptorResponse(files)) => {
                        Ok(Answer::Files(files.file_descriptor_proto))
                    }
                    Some(MessageResponse::ListServicesResponse(list)) => Ok(Answer::Services(
                        list.service.into_iter().map(|s| s.name).collect(),
                    )),
                    Some(MessageResponse::ErrorResponse(e)) => {
                        Err(Status::new(Code::from(e.error_code), e.error_message))
                    }
                    _ => Err(Status::unknown("unexpected reflection answer")),
                }
            }
        }
    };
}

reflection_version!(v1);
reflection_version!(v1alpha);

#[derive(Debug, Clone, Copy)]
enum Version {
    V1,
    V1Alpha,
}

impl Version {
    fn name(self) -> &'static str {
        match self {
            Version::V1 => "grpc.reflection.v1",
            Version::V1Alpha => "grpc.reflection.v1alpha",
        }
    }

    async fn answer(self, channel: Channel, ask: Ask) -> Result<Answer, DescriptorError> {
        let what = format!("{ask:?}");
        match self {
            Version::V1 => v1::ask(channel, ask).await,
            Version::V1Alpha => v1alpha::ask(channel, ask).await,
        }
        .map_err(|status| {
            DescriptorError::Reflection(format!(
                "{} {what}: {:?} {}",
                self.name(),
                status.code(),
                status.message()
            ))
        })
    }

    async fn ask(
        self,
        channel: Channel,
        ask: Ask,
    ) -> Result<Vec<(String, Vec<u8>)>, DescriptorError> {
        let Answer::Files(files) = self.answer(channel, ask).await? else {
            return Err(DescriptorError::Reflection(
                "a list of services where files were asked for".into(),
            ));
        };
        files
            .into_iter()
            .map(|bytes| {
                use prost::Message;
                let proto = prost_types::FileDescriptorProto::decode(bytes.as_slice())
                    .map_err(|e| DescriptorError::Invalid(e.to_string()))?;
                Ok((proto.name().to_owned(), bytes))
            })
            .collect()
    }
}

/// The version the server speaks: v1 first; a server without it answers
/// UNIMPLEMENTED. Asks for the service list, which every server has.
async fn negotiate(channel: &Channel) -> Result<(Version, Vec<String>), DescriptorError> {
    let services = |answer| match answer {
        Answer::Services(names) => Ok(names),
        Answer::Files(_) => Err(DescriptorError::Reflection(
            "files where the list of services was asked for".into(),
        )),
    };
    match v1::ask(channel.clone(), Ask::ListServices).await {
        Ok(answer) => Ok((Version::V1, services(answer)?)),
        Err(status) if status.code() == Code::Unimplemented => {
            let answer = Version::V1Alpha
                .answer(channel.clone(), Ask::ListServices)
                .await?;
            Ok((Version::V1Alpha, services(answer)?))
        }
        Err(status) => Err(DescriptorError::Reflection(format!(
            "{} list services: {:?} {}",
            Version::V1.name(),
            status.code(),
            status.message()
        ))),
    }
}

/// Every file defining `services` (all the server's own services when
/// empty) and everything they import, and the reflection version that
/// answered.
pub(super) async fn fetch_files(
    channel: Channel,
    services: &[String],
    max_files: usize,
) -> Result<(BTreeMap<String, Vec<u8>>, &'static str), DescriptorError> {
    let (version, listed) = negotiate(&channel).await?;
    let services: Vec<String> = if services.is_empty() {
        // The infrastructure services are not the API.
        listed
            .into_iter()
            .filter(|s| !s.starts_with("grpc.reflection.") && !s.starts_with("grpc.health."))
            .collect()
    } else {
        services.to_vec()
    };
    let mut files = BTreeMap::new();
    for service in &services {
        for (name, bytes) in version
            .ask(channel.clone(), Ask::Symbol(service.clone()))
            .await?
        {
            files.entry(name).or_insert(bytes);
        }
    }
    let files = close_over_imports(files, max_files, |name| {
        version.ask(channel.clone(), Ask::File(name))
    })
    .await?;
    Ok((files, version.name()))
}
