//! `receipt verify FILE --key KEY`: checks a receipt offline, with nothing but the
//! log's verifier key (the checkpoint's signature, the checkpoint, the entry's
//! inclusion proof up to its root); and `audit consistency`: checks with the server's
//! consistency proof that the log's current checkpoint (or a newer saved one) extends
//! an older saved one. Both exit 4 when the proof fails. Formats: `docs/receipts.md`.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::CliError;
use super::connect::Clients;
use super::output::{Output, print_json, print_record};
use crate::pb;
use crate::tlog::{Checkpoint, NoteVerifier, merkle, receipt};

#[derive(Subcommand, Debug)]
pub enum ReceiptCommand {
    /// Check a receipt offline: its checkpoint's signature by KEY, and the entry's
    /// inclusion proof up to the checkpoint's root. Exits 4 if it does not verify.
    Verify {
        /// The receipt: a receipt.json (the receipt e-mail's attachment), or a
        /// response that carries one (FileClaim's, GetReceipt's... as grpcurl prints it).
        file: PathBuf,
        /// The log's verifier key (as GetCheckpoint answers it), or a file holding it.
        #[arg(long)]
        key: String,
    },
}

/// The verifier key given on the command line, or read from the file it names.
fn verifier(key: &str) -> Result<NoteVerifier, CliError> {
    let text = if Path::new(key).is_file() {
        std::fs::read_to_string(key)
            .map_err(|e| CliError::Usage(format!("cannot read the key file {key}: {e}")))?
    } else {
        key.to_string()
    };
    NoteVerifier::parse(&text).map_err(|e| CliError::Usage(format!("--key: {e}")))
}

fn read(path: &Path, what: &str) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::Usage(format!("cannot read the {what} {}: {e}", path.display())))
}

/// Runs a receipt command; it needs no server.
pub fn run(command: ReceiptCommand, out: Output) -> Result<(), CliError> {
    match command {
        ReceiptCommand::Verify { file, key } => {
            let verifier = verifier(&key)?;
            let r = receipt_in(&read(&file, "receipt")?)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            let checkpoint = receipt::verify(&r, &verifier)
                .map_err(|e| CliError::ProofFailed(format!("the receipt does not verify: {e}")))?;
            let fields = [
                ("ok", "true".to_string()),
                ("seq", r.seq.to_string()),
                ("entry hash", hex::encode(&r.entry_hash)),
                ("log", checkpoint.origin.clone()),
                ("tree size", checkpoint.size.to_string()),
                ("root hash", hex::encode(checkpoint.root)),
            ];
            print_fields(&fields, out)
        }
    }
}

fn print_fields(fields: &[(&str, String)], out: Output) -> Result<(), CliError> {
    match out {
        Output::Table => print_record(fields),
        Output::Json => {
            let map: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| (k.replace(' ', "_"), serde_json::Value::String(v.clone())))
                .collect();
            print_json(&serde_json::Value::Object(map))
        }
    }
}

/// The receipt in `text`: a receipt.json, or a response that carries one in its
/// `receipt` field (FileClaim's, a verb's, GetReceipt's, as grpcurl prints them).
fn receipt_in(text: &str) -> Result<pb::Receipt, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match value.get("receipt") {
        Some(inner) => receipt::from_json(&inner.to_string()),
        None => receipt::from_json(text),
    }
}

/// A signed checkpoint from a file: the note itself, or JSON with a `checkpoint`
/// field (GetCheckpoint's answer, a receipt.json, a WatchEvents message).
fn checkpoint_note(path: &Path) -> Result<String, CliError> {
    let text = read(path, "checkpoint")?;
    if !text.trim_start().starts_with('{') {
        return Ok(text);
    }
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{}: not JSON: {e}", path.display())))?;
    value
        .get("checkpoint")
        .and_then(|c| c.as_str())
        .map(str::to_string)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{}: has no \"checkpoint\" field; give a signed checkpoint, GetCheckpoint's answer or a receipt",
                path.display()
            ))
        })
}

/// `audit consistency`: the server's consistency proof from `old` to `new` (or to
/// its current checkpoint), checked here against both signed checkpoints.
pub async fn consistency(
    clients: &Clients,
    out: Output,
    old: &Path,
    new: Option<&Path>,
    key: &str,
) -> Result<(), CliError> {
    let verifier = verifier(key)?;
    let open = |note: &str, which: &str| -> Result<Checkpoint, CliError> {
        receipt::open_checkpoint(note, &verifier)
            .map_err(|e| CliError::ProofFailed(format!("the {which} checkpoint: {e}")))
    };
    let first = open(&checkpoint_note(old)?, "older")?;
    let newer = match new {
        Some(path) => checkpoint_note(path)?,
        None => {
            clients
                .audit()
                .get_checkpoint(pb::GetCheckpointRequest {})
                .await?
                .into_inner()
                .checkpoint
        }
    };
    let second = open(&newer, "newer")?;
    if first.size > second.size {
        return Err(CliError::Usage(format!(
            "the older checkpoint has {} entries, more than the newer's {}; swap them",
            first.size, second.size
        )));
    }
    let hashes = if first.size == 0 || first.size == second.size {
        Vec::new()
    } else {
        let proof = clients
            .audit()
            .get_consistency_proof(pb::GetConsistencyProofRequest {
                first_size: first.size,
                second_size: second.size,
            })
            .await?
            .into_inner();
        receipt::hashes(&proof.hashes).map_err(|e| CliError::ProofFailed(e.to_string()))?
    };
    if first.size > 0 {
        merkle::verify_consistency(first.size, second.size, &first.root, &second.root, &hashes)
            .map_err(|e| {
                CliError::ProofFailed(format!(
                    "the log does not extend the older checkpoint: {e}; keep both checkpoints, they prove that the log changed its history"
                ))
            })?;
    }
    print_fields(
        &[
            ("ok", "true".to_string()),
            ("log", second.origin.clone()),
            ("older size", first.size.to_string()),
            ("older root", hex::encode(first.root)),
            ("newer size", second.size.to_string()),
            ("newer root", hex::encode(second.root)),
        ],
        out,
    )
}
