//! Generates the hotline.v1 types, clients and servers with the vendored `protoc`, so a
//! build needs no system protobuf compiler.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let protos: Vec<PathBuf> = [
        "common",
        "auth",
        "directory",
        "call",
        "work_order",
        "routing",
        "seats",
        "statistics",
        "audit",
        "time_limits",
        "ledger",
        "programme",
    ]
    .iter()
    .map(|name| root.join(format!("hotline/v1/{name}.proto")))
    .collect();
    let well_known = protoc_bin_vendored::include_path()?;

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("hotline_descriptor.bin"))
        .compile_with_config(config, &protos, &[root.clone(), well_known])?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
