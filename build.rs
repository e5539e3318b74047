//! Compiles `proto/` with protox (no system `protoc`), writes the descriptor set for
//! server reflection, and generates the prost messages and tonic services.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let files = [
        "takedown/v1/admin_service.proto",
        "takedown/v1/audit_service.proto",
        "takedown/v1/claim_service.proto",
        "takedown/v1/publisher_service.proto",
        "takedown/v1/review_service.proto",
        "takedown/v1/journal.proto",
        "takedown/v1/party.proto",
        "takedown/v1/notification.proto",
        "takedown/v1/reasons.proto",
        "takedown/v1/receipt.proto",
    ];
    let fds = protox::compile(files, ["proto"])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("takedown_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
