//! The transparency log over the audit chain, as pure functions: the Merkle tree of
//! RFC 9162 (its hashes, its proofs, and their checks), the C2SP `tlog-checkpoint`
//! text, and the C2SP `signed-note` signatures with Ed25519 that make a checkpoint a
//! statement of the server. The store keeps the tree's nodes (`store::tree`), the
//! notary (`crate::notary`) signs checkpoints and issues receipts, and `takedownctl`
//! checks receipts with nothing but this module and a verifier key.
//! `docs/receipts.md` states every format.

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod receipt;

pub use checkpoint::Checkpoint;
pub use merkle::Hash;
pub use note::{NoteError, NoteSigner, NoteVerifier};
