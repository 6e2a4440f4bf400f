//! The deployment files in `deploy/` hold what keeps a deployment's data when its parts
//! fail: every replica reads the same signing and caller data keys from a secret (a key
//! made per container would seal caller data that the others cannot read), more than
//! one replica means Redis, the probes ask the gRPC health service on the server's port,
//! replicas have resource limits and a disruption budget, metrics are exposed, the
//! open-file limit is raised, and every `HOTLINE_*` variable named is one the server
//! reads. Kubernetes' own validation needs an API server, so the manifests are read here.
//!
//! Each check returns the problems it finds, one line each; the real files have none,
//! and a file broken on purpose has the problem named.

use serde::Deserialize;
use serde_norway::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(file: &str) -> String {
    let path = repo().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml(text: &str) -> Vec<Value> {
    serde_norway::Deserializer::from_str(text)
        .map(|doc| Value::deserialize(doc).expect("valid YAML"))
        .filter(|doc| !doc.is_null())
        .collect()
}

/// The environment variables the server reads: `HOTLINE_CONFIG`, and for every setting
/// `HOTLINE_<SECTION>__<KEY>` and, where it had one, its flat name of earlier releases
/// (`config::MOVED`).
fn config_env_names() -> BTreeSet<String> {
    let mut names = BTreeSet::from(["HOTLINE_CONFIG".to_owned()]);
    let config = serde_json::to_value(hotline_server::config::Config::default()).expect("config");
    for (section, keys) in config.as_object().expect("sections") {
        for key in keys.as_object().expect("a section's keys").keys() {
            names.insert(format!("HOTLINE_{}__{}", section.to_uppercase(), key.to_uppercase()));
        }
    }
    for (flat, _) in hotline_server::config::MOVED {
        names.insert(format!("HOTLINE_{}", flat.to_uppercase()));
    }
    names
}

/// The sectioned name of a variable given by its flat name of earlier releases (both
/// set the same setting); any other name as it is.
fn sectioned(name: &str) -> String {
    let flat = name.strip_prefix("HOTLINE_").unwrap_or(name).to_lowercase();
    match hotline_server::config::MOVED.iter().find(|(old, _)| *old == flat) {
        Some((_, path)) => format!("HOTLINE_{}", path.replace('.', "__").to_uppercase()),
        None => name.to_owned(),
    }
}

/// Every `HOTLINE_*` name in `text`.
fn env_names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("HOTLINE_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        names.insert(name);
    }
    names
}

fn unknown_env_names(file: &str, text: &str) -> Vec<String> {
    let known = config_env_names();
    env_names_in(text)
        .into_iter()
        .filter(|n| !known.contains(n))
        .map(|n| format!("{file}: {n} is not a setting the server reads"))
        .collect()
}

fn port_of(addr: &str) -> Option<u16> {
    addr.parse::<SocketAddr>().ok().map(|a| a.port())
}

/// What the image sets: the gRPC listen port (`HOTLINE_LISTEN__ADDRESS`) and the user id.
struct Image {
    listen_port: Option<u16>,
    uid: Option<u64>,
    healthcheck: bool,
}

fn image(dockerfile: &str) -> Image {
    let listen_port = dockerfile
        .split_whitespace()
        .find_map(|w| {
            w.split_once('=').filter(|(k, _)| sectioned(k) == "HOTLINE_LISTEN__ADDRESS").map(|(_, v)| v)
        })
        .and_then(port_of);
    let uid = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .and_then(|u| u.trim().split(':').next()?.parse().ok());
    let healthcheck =
        dockerfile.lines().any(|l| l.starts_with("HEALTHCHECK") && l.contains(r#"["hotline", "health"]"#));
    Image { listen_port, uid, healthcheck }
}

fn dockerfile_problems(dockerfile: &str) -> Vec<String> {
    let image = image(dockerfile);
    let mut problems = unknown_env_names("Dockerfile", dockerfile);
    if image.listen_port.is_none() {
        problems.push("Dockerfile: no HOTLINE_LISTEN__ADDRESS address".into());
    }
    if image.uid.is_none_or(|u| u == 0) {
        problems.push("Dockerfile: the image does not run as a fixed non-root uid".into());
    }
    if !image.healthcheck {
        problems.push("Dockerfile: no HEALTHCHECK running `hotline health`".into());
    }
    problems
}

/// A compose environment, as a map or as a list of `NAME=value`.
fn compose_env(service: &Value) -> BTreeMap<String, String> {
    match &service["environment"] {
        Value::Mapping(m) => m
            .iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                Some((sectioned(k.as_str()?), v))
            })
            .collect(),
        Value::Sequence(s) => s
            .iter()
            .filter_map(|e| e.as_str()?.split_once('='))
            .map(|(k, v)| (sectioned(k), v.to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The host of a `scheme://[user@]host[:port]/...` URL.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host_port.split(':').next().unwrap_or(host_port))
}

fn compose_problems(compose: &Value, image: &Image) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(format!("compose.yaml: {p}"));
    let services = &compose["services"];
    let svc = &services["hotline"];
    if svc.is_null() {
        problem("no `hotline` service".into());
        return problems;
    }
    let env = compose_env(svc);
    let replicas = svc["deploy"]["replicas"].as_u64().unwrap_or(1);
    let service_secrets: Vec<&str> = svc["secrets"]
        .as_sequence()
        .map(|s| s.iter().filter_map(|e| e.as_str().or_else(|| e["source"].as_str())).collect())
        .unwrap_or_default();
    for var in ["HOTLINE_KEYS__SIGNING_KEY_FILE", "HOTLINE_KEYS__CALLER_KEY_FILE"] {
        let Some(path) = env.get(var) else {
            problem(format!("{var} is not set: each container would make its own key"));
            continue;
        };
        match path.strip_prefix("/run/secrets/") {
            Some(name) if service_secrets.contains(&name) && compose["secrets"][name]["file"].is_string() => {
            }
            _ => problem(format!("{var} ({path}) is not a file secret given to the service")),
        }
    }
    let service_url = |url: &str, schemes: &[&str]| {
        schemes.iter().any(|s| url.starts_with(s)) && url_host(url).is_some_and(|h| !services[h].is_null())
    };
    match env.get("HOTLINE_DATABASE__URL") {
        Some(url) if service_url(url, &["postgres://", "postgresql://"]) => {}
        url => {
            problem(format!("HOTLINE_DATABASE__URL ({url:?}) is not the URL of a PostgreSQL service here"))
        }
    }
    match env.get("HOTLINE_REDIS__URL") {
        Some(url) if service_url(url, &["redis://", "rediss://"]) => {}
        Some(url) => problem(format!("HOTLINE_REDIS__URL ({url}) is not the URL of a Redis service here")),
        None if replicas > 1 => problem(format!("{replicas} replicas without HOTLINE_REDIS__URL")),
        None => {}
    }
    let test: Vec<&str> = svc["healthcheck"]["test"]
        .as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !(test.contains(&"hotline") && test.contains(&"health")) {
        problem("the healthcheck does not run `hotline health`".into());
    }
    let nofile = &svc["ulimits"]["nofile"];
    let soft = nofile.as_u64().or_else(|| nofile["soft"].as_u64());
    if soft.is_none_or(|n| n < 65536) {
        problem("ulimits nofile is below 65536".into());
    }
    let limits = &svc["deploy"]["resources"]["limits"];
    if limits["memory"].is_null() || limits["cpus"].is_null() {
        problem("no memory and cpu limits".into());
    }
    let ports: Vec<String> = svc["ports"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|p| {
                    p.as_str().map(str::to_owned).or_else(|| p["target"].as_u64().map(|t| t.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    let published =
        |port: u16| ports.iter().any(|p| p.ends_with(&format!(":{port}")) || *p == port.to_string());
    let listen = env.get("HOTLINE_LISTEN__ADDRESS").and_then(|a| port_of(a)).or(image.listen_port);
    match listen {
        Some(port) if published(port) => {}
        _ => problem(format!("the gRPC port {listen:?} is not published")),
    }
    match env.get("HOTLINE_LISTEN__METRICS_ADDRESS").and_then(|a| port_of(a)) {
        Some(port) if published(port) => {}
        Some(port) => problem(format!("the metrics port {port} is not published")),
        None => problem("HOTLINE_LISTEN__METRICS_ADDRESS is not set".into()),
    }
    problems
}

/// A container's environment: name to its value, or `None` when it comes from elsewhere
/// (`valueFrom`).
fn container_env(container: &Value) -> BTreeMap<String, Option<String>> {
    container["env"]
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|e| {
                    Some((sectioned(e["name"].as_str()?), e["value"].as_str().map(str::to_owned)))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn named_port(container: &Value, name: &str) -> Option<u64> {
    container["ports"].as_sequence()?.iter().find(|p| p["name"].as_str() == Some(name))?["containerPort"]
        .as_u64()
}

fn kubernetes_problems(docs: &[Value], image: &Image) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |p: String| problems.push(format!("hotline.yaml: {p}"));
    let of_kind = |kind: &'static str| docs.iter().filter(move |d| d["kind"].as_str() == Some(kind));
    let Some(deployment) = of_kind("Deployment").find(|d| d["metadata"]["name"].as_str() == Some("hotline"))
    else {
        problem("no Deployment `hotline`".into());
        return problems;
    };
    let pod = &deployment["spec"]["template"];
    let labels = pod["metadata"]["labels"].as_mapping().cloned().unwrap_or_default();
    // A selector (a PodDisruptionBudget's `matchLabels`, a Service's map) that picks the pods.
    let selects_pods = |selector: &Value| {
        selector
            .as_mapping()
            .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| labels.get(k) == Some(v)))
    };
    let replicas = deployment["spec"]["replicas"].as_u64().unwrap_or(1);
    let Some(container) = pod["spec"]["containers"]
        .as_sequence()
        .and_then(|c| c.iter().find(|c| c["image"].as_str().is_some_and(|i| i.starts_with("hotline"))))
    else {
        problem("no hotline container".into());
        return problems;
    };
    let env = container_env(container);
    let mounts = container["volumeMounts"].as_sequence().cloned().unwrap_or_default();
    let volumes = pod["spec"]["volumes"].as_sequence().cloned().unwrap_or_default();
    for var in ["HOTLINE_KEYS__SIGNING_KEY_FILE", "HOTLINE_KEYS__CALLER_KEY_FILE"] {
        let Some(Some(path)) = env.get(var) else {
            problem(format!("{var} is not set to a file: each pod would make its own key"));
            continue;
        };
        let from_secret = mounts.iter().any(|m| {
            let (Some(dir), Some(name)) = (m["mountPath"].as_str(), m["name"].as_str()) else {
                return false;
            };
            let Some(file) = path.strip_prefix(dir).map(|f| f.trim_start_matches('/')) else {
                return false;
            };
            let Some(secret) =
                volumes.iter().find(|v| v["name"].as_str() == Some(name)).map(|v| &v["secret"])
            else {
                return false;
            };
            let items_hold = secret["items"]
                .as_sequence()
                .is_none_or(|items| items.iter().any(|i| i["path"].as_str() == Some(file)));
            m["readOnly"].as_bool() == Some(true) && secret["secretName"].is_string() && items_hold
        });
        if !from_secret {
            problem(format!("{var} ({path}) is not a file of a Secret mounted read-only"));
        }
    }
    if !env.contains_key("HOTLINE_DATABASE__URL") {
        problem("HOTLINE_DATABASE__URL is not set".into());
    }
    if replicas > 1 && !env.contains_key("HOTLINE_REDIS__URL") {
        problem(format!("{replicas} replicas without HOTLINE_REDIS__URL"));
    }
    if let Some(Some(url)) = env.get("HOTLINE_REDIS__URL") {
        let host = url_host(url).unwrap_or_default();
        if !of_kind("Service").any(|s| s["metadata"]["name"].as_str() == Some(host)) {
            problem(format!("the Redis host of {url} is not a Service here"));
        }
    }
    let listen =
        env.get("HOTLINE_LISTEN__ADDRESS").and_then(|a| port_of(a.as_deref()?)).or(image.listen_port);
    let grpc = named_port(container, "grpc");
    if listen.map(u64::from) != grpc {
        problem(format!("the port named grpc ({grpc:?}) is not the listen port ({listen:?})"));
    }
    for (probe, services) in [
        ("readinessProbe", &[""][..]),
        ("livenessProbe", &["", hotline_server::health::LIVENESS][..]),
        ("startupProbe", &[""][..]),
    ] {
        let p = &container[probe];
        if p.is_null() && probe == "startupProbe" {
            continue;
        }
        let port = p["grpc"]["port"].as_u64();
        let service = p["grpc"]["service"].as_str().unwrap_or("");
        if port.is_none() || port != grpc || !services.contains(&service) {
            problem(format!(
                "{probe} does not ask the gRPC health service on the server's port for {services:?}"
            ));
        }
    }
    let resources = &container["resources"];
    if resources["limits"]["memory"].is_null() || resources["requests"]["cpu"].is_null() {
        problem("no memory limit and cpu request".into());
    }
    if !of_kind("PodDisruptionBudget").any(|pdb| {
        selects_pods(&pdb["spec"]["selector"]["matchLabels"]) && !pdb["spec"]["minAvailable"].is_null()
    }) {
        problem("no PodDisruptionBudget with minAvailable for the hotline pods".into());
    }
    if !of_kind("Service").any(|s| selects_pods(&s["spec"]["selector"])) {
        problem("no Service for the hotline pods".into());
    }
    let metrics = env.get("HOTLINE_LISTEN__METRICS_ADDRESS").and_then(|a| port_of(a.as_deref()?));
    let annotated =
        pod["metadata"]["annotations"]["prometheus.io/port"].as_str().and_then(|p| p.parse().ok());
    match metrics {
        Some(port) if named_port(container, "metrics") == Some(port.into()) && annotated == Some(port) => {}
        _ => problem(format!(
            "the metrics port ({metrics:?}) is not the container port named metrics and the \
             prometheus.io/port annotation ({annotated:?})"
        )),
    }
    if pod["spec"]["securityContext"]["runAsUser"].as_u64() != image.uid {
        problem(format!("the pods do not run as the image's user {:?}", image.uid));
    }
    problems
}

fn systemd_problems(unit: &str) -> Vec<String> {
    let mut problems = unknown_env_names("hotline.service", unit);
    let nofile = unit
        .lines()
        .find_map(|l| l.trim().strip_prefix("LimitNOFILE=")?.split(':').next()?.parse::<u64>().ok());
    if nofile.is_none_or(|n| n < 65536) {
        problems.push(format!("hotline.service: LimitNOFILE is {nofile:?}, below 65536"));
    }
    problems
}

const DOCKERFILE: &str = "deploy/Dockerfile";
const COMPOSE: &str = "deploy/compose.yaml";
const KUBERNETES: &str = "deploy/kubernetes/hotline.yaml";
const SYSTEMD: &str = "deploy/systemd/hotline.service";

fn all_problems(dockerfile: &str, compose: &str, kubernetes: &str, systemd: &str) -> Vec<String> {
    let image = image(dockerfile);
    let compose_doc = yaml(compose).into_iter().next().unwrap_or(Value::Null);
    let mut problems = dockerfile_problems(dockerfile);
    problems.extend(unknown_env_names("compose.yaml", compose));
    problems.extend(compose_problems(&compose_doc, &image));
    problems.extend(unknown_env_names("hotline.yaml", kubernetes));
    problems.extend(kubernetes_problems(&yaml(kubernetes), &image));
    problems.extend(systemd_problems(systemd));
    problems
}

#[test]
fn the_deployment_files_keep_the_data() {
    let problems = all_problems(&read(DOCKERFILE), &read(COMPOSE), &read(KUBERNETES), &read(SYSTEMD));
    assert!(problems.is_empty(), "deploy/:\n{}", problems.join("\n"));
}

/// Each file with one change; the problems found.
fn problems_with(file: &str, from: &str, to: &str) -> Vec<String> {
    let mut texts = [DOCKERFILE, COMPOSE, KUBERNETES, SYSTEMD].map(|f| (f, read(f)));
    let (_, text) = texts.iter_mut().find(|(f, _)| *f == file).expect("a deploy file");
    assert!(text.contains(from), "{file} holds `{from}`");
    *text = text.replacen(from, to, 1);
    let [d, c, k, s] = texts.map(|(_, t)| t);
    all_problems(&d, &c, &k, &s)
}

#[test]
fn a_deployment_that_would_lose_data_is_refused() {
    // A caller key left to each container or pod.
    assert_eq!(
        problems_with(COMPOSE, "      HOTLINE_KEYS__CALLER_KEY_FILE: /run/secrets/caller.key\n", ""),
        ["compose.yaml: HOTLINE_KEYS__CALLER_KEY_FILE is not set: each container would make its own key"]
    );
    assert_eq!(
        problems_with(COMPOSE, "secrets: [signing.key, caller.key]", "secrets: [signing.key]"),
        [
            "compose.yaml: HOTLINE_KEYS__CALLER_KEY_FILE (/run/secrets/caller.key) is not a file secret given to the service"
        ]
    );
    assert_eq!(
        problems_with(KUBERNETES, "              - { key: caller.key, path: caller.key }\n", ""),
        [
            "hotline.yaml: HOTLINE_KEYS__CALLER_KEY_FILE (/etc/hotline/keys/caller.key) is not a file of a Secret mounted read-only"
        ]
    );
    assert_eq!(
        problems_with(
            KUBERNETES,
            "mountPath: /etc/hotline/keys, readOnly: true",
            "mountPath: /etc/hotline/keys"
        ),
        [
            "hotline.yaml: HOTLINE_KEYS__SIGNING_KEY_FILE (/etc/hotline/keys/signing.key) is not a file of a Secret mounted read-only",
            "hotline.yaml: HOTLINE_KEYS__CALLER_KEY_FILE (/etc/hotline/keys/caller.key) is not a file of a Secret mounted read-only",
        ]
    );
    // Replicas without Redis.
    assert_eq!(
        problems_with(COMPOSE, "      HOTLINE_REDIS__URL: redis://redis:6379\n", ""),
        ["compose.yaml: 2 replicas without HOTLINE_REDIS__URL"]
    );
    assert_eq!(
        problems_with(
            COMPOSE,
            "HOTLINE_REDIS__URL: redis://redis:6379",
            "HOTLINE_REDIS__URL: redis://cache:6379"
        ),
        ["compose.yaml: HOTLINE_REDIS__URL (redis://cache:6379) is not the URL of a Redis service here"]
    );
    assert_eq!(
        problems_with(
            KUBERNETES,
            "            - name: HOTLINE_REDIS__URL\n              value: redis://hotline-redis:6379\n",
            ""
        ),
        ["hotline.yaml: 2 replicas without HOTLINE_REDIS__URL"]
    );
    // Probes, limits, the disruption budget, metrics, the open-file limit.
    assert_eq!(
        problems_with(KUBERNETES, "grpc: { port: 50051, service: liveness }", "tcpSocket: { port: 50051 }"),
        [
            r#"hotline.yaml: livenessProbe does not ask the gRPC health service on the server's port for ["", "liveness"]"#
        ]
    );
    assert_eq!(
        problems_with(KUBERNETES, "kind: PodDisruptionBudget", "kind: PodDisruption"),
        ["hotline.yaml: no PodDisruptionBudget with minAvailable for the hotline pods"]
    );
    assert_eq!(
        problems_with(KUBERNETES, "limits: { cpu: \"2\", memory: 512Mi }", "limits: { cpu: \"2\" }"),
        ["hotline.yaml: no memory limit and cpu request"]
    );
    assert_eq!(
        problems_with(KUBERNETES, "prometheus.io/port: \"9348\"", "prometheus.io/port: \"9349\""),
        ["hotline.yaml: the metrics port (Some(9348)) is not the container port named metrics and the \
          prometheus.io/port annotation (Some(9349))"]
    );
    assert_eq!(
        problems_with(COMPOSE, "nofile: { soft: 65536, hard: 65536 }", "nofile: { soft: 1024, hard: 65536 }"),
        ["compose.yaml: ulimits nofile is below 65536"]
    );
    assert_eq!(
        problems_with(COMPOSE, r#"test: ["CMD", "hotline", "health"]"#, r#"test: ["CMD", "true"]"#),
        ["compose.yaml: the healthcheck does not run `hotline health`"]
    );
    assert_eq!(
        problems_with(SYSTEMD, "LimitNOFILE=65536", "LimitNOFILE=4096"),
        ["hotline.service: LimitNOFILE is Some(4096), below 65536"]
    );
    // A variable the server does not read.
    assert_eq!(
        problems_with(KUBERNETES, "name: HOTLINE_LISTEN__METRICS_ADDRESS", "name: HOTLINE_METRICS_ADDR"),
        [
            "hotline.yaml: HOTLINE_METRICS_ADDR is not a setting the server reads",
            "hotline.yaml: the metrics port (None) is not the container port named metrics and the \
             prometheus.io/port annotation (Some(9348))",
        ]
    );
}

#[test]
fn the_env_names_are_the_configs() {
    let names = config_env_names();
    for name in [
        "HOTLINE_LISTEN__ADDRESS",
        "HOTLINE_KEYS__CALLER_KEY_FILE",
        "HOTLINE_REDIS__URL",
        "HOTLINE_LISTEN__METRICS_ADDRESS",
    ] {
        assert!(names.contains(name), "{name}");
    }
    assert!(names.contains("HOTLINE_DATABASE_URL"), "a flat name of earlier releases");
    assert!(!names.contains("HOTLINE_METRICS_ADDR"));
    assert!(!names.contains("HOTLINE_DATABASE"), "a section is not a setting");
    assert_eq!(sectioned("HOTLINE_CALLER_KEY_FILE"), "HOTLINE_KEYS__CALLER_KEY_FILE");
    assert_eq!(sectioned("HOTLINE_LISTEN"), "HOTLINE_LISTEN__ADDRESS");
    assert_eq!(sectioned("HOTLINE_REDIS__URL"), "HOTLINE_REDIS__URL");
    assert_eq!(
        env_names_in("a HOTLINE_LISTEN__ADDRESS=x and $HOTLINE_LOG_FORMAT, HOTLINE_"),
        BTreeSet::from([
            "HOTLINE_LISTEN__ADDRESS".to_owned(),
            "HOTLINE_LOG_FORMAT".to_owned(),
            "HOTLINE_".to_owned()
        ])
    );
}
