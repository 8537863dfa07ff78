//! Docker cannot run here, so the deployment files are checked against
//! reality instead: the compose file's services, ports, paths and health
//! checks, the sidecar config it mounts (validated offline, as `check
//! --offline` would, with the compose environment and mounts applied), the
//! Prometheus target, and the Dockerfile.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use extdb_bridge::config::Config;
use serde_json::Value;

/// The repository root (this crate is `crates/bridge`).
fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn yaml(path: &Path) -> Value {
    config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Yaml))
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .try_deserialize()
        .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// `${VAR:-default}` as compose would expand it with VAR unset.
fn compose_default(text: &str) -> String {
    match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        Some(inner) => inner
            .split_once(":-")
            .map(|(_, d)| d.to_owned())
            .unwrap_or_default(),
        None => text.to_owned(),
    }
}

#[test]
fn compose_file_matches_the_repository() {
    let compose = yaml(&root().join("docker-compose.yml"));
    let services = &compose["services"];
    for name in ["store", "sidecar", "prometheus"] {
        assert!(services[name].is_object(), "service {name} missing");
    }
    let store = &services["store"];
    let sidecar = &services["sidecar"];

    // Both services run binaries the workspace builds.
    assert_eq!(strings(&store["entrypoint"])[0], "extdb-store");
    for (bin, krate) in [("extdb-store", "store"), ("extdb-bridge", "bridge")] {
        let cargo =
            std::fs::read_to_string(root().join(format!("crates/{krate}/Cargo.toml"))).unwrap();
        assert!(
            cargo.contains(&format!("name = \"{bin}\"")),
            "no binary {bin}"
        );
    }

    // The store listens where the sidecar's config looks for it, and is
    // healthy (by our own probe) before the sidecar starts.
    let store_args = strings(&store["command"]);
    let listen = &store_args[store_args.iter().position(|a| a == "--listen").unwrap() + 1];
    let store_port = listen.rsplit_once(':').unwrap().1.to_owned();
    let probe = strings(&store["healthcheck"]["test"]);
    assert_eq!(&probe[..3], ["CMD", "extdb-bridge", "probe"]);
    assert_eq!(probe[4], format!("http://127.0.0.1:{store_port}"));
    assert_eq!(
        sidecar["depends_on"]["store"]["condition"],
        "service_healthy"
    );

    // The sidecar's config comes from ./config, mounted read-only.
    let mounts = strings(&sidecar["volumes"]);
    let (host_dir, container_dir) = mounts
        .iter()
        .find_map(|m| m.strip_suffix(":ro").and_then(|m| m.split_once(':')))
        .expect("a read-only config mount");
    assert!(root().join(host_dir).is_dir(), "{host_dir} does not exist");
    let args = strings(&sidecar["command"]);
    let config_in_container = &args[args.iter().position(|a| a == "--config").unwrap() + 1];
    let config_on_host = root().join(host_dir).join(
        config_in_container
            .strip_prefix(&format!("{container_dir}/"))
            .unwrap(),
    );
    assert!(
        config_on_host.is_file(),
        "{} does not exist",
        config_on_host.display()
    );

    // The key is a compose secret whose default file exists.
    let secret = &compose["secrets"]["wix_public_key"]["file"];
    let secret_file = root().join(compose_default(secret.as_str().unwrap()));
    assert!(
        secret_file.is_file(),
        "{} does not exist",
        secret_file.display()
    );
    assert_eq!(strings(&sidecar["secrets"]), ["wix_public_key"]);

    // The mounted config passes validation with the compose environment and
    // with container paths mapped to the files compose would put there.
    let text = std::fs::read_to_string(&config_on_host)
        .unwrap()
        .replace("/run/secrets/wix_public_key", secret_file.to_str().unwrap());
    let env: HashMap<String, String> = sidecar["environment"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), compose_default(v.as_str().unwrap())))
        .collect();
    let config = Config::from_yaml(&text, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.auth.v3.as_ref().unwrap().audiences, ["extdb-demo"]);
    let endpoint = config.upstreams["store"].endpoint.clone().unwrap();
    assert_eq!(endpoint, format!("http://store:{store_port}"));

    // Published ports are the ones the sidecar listens on.
    let ports = strings(&sidecar["ports"]);
    for port in [config.listen.port(), config.admin.listen.port()] {
        assert!(
            ports.iter().any(|p| p.ends_with(&format!(":{port}"))),
            "port {port} not published: {ports:?}"
        );
    }

    // Prometheus scrapes the sidecar's admin port.
    let prometheus_mount = strings(&services["prometheus"]["volumes"])[0].clone();
    let prometheus_file = root().join(prometheus_mount.split(':').next().unwrap());
    let prometheus = yaml(&prometheus_file);
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(job["metrics_path"], "/metrics");
    assert_eq!(
        strings(&job["static_configs"][0]["targets"]),
        [format!("sidecar:{}", config.admin.listen.port())]
    );
}

#[test]
fn dockerfile_is_multi_stage_non_root_with_a_self_probe() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).unwrap();
    assert!(
        text.matches("\nFROM ").count() + usize::from(text.starts_with("FROM ")) >= 2,
        "multi-stage"
    );
    assert!(text.contains("--bin extdb-bridge --bin extdb-store"));
    let user = text
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    assert_ne!(user.trim(), "root");
    let health = text.split("HEALTHCHECK").nth(1).expect("a HEALTHCHECK");
    assert!(
        health.contains("\"extdb-bridge\", \"probe\""),
        "probe through the binary"
    );
    let instructions: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect();
    assert!(
        !instructions.iter().any(|l| l.contains("curl")),
        "no curl needed"
    );
    // Everything the build copies exists.
    for line in text
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        for source in &parts[1..parts.len() - 1] {
            assert!(root().join(source).exists(), "COPY source {source} missing");
        }
    }
}

#[test]
fn demo_config_is_valid() {
    let env = HashMap::new();
    let text = std::fs::read_to_string(root().join("config/demo.yaml"))
        .unwrap()
        .replace("config/dev/", &format!("{}/config/dev/", root().display()));
    let config = Config::from_yaml(&text, &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.auth.v3.unwrap().audiences, ["extdb-demo"]);
}
