//! Compiles `proto/` with protox (no system `protoc`), writes the descriptor set for
//! server reflection and the HTTP/JSON transcoder, and generates the prost messages and
//! tonic services. `third_party/googleapis` holds the `google.api.http` annotation.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=third_party/googleapis");
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
    let mut compiler = protox::Compiler::new(["proto", "third_party/googleapis"])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(files)?;
    let fds = compiler.file_descriptor_set();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    // Encoded by protox itself: prost's FileDescriptorSet would drop the
    // google.api.http method options, which the transcoder reads.
    std::fs::write(
        out_dir.join("takedown_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
