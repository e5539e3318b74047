//! Checking a receipt with nothing but the verifier key: the checkpoint's signature,
//! the checkpoint's text, and the entry's inclusion proof up to the checkpoint's root.
//! `takedownctl receipt verify` runs exactly this.

use super::checkpoint::CheckpointError;
use super::merkle::{self, ProofError};
use super::{Checkpoint, Hash, NoteError, NoteVerifier};
use crate::pb;

/// Why a receipt does not check out.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    #[error("the checkpoint's signature: {0}")]
    Signature(#[from] NoteError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the checkpoint is of log {found:?}, the key's log is {expected:?}")]
    Origin { found: String, expected: String },
    #[error("the receipt has no inclusion proof")]
    NoProof,
    #[error("entry_hash is {0} bytes, not 32")]
    EntryHash(usize),
    #[error("proof hash {0} is not 32 bytes")]
    ProofHash(usize),
    #[error("the proof is for leaf {found}, but seq {seq} is leaf {}", seq - 1)]
    Leaf { seq: u64, found: u64 },
    #[error("the proof is for a tree of {proof} leaves, the checkpoint's has {checkpoint}")]
    TreeSize { proof: u64, checkpoint: u64 },
    #[error("the inclusion proof: {0}")]
    Proof(#[from] ProofError),
}

/// Opens a signed checkpoint with `verifier`; its origin must be the key's name.
pub fn open_checkpoint(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, ReceiptError> {
    let checkpoint = Checkpoint::parse(verifier.open(note)?)?;
    if checkpoint.origin != verifier.name() {
        return Err(ReceiptError::Origin {
            found: checkpoint.origin,
            expected: verifier.name().to_string(),
        });
    }
    Ok(checkpoint)
}

/// 32-byte hashes from a proof's `bytes`.
pub fn hashes(raw: &[Vec<u8>]) -> Result<Vec<Hash>, ReceiptError> {
    raw.iter()
        .enumerate()
        .map(|(i, h)| {
            h.as_slice()
                .try_into()
                .map_err(|_| ReceiptError::ProofHash(i))
        })
        .collect()
}

/// Checks `receipt` and answers the checkpoint it is checked against.
pub fn verify(receipt: &pb::Receipt, verifier: &NoteVerifier) -> Result<Checkpoint, ReceiptError> {
    let checkpoint = open_checkpoint(&receipt.checkpoint, verifier)?;
    let proof = receipt
        .inclusion_proof
        .as_ref()
        .ok_or(ReceiptError::NoProof)?;
    let entry_hash: Hash = receipt
        .entry_hash
        .as_slice()
        .try_into()
        .map_err(|_| ReceiptError::EntryHash(receipt.entry_hash.len()))?;
    if receipt.seq == 0 || proof.leaf_index != receipt.seq - 1 {
        return Err(ReceiptError::Leaf {
            seq: receipt.seq.max(1),
            found: proof.leaf_index,
        });
    }
    if proof.tree_size != checkpoint.size {
        return Err(ReceiptError::TreeSize {
            proof: proof.tree_size,
            checkpoint: checkpoint.size,
        });
    }
    merkle::verify_inclusion(
        &merkle::leaf_hash(&entry_hash),
        proof.leaf_index,
        proof.tree_size,
        &hashes(&proof.hashes)?,
        &checkpoint.root,
    )?;
    Ok(checkpoint)
}

static POOL: std::sync::LazyLock<Result<prost_reflect::DescriptorPool, String>> =
    std::sync::LazyLock::new(|| {
        prost_reflect::DescriptorPool::decode(pb::FILE_DESCRIPTOR_SET).map_err(|e| e.to_string())
    });

const RECEIPT: &str = "takedown.v1.Receipt";

fn descriptor() -> Result<prost_reflect::MessageDescriptor, String> {
    let pool = POOL.as_ref().map_err(Clone::clone)?;
    pool.get_message_by_name(RECEIPT)
        .ok_or_else(|| format!("no descriptor for {RECEIPT}"))
}

/// `receipt` as `receipt.json`: the protobuf JSON of `takedown.v1.Receipt`, as grpcurl
/// prints it (camelCase names, 64-bit integers as strings, bytes in base64).
pub fn to_json(receipt: &pb::Receipt) -> Result<String, String> {
    use prost::Message;
    let dynamic =
        prost_reflect::DynamicMessage::decode(descriptor()?, receipt.encode_to_vec().as_slice())
            .map_err(|e| e.to_string())?;
    let value = dynamic
        .serialize_with_options(
            serde_json::value::Serializer,
            &prost_reflect::SerializeOptions::new(),
        )
        .map_err(|e| e.to_string())?;
    serde_json::to_string_pretty(&value).map_err(|e| e.to_string())
}

/// Reads a receipt from its protobuf JSON (camelCase or field names).
pub fn from_json(json: &str) -> Result<pb::Receipt, String> {
    let mut de = serde_json::Deserializer::from_str(json);
    let dynamic = prost_reflect::DynamicMessage::deserialize(descriptor()?, &mut de)
        .map_err(|e| format!("not a receipt in protobuf JSON: {e}"))?;
    de.end()
        .map_err(|e| format!("not a receipt in protobuf JSON: {e}"))?;
    dynamic
        .transcode_to::<pb::Receipt>()
        .map_err(|e| e.to_string())
}
