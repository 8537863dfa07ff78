//! extdb-bridge: the sidecar. The request path, stage by stage:
//! [`http`] (the front) → auth (`extdb-auth`) → protocol (`extdb-protocol`)
//! → [`routing`] → [`upstream`] (tonic) → back. [`config`] is the YAML,
//! [`metrics`] what Prometheus scrapes, [`app`] wires them together.

pub mod aip;
pub mod app;
pub mod check;
pub mod config;
pub mod connection;
pub mod devtools;
pub mod embedded;
pub mod http;
pub mod introspect;
pub mod metrics;
pub mod routing;
pub mod trace;
pub mod upstream;
