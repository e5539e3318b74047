//! Writes the fuzz targets' seed inputs into `fuzz/corpus/<target>/` so that a long
//! cargo-fuzz run starts from valid requests and journals rather than from nothing.
//!
//!     cargo run --example fuzz_seed_corpus

#[path = "../fuzz/targets.rs"]
mod targets;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, seeds) in [
        ("requests", targets::request_seeds()),
        ("journal_recovery", targets::journal_seeds()),
    ] {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:03}")), seed)?;
        }
        println!("{} seeds in {}", seeds.len(), dir.display());
    }
    Ok(())
}
