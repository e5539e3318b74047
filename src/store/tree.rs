//! The Merkle tree over the audit log (RFC 9162, `tlog::merkle`), kept in sled: leaf
//! `seq - 1` is the leaf hash of audit entry `seq`'s chain hash, and every perfect
//! subtree's hash is stored under `keyspace::TREE_NODE` in the same batch as the entry,
//! so the tree always has exactly `applied_seq` leaves and a root or a proof costs
//! O(log n) reads. Rebuilding the store from the journal rebuilds the same tree.

use std::collections::HashMap;

use super::{Store, StoreError, keyspace};
use crate::pb;
use crate::tlog::Hash;
use crate::tlog::merkle::{self, Nodes};

/// Why a tree read was refused.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(
        "tree size {size} is larger than the log ({current} entries); ask for at most {current}"
    )]
    TooLarge { size: u64, current: u64 },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Nodes read from sled, and those this batch has computed but not yet written.
struct Stored<'a> {
    db: &'a sled::Db,
    pending: Option<&'a HashMap<(u8, u64), Hash>>,
}

impl Nodes for Stored<'_> {
    type Error = StoreError;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, StoreError> {
        if let Some(h) = self.pending.and_then(|p| p.get(&(level, index))) {
            return Ok(*h);
        }
        let key = keyspace::tree_node(level, index);
        self.db
            .get(&key)?
            .and_then(|v| v.as_ref().try_into().ok())
            .ok_or(StoreError::MissingTreeNode { level, index })
    }
}

/// Adds the leaves of `entries` (in seq order) to `batch`: each leaf and the perfect
/// subtrees it completes.
pub(super) fn append(
    db: &sled::Db,
    entries: &[pb::JournalEntry],
    batch: &mut sled::Batch,
) -> Result<(), StoreError> {
    let mut pending = HashMap::new();
    for audit in entries.iter().filter_map(|e| e.audit.as_ref()) {
        let Some(index) = audit.seq.checked_sub(1) else {
            continue;
        };
        let leaf = merkle::leaf_hash(&audit.hash);
        let mut nodes = Stored {
            db,
            pending: Some(&pending),
        };
        let completed = merkle::append(&mut nodes, index, leaf)?;
        for (level, at, hash) in completed {
            batch.insert(keyspace::tree_node(level, at), hash.to_vec());
            pending.insert((level, at), hash);
        }
    }
    Ok(())
}

impl Store {
    fn nodes(&self) -> Stored<'_> {
        Stored {
            db: &self.db,
            pending: None,
        }
    }

    /// The tree's size: every applied entry is a leaf.
    pub fn tree_size(&self) -> Result<u64, StoreError> {
        self.applied_seq()
    }

    /// `size`, or the current size for 0, if the tree has that many leaves.
    fn size_or_current(&self, size: u64) -> Result<u64, TreeError> {
        let current = self.tree_size()?;
        match size {
            0 => Ok(current),
            s if s > current => Err(TreeError::TooLarge { size, current }),
            s => Ok(s),
        }
    }

    /// The root of the tree of the first `size` leaves.
    pub fn tree_root(&self, size: u64) -> Result<Hash, TreeError> {
        let size = self.size_or_current(size)?;
        Ok(merkle::root(&mut self.nodes(), size)?)
    }

    /// The inclusion proof of entry `seq` in the tree of `size` leaves (0: the current
    /// tree), and the size it is for.
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<(u64, Vec<Hash>), TreeError> {
        let size = self.size_or_current(size)?;
        if seq == 0 || seq > size {
            return Err(TreeError::Invalid(format!(
                "seq {seq} is not in the tree of {size} entries; ask for a seq from 1 to the tree size"
            )));
        }
        Ok((
            size,
            merkle::inclusion_proof(&mut self.nodes(), seq - 1, size)?,
        ))
    }

    /// The consistency proof from the tree of `first` leaves to that of `second` (0:
    /// the current tree), and the second size.
    pub fn consistency_proof(
        &self,
        first: u64,
        second: u64,
    ) -> Result<(u64, Vec<Hash>), TreeError> {
        let second = self.size_or_current(second)?;
        if first == 0 || first > second {
            return Err(TreeError::Invalid(format!(
                "first_size {first} must be from 1 to the second size {second}"
            )));
        }
        Ok((
            second,
            merkle::consistency_proof(&mut self.nodes(), first, second)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal;
    use crate::tlog::merkle::{leaf_hash, node_hash};

    /// MTH from the RFC's definition, independent of the stored nodes.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => merkle::empty_root(),
            1 => leaves[0],
            n => {
                let k = 1 << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// Applies `n` sealed entries in groups of uneven sizes, as the writer does.
    fn store_with(n: u64) -> (tempfile::TempDir, Store, Vec<Hash>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), 1 << 22).unwrap();
        let mut prev = journal::GENESIS;
        let mut leaves = Vec::new();
        let mut group = Vec::new();
        for seq in 1..=n {
            let mut entry = pb::JournalEntry::default();
            prev = journal::seal(&mut entry, seq, &prev);
            leaves.push(leaf_hash(&prev));
            group.push(entry);
            if group.len() as u64 == seq % 7 + 1 {
                store.apply(&group).unwrap();
                group.clear();
            }
        }
        store.apply(&group).unwrap();
        (dir, store, leaves)
    }

    #[test]
    fn every_root_of_a_tree_of_3000_matches_the_rfc_definition_at_powers_and_edges() {
        let (_dir, store, leaves) = store_with(3000);
        assert_eq!(store.tree_size().unwrap(), 3000);
        for size in [1, 2, 3, 7, 8, 9, 1023, 1024, 1025, 2047, 2048, 2999, 3000] {
            assert_eq!(
                store.tree_root(size).unwrap(),
                mth(&leaves[..size as usize])
            );
        }
        assert!(matches!(
            store.tree_root(3001),
            Err(TreeError::TooLarge { .. })
        ));
    }
}
